using System;
using BenchmarkDotNet.Attributes;
using ModelGen;
using TorchSharp;
using static TorchSharp.torch;
using ModelGen.Training;

namespace ModelGen.Benchmarks;

/// <summary>Workload W1: MLP 784 → 256 ReLU → 128 ReLU → 10, float32, one thread.
/// ModelGen (the Mnist sample's MnistMlp) and TorchSharp (libtorch CPU) in the same run.</summary>
[MemoryDiagnoser]
public class W1Benchmarks
{
    private Mnist.MnistMlp _model = null!;
    private float[] _x1 = null!, _y1 = null!, _x256 = null!, _y256 = null!, _x64 = null!;
    private int[] _labels64 = null!;
    private Sgd _sgd = null!;

    private nn.Module<Tensor, Tensor> _torch = null!;
    private Tensor _t1 = null!, _t256 = null!, _t64 = null!, _tLabels64 = null!;
    private optim.Optimizer _torchSgd = null!;
    private OrtRunner _ort1 = null!, _ort256 = null!, _ort256x2 = null!;
    private Mnist.MnistMlp _model2 = null!, _train2 = null!;
    private float[] _oy1 = null!, _oy256 = null!;

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Rng(1);
        float[] Random(int n) { var a = new float[n]; for (int i = 0; i < n; i++) a[i] = rng.NextFloat(); return a; }
        _model = new Mnist.MnistMlp(maxBatch: 256, seed: 1);
        _x1 = Random(784); _y1 = new float[10];
        _x256 = Random(256 * 784); _y256 = new float[256 * 10];
        _x64 = Random(64 * 784);
        _labels64 = new int[64];
        for (int i = 0; i < 64; i++) _labels64[i] = rng.NextInt(10);
        _sgd = new Sgd(0.01f);

        torch.set_num_threads(1);
        torch.manual_seed(1);
        _torch = nn.Sequential(("fc1", nn.Linear(784, 256)), ("relu1", nn.ReLU()), ("fc2", nn.Linear(256, 128)),
            ("relu2", nn.ReLU()), ("fc3", nn.Linear(128, 10)));
        _t1 = torch.tensor(_x1, new long[] { 1, 784 });
        _t256 = torch.tensor(_x256, new long[] { 256, 784 });
        _t64 = torch.tensor(_x64, new long[] { 64, 784 });
        var labels = new long[64];
        for (int i = 0; i < 64; i++) labels[i] = _labels64[i];
        _tLabels64 = torch.tensor(labels);
        _torchSgd = optim.SGD(_torch.parameters(), 0.01);

        // ONNX Runtime on ModelGen's own weights (exported), one thread and two.
        _oy1 = new float[10]; _oy256 = new float[2560];
        _ort1 = new OrtRunner(_model, 1, 1, _x1, _oy1);
        _ort256 = new OrtRunner(_model, 256, 1, _x256, _oy256);
        _ort256x2 = new OrtRunner(_model, 256, 2, _x256, _oy256);
        _model2 = new Mnist.MnistMlp(maxBatch: 256, seed: 1) { Threads = 2 };   // the same weights, two threads
        _train2 = new Mnist.MnistMlp(maxBatch: 256, seed: 1) { Threads = 2 };   // trains over two threads
    }

    [GlobalCleanup]
    public void Cleanup() { _model.Dispose(); _model2.Dispose(); _train2.Dispose(); _ort1.Dispose(); _ort256.Dispose(); _ort256x2.Dispose(); }

    [Benchmark(Description = "(b) ModelGen 2 threads: inference batch 256")]
    public void ModelGen_Batch256_2Threads() => _model2.Predict(_x256, _y256);

    [Benchmark(Description = "(a) ONNX Runtime: inference batch 1")]
    public void Ort_Batch1() => _ort1.Run();

    [Benchmark(Description = "(b) ONNX Runtime: inference batch 256")]
    public void Ort_Batch256() => _ort256.Run();

    [Benchmark(Description = "(b) ONNX Runtime 2 threads: inference batch 256")]
    public void Ort_Batch256_2Threads() => _ort256x2.Run();

    [Benchmark(Description = "(a) ModelGen: inference batch 1")]
    public void ModelGen_Batch1() => _model.Predict(_x1, _y1);

    [Benchmark(Description = "(a) TorchSharp: inference batch 1")]
    public void Torch_Batch1()
    {
        using var mode = torch.inference_mode();
        using var y = _torch.forward(_t1);
    }

    [Benchmark(Description = "(b) ModelGen: inference batch 256")]
    public void ModelGen_Batch256() => _model.Predict(_x256, _y256);

    [Benchmark(Description = "(b) TorchSharp: inference batch 256")]
    public void Torch_Batch256()
    {
        using var mode = torch.inference_mode();
        using var y = _torch.forward(_t256);
    }

    [Benchmark(Description = "(c) ModelGen: train step batch 64")]
    public float ModelGen_TrainStep64() => _model.TrainStep(_x64, _labels64, _sgd);

    [Benchmark(Description = "(c) ModelGen: W1 train step batch 64, 2 threads")]
    public float ModelGen_TrainStep64_2Threads() => _train2.TrainStep(_x64, _labels64, _sgd);

    [Benchmark(Description = "(c) TorchSharp: train step batch 64")]
    public void Torch_TrainStep64()
    {
        using var scope = torch.NewDisposeScope();
        _torchSgd.zero_grad();
        var logits = _torch.forward(_t64);
        var loss = nn.functional.cross_entropy(logits, _tLabels64);
        loss.backward();
        _torchSgd.step();
    }
}


