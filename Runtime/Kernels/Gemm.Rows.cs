using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ModelGen.Kernels;

public static partial class Gemm
{
    // ── a dense layer reading the caller's row-major input in place ───────────────────────────────────────────────
    // Y [units, ld] (a feature-major panel) = epi(W·Xᵀ + bias) with X [samples, k] as the caller gave it: a tile holds
    // a group of samples × a group of units — 8 × 32, or 16 × 16 for a layer's last, odd panel —, the samples broadcast
    // from X's rows (rowStride apart: constant displacements once the kernel is specialised to the layer), the units
    // vectors of 16-unit panels of Wᵀ
    // (Layout.TransposePanels, once per parameter version); the finished tile is transposed in registers and stored as
    // the panel's rows. Each output is one FMA chain over the reduction in order from +0, then the epilogue: the bits
    // of the batch-in-lanes product over a transposed input (the training forward), with no pass over the input.
    // AVX-512 and scalar only: an AVX2 tile of 8 samples × 8 units takes 9 loads per 8 FMAs (load-bound on a core that
    // issues two loads a cycle; 8 × 16 needs 19 of AVX2's 16 registers), and it ran 3–5 % slower than the input's
    // transposition + the panel product (`Benchmarks --study-rows`, 2026-12-03), which AVX2 therefore keeps.

