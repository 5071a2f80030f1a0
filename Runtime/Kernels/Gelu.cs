using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ModelGen.Kernels;

/// <summary>
/// GELU, <c>y = x·Φ(x)</c>, in PyTorch's two forms. Exact (<c>approximate='none'</c>):
/// <c>Φ(x) = ½(1 + erf(x/√2))</c>, <c>dy/dx = Φ(x) + x·φ(x)</c>. Tanh (<c>approximate='tanh'</c>, GPT-2's):
/// <c>y = ½x(1 + tanh u)</c>, <c>u = √(2/π)(x + 0.044715x³)</c>, <c>dy/dx = ½(1 + tanh u) + ½x(1 − tanh²u)·√(2/π)(1 + 3·0.044715x²)</c>.
/// erf uses Abramowitz &amp; Stegun 7.1.26 (|error| ≤ 1.5e-7, below float's resolution of Φ); every width evaluates
/// the same formula, so the widths agree to rounding. The backward needs x (not y): GELU is not monotone.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Gelu
{
    private const float InvSqrt2 = 0.70710678118654752f, InvSqrt2Pi = 0.39894228040143268f, Sqrt2OverPi = 0.79788456080286536f, C = 0.044715f;
    private const float P = 0.3275911f, A1 = 0.254829592f, A2 = -0.284496736f, A3 = 1.421413741f, A4 = -1.453152027f, A5 = 1.061405429f;

    /// <summary><c>y = gelu(x)</c> over <c>y.Length</c> elements.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(bool tanh, ReadOnlySpan<float> x, Span<float> y, SimdWidth width)
    {
        int n = y.Length, i = 0;
        if (x.Length < n) throw new ArgumentException("x must be at least as long as y");
        ref float xs = ref MemoryMarshal.GetReference(x);
        ref float ys = ref MemoryMarshal.GetReference(y);
        if (width == SimdWidth.V512)
            for (; i + 16 <= n; i += 16) { var v = Mem.Load512(ref xs, (nuint)i); (v * Cdf512(tanh, v)).StoreAt(ref ys, (nuint)i); }
        else if (width == SimdWidth.V256)
            for (; i + 8 <= n; i += 8) { var v = Mem.Load256(ref xs, (nuint)i); (v * Cdf256(tanh, v)).StoreAt(ref ys, (nuint)i); }
        for (; i < n; i++) { float v = Mem.Add(ref xs, i); Mem.Add(ref ys, i) = v * Cdf(tanh, v); }
    }

    /// <summary><c>dx = dy ⊙ gelu'(x)</c> over <c>dx.Length</c> elements (dx may alias dy).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(bool tanh, ReadOnlySpan<float> dy, ReadOnlySpan<float> x, Span<float> dx, SimdWidth width)
    {
        int n = dx.Length, i = 0;
        if (dy.Length < n || x.Length < n) throw new ArgumentException("dy and x must be at least as long as dx");
        ref float d = ref MemoryMarshal.GetReference(dy);
        ref float xs = ref MemoryMarshal.GetReference(x);
        ref float o = ref MemoryMarshal.GetReference(dx);
        if (width == SimdWidth.V512)
            for (; i + 16 <= n; i += 16)
                (Mem.Load512(ref d, (nuint)i) * Slope512(tanh, Mem.Load512(ref xs, (nuint)i))).StoreAt(ref o, (nuint)i);
        else if (width == SimdWidth.V256)
            for (; i + 8 <= n; i += 8)
                (Mem.Load256(ref d, (nuint)i) * Slope256(tanh, Mem.Load256(ref xs, (nuint)i))).StoreAt(ref o, (nuint)i);
        for (; i < n; i++) Mem.Add(ref o, i) = Mem.Add(ref d, i) * Slope(tanh, Mem.Add(ref xs, i));
    }

    /// <summary><c>gelu(x)</c> for one value, the formula of every width.</summary>
    public static float Scalar(bool tanh, float x) => x * Cdf(tanh, x);

    /// <summary>erf by A&amp;S 7.1.26 (odd extension).</summary>
    public static float Erf(float x)
    {
        float a = MathF.Abs(x), t = 1f / (1f + P * a);
        float poly = ((((A5 * t + A4) * t + A3) * t + A2) * t + A1) * t;
        return MathF.CopySign(1f - poly * MathF.Exp(-a * a), x);
    }

    private static float TanhOf(float u) { float e = MathF.Exp(-2f * MathF.Abs(u)); return MathF.CopySign((1f - e) / (1f + e), u); }

    /// <summary>Φ(x), exact or tanh form.</summary>
    public static float Cdf(bool tanh, float x) =>
        tanh ? 0.5f * (1f + TanhOf(Sqrt2OverPi * (x + C * x * x * x))) : 0.5f * (1f + Erf(x * InvSqrt2));

    /// <summary>gelu'(x).</summary>
    public static float Slope(bool tanh, float x)
    {
        if (!tanh) return Cdf(false, x) + x * InvSqrt2Pi * MathF.Exp(-0.5f * x * x);
        float t = TanhOf(Sqrt2OverPi * (x + C * x * x * x));
        return 0.5f * (1f + t) + 0.5f * x * (1f - t * t) * Sqrt2OverPi * (1f + 3f * C * x * x);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Erf512(Vector512<float> x)
    {
        var a = Vector512.Abs(x);
        var t = Vector512<float>.One / (Vector512<float>.One + a * P);
        var poly = ((((Vector512.Create(A5) * t + Vector512.Create(A4)) * t + Vector512.Create(A3)) * t + Vector512.Create(A2)) * t + Vector512.Create(A1)) * t;
        return Vector512.CopySign(Vector512<float>.One - poly * VectorExp.Exp(-(a * a)), x);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Tanh512(Vector512<float> u)
    {
        var e = VectorExp.Exp(Vector512.Abs(u) * -2f);
        return Vector512.CopySign((Vector512<float>.One - e) / (Vector512<float>.One + e), u);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Cdf512(bool tanh, Vector512<float> x) =>
        tanh ? (Vector512<float>.One + Tanh512((x + x * x * x * C) * Sqrt2OverPi)) * 0.5f : (Vector512<float>.One + Erf512(x * InvSqrt2)) * 0.5f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Slope512(bool tanh, Vector512<float> x)
    {
        if (!tanh) return Cdf512(false, x) + x * InvSqrt2Pi * VectorExp.Exp(x * x * -0.5f);
        var t = Tanh512((x + x * x * x * C) * Sqrt2OverPi);
        return (Vector512<float>.One + t) * 0.5f + x * 0.5f * (Vector512<float>.One - t * t) * Sqrt2OverPi * (Vector512<float>.One + x * x * (3f * C));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Erf256(Vector256<float> x)
    {
        var a = Vector256.Abs(x);
        var t = Vector256<float>.One / (Vector256<float>.One + a * P);
        var poly = ((((Vector256.Create(A5) * t + Vector256.Create(A4)) * t + Vector256.Create(A3)) * t + Vector256.Create(A2)) * t + Vector256.Create(A1)) * t;
        return Vector256.CopySign(Vector256<float>.One - poly * VectorExp.Exp(-(a * a)), x);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Tanh256(Vector256<float> u)
    {
        var e = VectorExp.Exp(Vector256.Abs(u) * -2f);
        return Vector256.CopySign((Vector256<float>.One - e) / (Vector256<float>.One + e), u);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Cdf256(bool tanh, Vector256<float> x) =>
        tanh ? (Vector256<float>.One + Tanh256((x + x * x * x * C) * Sqrt2OverPi)) * 0.5f : (Vector256<float>.One + Erf256(x * InvSqrt2)) * 0.5f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Slope256(bool tanh, Vector256<float> x)
    {
        if (!tanh) return Cdf256(false, x) + x * InvSqrt2Pi * VectorExp.Exp(x * x * -0.5f);
        var t = Tanh256((x + x * x * x * C) * Sqrt2OverPi);
        return (Vector256<float>.One + t) * 0.5f + x * 0.5f * (Vector256<float>.One - t * t) * Sqrt2OverPi * (Vector256<float>.One + x * x * (3f * C));
    }
}
