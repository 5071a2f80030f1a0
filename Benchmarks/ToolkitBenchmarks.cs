using System;
using System.Collections.Generic;
using System.IO;
using BenchmarkDotNet.Attributes;
using ModelGen;
using ModelGen.Baselines;
using ModelGen.Data;
using TorchSharp;
using static TorchSharp.torch;
using ModelGen.Training;

namespace ModelGen.Benchmarks;

/// <summary>One Adam update of 1M parameters: ModelGen's vectorised update (state in the model) against
/// TorchSharp's <c>optim.Adam</c> on one 1M-element parameter, one thread, same run.</summary>
public class AdamBenchmarks
{
    private const int N = 1 << 20;
    private float[] _p = null!, _g = null!, _state = null!;
    private Adam _adam = null!;
    private long _step;
    private TensorInfo[] _tensors = null!;
    private Tensor _tp = null!;
    private optim.Optimizer _torchAdam = null!;

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Rng(1);
        _p = new float[N]; _g = new float[N]; _state = new float[2 * N];
        for (int i = 0; i < N; i++) { _p[i] = rng.NextFloat(); _g[i] = rng.NextFloat() - 0.5f; }
        _adam = new Adam(1e-3f);
        _tensors = new[] { new TensorInfo("p", new[] { N }, 0, N, true) };
        torch.set_num_threads(1);
        _tp = torch.tensor(_p).requires_grad_(true);
        _tp.grad = torch.tensor(_g);
        _torchAdam = optim.Adam(new List<TorchSharp.Modules.Parameter> { new TorchSharp.Modules.Parameter(_tp) }, 1e-3);
    }

    [Benchmark(Description = "ModelGen: Adam step, 1M parameters")]
    public void ModelGen_Adam() => _adam.Update(_p, _g, _state, ++_step, _tensors);

    [Benchmark(Description = "TorchSharp: Adam step, 1M parameters")]
    public void Torch_Adam() => _torchAdam.step();
}

/// <summary>kNN queries per second on MNIST (60,000 training images, L2, k = 3), 1,000 test queries per call.</summary>
public class KnnBenchmarks
{
    private KNearestNeighbors _knn = null!;
    private Dataset _queries = null!;

    [GlobalSetup]
    public void Setup()
    {
        string dir = Path.Combine(AppContext.BaseDirectory, "data", "mnist");
        var train = Idx.Load(Path.Combine(dir, "train-images-idx3-ubyte.gz"), Path.Combine(dir, "train-labels-idx1-ubyte.gz"));
        _queries = Idx.Load(Path.Combine(dir, "t10k-images-idx3-ubyte.gz"), Path.Combine(dir, "t10k-labels-idx1-ubyte.gz")).Slice(0, 1000);
        _knn = new KNearestNeighbors(3, Distance.L2).Fit(train);
    }

    [Benchmark(Description = "kNN: 1,000 MNIST queries vs 60,000 (k=3, L2)")]
    public int[] Knn1000() => _knn.Predict(_queries);
}
