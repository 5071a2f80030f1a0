using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ModelGen.Kernels;

/// <summary>
/// Level-1 vector kernels over one row (a word vector, an embedding row) at a chosen width: <c>x·y</c>, <c>y += a·x</c>,
/// and the negative-sampling step word2vec makes for each (input, word) pair. The vector paths use fused multiply-adds
/// and, for the dot product, one accumulator per lane, so they differ from <see cref="SimdWidth.Scalar"/> by rounding
/// only (tested against it and against double sums).
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class VectorOps
{
    /// <summary><c>Σ x_i·y_i</c> over <c>x.Length</c> elements.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Dot(ReadOnlySpan<float> x, ReadOnlySpan<float> y, SimdWidth width)
    {
        int n = x.Length, i = 0;
        if (y.Length < n) throw new ArgumentException($"y has {y.Length} elements, x {n}");
        ref float a = ref MemoryMarshal.GetReference(x);
        ref float b = ref MemoryMarshal.GetReference(y);
        float sum = 0f;
        if (width == SimdWidth.V512 && n >= 16)
        {
            var acc = Vector512<float>.Zero;
            for (; i + 16 <= n; i += 16) acc = Vector512.FusedMultiplyAdd(Mem.Load512(ref a, (nuint)i), Mem.Load512(ref b, (nuint)i), acc);
            sum = Vector512.Sum(acc);
        }
        else if (width == SimdWidth.V256 && n >= 8)
        {
            var acc = Vector256<float>.Zero;
            for (; i + 8 <= n; i += 8) acc = Vector256.FusedMultiplyAdd(Mem.Load256(ref a, (nuint)i), Mem.Load256(ref b, (nuint)i), acc);
            sum = Vector256.Sum(acc);
        }
        for (; i < n; i++) sum = MathF.FusedMultiplyAdd(Mem.Add(ref a, i), Mem.Add(ref b, i), sum);
        return sum;
    }

    /// <summary><c>y += alpha·x</c> over <c>y.Length</c> elements.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Axpy(float alpha, ReadOnlySpan<float> x, Span<float> y, SimdWidth width)
    {
        int n = y.Length, i = 0;
        if (x.Length < n) throw new ArgumentException($"x has {x.Length} elements, y {n}");
        ref float a = ref MemoryMarshal.GetReference(x);
        ref float b = ref MemoryMarshal.GetReference(y);
        if (width == SimdWidth.V512)
            for (var k = Vector512.Create(alpha); i + 16 <= n; i += 16)
                Vector512.FusedMultiplyAdd(k, Mem.Load512(ref a, (nuint)i), Mem.Load512(ref b, (nuint)i)).StoreAt(ref b, (nuint)i);
        else if (width == SimdWidth.V256)
            for (var k = Vector256.Create(alpha); i + 8 <= n; i += 8)
                Vector256.FusedMultiplyAdd(k, Mem.Load256(ref a, (nuint)i), Mem.Load256(ref b, (nuint)i)).StoreAt(ref b, (nuint)i);
        for (; i < n; i++) Mem.Add(ref b, i) = MathF.FusedMultiplyAdd(alpha, Mem.Add(ref a, i), Mem.Add(ref b, i));
    }

    /// <summary><c>x *= k</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Scale(Span<float> x, float k, SimdWidth width)
    {
        int n = x.Length, i = 0;
        ref float a = ref MemoryMarshal.GetReference(x);
        if (width == SimdWidth.V512)
            for (; i + 16 <= n; i += 16) (Mem.Load512(ref a, (nuint)i) * k).StoreAt(ref a, (nuint)i);
        else if (width == SimdWidth.V256)
            for (; i + 8 <= n; i += 8) (Mem.Load256(ref a, (nuint)i) * k).StoreAt(ref a, (nuint)i);
        for (; i < n; i++) Mem.Add(ref a, i) *= k;
    }

    /// <summary>
    /// One negative-sampling step (Mikolov et al. 2013, eq. 4) for input vector <c>u</c> and the output rows
    /// <c>v_w</c> of <paramref name="outputs"/> (<c>[V, dim]</c>) listed in <paramref name="targets"/>: the first is the
    /// true word (label 1), the rest noise words (label 0). The loss <c>−log σ(u·v_0) − Σ_k log σ(−u·v_k)</c> is
    /// descended with rate <paramref name="alpha"/>, as word2vec does it: for each target in order,
    /// <c>g = (label − σ(u·v)) · alpha</c>, <c>error += g·v</c> (the input's step, applied by the caller), then
    /// <c>v += g·u</c>. σ saturates to 0 / 1 beyond |u·v| &gt; 6 as the tool's table does.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void NegativeSamplingStep(ReadOnlySpan<float> input, Span<float> outputs, ReadOnlySpan<int> targets, float alpha, Span<float> error, SimdWidth width)
    {
        int dim = input.Length;
        for (int k = 0; k < targets.Length; k++)
        {
            var v = outputs.Slice(targets[k] * dim, dim);
            float f = Dot(input, v, width);
            float label = k == 0 ? 1f : 0f;
            float g = (label - (f > 6f ? 1f : f < -6f ? 0f : 1f / (1f + MathF.Exp(-f)))) * alpha;
            Axpy(g, v, error, width);
            Axpy(g, input, v, width);
        }
    }
}
