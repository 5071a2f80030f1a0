using System.ComponentModel;
using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ModelGen.Kernels;

/// <summary>
/// Element-wise activation forward and backward, for each width. Backward is written in terms of the
/// forward output y (all four derivatives are functions of y), so the pre-activation need not be kept.
/// Inputs and outputs may alias (in place).
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Activations
{
    /// <summary><c>y = f(x)</c> over <c>min(x.Length, y.Length)</c> elements.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(Activation f, float alpha, ReadOnlySpan<float> x, Span<float> y, SimdWidth width)
    {
        int n = Math.Min(x.Length, y.Length), i = 0;
        ref float xs = ref MemoryMarshal.GetReference(x);
        ref float ys = ref MemoryMarshal.GetReference(y);
        if (width == SimdWidth.V512)
            for (; i + 16 <= n; i += 16) F512(f, alpha, Mem.Load512(ref xs, (nuint)i)).StoreAt(ref ys, (nuint)i);
        else if (width == SimdWidth.V256)
            for (; i + 8 <= n; i += 8) F256(f, alpha, Mem.Load256(ref xs, (nuint)i)).StoreAt(ref ys, (nuint)i);
        for (; i < n; i++) Mem.Add(ref ys, i) = F(f, alpha, Mem.Add(ref xs, i));
    }

    /// <summary><c>dx = dy ⊙ f'(y)</c> over <c>dx.Length</c> elements.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(Activation f, float alpha, ReadOnlySpan<float> dy, ReadOnlySpan<float> y, Span<float> dx, SimdWidth width)
    {
        int n = dx.Length, i = 0;
        if (dy.Length < n || y.Length < n) throw new ArgumentException("dy and y must be at least as long as dx");
        ref float d = ref MemoryMarshal.GetReference(dy);
        ref float ys = ref MemoryMarshal.GetReference(y);
        ref float o = ref MemoryMarshal.GetReference(dx);
        if (width == SimdWidth.V512)
            for (; i + 16 <= n; i += 16)
                B512(f, alpha, Mem.Load512(ref d, (nuint)i), Mem.Load512(ref ys, (nuint)i)).StoreAt(ref o, (nuint)i);
        else if (width == SimdWidth.V256)
            for (; i + 8 <= n; i += 8)
                B256(f, alpha, Mem.Load256(ref d, (nuint)i), Mem.Load256(ref ys, (nuint)i)).StoreAt(ref o, (nuint)i);
        for (; i < n; i++) Mem.Add(ref o, i) = B(f, alpha, Mem.Add(ref d, i), Mem.Add(ref ys, i));
    }

    /// <summary>Scalar forward of one element.</summary>
    public static float F(Activation f, float alpha, float x) => f switch
    {
        Activation.Relu => MathF.Max(x, 0f),   // NaN stays NaN, as in the vector paths
        Activation.LeakyRelu => x > 0f ? x : alpha * x,
        Activation.Sigmoid => x >= 0f ? 1f / (1f + MathF.Exp(-x)) : MathF.Exp(x) / (1f + MathF.Exp(x)),
        Activation.Tanh => MathF.Tanh(x),
        _ => x,
    };

    /// <summary>Scalar backward of one element.</summary>
    public static float B(Activation f, float alpha, float dy, float y) => f switch
    {
        Activation.Relu => y > 0f ? dy : 0f,
        Activation.LeakyRelu => y > 0f ? dy : alpha * dy,
        Activation.Sigmoid => dy * y * (1f - y),
        Activation.Tanh => dy * (1f - y * y),
        _ => dy,
    };

    // Taylor coefficients of tanh x = x + x³·(c3 + c5x² + … + c19x¹⁶).
    private const float TanhC3 = -1f / 3f, TanhC5 = 2f / 15f, TanhC7 = -17f / 315f, TanhC9 = 62f / 2835f;
    private const float TanhC11 = -1382f / 155925f, TanhC13 = 21844f / 6081075f, TanhC15 = -929569f / 638512875f;
    private const float TanhC17 = 6404582f / 10854718875f, TanhC19 = -443861162f / 1856156927625f, TanhSeriesBound = 0.625f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> F512(Activation f, float alpha, Vector512<float> x)
    {
        switch (f)
        {
            case Activation.Relu: return Vector512.MaxNative(Vector512<float>.Zero, x);   // second operand wins on NaN: NaN propagates
            case Activation.LeakyRelu: return Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<float>.Zero), x, x * alpha);
            case Activation.Sigmoid:
            {
                // 1/(1 + e^{−x}) for x ≥ 0, e^{x}/(1 + e^{x}) below: e^{−|x|} ≤ 1 never overflows, so tiny results
                // come out as the subnormals they are instead of 0.
                var e = VectorExp.Exp(-Vector512.Abs(x));
                var d = Vector512<float>.One + e;
                // One division (the numerator chosen first): the same quotients, half the dividers' time — a
                // 512-bit division occupies the divider ~16 cycles, longer than the rest of the sigmoid.
                return Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(x, Vector512<float>.Zero), Vector512<float>.One, e) / d;
            }
            case Activation.Tanh:
            {
                // |x| ≥ 0.625: tanh x = sign(x)·(1 − e^{−2|x|}) / (1 + e^{−2|x|}) (e^{−2|x|} ≤ 1 never overflows; 1 − e
                // loses under a bit there). |x| < 0.625: the Taylor series to x¹⁹, where 1 − e would cancel (the next
                // term is below 0.2 ulp). Measured over the float range: ≤ 2 ulp (ActivationAccuracyTests).
                var ax = Vector512.Abs(x);
                var e = VectorExp.Exp(ax * -2f);
                var big = Vector512.CopySign((Vector512<float>.One - e) / (Vector512<float>.One + e), x);
                var x2 = x * x;
                var p = Vector512.Create(TanhC19);
                p = Vector512.FusedMultiplyAdd(p, x2, Vector512.Create(TanhC17));
                p = Vector512.FusedMultiplyAdd(p, x2, Vector512.Create(TanhC15));
                p = Vector512.FusedMultiplyAdd(p, x2, Vector512.Create(TanhC13));
                p = Vector512.FusedMultiplyAdd(p, x2, Vector512.Create(TanhC11));
                p = Vector512.FusedMultiplyAdd(p, x2, Vector512.Create(TanhC9));
                p = Vector512.FusedMultiplyAdd(p, x2, Vector512.Create(TanhC7));
                p = Vector512.FusedMultiplyAdd(p, x2, Vector512.Create(TanhC5));
                p = Vector512.FusedMultiplyAdd(p, x2, Vector512.Create(TanhC3));
                var small = Vector512.FusedMultiplyAdd(x * x2, p, x);
                return Vector512.ConditionalSelect(Vector512.LessThan(ax, Vector512.Create(TanhSeriesBound)), small, big);
            }
            default: return x;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> F256(Activation f, float alpha, Vector256<float> x)
    {
        switch (f)
        {
            case Activation.Relu: return Vector256.MaxNative(Vector256<float>.Zero, x);
            case Activation.LeakyRelu: return Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), x, x * alpha);
            case Activation.Sigmoid:
            {
                // 1/(1 + e^{−x}) for x ≥ 0, e^{x}/(1 + e^{x}) below: e^{−|x|} ≤ 1 never overflows, so tiny results
                // come out as the subnormals they are instead of 0.
                var e = VectorExp.Exp(-Vector256.Abs(x));
                var d = Vector256<float>.One + e;
                // One division, as the 512-bit form.
                return Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(x, Vector256<float>.Zero), Vector256<float>.One, e) / d;
            }
            case Activation.Tanh:
            {
                // As the 512-bit form.
                var ax = Vector256.Abs(x);
                var e = VectorExp.Exp(ax * -2f);
                var big = Vector256.CopySign((Vector256<float>.One - e) / (Vector256<float>.One + e), x);
                var x2 = x * x;
                var p = Vector256.Create(TanhC19);
                p = Vector256.FusedMultiplyAdd(p, x2, Vector256.Create(TanhC17));
                p = Vector256.FusedMultiplyAdd(p, x2, Vector256.Create(TanhC15));
                p = Vector256.FusedMultiplyAdd(p, x2, Vector256.Create(TanhC13));
                p = Vector256.FusedMultiplyAdd(p, x2, Vector256.Create(TanhC11));
                p = Vector256.FusedMultiplyAdd(p, x2, Vector256.Create(TanhC9));
                p = Vector256.FusedMultiplyAdd(p, x2, Vector256.Create(TanhC7));
                p = Vector256.FusedMultiplyAdd(p, x2, Vector256.Create(TanhC5));
                p = Vector256.FusedMultiplyAdd(p, x2, Vector256.Create(TanhC3));
                var small = Vector256.FusedMultiplyAdd(x * x2, p, x);
                return Vector256.ConditionalSelect(Vector256.LessThan(ax, Vector256.Create(TanhSeriesBound)), small, big);
            }
            default: return x;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> B512(Activation f, float alpha, Vector512<float> dy, Vector512<float> y) => f switch
    {
        Activation.Relu => Vector512.ConditionalSelect(Vector512.GreaterThan(y, Vector512<float>.Zero), dy, Vector512<float>.Zero),
        Activation.LeakyRelu => Vector512.ConditionalSelect(Vector512.GreaterThan(y, Vector512<float>.Zero), dy, dy * alpha),
        Activation.Sigmoid => dy * y * (Vector512<float>.One - y),
        Activation.Tanh => dy * (Vector512<float>.One - y * y),
        _ => dy,
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> B256(Activation f, float alpha, Vector256<float> dy, Vector256<float> y) => f switch
    {
        Activation.Relu => Vector256.ConditionalSelect(Vector256.GreaterThan(y, Vector256<float>.Zero), dy, Vector256<float>.Zero),
        Activation.LeakyRelu => Vector256.ConditionalSelect(Vector256.GreaterThan(y, Vector256<float>.Zero), dy, dy * alpha),
        Activation.Sigmoid => dy * y * (Vector256<float>.One - y),
        Activation.Tanh => dy * (Vector256<float>.One - y * y),
        _ => dy,
    };
}
