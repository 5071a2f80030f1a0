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
        if (width == SimdWidth.V512)
            for (; c + 16 <= cols; c += 16)
            {
                var sum = Vector512<float>.Zero;
                for (int f = 0; f < features; f++) sum += Mem.Load512(ref Mem.Add(ref x, (nint)f * cols + c));
                var mean = sum * inv;
                var sq = Vector512<float>.Zero;
                for (int f = 0; f < features; f++) { var d = Mem.Load512(ref Mem.Add(ref x, (nint)f * cols + c)) - mean; sq = Vector512.FusedMultiplyAdd(d, d, sq); }
                var r = Vector512<float>.One / Vector512.Sqrt(sq * inv + Vector512.Create(eps));
                for (int f = 0; f < features; f++)
                {
                    nint at = (nint)f * cols + c;
                    var xh = (Mem.Load512(ref Mem.Add(ref x, at)) - mean) * r;
                    Vector512.FusedMultiplyAdd(xh, Vector512.Create(Mem.Add(ref gamma, f)), Vector512.Create(Mem.Add(ref beta, f))).StoreAt(ref Mem.Add(ref y, at));
                }
                mean.StoreAt(ref Mem.Add(ref stats, c));
                r.StoreAt(ref Mem.Add(ref stats, (nint)cols + c));
            }
        else if (width == SimdWidth.V256)
            for (; c + 8 <= cols; c += 8)
            {
                var sum = Vector256<float>.Zero;
                for (int f = 0; f < features; f++) sum += Mem.Load256(ref Mem.Add(ref x, (nint)f * cols + c));
                var mean = sum * inv;
                var sq = Vector256<float>.Zero;
                for (int f = 0; f < features; f++) { var d = Mem.Load256(ref Mem.Add(ref x, (nint)f * cols + c)) - mean; sq = Vector256.FusedMultiplyAdd(d, d, sq); }
                var r = Vector256<float>.One / Vector256.Sqrt(sq * inv + Vector256.Create(eps));
                for (int f = 0; f < features; f++)
                {
                    nint at = (nint)f * cols + c;
                    var xh = (Mem.Load256(ref Mem.Add(ref x, at)) - mean) * r;
                    Vector256.FusedMultiplyAdd(xh, Vector256.Create(Mem.Add(ref gamma, f)), Vector256.Create(Mem.Add(ref beta, f))).StoreAt(ref Mem.Add(ref y, at));
                }
                mean.StoreAt(ref Mem.Add(ref stats, c));
                r.StoreAt(ref Mem.Add(ref stats, (nint)cols + c));
            }
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
        if (width == SimdWidth.V512)
            for (; col + 16 <= cols; col += 16)
            {
                var mean = Mem.Load512(ref Mem.Add(ref stats, col));
                var r = Mem.Load512(ref Mem.Add(ref stats, (nint)cols + col));
                Vector512<float> a = default, b = default;
                for (int f = 0; f < features; f++)
                {
                    nint at = (nint)f * cols + col;
                    var g = Mem.Load512(ref Mem.Add(ref dy, at)) * Mem.Add(ref gamma, f);
                    a += g;
                    b = Vector512.FusedMultiplyAdd(g, (Mem.Load512(ref Mem.Add(ref x, at)) - mean) * r, b);
                }
                a *= inv; b *= inv;
                for (int f = 0; f < features; f++)
                {
                    nint at = (nint)f * cols + col;
                    var g = Mem.Load512(ref Mem.Add(ref dy, at)) * Mem.Add(ref gamma, f);
                    var xh = (Mem.Load512(ref Mem.Add(ref x, at)) - mean) * r;
                    (r * (g - a - xh * b)).StoreAt(ref Mem.Add(ref dx, at));
                }
            }
        else if (width == SimdWidth.V256)
            for (; col + 8 <= cols; col += 8)
            {
                var mean = Mem.Load256(ref Mem.Add(ref stats, col));
                var r = Mem.Load256(ref Mem.Add(ref stats, (nint)cols + col));
                Vector256<float> a = default, b = default;
                for (int f = 0; f < features; f++)
                {
                    nint at = (nint)f * cols + col;
                    var g = Mem.Load256(ref Mem.Add(ref dy, at)) * Mem.Add(ref gamma, f);
                    a += g;
                    b = Vector256.FusedMultiplyAdd(g, (Mem.Load256(ref Mem.Add(ref x, at)) - mean) * r, b);
                }
                a *= inv; b *= inv;
                for (int f = 0; f < features; f++)
                {
                    nint at = (nint)f * cols + col;
                    var g = Mem.Load256(ref Mem.Add(ref dy, at)) * Mem.Add(ref gamma, f);
                    var xh = (Mem.Load256(ref Mem.Add(ref x, at)) - mean) * r;
                    (r * (g - a - xh * b)).StoreAt(ref Mem.Add(ref dx, at));
                }
            }
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
}
