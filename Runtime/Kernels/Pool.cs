using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ModelGen.Kernels;

/// <summary>Pooling over one sample <c>x[C][ldIn]</c> → <c>y[C][ldOut]</c> (no padding).</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Pool
{
    /// <summary><c>y[c,i,j] = max over the k×k window at (i·s, j·s)</c>. The 2×2, stride-2 window is vectorised at
    /// <paramref name="width"/> (a maximum is exact, so every width gives the same bits).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Max(ref float x, int c, int h, int w, int ldIn, int k, int s, int ho, int wo, int ldOut, ref float y, SimdWidth width = SimdWidth.Scalar)
    {
        for (int ci = 0; ci < c; ci++)
        {
            ref float src = ref Mem.Add(ref x, (nint)ci * ldIn);
            ref float dst = ref Mem.Add(ref y, (nint)ci * ldOut);
            if (k == 2 && s == 2)
            {
                // The common 2×2 window: two rows, two columns, no inner loops.
                for (int i = 0; i < ho; i++)
                {
                    ref float r0 = ref Mem.Add(ref src, 2 * i * w);
                    ref float r1 = ref Mem.Add(ref r0, w);
                    ref float o = ref Mem.Add(ref dst, i * wo);
                    int j = width switch
                    {
                        SimdWidth.V512 => Max2x2V512(ref r0, ref r1, w, wo, ref o),
                        SimdWidth.V256 => Max2x2V256(ref r0, ref r1, w, wo, ref o),   // V512 continues with it too
                        _ => 0,
                    };
                    for (; j < wo; j++)
                        Mem.Add(ref o, j) = Max(Max(Mem.Add(ref r0, 2 * j), Mem.Add(ref r0, 2 * j + 1)), Max(Mem.Add(ref r1, 2 * j), Mem.Add(ref r1, 2 * j + 1)));
                }
                continue;
            }
            for (int i = 0; i < ho; i++)
                for (int j = 0; j < wo; j++)
                {
                    float m = float.NegativeInfinity;
                    for (int u = 0; u < k; u++)
                        for (int v = 0; v < k; v++)
                        {
                            float e = Mem.Add(ref src, (i * s + u) * w + j * s + v);
                            if (e > m || float.IsNaN(e)) m = e;   // NaN wins, so it is not hidden
                        }
                    Mem.Add(ref dst, i * wo + j) = m;
                }
        }
    }

    /// <summary>One output row of a 2×2, stride-2 max-pool: the vertical maximum of the two input rows, then the maximum
    /// of each even lane and its odd neighbour (brought down by a 64-bit shift), and a truncating 64 → 32-bit narrow
    /// gathers the even lanes — 16 outputs per step, then 8 with 256-bit vectors. Returns the outputs done.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Max2x2V512(ref float r0, ref float r1, int w, int wo, ref float o)
    {
        int j = 0;
        for (; 2 * j + 32 <= w && j + 16 <= wo; j += 16)
        {
            int c0 = 2 * j;
            var v0 = Vector512.Max(Mem.Load512(ref r0, (nuint)c0), Mem.Load512(ref r1, (nuint)c0));
            var v1 = Vector512.Max(Mem.Load512(ref r0, (nuint)(c0 + 16)), Mem.Load512(ref r1, (nuint)(c0 + 16)));
            var h0 = Vector512.Max(v0, Vector512.ShiftRightLogical(v0.AsUInt64(), 32).AsSingle());
            var h1 = Vector512.Max(v1, Vector512.ShiftRightLogical(v1.AsUInt64(), 32).AsSingle());
            Vector512.Narrow(h0.AsUInt64(), h1.AsUInt64()).AsSingle().StoreAt(ref o, (nuint)j);
        }
        return j + Max2x2V256(ref Mem.Add(ref r0, 2 * j), ref Mem.Add(ref r1, 2 * j), w - 2 * j, wo - j, ref Mem.Add(ref o, j));
    }

    /// <summary><see cref="Max2x2V512"/> with 256-bit vectors: 8 outputs per step.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Max2x2V256(ref float r0, ref float r1, int w, int wo, ref float o)
    {
        int j = 0;
        for (; 2 * j + 16 <= w && j + 8 <= wo; j += 8)
        {
            int c0 = 2 * j;
            var v0 = Vector256.Max(Mem.Load256(ref r0, (nuint)c0), Mem.Load256(ref r1, (nuint)c0));
            var v1 = Vector256.Max(Mem.Load256(ref r0, (nuint)(c0 + 8)), Mem.Load256(ref r1, (nuint)(c0 + 8)));
            var h0 = Vector256.Max(v0, Vector256.ShiftRightLogical(v0.AsUInt64(), 32).AsSingle());
            var h1 = Vector256.Max(v1, Vector256.ShiftRightLogical(v1.AsUInt64(), 32).AsSingle());
            Vector256.Narrow(h0.AsUInt64(), h1.AsUInt64()).AsSingle().StoreAt(ref o, (nuint)j);
        }
        return j;
    }

    /// <summary>One output row of the 2×2, stride-2 max-pool gradient, 8 outputs per step: the first maximum in row-major
    /// order (a, b over c, d; strict <c>&gt;</c>, as the scalar code) is found with compares in the even lanes, where a
    /// 64-bit shift brings each odd neighbour; dy, widened into the even lanes, goes to a or c there and — shifted into
    /// the odd lanes — to b or d. Every other position gets 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int MaxBackward2x2V512(ref float r0, ref float g, int w, int wo, ref float d0, bool relu)
    {
        ref float r1 = ref Mem.Add(ref r0, w);
        ref float d1 = ref Mem.Add(ref d0, w);
        int j = 0;
        for (; 2 * j + 16 <= w && j + 8 <= wo; j += 8)
        {
            int c0 = 2 * j;
            var top = Mem.Load512(ref r0, (nuint)c0);
            var bottom = Mem.Load512(ref r1, (nuint)c0);
            var a = top; var b = Vector512.ShiftRightLogical(top.AsUInt64(), 32).AsSingle();
            var c = bottom; var d = Vector512.ShiftRightLogical(bottom.AsUInt64(), 32).AsSingle();
            var selB = Vector512.GreaterThan(b, a);
            var m = Vector512.ConditionalSelect(selB, b, a);
            var selC = Vector512.GreaterThan(c, m);
            m = Vector512.ConditionalSelect(selC, c, m);
            var selD = Vector512.GreaterThan(d, m);
            var wC = Vector512.AndNot(selC, selD);
            var wB = Vector512.AndNot(Vector512.AndNot(selB, selC), selD);
            var wA = ~(selB | selC | selD);
            // dy of outputs j..j+7 in the even lanes, zeros in the odd ones.
            var dy = Vector512.WidenLower(Vector512.Create(Mem.Load256(ref g, (nuint)j), Vector256<float>.Zero).AsUInt32()).AsSingle();
            var zero = Vector512<float>.Zero;
            if (relu) dy = Vector512.ConditionalSelect(Vector512.GreaterThan(Vector512.ConditionalSelect(selD, d, m), zero), dy, zero);   // the ReLU passed nothing where the maximum is ≤ 0
            var outTop = Vector512.ConditionalSelect(wA, dy, zero) + Vector512.ShiftLeft(Vector512.ConditionalSelect(wB, dy, zero).AsUInt64(), 32).AsSingle();
            var outBottom = Vector512.ConditionalSelect(wC, dy, zero) + Vector512.ShiftLeft(Vector512.ConditionalSelect(selD, dy, zero).AsUInt64(), 32).AsSingle();
            (zero + outTop).StoreAt(ref d0, (nuint)c0);      // 0 + dy, as the scalar dx = 0; dx += dy
            (zero + outBottom).StoreAt(ref d1, (nuint)c0);
        }
        return j + MaxBackward2x2V256(ref Mem.Add(ref r0, 2 * j), ref Mem.Add(ref g, j), w, w - 2 * j, wo - j, ref Mem.Add(ref d0, 2 * j), relu);   // as Max2x2V512: 256-bit steps finish
    }

    /// <summary><see cref="MaxBackward2x2V512"/> with 256-bit vectors: 4 outputs per step, over the first
    /// <paramref name="cols"/> columns of rows <paramref name="w"/> apart.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int MaxBackward2x2V256(ref float r0, ref float g, int w, int cols, int wo, ref float d0, bool relu)
    {
        ref float r1 = ref Mem.Add(ref r0, w);
        ref float d1 = ref Mem.Add(ref d0, w);
        int j = 0;
        for (; 2 * j + 8 <= cols && j + 4 <= wo; j += 4)
        {
            int c0 = 2 * j;
            var top = Mem.Load256(ref r0, (nuint)c0);
            var bottom = Mem.Load256(ref r1, (nuint)c0);
            var a = top; var b = Vector256.ShiftRightLogical(top.AsUInt64(), 32).AsSingle();
            var c = bottom; var d = Vector256.ShiftRightLogical(bottom.AsUInt64(), 32).AsSingle();
            var selB = Vector256.GreaterThan(b, a);
            var m = Vector256.ConditionalSelect(selB, b, a);
            var selC = Vector256.GreaterThan(c, m);
            m = Vector256.ConditionalSelect(selC, c, m);
            var selD = Vector256.GreaterThan(d, m);
            var wC = Vector256.AndNot(selC, selD);
            var wB = Vector256.AndNot(Vector256.AndNot(selB, selC), selD);
            var wA = ~(selB | selC | selD);
            var g4 = Vector128.Create(Mem.Add(ref g, j), Mem.Add(ref g, j + 1), Mem.Add(ref g, j + 2), Mem.Add(ref g, j + 3));
            var dy = Vector256.WidenLower(Vector256.Create(g4, Vector128<float>.Zero).AsUInt32()).AsSingle();   // dy in the even lanes
            var zero = Vector256<float>.Zero;
            if (relu) dy = Vector256.ConditionalSelect(Vector256.GreaterThan(Vector256.ConditionalSelect(selD, d, m), zero), dy, zero);
            var outTop = Vector256.ConditionalSelect(wA, dy, zero) + Vector256.ShiftLeft(Vector256.ConditionalSelect(wB, dy, zero).AsUInt64(), 32).AsSingle();
            var outBottom = Vector256.ConditionalSelect(wC, dy, zero) + Vector256.ShiftLeft(Vector256.ConditionalSelect(selD, dy, zero).AsUInt64(), 32).AsSingle();
            (zero + outTop).StoreAt(ref d0, (nuint)c0);
            (zero + outBottom).StoreAt(ref d1, (nuint)c0);
        }
        return j;
    }

    /// <summary>IEEE 754-2019 maximum, as <c>Vector512.Max</c> computes it: NaN wins (pooling never hides one), +0 above −0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Max(float a, float b) => MathF.Max(a, b);

    /// <summary><c>dx = 0</c>, then each <c>dy[c,i,j]</c> goes to the first (row-major) maximum of its window. With
    /// <paramref name="relu"/> (x is a ReLU's output) it goes there only when that maximum is positive: dx is then also
    /// the ReLU's gradient, the bits <c>Activations.Backward(Relu)</c> would leave (a maximum ≤ 0 or NaN means the ReLU
    /// passed nothing back), and that pass over the image is saved.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MaxBackward(ref float x, ref float dy, int c, int h, int w, int ldIn, int k, int s, int ho, int wo, int ldOut, ref float dx, SimdWidth width = SimdWidth.Scalar, bool relu = false)
    {
        for (int ci = 0; ci < c; ci++)
        {
            ref float src = ref Mem.Add(ref x, (nint)ci * ldIn);
            ref float g = ref Mem.Add(ref dy, (nint)ci * ldOut);
            ref float dst = ref Mem.Add(ref dx, (nint)ci * ldIn);
            _ = Mem.Add(ref dst, h * w - 1);   // the checked build checks the extent; Clear is a vectorised memset
            if (k == 2 && s == 2)
            {
                // The 2×2 windows do not overlap: each writes its four positions (0 + dy at the maximum, +0 elsewhere, as
                // dx = 0; dx += dy gives), so only what no window covers is cleared — the last column and row of an odd
                // image — and not the whole image first (a pass over the convolution's gradient, 4 MB in W2 at batch 32).
                for (int i = 0; i < ho; i++)
                {
                    for (int j = width switch
                         {
                             SimdWidth.V512 => MaxBackward2x2V512(ref Mem.Add(ref src, 2 * i * w), ref Mem.Add(ref g, i * wo), w, wo, ref Mem.Add(ref dst, 2 * i * w), relu),
                             SimdWidth.V256 => MaxBackward2x2V256(ref Mem.Add(ref src, 2 * i * w), ref Mem.Add(ref g, i * wo), w, w, wo, ref Mem.Add(ref dst, 2 * i * w), relu),
                             _ => 0,
                         }; j < wo; j++)
                    {
                        int a = 2 * i * w + 2 * j, best = a;   // candidates in row-major order: a, a+1, a+w, a+w+1
                        float m = Mem.Add(ref src, a);
                        if (Mem.Add(ref src, a + 1) > m) { m = Mem.Add(ref src, a + 1); best = a + 1; }
                        if (Mem.Add(ref src, a + w) > m) { m = Mem.Add(ref src, a + w); best = a + w; }
                        if (Mem.Add(ref src, a + w + 1) > m) best = a + w + 1;
                        Mem.Add(ref dst, a) = 0f; Mem.Add(ref dst, a + 1) = 0f; Mem.Add(ref dst, a + w) = 0f; Mem.Add(ref dst, a + w + 1) = 0f;
                        Mem.Add(ref dst, best) += relu && !(Mem.Add(ref src, best) > 0f) ? 0f : Mem.Add(ref g, i * wo + j);
                    }
                    for (int col = 2 * wo; col < w; col++)   // an odd width's last column
                        Mem.Add(ref dst, 2 * i * w + col) = Mem.Add(ref dst, (2 * i + 1) * w + col) = 0f;
                }
                if (2 * ho < h)   // an odd height's last row(s)
                    System.Runtime.InteropServices.MemoryMarshal.CreateSpan(ref Mem.Add(ref dst, 2 * ho * w), (h - 2 * ho) * w).Clear();
                continue;
            }
            System.Runtime.InteropServices.MemoryMarshal.CreateSpan(ref dst, h * w).Clear();
            for (int i = 0; i < ho; i++)
                for (int j = 0; j < wo; j++)
                {
                    int best = (i * s) * w + j * s;
                    float m = Mem.Add(ref src, best);
                    for (int u = 0; u < k; u++)
                        for (int v = 0; v < k; v++)
                        {
                            int at = (i * s + u) * w + j * s + v;
                            if (Mem.Add(ref src, at) > m) { m = Mem.Add(ref src, at); best = at; }
                        }
                    Mem.Add(ref dst, best) += relu && !(m > 0f) ? 0f : Mem.Add(ref g, i * wo + j);
                }
        }
    }

    /// <summary><c>y[c,i,j] = mean over the k×k window</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Average(ref float x, int c, int h, int w, int ldIn, int k, int s, int ho, int wo, int ldOut, ref float y)
    {
        float inv = 1f / (k * k);
        for (int ci = 0; ci < c; ci++)
        {
            ref float src = ref Mem.Add(ref x, (nint)ci * ldIn);
            ref float dst = ref Mem.Add(ref y, (nint)ci * ldOut);
            for (int i = 0; i < ho; i++)
                for (int j = 0; j < wo; j++)
                {
                    float sum = 0f;
                    for (int u = 0; u < k; u++)
                        for (int v = 0; v < k; v++) sum += Mem.Add(ref src, (i * s + u) * w + j * s + v);
                    Mem.Add(ref dst, i * wo + j) = sum * inv;
                }
        }
    }

    /// <summary><c>dx = 0</c>, then <c>dx[window] += dy / k²</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AverageBackward(ref float dy, int c, int h, int w, int ldIn, int k, int s, int ho, int wo, int ldOut, ref float dx)
    {
        float inv = 1f / (k * k);
        for (int ci = 0; ci < c; ci++)
        {
            ref float g = ref Mem.Add(ref dy, (nint)ci * ldOut);
            ref float dst = ref Mem.Add(ref dx, (nint)ci * ldIn);
            for (int q = 0; q < h * w; q++) Mem.Add(ref dst, q) = 0f;
            for (int i = 0; i < ho; i++)
                for (int j = 0; j < wo; j++)
                {
                    float d = Mem.Add(ref g, i * wo + j) * inv;
                    for (int u = 0; u < k; u++)
                        for (int v = 0; v < k; v++) Mem.Add(ref dst, (i * s + u) * w + j * s + v) += d;
                }
        }
    }

    /// <summary>Global average over images <c>x[batch][C][ldIn]</c> into a panel <c>y[c·ld + b]</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GlobalAverage(ref float x, int batch, int c, int pixels, int ldIn, ref float y, int ld)
    {
        float inv = 1f / pixels;
        for (int b = 0; b < batch; b++)
            for (int ci = 0; ci < c; ci++)
            {
                ref float src = ref Mem.Add(ref x, ((nint)b * c + ci) * ldIn);
                float sum = 0f;
                for (int q = 0; q < pixels; q++) sum += Mem.Add(ref src, q);
                Mem.Add(ref y, (nint)ci * ld + b) = sum * inv;
            }
    }

    /// <summary><c>dx[b][c][p] = dy[c·ld + b] / pixels</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GlobalAverageBackward(ref float dy, int ld, int batch, int c, int pixels, int ldIn, ref float dx)
    {
        float inv = 1f / pixels;
        for (int b = 0; b < batch; b++)
            for (int ci = 0; ci < c; ci++)
            {
                float d = Mem.Add(ref dy, (nint)ci * ld + b) * inv;
                ref float dst = ref Mem.Add(ref dx, ((nint)b * c + ci) * ldIn);
                for (int q = 0; q < pixels; q++) Mem.Add(ref dst, q) = d;
            }
    }
}