    /// <summary>16 samples × 16 units (AVX-512): <c>y[u·ld + s] = epi(Σ_p x[s·rowStride + p]·b[p·16 + u] + bias[u])</c> for
    /// s &lt; 16, u &lt; <paramref name="units"/> (≤ 16; the panel's lanes past it are computed, not stored). 16 accumulators,
    /// one vector load and 16 broadcast FMAs per step. Inlined into a local function of the generated layer with
    /// <paramref name="rowStride"/> and <paramref name="k"/> as constants.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    public static void RowsTileV512(ref float x, nint rowStride, ref float b, int k, ref float y, nint ld, ref float bias, int units, Epilogue epi, float alpha)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default, c8 = default, c9 = default, c10 = default, c11 = default, c12 = default, c13 = default, c14 = default, c15 = default;
        nint kk = k;
        if (kk > 0)
            for (nint p = 0; ; x = ref Mem.Add(ref x, 1), b = ref Mem.Add(ref b, 16))
            {
                var bv = Mem.Load512(ref b);
                c0 = Vector512.FusedMultiplyAdd(Vector512.Create(x), bv, c0);
                c1 = Vector512.FusedMultiplyAdd(Vector512.Create(Mem.Add(ref x, rowStride)), bv, c1);
                c2 = Vector512.FusedMultiplyAdd(Vector512.Create(Mem.Add(ref x, 2 * rowStride)), bv, c2);
                c3 = Vector512.FusedMultiplyAdd(Vector512.Create(Mem.Add(ref x, 3 * rowStride)), bv, c3);
                c4 = Vector512.FusedMultiplyAdd(Vector512.Create(Mem.Add(ref x, 4 * rowStride)), bv, c4);
                c5 = Vector512.FusedMultiplyAdd(Vector512.Create(Mem.Add(ref x, 5 * rowStride)), bv, c5);
                c6 = Vector512.FusedMultiplyAdd(Vector512.Create(Mem.Add(ref x, 6 * rowStride)), bv, c6);
                c7 = Vector512.FusedMultiplyAdd(Vector512.Create(Mem.Add(ref x, 7 * rowStride)), bv, c7);
                c8 = Vector512.FusedMultiplyAdd(Vector512.Create(Mem.Add(ref x, 8 * rowStride)), bv, c8);
                c9 = Vector512.FusedMultiplyAdd(Vector512.Create(Mem.Add(ref x, 9 * rowStride)), bv, c9);
                c10 = Vector512.FusedMultiplyAdd(Vector512.Create(Mem.Add(ref x, 10 * rowStride)), bv, c10);
                c11 = Vector512.FusedMultiplyAdd(Vector512.Create(Mem.Add(ref x, 11 * rowStride)), bv, c11);
                c12 = Vector512.FusedMultiplyAdd(Vector512.Create(Mem.Add(ref x, 12 * rowStride)), bv, c12);
                c13 = Vector512.FusedMultiplyAdd(Vector512.Create(Mem.Add(ref x, 13 * rowStride)), bv, c13);
                c14 = Vector512.FusedMultiplyAdd(Vector512.Create(Mem.Add(ref x, 14 * rowStride)), bv, c14);
                c15 = Vector512.FusedMultiplyAdd(Vector512.Create(Mem.Add(ref x, 15 * rowStride)), bv, c15);
                if (++p == kk) break;
            }
        StoreTransposed(c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15, ref y, ld, ref bias, units, epi, alpha);
    }

    /// <summary>8 samples × 32 units (AVX-512; two 16-unit panels of Wᵀ, <paramref name="panelStride"/> floats apart):
    /// <c>y[u·ld + s] = epi(Σ_p x[s·rowStride + p]·b[panel(u) + p·16 + u % 16] + bias[u])</c> for s &lt; 8,
    /// u &lt; <paramref name="units"/> (17 … 32; the second panel's lanes past it are computed, not stored). 16
    /// accumulators; per step two vector loads and 8 broadcasts feed 16 FMAs — 10 loads, where the 16 × 16 tile takes 17
    /// (<see cref="RowsTileV512"/>, kept for a layer's last, odd panel). Each output is the same FMA chain, so the same
    /// bits. Inlined into a local function of the generated layer with the strides and <paramref name="k"/> as constants.
    /// W1's 784 → 256 at batch 256 (AMD EPYC, family 26, 2026-12-03): 0.88 × the 16 × 16 tile's time over the layer
    /// (482–490 against 544–550 µs; over K blocks of 112 or 196 steps with the sums parked between blocks, 490–501 µs),
    /// 0.92–0.94 × the input's transposition + the panel product.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    public static void RowsTile8x32V512(ref float x, nint rowStride, ref float b, nint panelStride, int k, ref float y, nint ld, ref float bias, int units, Epilogue epi, float alpha)
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        Vector512<float> b0 = default, b1 = default, b2 = default, b3 = default, b4 = default, b5 = default, b6 = default, b7 = default;
        nint kk = k;
        if (kk > 0)
            for (nint p = 0; ; x = ref Mem.Add(ref x, 1), b = ref Mem.Add(ref b, 16))
            {
                var w0 = Mem.Load512(ref b);
                var w1 = Mem.Load512(ref Mem.Add(ref b, panelStride));
                var s = Vector512.Create(x); a0 = Vector512.FusedMultiplyAdd(s, w0, a0); b0 = Vector512.FusedMultiplyAdd(s, w1, b0);
                s = Vector512.Create(Mem.Add(ref x, rowStride)); a1 = Vector512.FusedMultiplyAdd(s, w0, a1); b1 = Vector512.FusedMultiplyAdd(s, w1, b1);
                s = Vector512.Create(Mem.Add(ref x, 2 * rowStride)); a2 = Vector512.FusedMultiplyAdd(s, w0, a2); b2 = Vector512.FusedMultiplyAdd(s, w1, b2);
                s = Vector512.Create(Mem.Add(ref x, 3 * rowStride)); a3 = Vector512.FusedMultiplyAdd(s, w0, a3); b3 = Vector512.FusedMultiplyAdd(s, w1, b3);
                s = Vector512.Create(Mem.Add(ref x, 4 * rowStride)); a4 = Vector512.FusedMultiplyAdd(s, w0, a4); b4 = Vector512.FusedMultiplyAdd(s, w1, b4);
                s = Vector512.Create(Mem.Add(ref x, 5 * rowStride)); a5 = Vector512.FusedMultiplyAdd(s, w0, a5); b5 = Vector512.FusedMultiplyAdd(s, w1, b5);
                s = Vector512.Create(Mem.Add(ref x, 6 * rowStride)); a6 = Vector512.FusedMultiplyAdd(s, w0, a6); b6 = Vector512.FusedMultiplyAdd(s, w1, b6);
                s = Vector512.Create(Mem.Add(ref x, 7 * rowStride)); a7 = Vector512.FusedMultiplyAdd(s, w0, a7); b7 = Vector512.FusedMultiplyAdd(s, w1, b7);
                if (++p == kk) break;
            }
        StoreTransposed8(a0, a1, a2, a3, a4, a5, a6, a7, ref y, ld, ref bias, 0, 16, epi, alpha);
        StoreTransposed8(b0, b1, b2, b3, b4, b5, b6, b7, ref y, ld, ref bias, 16, units, epi, alpha);
    }

    /// <summary>Rows r0…r7 (8 samples; lanes: units <paramref name="first"/> …) transposed — pairs, then quads unpacked
    /// within 128-bit lanes, then 128-bit lanes gathered — and unit u's 8 samples stored at <c>y[u·ld]</c> through the
    /// epilogue, u &lt; <paramref name="units"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreTransposed8(Vector512<float> r0, Vector512<float> r1, Vector512<float> r2, Vector512<float> r3,
        Vector512<float> r4, Vector512<float> r5, Vector512<float> r6, Vector512<float> r7, ref float y, nint ld, ref float bias, int first, int units, Epilogue epi, float alpha)
    {
        var t0 = Avx512F.UnpackLow(r0, r1); var t1 = Avx512F.UnpackHigh(r0, r1); var t2 = Avx512F.UnpackLow(r2, r3); var t3 = Avx512F.UnpackHigh(r2, r3);
        var t4 = Avx512F.UnpackLow(r4, r5); var t5 = Avx512F.UnpackHigh(r4, r5); var t6 = Avx512F.UnpackLow(r6, r7); var t7 = Avx512F.UnpackHigh(r6, r7);
        // Column 4l + c (lane l): rows 0–3 in u_c, rows 4–7 in v_c.
        var u0 = Avx512F.UnpackLow(t0.AsDouble(), t2.AsDouble()).AsSingle(); var u1 = Avx512F.UnpackHigh(t0.AsDouble(), t2.AsDouble()).AsSingle();
        var u2 = Avx512F.UnpackLow(t1.AsDouble(), t3.AsDouble()).AsSingle(); var u3 = Avx512F.UnpackHigh(t1.AsDouble(), t3.AsDouble()).AsSingle();
        var v0 = Avx512F.UnpackLow(t4.AsDouble(), t6.AsDouble()).AsSingle(); var v1 = Avx512F.UnpackHigh(t4.AsDouble(), t6.AsDouble()).AsSingle();
        var v2 = Avx512F.UnpackLow(t5.AsDouble(), t7.AsDouble()).AsSingle(); var v3 = Avx512F.UnpackHigh(t5.AsDouble(), t7.AsDouble()).AsSingle();
        Columns4(u0, v0, first, ref y, ld, ref bias, units, epi, alpha);
        Columns4(u1, v1, first + 1, ref y, ld, ref bias, units, epi, alpha);
        Columns4(u2, v2, first + 2, ref y, ld, ref bias, units, epi, alpha);
        Columns4(u3, v3, first + 3, ref y, ld, ref bias, units, epi, alpha);
    }

    /// <summary>Units c, c + 4, c + 8, c + 12 (lanes 0–3 of <paramref name="u"/> for samples 0–3, of <paramref name="v"/> for 4–7).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Columns4(Vector512<float> u, Vector512<float> v, int c, ref float y, nint ld, ref float bias, int units, Epilogue epi, float alpha)
    {
        var lo = Avx512F.Shuffle4x128(u, v, 0x44);   // u.0 u.1 v.0 v.1
        var hi = Avx512F.Shuffle4x128(u, v, 0xEE);   // u.2 u.3 v.2 v.3
        if (units > c) Unit8(Avx512F.Shuffle4x128(lo, lo, 0x08).GetLower(), ref y, c, ld, ref bias, epi, alpha);
        if (units > c + 4) Unit8(Avx512F.Shuffle4x128(lo, lo, 0x0D).GetLower(), ref y, c + 4, ld, ref bias, epi, alpha);
        if (units > c + 8) Unit8(Avx512F.Shuffle4x128(hi, hi, 0x08).GetLower(), ref y, c + 8, ld, ref bias, epi, alpha);
        if (units > c + 12) Unit8(Avx512F.Shuffle4x128(hi, hi, 0x0D).GetLower(), ref y, c + 12, ld, ref bias, epi, alpha);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Unit8(Vector256<float> v, ref float y, nint u, nint ld, ref float bias, Epilogue epi, float alpha) =>
        Epilogues.Apply(v, ref Mem.Add(ref y, u * ld), Epilogues.BiasOf(ref bias, (int)u, epi), epi, alpha);

    /// <summary>Rows r0…r15 (samples; lanes: units) transposed — pairs, then quads unpacked within 128-bit lanes, then
    /// two shuffles of 128-bit lanes — and unit u's 16 samples stored at <c>y[u·ld]</c> through the epilogue, u &lt; units.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void StoreTransposed(Vector512<float> r0, Vector512<float> r1, Vector512<float> r2, Vector512<float> r3,
        Vector512<float> r4, Vector512<float> r5, Vector512<float> r6, Vector512<float> r7, Vector512<float> r8, Vector512<float> r9,
        Vector512<float> r10, Vector512<float> r11, Vector512<float> r12, Vector512<float> r13, Vector512<float> r14, Vector512<float> r15,
        ref float y, nint ld, ref float bias, int units, Epilogue epi, float alpha)
    {
        // Rows 4g…4g+3: u_gc holds, in 128-bit lane l, column 4l + c of those four rows.
        var t00 = Avx512F.UnpackLow(r0, r1); var t01 = Avx512F.UnpackHigh(r0, r1); var t02 = Avx512F.UnpackLow(r2, r3); var t03 = Avx512F.UnpackHigh(r2, r3);
        var u00 = Avx512F.UnpackLow(t00.AsDouble(), t02.AsDouble()).AsSingle(); var u01 = Avx512F.UnpackHigh(t00.AsDouble(), t02.AsDouble()).AsSingle();
        var u02 = Avx512F.UnpackLow(t01.AsDouble(), t03.AsDouble()).AsSingle(); var u03 = Avx512F.UnpackHigh(t01.AsDouble(), t03.AsDouble()).AsSingle();
        var t10 = Avx512F.UnpackLow(r4, r5); var t11 = Avx512F.UnpackHigh(r4, r5); var t12 = Avx512F.UnpackLow(r6, r7); var t13 = Avx512F.UnpackHigh(r6, r7);
        var u10 = Avx512F.UnpackLow(t10.AsDouble(), t12.AsDouble()).AsSingle(); var u11 = Avx512F.UnpackHigh(t10.AsDouble(), t12.AsDouble()).AsSingle();
        var u12 = Avx512F.UnpackLow(t11.AsDouble(), t13.AsDouble()).AsSingle(); var u13 = Avx512F.UnpackHigh(t11.AsDouble(), t13.AsDouble()).AsSingle();
        var t20 = Avx512F.UnpackLow(r8, r9); var t21 = Avx512F.UnpackHigh(r8, r9); var t22 = Avx512F.UnpackLow(r10, r11); var t23 = Avx512F.UnpackHigh(r10, r11);
        var u20 = Avx512F.UnpackLow(t20.AsDouble(), t22.AsDouble()).AsSingle(); var u21 = Avx512F.UnpackHigh(t20.AsDouble(), t22.AsDouble()).AsSingle();
        var u22 = Avx512F.UnpackLow(t21.AsDouble(), t23.AsDouble()).AsSingle(); var u23 = Avx512F.UnpackHigh(t21.AsDouble(), t23.AsDouble()).AsSingle();
        var t30 = Avx512F.UnpackLow(r12, r13); var t31 = Avx512F.UnpackHigh(r12, r13); var t32 = Avx512F.UnpackLow(r14, r15); var t33 = Avx512F.UnpackHigh(r14, r15);
        var u30 = Avx512F.UnpackLow(t30.AsDouble(), t32.AsDouble()).AsSingle(); var u31 = Avx512F.UnpackHigh(t30.AsDouble(), t32.AsDouble()).AsSingle();
        var u32 = Avx512F.UnpackLow(t31.AsDouble(), t33.AsDouble()).AsSingle(); var u33 = Avx512F.UnpackHigh(t31.AsDouble(), t33.AsDouble()).AsSingle();
        // Column 4l + c: lane l of u_0c, u_1c, u_2c, u_3c.
        var v0 = Avx512F.Shuffle4x128(u00, u10, 0x44); var w0 = Avx512F.Shuffle4x128(u20, u30, 0x44);
        var v0h = Avx512F.Shuffle4x128(u00, u10, 0xEE); var w0h = Avx512F.Shuffle4x128(u20, u30, 0xEE);
        var v1 = Avx512F.Shuffle4x128(u01, u11, 0x44); var w1 = Avx512F.Shuffle4x128(u21, u31, 0x44);
        var v1h = Avx512F.Shuffle4x128(u01, u11, 0xEE); var w1h = Avx512F.Shuffle4x128(u21, u31, 0xEE);
        var v2 = Avx512F.Shuffle4x128(u02, u12, 0x44); var w2 = Avx512F.Shuffle4x128(u22, u32, 0x44);
        var v2h = Avx512F.Shuffle4x128(u02, u12, 0xEE); var w2h = Avx512F.Shuffle4x128(u22, u32, 0xEE);
        var v3 = Avx512F.Shuffle4x128(u03, u13, 0x44); var w3 = Avx512F.Shuffle4x128(u23, u33, 0x44);
        var v3h = Avx512F.Shuffle4x128(u03, u13, 0xEE); var w3h = Avx512F.Shuffle4x128(u23, u33, 0xEE);
        Unit(Avx512F.Shuffle4x128(v0, w0, 0x88), ref y, 0, ld, ref bias, epi, alpha);
        if (units > 1) Unit(Avx512F.Shuffle4x128(v1, w1, 0x88), ref y, 1, ld, ref bias, epi, alpha);
        if (units > 2) Unit(Avx512F.Shuffle4x128(v2, w2, 0x88), ref y, 2, ld, ref bias, epi, alpha);
        if (units > 3) Unit(Avx512F.Shuffle4x128(v3, w3, 0x88), ref y, 3, ld, ref bias, epi, alpha);
        if (units > 4) Unit(Avx512F.Shuffle4x128(v0, w0, 0xDD), ref y, 4, ld, ref bias, epi, alpha);
        if (units > 5) Unit(Avx512F.Shuffle4x128(v1, w1, 0xDD), ref y, 5, ld, ref bias, epi, alpha);
        if (units > 6) Unit(Avx512F.Shuffle4x128(v2, w2, 0xDD), ref y, 6, ld, ref bias, epi, alpha);
        if (units > 7) Unit(Avx512F.Shuffle4x128(v3, w3, 0xDD), ref y, 7, ld, ref bias, epi, alpha);
        if (units > 8) Unit(Avx512F.Shuffle4x128(v0h, w0h, 0x88), ref y, 8, ld, ref bias, epi, alpha);
        if (units > 9) Unit(Avx512F.Shuffle4x128(v1h, w1h, 0x88), ref y, 9, ld, ref bias, epi, alpha);
        if (units > 10) Unit(Avx512F.Shuffle4x128(v2h, w2h, 0x88), ref y, 10, ld, ref bias, epi, alpha);
        if (units > 11) Unit(Avx512F.Shuffle4x128(v3h, w3h, 0x88), ref y, 11, ld, ref bias, epi, alpha);
        if (units > 12) Unit(Avx512F.Shuffle4x128(v0h, w0h, 0xDD), ref y, 12, ld, ref bias, epi, alpha);
        if (units > 13) Unit(Avx512F.Shuffle4x128(v1h, w1h, 0xDD), ref y, 13, ld, ref bias, epi, alpha);
        if (units > 14) Unit(Avx512F.Shuffle4x128(v2h, w2h, 0xDD), ref y, 14, ld, ref bias, epi, alpha);
        if (units > 15) Unit(Avx512F.Shuffle4x128(v3h, w3h, 0xDD), ref y, 15, ld, ref bias, epi, alpha);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Unit(Vector512<float> v, ref float y, nint u, nint ld, ref float bias, Epilogue epi, float alpha) =>
        Epilogues.Apply(v, ref Mem.Add(ref y, u * ld), Epilogues.BiasOf(ref bias, (int)u, epi), epi, alpha);

    /// <summary>The scalar width: <c>y[u·ld + s] = epi(Σ_p W[u·k + p]·x[s·k + p] + bias[u])</c> for units
    /// <c>[u0, u1)</c> and samples s &lt; n, the samples from <paramref name="batch"/> on reading as zeros (the panel's
    /// padding columns) — the scalar product's sums, term for term, over W as it is (nothing packed).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ScalarRows(ref float w, int k, ref float x, int batch, int n, int u0, int u1, ref float y, nint ld, ref float bias, Epilogue epi, float alpha)
    {
        for (int u = u0; u < u1; u++)
        {
            float bv = Epilogues.BiasOf(ref bias, u, epi);
            for (int s = 0; s < n; s++)
            {
                float acc = 0f;
                if (s < batch)
                    for (int p = 0; p < k; p++)
                        acc += Mem.Add(ref w, (nint)u * k + p) * Mem.Add(ref x, (nint)s * k + p);
                Epilogues.Apply(acc, ref Mem.Add(ref y, u * ld + s), bv, epi, alpha);
            }
        }
    }
}
