using System.ComponentModel;
using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ModelGen.Kernels;

/// <summary>
/// im2col for one sample of an image <c>x[C][ldIn]</c> (pixel <c>h·W + w</c> of channel c at <c>x[c·ldIn + h·W + w]</c>):
/// row <c>k = (c·KH + u)·KW + v</c> of <c>col</c> holds, for every output pixel <c>p = i·Wo + j</c>, the input
/// <c>x[c, i·S + u − PH, j·S + v − PW]</c> (0 outside the image). Then a convolution is the product <c>W[O,K]·col[K,P]</c>
/// with PyTorch's <c>[O, C, KH, KW]</c> weights as they are.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Im2Col
{
    /// <summary><c>col[k, p]</c> as above, row stride <paramref name="ldCol"/>; padding columns <c>[P, ldCol)</c> set to 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Columns(ref float x, int c, int h, int w, int ldIn, int kh, int kw, int s, int ph, int pw, int ho, int wo, ref float col, int ldCol)
        => Columns(ref x, c, h, w, ldIn, kh, kw, s, ph, pw, ho, wo, ref col, ldCol, 0, c * kh * kw);

    /// <summary>Rows <c>[k0, k1)</c> of <c>col</c> only (each at its place): the part of a weight gradient one thread computes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Columns(ref float x, int c, int h, int w, int ldIn, int kh, int kw, int s, int ph, int pw, int ho, int wo, ref float col, int ldCol, int k0, int k1)
    {
        _ = c;   // the row range says which channels
        int p = ho * wo;
        for (int k = k0; k < k1; k++)
        {
            int ci = k / (kh * kw), u = k / kw % kh, v = k % kw;
            ref float row = ref Mem.Add(ref col, (nint)k * ldCol);
            ref float src = ref Mem.Add(ref x, (nint)ci * ldIn);
            for (int i = 0; i < ho; i++)
            {
                int hi = i * s + u - ph;
                ref float dst = ref Mem.Add(ref row, i * wo);
                if ((uint)hi >= (uint)h) { for (int j = 0; j < wo; j++) Mem.Add(ref dst, j) = 0f; continue; }
                ref float srow = ref Mem.Add(ref src, hi * w);
                if (s == 1)
                {
                    // Interior columns are one contiguous copy; only the borders are zero.
                    int j0 = Math.Min(wo, Math.Max(0, pw - v)), j1 = Math.Max(j0, Math.Min(wo, w + pw - v));
                    for (int j = 0; j < j0; j++) Mem.Add(ref dst, j) = 0f;
                    Copy(ref Mem.Add(ref srow, j0 + v - pw), ref Mem.Add(ref dst, j0), j1 - j0);
                    for (int j = j1; j < wo; j++) Mem.Add(ref dst, j) = 0f;
                }
                else
                    for (int j = 0; j < wo; j++)
                    {
                        int wi = j * s + v - pw;
                        Mem.Add(ref dst, j) = (uint)wi < (uint)w ? Mem.Add(ref srow, wi) : 0f;
                    }
            }
            MemoryMarshal.CreateSpan(ref Mem.Add(ref row, p), ldCol - p).Clear();
        }
    }

    /// <summary>
    /// The padded image for an indirect (im2col-free) stride-1 convolution: <c>xpad[c][(i + PH)·Wp + j + PW] = x[c, i, j]</c>,
    /// zero borders, <c>Wp = W + 2PW</c>, channels <c>Hp·Wp</c> apart; <paramref name="slack"/> zeros follow the last
    /// channel so the kernels may read a full tile past it. Reduction step <c>k = (c, u, v)</c> then reads row
    /// <c>c·Hp·Wp + u·Wp + v</c>: output pixel <c>(i, j)</c> sits at column <c>i·Wp + j</c> of a "wide" output.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Pad(ref float x, int c, int h, int w, int ldIn, int ph, int pw, ref float xpad, int slack)
    {
        int hp = h + 2 * ph, wp = w + 2 * pw;
        // Only the border is cleared (the interior is overwritten): one pass over the buffer, not two.
        for (int ci = 0; ci < c; ci++)
        {
            ref float plane = ref Mem.Add(ref xpad, (nint)ci * hp * wp);
            MemoryMarshal.CreateSpan(ref plane, ph * wp).Clear();   // the top rows
            for (int i = 0; i < h; i++)
            {
                ref float row = ref Mem.Add(ref plane, (i + ph) * wp);
                MemoryMarshal.CreateSpan(ref row, pw).Clear();
                Copy(ref Mem.Add(ref x, (nint)ci * ldIn + i * w), ref Mem.Add(ref row, pw), w);
                MemoryMarshal.CreateSpan(ref Mem.Add(ref row, pw + w), pw).Clear();
            }
            MemoryMarshal.CreateSpan(ref Mem.Add(ref plane, (h + ph) * wp), ph * wp).Clear();   // the bottom rows
        }
        MemoryMarshal.CreateSpan(ref Mem.Add(ref xpad, (nint)c * hp * wp), slack).Clear();
    }

    /// <summary>Row offsets of the indirect convolution: <c>offsets[(c·KH + u)·KW + v] = c·Hp·Wp + u·Wp + v</c>.</summary>
    public static int[] Offsets(int c, int kh, int kw, int hp, int wp)
    {
        // Pinned, so that the checked build can name its address range (a read past it was once a dead process).
        var o = GC.AllocateArray<int>(c * kh * kw, pinned: true);
#if MODELGEN_CHECKED
        unsafe
        {
            fixed (int* at = o) Bounds.Add((nint)at, (nint)(at + o.Length), $"an offset table [{c}·{kh}·{kw}]");
        }
#endif
        for (int ci = 0; ci < c; ci++)
            for (int u = 0; u < kh; u++)
                for (int v = 0; v < kw; v++) o[(ci * kh + u) * kw + v] = ci * hp * wp + u * wp + v;
        return o;
    }

    /// <summary>Keeps the valid columns of a wide output: <c>y[o, i·Wo + j] = wide[o, i·Wp + j]</c> for <c>j &lt; Wo</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Compact(ref float wide, int rows, int ho, int wp, int wo, int ldWide, ref float y, int ldOut)
    {
        for (int r = 0; r < rows; r++)
            for (int i = 0; i < ho; i++)
                Copy(ref Mem.Add(ref wide, (nint)r * ldWide + i * wp), ref Mem.Add(ref y, (nint)r * ldOut + i * wo), wo);
    }

    /// <summary>
    /// The weights of the backward-data convolution: <c>wflip[c, (o·KH + u)·KW + v] = W[o, c, KH−1−u, KW−1−v]</c>,
    /// so that <c>dx = Σ W'·(shifted rows of dz padded by KH−1−PH, KW−1−PW)</c> — a stride-1 convolution again.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void FlipTranspose(ref float w, int o, int c, int kh, int kw, ref float wflip)
    {
        int k2 = kh * kw;
        for (int oi = 0; oi < o; oi++)
            for (int ci = 0; ci < c; ci++)
                for (int u = 0; u < kh; u++)
                    for (int v = 0; v < kw; v++)
                        Mem.Add(ref wflip, (nint)ci * o * k2 + oi * k2 + (kh - 1 - u) * kw + (kw - 1 - v)) =
                            Mem.Add(ref w, ((nint)(oi * c + ci) * kh + u) * kw + v);
    }

    /// <summary>col2im: <c>dx = 0</c>, then every <c>dcol[k, p]</c> is added to the input pixel it was taken from
    /// (pixels seen by several windows sum their gradients).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ToImage(ref float dcol, int ldCol, int c, int h, int w, int ldIn, int kh, int kw, int s, int ph, int pw, int ho, int wo, ref float dx)
    {
        for (int ci = 0; ci < c; ci++)
        {
            ref float dst = ref Mem.Add(ref dx, (nint)ci * ldIn);
            for (int q = 0; q < h * w; q++) Mem.Add(ref dst, q) = 0f;
            for (int u = 0; u < kh; u++)
                for (int v = 0; v < kw; v++)
                {
                    ref float row = ref Mem.Add(ref dcol, (nint)((ci * kh + u) * kw + v) * ldCol);
                    for (int i = 0; i < ho; i++)
                    {
                        int hi = i * s + u - ph;
                        if ((uint)hi >= (uint)h) continue;
                        if (s == 1)
                        {
                            int j0 = Math.Min(wo, Math.Max(0, pw - v)), j1 = Math.Max(j0, Math.Min(wo, w + pw - v));
                            AddTo(ref Mem.Add(ref row, i * wo + j0), ref Mem.Add(ref dst, hi * w + j0 + v - pw), j1 - j0);
                            continue;
                        }
                        for (int j = 0; j < wo; j++)
                        {
                            int wi = j * s + v - pw;
                            if ((uint)wi < (uint)w) Mem.Add(ref dst, hi * w + wi) += Mem.Add(ref row, i * wo + j);
                        }
                    }
                }
        }
    }

    /// <summary><c>dst[i] = src[i]</c> for i &lt; n: inline vector moves (rows here are short, a memmove call costs more than the copy).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Copy(ref float src, ref float dst, int n)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i + 16 <= n; i += 16) Mem.Load512(ref src, (nuint)i).StoreAt(ref dst, (nuint)i);
        else if (Vector256.IsHardwareAccelerated)
            for (; i + 8 <= n; i += 8) Mem.Load256(ref src, (nuint)i).StoreAt(ref dst, (nuint)i);
        for (; i < n; i++) Mem.Add(ref dst, i) = Mem.Add(ref src, i);
    }

    /// <summary><c>dst[i] += src[i]</c> for i &lt; n, vectorised.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddTo(ref float src, ref float dst, int n)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i + 16 <= n; i += 16)
                (Mem.Load512(ref dst, (nuint)i) + Mem.Load512(ref src, (nuint)i)).StoreAt(ref dst, (nuint)i);
        else if (Vector256.IsHardwareAccelerated)
            for (; i + 8 <= n; i += 8)
                (Mem.Load256(ref dst, (nuint)i) + Mem.Load256(ref src, (nuint)i)).StoreAt(ref dst, (nuint)i);
        for (; i < n; i++) Mem.Add(ref dst, i) += Mem.Add(ref src, i);
    }
}
