using System;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ModelGen.Benchmarks;

/// <summary>
/// <c>--tiles-w3</c>: W3's per-step products alone, in the layouts the training step gives them, against the FMA peak
/// measured in the same run — to tell the kernel's own ceiling on this core from what the rest of the step does to it.
/// Forward <c>G_t += W_hh·h_(t−1)</c>: A = W_hh <c>[512 × 128]</c> row-major, B = h_(t−1) <c>[128 × 16]</c>; backward
/// <c>dh = W_hhᵀ·dG_t</c>: A = W_hh read down its columns, B = dG_t <c>[512 × 16]</c>. B's and C's rows are
/// <c>ldb</c> floats apart: 16 (packed), 496 (a 31-step panel) or 512 (the 32-step panel: every row in the same two L1
/// sets). Tiles of 6 or 12 rows × one 16-lane vector, as the generator emits them (its code, hand-copied).
/// </summary>
internal static unsafe class W3Tiles
{
    private const int G = 512, H = 128;

    public static void Run(string? only = null)
    {
        float* a = Alloc(G * H);
        float* a6 = Pack(a, 6), a12 = Pack(a, 12);
        float* t6 = PackTransposed(a, 6), t12 = PackTransposed(a, 12);
        var cases = new System.Collections.Generic.List<(string What, double Flops, Action Product)>();
        foreach (int ld in new[] { 16, 512 })
        {
            float* b = Alloc(G * ld + 16), c = Alloc(G * ld + 16);
            double flops = 2.0 * 504 * H * 16, bflops = 2.0 * 120 * G * 16;
            cases.Add(($"forward   6×1, ld {ld,3}", flops, () => Forward(a, b, c, ld, 6)));
            cases.Add(($"forward  12×1, ld {ld,3}", flops, () => Forward(a, b, c, ld, 12)));
            cases.Add(($"forward   6×1, ld {ld,3}, A in L1", flops, () => Forward(a, b, c, ld, 6, aStride: 0)));
            cases.Add(($"forward  12×1, ld {ld,3}, A in L1", flops, () => Forward(a, b, c, ld, 12, aStride: 0)));
            cases.Add(($"forward   6×1, ld {ld,3}, A packed", flops, () => ForwardPacked(a6, b, c, ld, 6)));
            cases.Add(($"forward  12×1, ld {ld,3}, A packed", flops, () => ForwardPacked(a12, b, c, ld, 12)));
            cases.Add(($"backward  6×1, ld {ld,3}", bflops, () => Backward(a, b, c, ld, 6)));
            cases.Add(($"backward  6×1, ld {ld,3}, A walked", bflops, () => BackwardWalked(a, b, c, ld, 6)));
            cases.Add(($"backward 12×1, ld {ld,3}, A walked", bflops, () => BackwardWalked(a, b, c, ld, 12)));
            cases.Add(($"backward  6×1, ld {ld,3}, A packed", bflops, () => BackwardPacked(t6, b, c, ld, 6)));
            cases.Add(($"backward 12×1, ld {ld,3}, A packed", bflops, () => BackwardPacked(t12, b, c, ld, 12)));
            cases.Add(($"backward 12×1, ld {ld,3}", bflops, () => Backward(a, b, c, ld, 12)));
        }
        // The forward's 12×1 tiles over panels with B's and C's strides apart, and with the next tile's C rows prefetched.
        {
            float* b16 = Alloc(G * 16 + 16), b512 = Alloc(G * 512 + 16), c16 = Alloc(G * 16 + 16), c512 = Alloc(G * 512 + 16);
            double flops = 2.0 * 504 * H * 16;
            cases.Add(("fwd 12×1 packed, B 16, C 512", flops, () => ForwardPacked2(a12, b16, 16, c512, 512, false)));
            cases.Add(("fwd 12×1 packed, B 512, C 16", flops, () => ForwardPacked2(a12, b512, 512, c16, 16, false)));
            cases.Add(("fwd 12×1 packed, B 16, C 512, prefetch C", flops, () => ForwardPacked2(a12, b16, 16, c512, 512, true)));
            cases.Add(("fwd 12×1 packed, B 512, C 512, prefetch C", flops, () => ForwardPacked2(a12, b512, 512, c512, 512, true)));
        }
        // dW_hh += dG(steps 1…)·H(steps …T−2)ᵀ: A = dG [512 rows, 31·16 steps] (rows 2 KB apart), B = H as [496, 128], C = dW
        // [512 × 128]; 6×64 tiles over the whole reduction, or in blocks of 128 steps (C carried between blocks).
        {
            float* dg = Alloc(G * 512), hsm = Alloc(496 * H), dw = Alloc(G * H);
            double wflops = 2.0 * 510 * 496 * H;
            cases.Add(("dW_hh 6×64, K 496 whole", wflops, () => WeightGradient(dg, hsm, dw, 496)));
            cases.Add(("dW_hh 6×64, K in blocks of 128", wflops, () => WeightGradient(dg, hsm, dw, 128)));
        }
        // The LSTM cell of one step, 128 units × 16 samples: gates and states in the 32-step panels (rows 512 floats
        // apart) or contiguous (rows 16 apart). Flops: counted as 1 per element so the rate reads as elements/ns.
        foreach (int ld in new[] { 16, 512 })
        {
            float* gates = Alloc(G * ld + 16), cells = Alloc(H * ld + 16), hs = Alloc(H * ld + 16), cp = Alloc(H * ld + 16);
            var rng = new Rng(3);
            for (int i = 0; i < G * ld; i++) gates[i] = 6f * rng.NextFloat() - 3f;
            for (int i = 0; i < H * ld; i++) { cp[i] = 2f * rng.NextFloat() - 1f; cells[i] = cp[i]; }
            cases.Add(($"cell: LSTM forward,  ld {ld,3} (elements)", H * 16, () =>
                ModelGen.Kernels.Recurrent.LstmForward(ref gates[0], ld, ref cp[0], ld, ref cells[0], ref hs[0], ref Unsafe.NullRef<float>(), ld, H, 16, false, SimdWidth.V512)));
            // backward from activated gates and tanh(c) (or c, for a build whose backward computes it), dh and dc fresh
            // each call (copied: the kernel overwrites them, and repeated it would drift into subnormal numbers)
            float* g0 = Alloc(G * ld + 16), dh = Alloc(H * 16), dc = Alloc(H * 16), dc0 = Alloc(H * 16), gb = Alloc(G * ld + 16);
            for (int i = 0; i < G * ld; i++) g0[i] = 0.05f + 0.9f * rng.NextFloat();
            for (int i = 0; i < H * 16; i++) { dh[i] = rng.NextFloat() - 0.5f; dc0[i] = rng.NextFloat() - 0.5f; }
            cases.Add(($"cell: LSTM backward, ld {ld,3} (elements)", H * 16, () =>
            {
                Buffer.MemoryCopy(g0, gb, 4L * (G * ld + 16), 4L * (G * ld + 16));
                Buffer.MemoryCopy(dc0, dc, 4L * H * 16, 4L * H * 16);
                ModelGen.Kernels.Recurrent.LstmBackward(ref gb[0], ld, ref cp[0], ld, ref cells[0], ld, ref dh[0], ref dc[0], 16, H, 16, 16, false, SimdWidth.V512);
            }));
        }
        {
            var src = new float[2048]; var dst = new float[2048];
            var rng = new Rng(4);
            for (int i = 0; i < src.Length; i++) src[i] = 6f * rng.NextFloat() - 3f;
            cases.Add(("cell: sigmoid of 2048 (elements)", 2048.0, (Action)(() => ModelGen.Kernels.Activations.Forward(ModelGen.Kernels.Activation.Sigmoid, 0f, src, dst, SimdWidth.V512))));
            cases.Add(("cell: tanh of 2048 (elements)", 2048.0, (Action)(() => ModelGen.Kernels.Activations.Forward(ModelGen.Kernels.Activation.Tanh, 0f, src, dst, SimdWidth.V512))));
        }
        // The training step's panel packing (once per parameter version, so once per step): W_hh and W_hhᵀ into 12-row
        // panels, as the generated PackPanels calls it.
        {
            float* whhP = Alloc(G * H), whhTP = Alloc(G * H);
            cases.Add(("pack: W_hh in 12-row panels (floats)", G * H, () => ModelGen.Kernels.Layout.PackPanels(ref *a, G, H, H, 1, 12, ref *whhP, SimdWidth.V512)));
            cases.Add(("pack: W_hhᵀ in 12-row panels (floats)", G * H, () => ModelGen.Kernels.Layout.PackPanels(ref *a, H, G, 1, H, 12, ref *whhTP, SimdWidth.V512)));
        }
        if (only is not null) cases.RemoveAll(c => !c.What.Contains(only, StringComparison.Ordinal));
        // Rounds, every case once per round, so that the host's slow spells fall on all of them alike; medians.
        var times = new double[cases.Count][];
        for (int i = 0; i < cases.Count; i++) { times[i] = new double[31]; for (int w = 0; w < 1000; w++) cases[i].Product(); }
        var peaks = new double[31];
        for (int round = 0; round < 31; round++)
        {
            long p0 = Stopwatch.GetTimestamp();
            Peak.Run(100_000);
            peaks[round] = 16.0 * 16 * 2 * 100_000 / Stopwatch.GetElapsedTime(p0).TotalSeconds / 1e9;
            for (int i = 0; i < cases.Count; i++)
            {
                long t0 = Stopwatch.GetTimestamp();
                for (int n = 0; n < 200; n++) cases[i].Product();
                times[i][round] = Stopwatch.GetElapsedTime(t0).TotalSeconds / 200;
            }
        }
        Array.Sort(peaks);
        double median = peaks[15];
        Console.WriteLine($"FMA peak {median:F0} GFLOP/s (median of the rounds; best {peaks[^1]:F0})");
        for (int i = 0; i < cases.Count; i++)
        {
            Array.Sort(times[i]);
            double t = times[i][15];
            Console.WriteLine($"{cases[i].What,-34}: {t * 1e6,6:F2} µs  {cases[i].Flops / t / 1e9,5:F0} GFLOP/s  {100 * cases[i].Flops / t / 1e9 / median,3:F0} % of peak");
        }
    }

