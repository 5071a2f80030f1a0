using System;
using System.Linq;
using ModelGen.Kernels;
using static Interleaved;

namespace ModelGen.Benchmarks;

/// <summary>`--study-b1`: W1's first layer (784 → 256) at batch 1: the GEMV streaming W's rows eight at a time
/// (<c>Gemm.GemvV512</c>, what the layer ran) against a sweep of Wᵀ's rows (<c>Gemm.ColumnsV512</c>: one stream,
/// sixteen accumulators — what it runs since), a sweep of the in-place path's 16-unit panels of Wᵀ (sixteen streams, no
/// copy of its own), and the whole batch-1 <c>Predict</c>; on random inputs, on MNIST's first 64 test digits (zero
/// pixels skipped) and on half-zero random inputs; alternated, medians. Run from the repository (MNIST's files).
/// Measured 2026-12-03 (AMD EPYC, family 26, 1 MB L2): GEMV 7.1–7.5 µs, the sweep of Wᵀ 4.9–5.7 (0.66–0.76 ×; up to
/// 0.88 × while the other cases' data crowd L2), the panels' sweep 5.4–8.1, the sweep on digits with the skip 1.4 µs
/// (GEMV 7.4), on half-zero inputs 3.5 µs (the branch's mispredictions cost less than the rows they skip).</summary>
internal static class StudyB1
{
    /// <summary>Wᵀ's rows swept from W1's 16 panels of 16 units (PackRows' layout: 16 streams).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void SweepPanels(ref float wp, ref float x, ref float y, ref float bias)
    {
        System.Runtime.Intrinsics.Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        System.Runtime.Intrinsics.Vector512<float> c8 = default, c9 = default, c10 = default, c11 = default, c12 = default, c13 = default, c14 = default, c15 = default;
        const nint P = 784 * 16;
        for (nint i = 0; i < 784; i++)
        {
            var s = System.Runtime.Intrinsics.Vector512.Create(Mem.Add(ref x, i));
            ref float r = ref Mem.Add(ref wp, i * 16);
            c0 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(Mem.Load512(ref r, 0), s, c0);
            c1 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(Mem.Load512(ref Mem.Add(ref r, P)), s, c1);
            c2 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(Mem.Load512(ref Mem.Add(ref r, 2 * P)), s, c2);
            c3 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(Mem.Load512(ref Mem.Add(ref r, 3 * P)), s, c3);
            c4 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(Mem.Load512(ref Mem.Add(ref r, 4 * P)), s, c4);
            c5 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(Mem.Load512(ref Mem.Add(ref r, 5 * P)), s, c5);
            c6 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(Mem.Load512(ref Mem.Add(ref r, 6 * P)), s, c6);
            c7 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(Mem.Load512(ref Mem.Add(ref r, 7 * P)), s, c7);
            c8 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(Mem.Load512(ref Mem.Add(ref r, 8 * P)), s, c8);
            c9 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(Mem.Load512(ref Mem.Add(ref r, 9 * P)), s, c9);
            c10 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(Mem.Load512(ref Mem.Add(ref r, 10 * P)), s, c10);
            c11 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(Mem.Load512(ref Mem.Add(ref r, 11 * P)), s, c11);
            c12 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(Mem.Load512(ref Mem.Add(ref r, 12 * P)), s, c12);
            c13 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(Mem.Load512(ref Mem.Add(ref r, 13 * P)), s, c13);
            c14 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(Mem.Load512(ref Mem.Add(ref r, 14 * P)), s, c14);
            c15 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(Mem.Load512(ref Mem.Add(ref r, 15 * P)), s, c15);
        }
        c0.StoreAt(ref y, 0); c1.StoreAt(ref y, 16); c2.StoreAt(ref y, 32); c3.StoreAt(ref y, 48); c4.StoreAt(ref y, 64); c5.StoreAt(ref y, 80); c6.StoreAt(ref y, 96); c7.StoreAt(ref y, 112);
        c8.StoreAt(ref y, 128); c9.StoreAt(ref y, 144); c10.StoreAt(ref y, 160); c11.StoreAt(ref y, 176); c12.StoreAt(ref y, 192); c13.StoreAt(ref y, 208); c14.StoreAt(ref y, 224); c15.StoreAt(ref y, 240);
    }

