using System;
using System.Diagnostics;
using System.Collections.Generic;
using System.Linq;
using ModelGen;
using MG = global::ModelGen.Kernels;

namespace ModelGen.Benchmarks;

/// <summary>`--sparse-gemv`: a study for W2's batch-1 dense layer (4096 → 256, 4 MB of weights read from L3 each call,
/// ~40 % of a batch-1 Predict on the Intel host). The layer's input is a ReLU + max-pool output, so some of its 4096
/// values are exactly 0. With the weights packed transposed (Wᵀ [4096, 256], once per parameter version), each input
/// value owns one contiguous 1 KB row of Wᵀ, and a zero input skips its row: the bytes read fall with the zeros. Times
/// the GEMV over row-major W (the batch-1 path before the sweep) against the column sweep with and without the skip, calls alternated, on
/// W2's own weights and its real Flat activation: the study behind the generated batch-1 sweep, now the runtime's
/// <c>Gemm.ColumnsV512</c> called here on a transposed copy made by this study.</summary>
internal static class SparseGemv
{
    public static void Run()
    {
        var m = new Cifar.W2(1, 1);
        var rng = new Rng(1);
        var input = new float[3072];
        for (int i = 0; i < input.Length; i++) input[i] = rng.NextFloat();
        m.Forward(input, training: false);
        var x = new float[4096];
        m.GetActivation("Flat", x);
        int zeros = 0;
        foreach (float v in x) if (v == 0f) zeros++;
        var w = new float[256 * 4096];
        var bias = new float[256];
        foreach (var t in m.Tensors)
        {
            if (t.Name == "Hidden.weight") m.Parameters.Slice(t.Offset, w.Length).CopyTo(w);
            if (t.Name == "Hidden.bias") m.Parameters.Slice(t.Offset, bias.Length).CopyTo(bias);
        }
        var wt = new float[4096 * 256];
        for (int o = 0; o < 256; o++) for (int i = 0; i < 4096; i++) wt[i * 256 + o] = w[o * 4096 + i];
        var y0 = new float[256]; var y1 = new float[256]; var y2 = new float[256];
        var cases = new (string Name, Action Run)[]
        {
            ("row-major GEMV (the path before)", () => MG.Gemm.GemvV512(ref w[0], 4096, ref x[0], ref y0[0], 256, ref bias[0], MG.Epilogue.BiasRelu, 0f)),
            ("column sweep, every input", () => MG.Gemm.ColumnsV512(ref wt[0], 4096, 256, ref x[0], ref y1[0], ref bias[0], MG.Epilogue.BiasRelu, 0f, skipZeros: false)),
            ("column sweep, zero inputs skipped", () => MG.Gemm.ColumnsV512(ref wt[0], 4096, 256, ref x[0], ref y2[0], ref bias[0], MG.Epilogue.BiasRelu, 0f, skipZeros: true)),
        };
        var times = new double[cases.Length][];
        for (int c = 0; c < cases.Length; c++) times[c] = new double[200];
        for (int r = 0; r < 210; r++)
            for (int c = 0; c < cases.Length; c++)
            {
                long t0 = Stopwatch.GetTimestamp();
                cases[c].Run();
                if (r >= 10) times[c][r - 10] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
            }
        Console.WriteLine($"W2 Flat at batch 1: {zeros} of 4096 inputs are 0 ({100.0 * zeros / 4096:F0} %)");
        for (int c = 0; c < cases.Length; c++) { Array.Sort(times[c]); Console.WriteLine($"{cases[c].Name,-36} median {times[c][100],7:F1} us"); }
        double worst = 0;
        for (int o = 0; o < 256; o++) worst = Math.Max(worst, Math.Abs(y2[o] - y0[o]) / Math.Max(1e-6, Math.Abs(y0[o])));
        Console.WriteLine($"skip vs no skip bitwise equal: {y1.AsSpan().SequenceEqual(y2)}; largest relative difference from the GEMV {worst:G3}");
    }

    /// <summary>`--sparse-gemv whole`: W2's whole batch-1 Predict with the generated sweep's skip on and off — a second
    /// model with the same weights whose flag (written by <c>PackBatch1</c>: 1 when zero inputs may be skipped) is set to
    /// 0 by reflection, so that it reads every row of Wᵀ — calls alternated (medians, and of per-call ratios).</summary>
    public static void WholeCall()
    {
        var on = new Cifar.W2(1, 1);
        var off = new Cifar.W2(1, 1);
        on.Parameters.CopyTo(off.Parameters);
        var rng = new Rng(1);
        var x = new float[3072];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextFloat();
        var y = new float[10];
        on.Predict(x, y); off.Predict(x, y);   // both packed for this parameter version
        var flags = System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance;
        var ws = (Workspace)typeof(Cifar.W2).GetField("_main", flags)!.GetValue(off)!;
        long wt = (long)typeof(Cifar.W2).GetField("_hiddenWT", flags)!.GetValue(off)!;
        ws.Ref(wt + 4096 * 256) = 0f;   // the skip off: every row of Wᵀ is read
        var t = new[] { new List<double>(), new List<double>() };
        for (int r = 0; r < 2100; r++)
            for (int k = 0; k < 2; k++)
            {
                long t0 = Stopwatch.GetTimestamp();
                (k == 0 ? on : off).Predict(x, y);
                if (r >= 100) t[k].Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            }
        var ratio = t[0].Zip(t[1], (a, b) => a / b).Order().ToList();
        t[0].Sort(); t[1].Sort();
        Console.WriteLine($"W2 batch-1 Predict, calls alternated: skip on {t[0][1000]:F3} ms, skip off {t[1][1000]:F3} ms; median per-call ratio {ratio[1000]:F3}");
    }
}
