using System;
using BenchmarkDotNet.Attributes;
using ModelGen;
using TorchSharp;
using static TorchSharp.torch;
using ModelGen.Training;

namespace ModelGen.Benchmarks;

/// <summary>Workload W2 (CIFAR-shaped VGG-style CNN, 51.06 MFLOP forward per sample), ModelGen and TorchSharp in the same run, one thread.</summary>
[MemoryDiagnoser]
public class W2Benchmarks
{
    private Cifar.W2 _model = null!;
    private float[] _x1 = null!, _y1 = null!, _x64 = null!, _y64 = null!, _x32 = null!;
    private int[] _labels32 = null!;
    private Sgd _sgd = null!;
    private nn.Module<Tensor, Tensor> _torch = null!;
    private Tensor _t1 = null!, _t64 = null!, _t32 = null!, _tl32 = null!;
    private optim.Optimizer _torchSgd = null!;
    private OrtRunner _ort1 = null!, _ort64 = null!, _ort64x2 = null!;
    private Cifar.W2 _model2 = null!, _train2 = null!;
    private W2Direct _direct = null!;
    private float[] _oy1 = null!, _oy64 = null!;

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Rng(2);
        float[] R(int n) { var a = new float[n]; for (int i = 0; i < n; i++) a[i] = rng.NextFloat(); return a; }
        _model = new Cifar.W2(maxBatch: 64, seed: 1);
        _x1 = R(3072); _y1 = new float[10]; _x64 = R(64 * 3072); _y64 = new float[640]; _x32 = R(32 * 3072);
        _labels32 = new int[32];
        for (int i = 0; i < 32; i++) _labels32[i] = rng.NextInt(10);
        _sgd = new Sgd(0.01f);
        torch.set_num_threads(1);
        _torch = nn.Sequential(
            ("c1", nn.Conv2d(3, 32, 3, padding: 1)), ("r1", nn.ReLU()), ("c2", nn.Conv2d(32, 32, 3, padding: 1)), ("r2", nn.ReLU()), ("p1", nn.MaxPool2d(2)),
            ("c3", nn.Conv2d(32, 64, 3, padding: 1)), ("r3", nn.ReLU()), ("c4", nn.Conv2d(64, 64, 3, padding: 1)), ("r4", nn.ReLU()), ("p2", nn.MaxPool2d(2)),
            ("f", nn.Flatten()), ("d1", nn.Linear(4096, 256)), ("r5", nn.ReLU()), ("d2", nn.Linear(256, 10)));
        _t1 = torch.tensor(_x1, new long[] { 1, 3, 32, 32 });
        _t64 = torch.tensor(_x64, new long[] { 64, 3, 32, 32 });
        _t32 = torch.tensor(_x32, new long[] { 32, 3, 32, 32 });
        var l = new long[32];
        for (int i = 0; i < 32; i++) l[i] = _labels32[i];
        _tl32 = torch.tensor(l);
        _torchSgd = optim.SGD(_torch.parameters(), 0.01);

        // ONNX Runtime on ModelGen's own weights (exported), one thread and two.
        _oy1 = new float[10]; _oy64 = new float[640];
        _ort1 = new OrtRunner(_model, 1, 1, _x1, _oy1);
        _ort64 = new OrtRunner(_model, 64, 1, _x64, _oy64);
        _ort64x2 = new OrtRunner(_model, 64, 2, _x64, _oy64);
        _model2 = new Cifar.W2(maxBatch: 64, seed: 1) { Threads = 2 };   // the same weights, two threads
        _train2 = new Cifar.W2(maxBatch: 64, seed: 1) { Threads = 2 };   // trains over two threads
        _direct = new W2Direct(maxBatch: 64, seed: 1);                     // the same weights, no Winograd
        _model.Parameters.CopyTo(_direct.Parameters);
    }

    [GlobalCleanup]
    public void Cleanup() { _model.Dispose(); _model2.Dispose(); _direct.Dispose(); _train2.Dispose(); _ort1.Dispose(); _ort64.Dispose(); _ort64x2.Dispose(); }

    [Benchmark(Description = "(b) ModelGen 2 threads: W2 inference batch 64")]
    public void ModelGen_Batch64_2Threads() => _model2.Predict(_x64, _y64);

    [Benchmark(Description = "(a) ONNX Runtime: W2 inference batch 1")]
    public void Ort_Batch1() => _ort1.Run();

    [Benchmark(Description = "(b) ONNX Runtime: W2 inference batch 64")]
    public void Ort_Batch64() => _ort64.Run();

    [Benchmark(Description = "(b) ONNX Runtime 2 threads: W2 inference batch 64")]
    public void Ort_Batch64_2Threads() => _ort64x2.Run();

    [Benchmark(Description = "(a) ModelGen: W2 inference batch 1")]
    public void ModelGen_Batch1() => _model.Predict(_x1, _y1);

    [Benchmark(Description = "(a) ModelGen, convolutions direct (no Winograd): W2 inference batch 1")]
    public void ModelGenDirect_Batch1() => _direct.Predict(_x1, _y1);

    [Benchmark(Description = "(b) ModelGen, convolutions direct (no Winograd): W2 inference batch 64")]
    public void ModelGenDirect_Batch64() => _direct.Predict(_x64, _y64);

    [Benchmark(Description = "(c) ModelGen, convolutions direct (no Winograd): W2 train step batch 32")]
    public float ModelGenDirect_Train32() => _direct.TrainStep(_x32, _labels32, _sgd);

    [Benchmark(Description = "(a) TorchSharp: W2 inference batch 1")]
    public void Torch_Batch1() { using var m = torch.inference_mode(); using var y = _torch.forward(_t1); }

    [Benchmark(Description = "(b) ModelGen: W2 inference batch 64")]
    public void ModelGen_Batch64() => _model.Predict(_x64, _y64);

    [Benchmark(Description = "(b) TorchSharp: W2 inference batch 64")]
    public void Torch_Batch64() { using var m = torch.inference_mode(); using var y = _torch.forward(_t64); }

    [Benchmark(Description = "(c) ModelGen: W2 train step batch 32")]
    public float ModelGen_Train32() => _model.TrainStep(_x32, _labels32, _sgd);

    [Benchmark(Description = "(c) ModelGen: W2 train step batch 32, 2 threads")]
    public float ModelGen_Train32_2Threads() => _train2.TrainStep(_x32, _labels32, _sgd);

    [Benchmark(Description = "(c) TorchSharp: W2 train step batch 32")]
    public void Torch_Train32()
    {
        using var scope = torch.NewDisposeScope();
        _torchSgd.zero_grad();
        var loss = nn.functional.cross_entropy(_torch.forward(_t32), _tl32);
        loss.backward();
        _torchSgd.step();
    }
}