    /// <summary>W_hh's rows in panels of <paramref name="rows"/>: panel q holds rows q·rows… as [k][rows], so a tile reads
    /// its <paramref name="rows"/> values of step k from one place with no index register.</summary>
    private static float* Pack(float* a, int rows)
    {
        float* p = Alloc(G * H);
        for (int q = 0; q + rows <= G; q += rows)
            for (int k = 0; k < H; k++)
                for (int i = 0; i < rows; i++) p[q * H + k * rows + i] = a[(q + i) * H + k];
        return p;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardPacked(float* ap, float* b, float* c, int ld, int rows)
    {
        for (int r = 0; r < 504; r += rows)
            if (rows == 6) TileP6(ap + r * H, 6, b, ld, c + r * ld, ld, H);
            else TileP12(ap + r * H, 12, b, ld, c + r * ld, ld, H);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardPacked2(float* ap, float* b, int ldb, float* c, int ldc, bool prefetch)
    {
        for (int r = 0; r < 504; r += 12)
        {
            if (prefetch && r + 12 < 504)
                for (int i = 0; i < 12; i++) System.Runtime.Intrinsics.X86.Sse.Prefetch0(c + (r + 12 + i) * ldc);
            TileP12(ap + r * H, 12, b, ldb, c + r * ldc, ldc, H);
        }
    }

    /// <summary>W_hhᵀ (unit j's column) in panels of <paramref name="rows"/> units: panel q as [k = 0…511][rows].</summary>
    private static float* PackTransposed(float* a, int rows)
    {
        float* p = Alloc(G * H);
        for (int q = 0; q + rows <= H; q += rows)
            for (int k = 0; k < G; k++)
                for (int i = 0; i < rows; i++) p[q * G + k * rows + i] = a[k * H + q + i];
        return p;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BackwardPacked(float* ap, float* b, float* c, int ld, int rows)
    {
        for (int k0 = 0; k0 < G; k0 += 128)
            for (int r = 0; r < 120; r += rows)
                if (rows == 6) TileP6(ap + r * G + k0 * 6, 6, b + k0 * ld, ld, c + r * ld, ld, 128);
                else TileP12(ap + r * G + k0 * 12, 12, b + k0 * ld, ld, c + r * ld, ld, 128);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BackwardWalked(float* a, float* b, float* c, int ld, int rows)
    {
        for (int k0 = 0; k0 < G; k0 += 128)
            for (int r = 0; r < 120; r += rows)
                if (rows == 6) TileP6(a + k0 * H + r, H, b + k0 * ld, ld, c + r * ld, ld, 128);
                else TileP12(a + k0 * H + r, H, b + k0 * ld, ld, c + r * ld, ld, 128);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WeightGradient(float* a, float* b, float* c, int block)
    {
        for (int k0 = 0; k0 < 496; k0 += block)
        {
            int kn = Math.Min(block, 496 - k0);
            for (int j = 0; j < H; j += 64)
                for (int r = 0; r < 510; r += 6)
                    Tile6x4(a + r * 512 + k0, 512, b + k0 * H + j, H, c + r * H + j, H, kn);
        }
    }

    /// <summary>The emitted 6×64 tile with A's rows contiguous (six row pointers indexed by the step), adding to C.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Tile6x4(float* a, nint ars, float* b, nint ldb, float* c, nint ldc, int k)
    {
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default, c10 = default, c11 = default, c12 = default, c13 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default, c30 = default, c31 = default, c32 = default, c33 = default;
        Vector512<float> c40 = default, c41 = default, c42 = default, c43 = default, c50 = default, c51 = default, c52 = default, c53 = default;
        float* a0 = a, a1 = a + ars, a2 = a + 2 * ars, a3 = a + 3 * ars, a4 = a + 4 * ars, a5 = a + 5 * ars;
        for (nint p = 0; p < k; p++, b += ldb)
        {
            var b0 = Vector512.Load(b); var b1 = Vector512.Load(b + 16); var b2 = Vector512.Load(b + 32); var b3 = Vector512.Load(b + 48);
            var s = Vector512.Create(a0[p]); c00 = Vector512.FusedMultiplyAdd(s, b0, c00); c01 = Vector512.FusedMultiplyAdd(s, b1, c01); c02 = Vector512.FusedMultiplyAdd(s, b2, c02); c03 = Vector512.FusedMultiplyAdd(s, b3, c03);
            s = Vector512.Create(a1[p]); c10 = Vector512.FusedMultiplyAdd(s, b0, c10); c11 = Vector512.FusedMultiplyAdd(s, b1, c11); c12 = Vector512.FusedMultiplyAdd(s, b2, c12); c13 = Vector512.FusedMultiplyAdd(s, b3, c13);
            s = Vector512.Create(a2[p]); c20 = Vector512.FusedMultiplyAdd(s, b0, c20); c21 = Vector512.FusedMultiplyAdd(s, b1, c21); c22 = Vector512.FusedMultiplyAdd(s, b2, c22); c23 = Vector512.FusedMultiplyAdd(s, b3, c23);
            s = Vector512.Create(a3[p]); c30 = Vector512.FusedMultiplyAdd(s, b0, c30); c31 = Vector512.FusedMultiplyAdd(s, b1, c31); c32 = Vector512.FusedMultiplyAdd(s, b2, c32); c33 = Vector512.FusedMultiplyAdd(s, b3, c33);
            s = Vector512.Create(a4[p]); c40 = Vector512.FusedMultiplyAdd(s, b0, c40); c41 = Vector512.FusedMultiplyAdd(s, b1, c41); c42 = Vector512.FusedMultiplyAdd(s, b2, c42); c43 = Vector512.FusedMultiplyAdd(s, b3, c43);
            s = Vector512.Create(a5[p]); c50 = Vector512.FusedMultiplyAdd(s, b0, c50); c51 = Vector512.FusedMultiplyAdd(s, b1, c51); c52 = Vector512.FusedMultiplyAdd(s, b2, c52); c53 = Vector512.FusedMultiplyAdd(s, b3, c53);
        }
        Add(c, c00, c01, c02, c03); Add(c + ldc, c10, c11, c12, c13); Add(c + 2 * ldc, c20, c21, c22, c23);
        Add(c + 3 * ldc, c30, c31, c32, c33); Add(c + 4 * ldc, c40, c41, c42, c43); Add(c + 5 * ldc, c50, c51, c52, c53);
    }

    private static void Add(float* c, Vector512<float> x0, Vector512<float> x1, Vector512<float> x2, Vector512<float> x3)
    {
        AddTo(c, x0); AddTo(c + 16, x1); AddTo(c + 32, x2); AddTo(c + 48, x3);
    }

    /// <summary>The one-vector tiles' epilogue for six rows: <c>C[i] += acc_i</c>, rows <paramref name="ldc"/> apart.</summary>
    private static void AddRows(float* c, nint ldc, Vector512<float> x0, Vector512<float> x1, Vector512<float> x2, Vector512<float> x3, Vector512<float> x4, Vector512<float> x5)
    {
        AddTo(c, x0); AddTo(c + ldc, x1); AddTo(c + 2 * ldc, x2); AddTo(c + 3 * ldc, x3); AddTo(c + 4 * ldc, x4); AddTo(c + 5 * ldc, x5);
    }

    /// <summary>The tiles' epilogue: <c>C += acc</c>, one vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddTo(float* c, Vector512<float> acc) => Vector512.Store(Vector512.Load(c) + acc, c);

    /// <summary>A 6×1 tile whose 6 A values of step k sit together at <c>a + k·aks</c>: one pointer, displacements, no index.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void TileP6(float* a, nint aks, float* b, nint ldb, float* c, nint ldc, int k)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
        for (float* end = b + k * ldb; b < end; b += ldb, a += aks)
        {
            var b0 = Vector512.Load(b);
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(a[0]), b0, c0);
            c1 = Vector512.FusedMultiplyAdd(Vector512.Create(a[1]), b0, c1);
            c2 = Vector512.FusedMultiplyAdd(Vector512.Create(a[2]), b0, c2);
            c3 = Vector512.FusedMultiplyAdd(Vector512.Create(a[3]), b0, c3);
            c4 = Vector512.FusedMultiplyAdd(Vector512.Create(a[4]), b0, c4);
            c5 = Vector512.FusedMultiplyAdd(Vector512.Create(a[5]), b0, c5);
        }
        AddRows(c, ldc, c0, c1, c2, c3, c4, c5);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void TileP12(float* a, nint aks, float* b, nint ldb, float* c, nint ldc, int k)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
        Vector512<float> c6 = default, c7 = default, c8 = default, c9 = default, c10 = default, c11 = default;
        for (float* end = b + k * ldb; b < end; b += ldb, a += aks)
        {
            var b0 = Vector512.Load(b);
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(a[0]), b0, c0);
            c1 = Vector512.FusedMultiplyAdd(Vector512.Create(a[1]), b0, c1);
            c2 = Vector512.FusedMultiplyAdd(Vector512.Create(a[2]), b0, c2);
            c3 = Vector512.FusedMultiplyAdd(Vector512.Create(a[3]), b0, c3);
            c4 = Vector512.FusedMultiplyAdd(Vector512.Create(a[4]), b0, c4);
            c5 = Vector512.FusedMultiplyAdd(Vector512.Create(a[5]), b0, c5);
            c6 = Vector512.FusedMultiplyAdd(Vector512.Create(a[6]), b0, c6);
            c7 = Vector512.FusedMultiplyAdd(Vector512.Create(a[7]), b0, c7);
            c8 = Vector512.FusedMultiplyAdd(Vector512.Create(a[8]), b0, c8);
            c9 = Vector512.FusedMultiplyAdd(Vector512.Create(a[9]), b0, c9);
            c10 = Vector512.FusedMultiplyAdd(Vector512.Create(a[10]), b0, c10);
            c11 = Vector512.FusedMultiplyAdd(Vector512.Create(a[11]), b0, c11);
        }
        AddRows(c, ldc, c0, c1, c2, c3, c4, c5);
        AddRows(c + 6 * ldc, ldc, c6, c7, c8, c9, c10, c11);
    }

    private static float* Alloc(int n)
    {
        var p = (float*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc((nuint)n * 4, 64);
        for (int i = 0; i < n; i++) p[i] = 1e-3f * (i % 97);
        return p;
    }

    /// <summary>C[0..504) += A·B over K = 128, A's rows contiguous (ars 128, aks 1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Forward(float* a, float* b, float* c, int ld, int rows, int aStride = H)
    {
        for (int r = 0; r < 504; r += rows)
            if (rows == 6) Tile6(a + r * aStride, H, 1, b, ld, c + r * ld, ld, H);
            else Tile12(a + r * aStride, H, 1, b, ld, c + r * ld, ld, H);
    }

    /// <summary>dh[0..120) = W_hhᵀ·dG over K = 512 in four blocks of 128 (A = W_hh down its columns: ars 1, aks 128).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Backward(float* a, float* b, float* c, int ld, int rows)
    {
        for (int k0 = 0; k0 < G; k0 += 128)
            for (int r = 0; r < 120; r += rows)
                if (rows == 6) Tile6(a + k0 * H + r, 1, H, b + k0 * ld, ld, c + r * ld, ld, 128);
                else Tile12(a + k0 * H + r, 1, H, b + k0 * ld, ld, c + r * ld, ld, 128);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Tile6(float* a, nint ars, nint aks, float* b, nint ldb, float* c, nint ldc, int k)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
        float* a0 = a, a1 = a + ars, a2 = a + 2 * ars, a3 = a + 3 * ars, a4 = a + 4 * ars, a5 = a + 5 * ars;
        for (nint p = 0; p < k; p++, b += ldb)
        {
            var b0 = Vector512.Load(b);
            nint q = p * aks;
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(a0[q]), b0, c0);
            c1 = Vector512.FusedMultiplyAdd(Vector512.Create(a1[q]), b0, c1);
            c2 = Vector512.FusedMultiplyAdd(Vector512.Create(a2[q]), b0, c2);
            c3 = Vector512.FusedMultiplyAdd(Vector512.Create(a3[q]), b0, c3);
            c4 = Vector512.FusedMultiplyAdd(Vector512.Create(a4[q]), b0, c4);
            c5 = Vector512.FusedMultiplyAdd(Vector512.Create(a5[q]), b0, c5);
        }
        AddRows(c, ldc, c0, c1, c2, c3, c4, c5);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Tile12(float* a, nint ars, nint aks, float* b, nint ldb, float* c, nint ldc, int k)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
        Vector512<float> c6 = default, c7 = default, c8 = default, c9 = default, c10 = default, c11 = default;
        for (nint p = 0; p < k; p++, b += ldb)
        {
            var b0 = Vector512.Load(b);
            float* ap = a + p * aks;
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(ap[0]), b0, c0);
            c1 = Vector512.FusedMultiplyAdd(Vector512.Create(ap[ars]), b0, c1);
            c2 = Vector512.FusedMultiplyAdd(Vector512.Create(ap[2 * ars]), b0, c2);
            c3 = Vector512.FusedMultiplyAdd(Vector512.Create(ap[3 * ars]), b0, c3);
            c4 = Vector512.FusedMultiplyAdd(Vector512.Create(ap[4 * ars]), b0, c4);
            c5 = Vector512.FusedMultiplyAdd(Vector512.Create(ap[5 * ars]), b0, c5);
            c6 = Vector512.FusedMultiplyAdd(Vector512.Create(ap[6 * ars]), b0, c6);
            c7 = Vector512.FusedMultiplyAdd(Vector512.Create(ap[7 * ars]), b0, c7);
            c8 = Vector512.FusedMultiplyAdd(Vector512.Create(ap[8 * ars]), b0, c8);
            c9 = Vector512.FusedMultiplyAdd(Vector512.Create(ap[9 * ars]), b0, c9);
            c10 = Vector512.FusedMultiplyAdd(Vector512.Create(ap[10 * ars]), b0, c10);
            c11 = Vector512.FusedMultiplyAdd(Vector512.Create(ap[11 * ars]), b0, c11);
        }
        AddRows(c, ldc, c0, c1, c2, c3, c4, c5);
        AddRows(c + 6 * ldc, ldc, c6, c7, c8, c9, c10, c11);
    }
}