/// <summary>The FMA peak of one core, measured in the same run: the ceiling the GFLOP/s figures are read against.</summary>
public class PeakBenchmarks
{
    /// <summary>16 independent chains of zmm FMAs (ymm when AVX-512 is off): 16 × lanes × 2 FLOPs per iteration.</summary>
    public const int Iterations = 100_000;

    [Benchmark(Description = "FMA peak (16 chains × 100k iterations)")]
    public float FmaPeak() => Peak.Run(Iterations);
}

internal static class Peak
{
    // NoInlining: inlined into a caller that drops the result (a lambda `() => Peak.Run(n)`), the tiered JIT removed the
    // chains, and `--targets` read 939–1,410 GFLOP/s.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining | System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static float Run(int n)
    {
        var a = System.Runtime.Intrinsics.Vector512.Create(1.0001f);
        var b = System.Runtime.Intrinsics.Vector512.Create(0.9999f);
        System.Runtime.Intrinsics.Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default,
            c8 = default, c9 = default, c10 = default, c11 = default, c12 = default, c13 = default, c14 = default, c15 = default;
        for (int i = 0; i < n; i++)
        {
            c0 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(a, b, c0); c1 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(a, b, c1);
            c2 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(a, b, c2); c3 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(a, b, c3);
            c4 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(a, b, c4); c5 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(a, b, c5);
            c6 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(a, b, c6); c7 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(a, b, c7);
            c8 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(a, b, c8); c9 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(a, b, c9);
            c10 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(a, b, c10); c11 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(a, b, c11);
            c12 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(a, b, c12); c13 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(a, b, c13);
            c14 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(a, b, c14); c15 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(a, b, c15);
        }
        return System.Runtime.Intrinsics.Vector512.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11 + c12 + c13 + c14 + c15);
    }
}

/// <summary>The floor under a batch-1 dense network: reading its parameters once. A vector sum with 8 chains over an
/// array as large as W1's parameters (235,146 floats, 940.6 KB: in L2 after the first pass, as the weights are in a
/// warm batch-1 loop) — the bytes W1 batch 1 must stream, at the core's load bandwidth from L2.</summary>
internal static class Stream
{
    public const int W1Parameters = 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10;

    /// <summary>A pinned array of <paramref name="count"/> floats starting on a cache line (as the model's arena), and
    /// the index of that start: a misaligned 64-byte load touches two lines.</summary>
    public static (float[] Array, int Start) Aligned(int count = W1Parameters)
    {
        var a = System.GC.AllocateArray<float>(count + 16, pinned: true);
        System.Array.Fill(a, 1f);   // written: untouched pages would all read the one zero page
        var handle = System.Runtime.InteropServices.GCHandle.Alloc(a, System.Runtime.InteropServices.GCHandleType.Pinned);
        long address = handle.AddrOfPinnedObject();   // on the pinned heap: it stays there after the handle goes
        handle.Free();
        return (a, (int)((64 - address % 64) % 64 / 4));
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static float Sum(float[] array, int start, int count = W1Parameters)
    {
        var a = System.MemoryExtensions.AsSpan(array, start, count);
        ref float p = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(a);
        System.Runtime.Intrinsics.Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        int i = 0;
        for (; i + 128 <= a.Length; i += 128)
        {
            c0 += System.Runtime.Intrinsics.Vector512.LoadUnsafe(ref p, (nuint)i); c1 += System.Runtime.Intrinsics.Vector512.LoadUnsafe(ref p, (nuint)(i + 16));
            c2 += System.Runtime.Intrinsics.Vector512.LoadUnsafe(ref p, (nuint)(i + 32)); c3 += System.Runtime.Intrinsics.Vector512.LoadUnsafe(ref p, (nuint)(i + 48));
            c4 += System.Runtime.Intrinsics.Vector512.LoadUnsafe(ref p, (nuint)(i + 64)); c5 += System.Runtime.Intrinsics.Vector512.LoadUnsafe(ref p, (nuint)(i + 80));
            c6 += System.Runtime.Intrinsics.Vector512.LoadUnsafe(ref p, (nuint)(i + 96)); c7 += System.Runtime.Intrinsics.Vector512.LoadUnsafe(ref p, (nuint)(i + 112));
        }
        float s = System.Runtime.Intrinsics.Vector512.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7);
        for (; i < a.Length; i++) s += a[i];
        return s;
    }
}
