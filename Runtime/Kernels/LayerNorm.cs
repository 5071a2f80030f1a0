using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ModelGen.Kernels;

/// <summary>
/// Layer normalisation over the features of each column of a feature-major panel <c>[F, cols]</c> (a sequence's
/// <c>[F, T·ld]</c> or a vector's <c>[F, ld]</c>), PyTorch's <c>nn.LayerNorm(F)</c>:
/// <c>y = (x − μ)·r·γ + β</c>, <c>μ = mean_f x</c>, <c>r = 1/√(var_f x + ε)</c> (biased variance, two passes). The columns
/// run in the vector lanes; <c>stats</c> <c>[2, cols]</c> keeps μ and r for the backward:
/// <c>dx = r·(g − mean_f g − x̂·mean_f(g·x̂))</c> with <c>g = dy·γ</c>, <c>x̂ = (x − μ)·r</c>; <c>dγ += Σ dy·x̂</c>,
/// <c>dβ += Σ dy</c> over the real columns.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class LayerNorm
{
    /// <summary>Forward over every column (padding columns too: finite, never read as data).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(ref float x, int features, int cols, ref float gamma, ref float beta, float eps, ref float y, ref float stats, SimdWidth width)
    {
        int c = 0;
        float inv = 1f / features;
        if (width == SimdWidth.V512) c = ForwardLanes<Vector512<float>, Lanes512>(ref x, features, cols, ref gamma, ref beta, eps, ref y, ref stats);
        else if (width == SimdWidth.V256) c = ForwardLanes<Vector256<float>, Lanes256>(ref x, features, cols, ref gamma, ref beta, eps, ref y, ref stats);
        for (; c < cols; c++)
        {
            float sum = 0f;
            for (int f = 0; f < features; f++) sum += Mem.Add(ref x, (nint)f * cols + c);
            float mean = sum * inv, sq = 0f;
            for (int f = 0; f < features; f++) { float d = Mem.Add(ref x, (nint)f * cols + c) - mean; sq = MathF.FusedMultiplyAdd(d, d, sq); }
            float r = 1f / MathF.Sqrt(sq * inv + eps);
            for (int f = 0; f < features; f++)
            {
                nint at = (nint)f * cols + c;
                Mem.Add(ref y, at) = MathF.FusedMultiplyAdd((Mem.Add(ref x, at) - mean) * r, Mem.Add(ref gamma, f), Mem.Add(ref beta, f));
            }
            Mem.Add(ref stats, c) = mean;
            Mem.Add(ref stats, (nint)cols + c) = r;
        }
    }

    /// <summary>Backward: <c>dγ</c>, <c>dβ</c> accumulated over the real columns (step <c>t</c>'s samples
    /// <c>t·ld … t·ld + batch − 1</c> of <paramref name="steps"/> steps), then <c>dx</c> for every column (dx may not alias
    /// dy).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(ref float dy, ref float x, int features, int steps, int ld, int batch, ref float gamma, ref float stats,
        ref float dgamma, ref float dbeta, ref float dx, SimdWidth width)
    {
        int cols = steps * ld;
        for (int f = 0; f < features; f++)
        {
            float sg = 0f, sb = 0f;
            for (int t = 0; t < steps; t++)
                for (int s = 0; s < batch; s++)
                {
                    nint c = (nint)t * ld + s;
                    nint at = (nint)f * cols + c;
                    float g = Mem.Add(ref dy, at);
                    sg = MathF.FusedMultiplyAdd(g, (Mem.Add(ref x, at) - Mem.Add(ref stats, c)) * Mem.Add(ref stats, cols + c), sg);
                    sb += g;
                }
            Mem.Add(ref dgamma, f) += sg;
            Mem.Add(ref dbeta, f) += sb;
        }
        if (Unsafe.IsNullRef(ref dx)) return;
        int col = 0;
        float inv = 1f / features;
        if (width == SimdWidth.V512) col = BackwardLanes<Vector512<float>, Lanes512>(ref dy, ref x, features, cols, ref gamma, ref stats, ref dx);
        else if (width == SimdWidth.V256) col = BackwardLanes<Vector256<float>, Lanes256>(ref dy, ref x, features, cols, ref gamma, ref stats, ref dx);
        for (; col < cols; col++)
        {
            float mean = Mem.Add(ref stats, col), r = Mem.Add(ref stats, (nint)cols + col), a = 0f, b = 0f;
            for (int f = 0; f < features; f++)
            {
                nint at = (nint)f * cols + col;
                float g = Mem.Add(ref dy, at) * Mem.Add(ref gamma, f);
                a += g;
                b = MathF.FusedMultiplyAdd(g, (Mem.Add(ref x, at) - mean) * r, b);
            }
            a *= inv; b *= inv;
            for (int f = 0; f < features; f++)
            {
                nint at = (nint)f * cols + col;
                float g = Mem.Add(ref dy, at) * Mem.Add(ref gamma, f);
                Mem.Add(ref dx, at) = r * (g - a - (Mem.Add(ref x, at) - mean) * r * b);
            }
        }
    }

    /// <summary>The forward of whole vectors of columns (16 or 8 at a time); returns the first column left for the scalar tail.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ForwardLanes<TV, TL>(ref float x, int features, int cols, ref float gamma, ref float beta, float eps, ref float y, ref float stats)
        where TV : struct where TL : struct, ILanes<TV>
    {
        int c = 0, L = TL.Count;
        var inv = TL.Splat(1f / features);
        for (; c + L <= cols; c += L)
        {
            var sum = TL.Zero;
            for (int f = 0; f < features; f++) sum = TL.Add(sum, TL.Load(ref x, (nuint)((nint)f * cols + c)));
            var mean = TL.Mul(sum, inv);
            var sq = TL.Zero;
            for (int f = 0; f < features; f++) { var d = TL.Sub(TL.Load(ref x, (nuint)((nint)f * cols + c)), mean); sq = TL.Fma(d, d, sq); }
            var r = TL.Div(TL.Splat(1f), TL.Sqrt(TL.Add(TL.Mul(sq, inv), TL.Splat(eps))));
            for (int f = 0; f < features; f++)
            {
                nuint at = (nuint)((nint)f * cols + c);
                var xh = TL.Mul(TL.Sub(TL.Load(ref x, at), mean), r);
                TL.Store(TL.Fma(xh, TL.Splat(Mem.Add(ref gamma, f)), TL.Splat(Mem.Add(ref beta, f))), ref y, at);
            }
            TL.Store(mean, ref stats, (nuint)c);
            TL.Store(r, ref stats, (nuint)(cols + c));
        }
        return c;
    }

    /// <summary>dx for whole vectors of columns; returns the first column left for the scalar tail.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int BackwardLanes<TV, TL>(ref float dy, ref float x, int features, int cols, ref float gamma, ref float stats, ref float dx)
        where TV : struct where TL : struct, ILanes<TV>
    {
        int col = 0, L = TL.Count;
        var inv = TL.Splat(1f / features);
        for (; col + L <= cols; col += L)
        {
            var mean = TL.Load(ref stats, (nuint)col);
            var r = TL.Load(ref stats, (nuint)(cols + col));
            TV a = TL.Zero, b = TL.Zero;
            for (int f = 0; f < features; f++)
            {
                nuint at = (nuint)((nint)f * cols + col);
                var g = TL.Mul(TL.Load(ref dy, at), TL.Splat(Mem.Add(ref gamma, f)));
                a = TL.Add(a, g);
                b = TL.Fma(g, TL.Mul(TL.Sub(TL.Load(ref x, at), mean), r), b);
            }
            a = TL.Mul(a, inv); b = TL.Mul(b, inv);
            for (int f = 0; f < features; f++)
            {
                nuint at = (nuint)((nint)f * cols + col);
                var g = TL.Mul(TL.Load(ref dy, at), TL.Splat(Mem.Add(ref gamma, f)));
                var xh = TL.Mul(TL.Sub(TL.Load(ref x, at), mean), r);
                TL.Store(TL.Mul(r, TL.Sub(TL.Sub(g, a), TL.Mul(xh, b))), ref dx, at);
            }
        }
        return col;
    }
}
