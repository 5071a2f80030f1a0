using System;
using System.Linq;
using System.Runtime.CompilerServices;
using ModelGen.Kernels;
using static Interleaved;

namespace ModelGen.Benchmarks;

/// <summary>`--tile-ceiling`: how close W1's in-place tile (<c>Gemm.RowsTileV512</c>, 16 samples × 16 units: one vector
/// load and 16 broadcast loads per 16 FMAs) gets to the FMA peak on this core, alternated in rounds with the peak loop
/// (16 FMA chains on registers): the tile with its data in L1 (k = 128, rows 128 floats apart), and as W1's first layer
/// runs it (k = 784, rows 784 floats apart: 50 KB of rows and 50 KB of one panel of Wᵀ, from L2). The inner loop is
/// the generated layer's, instruction for instruction (16 <c>vfmadd231ps zmm, zmm16, [rdi+disp]{1to16}</c>).
/// Measured once (2026-12-03, nineteenth session, Intel Xeon, in a noisy spell: `--peak2` 1.75×, and `--targets` just
/// after put W1's whole batch-256 call at 69–73 % of the round's peak, against 92 % in a quiet spell that afternoon):
/// in L1 76–77 %, W1's shape 70–71 %; again twenty minutes later (`--peak2` 1.72×) 76–78 % and 74–75 %, while
/// `--layers-w1` right after ran the generated Hidden1 — the same tile over 256 samples × 256 units — at 2.9 G vector
/// FMAs a second against this study's 2.5 G (peak 107 GFLOP/s = 3.4 G). So the study runs the tile slower than the
/// layer does, and its fractions are not yet a ceiling of anything: find out why (its arrays? the repeated tile's
/// stores to one place?) before reading them. With two 512-bit FMA pipes and two loads a cycle the loads alone would
/// cap the tile at 16/17 = 94 %.</summary>
internal static class TileCeiling
{
    public static void Run()
    {
        var rng = new Rng(3);
        float[] R(int n) { var a = new float[n]; for (int i = 0; i < n; i++) a[i] = rng.NextFloat() - 0.5f; return a; }
        float[] x1 = R(16 * 128), b1 = R(128 * 16), x2 = R(16 * 784), b2 = R(784 * 16), bias = R(16);
        var y = new float[16 * 16];
        var cases = new (string Name, Action Run, int Reps)[]
        {
            ("FMA peak (registers)", () => Peak.Run(PeakBenchmarks.Iterations), 2),
            ("tile, k = 128, in L1", () => L1(x1, b1, y, bias), 2),
            ("tile, k = 784, W1's rows", () => W1(x2, b2, y, bias), 2),
        };
        const double fmas = 16.0 * PeakBenchmarks.Iterations;   // per call of the peak loop
        var work = new[] { 1.0, 800 * 128 * 16 / fmas, 128 * 784 * 16 / fmas };   // each case's FMAs per call, in peak loops
        for (int run = 0; run < 3; run++)
        {
            var t = Times(cases, 100, warm: true);
            Console.WriteLine($"peak {fmas * 32 / Median(t[0]) / 1e3:F1} GFLOP/s; fraction of the round's peak: "
                + string.Join(", ", Enumerable.Range(1, 2).Select(i =>
                {
                    var f = t[i].Zip(t[0], (a, p) => work[i] * p / a).ToArray();
                    return $"{cases[i].Name} {Median(f):P1} (quartiles {Quantile(f, 0.25):P1}–{Quantile(f, 0.75):P1})";
                })));
        }
    }

    // 800 tiles × 128 steps × 16 FMAs = 1.6 M FMAs, as the peak loop.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void L1(float[] x, float[] b, float[] y, float[] bias)
    {
        for (int r = 0; r < 800; r++) Gemm.RowsTileV512(ref x[0], 128, ref b[0], 128, ref y[0], 16, ref bias[0], 16, Epilogue.BiasRelu, 0f);
    }

    // 128 tiles × 784 steps × 16 FMAs = 1.61 M FMAs.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void W1(float[] x, float[] b, float[] y, float[] bias)
    {
        for (int r = 0; r < 128; r++) Gemm.RowsTileV512(ref x[0], 784, ref b[0], 784, ref y[0], 16, ref bias[0], 16, Epilogue.BiasRelu, 0f);
    }
}