    public static void Run()
    {
        var rng = new Rng(1);
        const int k = 784, units = 256;
        var w = new float[units * k]; for (int i = 0; i < w.Length; i++) w[i] = rng.NextFloat() - 0.5f;
        var wT = new float[units * k];
        Layout.Transpose(ref w[0], units, k, k, ref wT[0], units, SimdWidth.V512);
        var x = new float[k]; for (int i = 0; i < k; i++) x[i] = rng.NextFloat();
        var bias = new float[units]; for (int i = 0; i < units; i++) bias[i] = rng.NextFloat() - 0.5f;
        var y1 = new float[units]; var y2 = new float[units];
        void Gemv() => Gemm.GemvV512(ref w[0], k, ref x[0], ref y1[0], units, ref bias[0], Epilogue.BiasRelu, 0f);
        void Columns() => Gemm.ColumnsV512(ref wT[0], k, units, ref x[0], ref y2[0], ref bias[0], Epilogue.BiasRelu, 0f, false);
        Gemv(); Columns();
        var yc = (float[])y2.Clone();
        Console.WriteLine($"largest difference GEMV − columns: {y1.Zip(y2, (a, b) => Math.Abs(a - b)).Max():G3}");
        // Real digits: MNIST's first 64 test images, one per call in turn (81 % of their pixels are 0).
        var digits = Data.Idx.ReadImages(System.IO.Path.Combine(Word2VecRun.FindRoot(), "Samples", "data", "mnist", "t10k-images-idx3-ubyte.gz"), out _, out _);
        int d = 0;
        void ColumnsSkipDigits() { Gemm.ColumnsV512(ref wT[0], k, units, ref digits[(d = (d + 1) & 63) * k], ref y2[0], ref bias[0], Epilogue.BiasRelu, 0f, true); }
        void ColumnsDigits() { Gemm.ColumnsV512(ref wT[0], k, units, ref digits[(d = (d + 1) & 63) * k], ref y2[0], ref bias[0], Epilogue.BiasRelu, 0f, false); }
        void GemvDigits() { Gemm.GemvV512(ref w[0], k, ref digits[(d = (d + 1) & 63) * k], ref y1[0], units, ref bias[0], Epilogue.BiasRelu, 0f); }
        var half = x.Select((v, i) => rng.NextFloat() < 0.5f ? 0f : v).ToArray();
        void ColumnsSkipHalf() => Gemm.ColumnsV512(ref wT[0], k, units, ref half[0], ref y2[0], ref bias[0], Epilogue.BiasRelu, 0f, true);
        void ColumnsSkip() => Gemm.ColumnsV512(ref wT[0], k, units, ref x[0], ref y2[0], ref bias[0], Epilogue.BiasRelu, 0f, true);
        var wp = new float[units * k];
        Layout.TransposePanels(ref w[0], units, k, 16, ref wp[0], SimdWidth.V512);
        void Panels() => SweepPanels(ref wp[0], ref x[0], ref y2[0], ref bias[0]);
        var model = new Mnist.MnistMlp(256, 1);
        var py = new float[10];
        void Predict1() => model.Predict(x, py);
        var cases = new (string Name, Action Run, int Reps)[] { ("gemv", Gemv, 20), ("columns", Columns, 20), ("panels", Panels, 20), ("Predict b1", Predict1, 20), ("columns skip", ColumnsSkip, 20),
            ("gemv digits", GemvDigits, 20), ("columns digits", ColumnsDigits, 20), ("columns skip digits", ColumnsSkipDigits, 20), ("columns skip half-zero random", ColumnsSkipHalf, 20) };
        for (int run = 0; run < 3; run++)
        {
            var t = Times(cases, 200, warm: true);
            double Med(System.Collections.Generic.List<double> l) { var a = l.ToArray(); Array.Sort(a); return a[a.Length / 2]; }
            var ratios = t[1].Zip(t[0], (a, b) => a / b).ToArray(); Array.Sort(ratios);
            Console.WriteLine(string.Join("  ", cases.Select((c, i) => $"{c.Name} {Med(t[i]):F2} us")) + $"   columns / gemv {ratios[ratios.Length / 2]:F3}");
        }
    }
}
