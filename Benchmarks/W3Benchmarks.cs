using System;
using BenchmarkDotNet.Attributes;
using ModelGen.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ModelGen.Benchmarks;

/// <summary>Workload W3 (LSTM 64 → 128 over 32 steps, dense 128 → 10 on the last state; 6.3 MFLOP forward per sample):
/// ModelGen, TorchSharp and ONNX Runtime (on ModelGen's weights) in the same run, one thread.</summary>
[MemoryDiagnoser]
public class W3Benchmarks
{
    private W3 _model = null!;
    private float[] _x1 = null!, _y1 = null!, _x16 = null!, _oy1 = null!;
    private int[] _labels16 = null!;
    private Sgd _sgd = null!;
    private TorchW3 _torch = null!;
    private Tensor _t1 = null!, _t16 = null!, _tl16 = null!;
    private optim.Optimizer _torchSgd = null!;
    private OrtRunner _ort1 = null!;

    /// <summary>nn.LSTM(64, 128, batch_first=True) and nn.Linear(128, 10) on h_n.</summary>
    private sealed class TorchW3 : nn.Module<Tensor, Tensor>
    {
        private readonly TorchSharp.Modules.LSTM _lstm = nn.LSTM(64, 128, batchFirst: true);
        private readonly TorchSharp.Modules.Linear _dense = nn.Linear(128, 10);

        public TorchW3() : base("W3") => RegisterComponents();

        public override Tensor forward(Tensor x)
        {
            var (_, h, _) = _lstm.forward(x);
            return _dense.forward(h[0]);
        }
    }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Rng(3);
        float[] R(int n) { var a = new float[n]; for (int i = 0; i < n; i++) a[i] = rng.NextFloat(); return a; }
        _model = new W3(maxBatch: 16, seed: 1);
        _x1 = R(W3.InputSize); _y1 = new float[10]; _x16 = R(16 * W3.InputSize); _oy1 = new float[10];
        _labels16 = new int[16];
        for (int i = 0; i < 16; i++) _labels16[i] = rng.NextInt(10);
        _sgd = new Sgd(0.01f);
        torch.set_num_threads(1);
        _torch = new TorchW3();
        _t1 = torch.tensor(_x1, new long[] { 1, 32, 64 });
        _t16 = torch.tensor(_x16, new long[] { 16, 32, 64 });
        var l = new long[16];
        for (int i = 0; i < 16; i++) l[i] = _labels16[i];
        _tl16 = torch.tensor(l);
        _torchSgd = optim.SGD(_torch.parameters(), 0.01);
        _ort1 = new OrtRunner(_model, 1, 1, _x1, _oy1);
    }

    [GlobalCleanup]
    public void Cleanup() { _model.Dispose(); _ort1.Dispose(); }

    [Benchmark(Description = "(a) ModelGen: W3 inference batch 1")]
    public void ModelGen_Batch1() => _model.Predict(_x1, _y1);

    [Benchmark(Description = "(a) ONNX Runtime: W3 inference batch 1")]
    public void Ort_Batch1() => _ort1.Run();

    [Benchmark(Description = "(a) TorchSharp: W3 inference batch 1")]
    public void Torch_Batch1() { using var m = torch.inference_mode(); using var y = _torch.forward(_t1); }

    [Benchmark(Description = "(b) ModelGen: W3 train step batch 16 (full BPTT)")]
    public float ModelGen_Train16() => _model.TrainStep(_x16, _labels16, _sgd);

    [Benchmark(Description = "(b) TorchSharp: W3 train step batch 16 (full BPTT)")]
    public void Torch_Train16()
    {
        using var scope = torch.NewDisposeScope();
        _torchSgd.zero_grad();
        var loss = nn.functional.cross_entropy(_torch.forward(_t16), _tl16);
        loss.backward();
        _torchSgd.step();
    }
}
