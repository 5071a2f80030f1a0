using System.ComponentModel;
using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ModelGen.Kernels;

/// <summary>Element-wise products, dropout, L2 and finiteness checks.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Elementwise
{
    /// <summary><c>z = x ⊙ y</c> over <c>z.Length</c> elements (z may alias x or y).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> z, SimdWidth width)
    {
        int n = z.Length, i = 0;
        if (x.Length < n || y.Length < n) throw new ArgumentException("x and y must be at least as long as z");
        ref float a = ref MemoryMarshal.GetReference(x);
        ref float b = ref MemoryMarshal.GetReference(y);
        ref float c = ref MemoryMarshal.GetReference(z);
        if (width == SimdWidth.V512)
            for (; i + 16 <= n; i += 16) (Vector512.LoadUnsafe(ref a, (nuint)i) * Vector512.LoadUnsafe(ref b, (nuint)i)).StoreUnsafe(ref c, (nuint)i);
        else if (width == SimdWidth.V256)
            for (; i + 8 <= n; i += 8) (Vector256.LoadUnsafe(ref a, (nuint)i) * Vector256.LoadUnsafe(ref b, (nuint)i)).StoreUnsafe(ref c, (nuint)i);
        for (; i < n; i++) Unsafe.Add(ref c, i) = Unsafe.Add(ref a, i) * Unsafe.Add(ref b, i);
    }
}

/// <summary>Sums of panels or images.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Sum
{
    /// <summary><c>z = x + y</c> over <c>z.Length</c> elements (z may alias x or y).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Add(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> z, SimdWidth width)
    {
        int n = z.Length, i = 0;
        if (x.Length < n || y.Length < n) throw new ArgumentException("x and y must be at least as long as z");
        ref float a = ref MemoryMarshal.GetReference(x);
        ref float b = ref MemoryMarshal.GetReference(y);
        ref float c = ref MemoryMarshal.GetReference(z);
        if (width == SimdWidth.V512)
            for (; i + 16 <= n; i += 16) (Vector512.LoadUnsafe(ref a, (nuint)i) + Vector512.LoadUnsafe(ref b, (nuint)i)).StoreUnsafe(ref c, (nuint)i);
        else if (width == SimdWidth.V256)
            for (; i + 8 <= n; i += 8) (Vector256.LoadUnsafe(ref a, (nuint)i) + Vector256.LoadUnsafe(ref b, (nuint)i)).StoreUnsafe(ref c, (nuint)i);
        for (; i < n; i++) Unsafe.Add(ref c, i) = Unsafe.Add(ref a, i) + Unsafe.Add(ref b, i);
    }
}

/// <summary>Inverted dropout.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Dropout
{
    /// <summary>
    /// <c>mask[f,b] = (u ≥ rate ? 1/(1 − rate) : 0)</c> with <c>u ~ U[0,1)</c> drawn from <paramref name="rng"/> in
    /// row-major order over <c>b &lt; cols</c> (padding columns get 0); <c>y = x ⊙ mask</c>. x and y may alias.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(ReadOnlySpan<float> x, Span<float> y, Span<float> mask, int rows, int ld, int cols, float rate, ref Rng rng)
    {
        if (!(rate >= 0f && rate < 1f)) throw new ArgumentOutOfRangeException(nameof(rate), rate, "dropout rate must be in [0, 1)");
        float scale = 1f / (1f - rate);
        for (int r = 0; r < rows; r++)
        {
            int row = r * ld;
            for (int b = 0; b < ld; b++)
            {
                float m = b < cols && rng.NextFloat() >= rate ? scale : 0f;
                mask[row + b] = m;
                y[row + b] = x[row + b] * m;
            }
        }
    }
}

/// <summary>L2 regularisation <c>λ·Σ W²</c> (weights only).</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Regularization
{
    /// <summary><c>λ·Σ w²</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float L2Penalty(ReadOnlySpan<float> w, float lambda, SimdWidth width)
    {
        double s = 0;
        int i = 0;
        ref float p = ref MemoryMarshal.GetReference(w);
        if (width == SimdWidth.V512)
        {
            var acc = Vector512<float>.Zero;
            for (; i + 16 <= w.Length; i += 16) { var v = Vector512.LoadUnsafe(ref p, (nuint)i); acc = Vector512.FusedMultiplyAdd(v, v, acc); }
            s = Vector512.Sum(acc);
        }
        else if (width == SimdWidth.V256)
        {
            var acc = Vector256<float>.Zero;
            for (; i + 8 <= w.Length; i += 8) { var v = Vector256.LoadUnsafe(ref p, (nuint)i); acc = Vector256.FusedMultiplyAdd(v, v, acc); }
            s = Vector256.Sum(acc);
        }
        for (; i < w.Length; i++) s += (double)w[i] * w[i];
        return (float)(lambda * s);
    }

    /// <summary><c>dw += 2λ·w</c>; returns the penalty <c>λ·Σ w²</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float AddL2Gradient(ReadOnlySpan<float> w, Span<float> dw, float lambda, SimdWidth width)
    {
        if (dw.Length != w.Length) throw new ArgumentException("w and dw differ in length");
        ref float p = ref MemoryMarshal.GetReference(w);
        ref float g = ref MemoryMarshal.GetReference(dw);
        float k = 2f * lambda;
        int i = 0;
        if (width == SimdWidth.V512)
            for (; i + 16 <= w.Length; i += 16)
                Vector512.FusedMultiplyAdd(Vector512.Create(k), Vector512.LoadUnsafe(ref p, (nuint)i), Vector512.LoadUnsafe(ref g, (nuint)i)).StoreUnsafe(ref g, (nuint)i);
        else if (width == SimdWidth.V256)
            for (; i + 8 <= w.Length; i += 8)
                Vector256.FusedMultiplyAdd(Vector256.Create(k), Vector256.LoadUnsafe(ref p, (nuint)i), Vector256.LoadUnsafe(ref g, (nuint)i)).StoreUnsafe(ref g, (nuint)i);
        for (; i < w.Length; i++) Unsafe.Add(ref g, i) += k * Unsafe.Add(ref p, i);
        return L2Penalty(w, lambda, width);
    }
}

/// <summary>Finiteness checks for NaN/∞ detection.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Numerics
{
    /// <summary>True when no element is NaN or ±∞.</summary>
    public static bool AllFinite(ReadOnlySpan<float> x)
    {
        foreach (float v in x) if (!float.IsFinite(v)) return false;
        return true;
    }

    /// <summary>True when no element of the first <paramref name="cols"/> columns of a panel is NaN or ±∞.</summary>
    public static bool AllFinite(ref float panel, int rows, int ld, int cols)
    {
        for (int r = 0; r < rows; r++)
            for (int b = 0; b < cols; b++)
                if (!float.IsFinite(Unsafe.Add(ref panel, (nint)r * ld + b))) return false;
        return true;
    }
}
