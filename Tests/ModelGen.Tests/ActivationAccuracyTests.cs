using System;
using System.Collections.Generic;
using System.Runtime.Intrinsics;
using ModelGen.Kernels;
using Xunit;
using Xunit.Abstractions;

namespace ModelGen.Tests;

/// <summary>
/// The vectorised sigmoid and tanh (the recurrent cells' gates, the Sigmoid/Tanh activations) against the double-precision
/// functions, in ulps of the float result, over the whole float range: 4,096 values in every binade from 2⁻¹²⁶ to
/// 2¹²⁷ of both signs, zeros, subnormals, infinities. Stated bounds: tanh ≤ 2 ulp, sigmoid ≤ 3 ulp (its exponential's
/// error plus a division; the measured maxima are printed).
/// </summary>
public class ActivationAccuracyTests
{
    private readonly ITestOutputHelper _out;
    public ActivationAccuracyTests(ITestOutputHelper output) => _out = output;

    private static float[] FloatRange()
    {
        var values = new List<float> { 0f, -0f, float.Epsilon, -float.Epsilon, 1e-40f, -1e-40f, float.MaxValue, float.MinValue, float.PositiveInfinity, float.NegativeInfinity };
        var rng = new Rng(5);
        for (int exponent = 1; exponent < 255; exponent++)
            for (int k = 0; k < 4096; k++)
            {
                uint bits = ((uint)exponent << 23) | (uint)rng.NextInt(1 << 23);
                float v = BitConverter.UInt32BitsToSingle(bits);
                values.Add(v);
                values.Add(-v);
            }
        return values.ToArray();
    }

    /// <summary>Distance in representable floats (ulps) between a float and the correctly rounded value of a double.</summary>
    private static double Ulps(float actual, double exact)
    {
        float rounded = (float)exact;
        if (actual == rounded) return 0;
        if (float.IsNaN(actual) || float.IsInfinity(actual) || float.IsInfinity(rounded)) return double.PositiveInfinity;
        int ia = BitConverter.SingleToInt32Bits(actual), ib = BitConverter.SingleToInt32Bits(rounded);
        if ((ia < 0) != (ib < 0)) return Math.Abs(actual - rounded) <= float.Epsilon * 2 ? 1 : double.PositiveInfinity;
        return Math.Abs((long)ia - ib);
    }

    [Theory]
    [InlineData(Activation.Tanh, SimdWidth.V512)]
    [InlineData(Activation.Tanh, SimdWidth.V256)]
    [InlineData(Activation.Tanh, SimdWidth.Scalar)]
    [InlineData(Activation.Sigmoid, SimdWidth.V512)]
    [InlineData(Activation.Sigmoid, SimdWidth.V256)]
    [InlineData(Activation.Sigmoid, SimdWidth.Scalar)]
    public void Sigmoid_and_tanh_are_within_their_ulp_bounds_over_the_float_range(Activation f, SimdWidth width)
    {
        if (!Simd.IsSupported(width)) return;
        var x = FloatRange();
        var y = new float[x.Length];
        Activations.Forward(f, 0f, x, y, width);
        double worst = 0;
        float worstAt = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double exact = f == Activation.Tanh ? Math.Tanh(x[i]) : 1 / (1 + Math.Exp(-(double)x[i]));
            double u = Ulps(y[i], exact);
            if (u > worst) { worst = u; worstAt = x[i]; }
        }
        _out.WriteLine($"{f} {width}: max {worst} ulp (at x = {worstAt:R}) over {x.Length} values");
        int bound = f == Activation.Tanh ? 2 : 3;
        Assert.True(worst <= bound, $"{f} {width}: {worst} ulp at x = {worstAt:R} (bound {bound})");
    }

    /// <summary>The kernels' exponential (<see cref="VectorExp"/>) against the correctly rounded e^x over the float range
    /// (subnormal results, overflow to ∞, e^−∞ = 0, NaN kept): ≤ 1 ulp, and the 256-bit form bit for bit the 512-bit one.</summary>
    [Fact]
    public void The_vector_exponential_is_within_one_ulp_over_the_float_range_at_both_widths()
    {
        var x = FloatRange();
        Array.Resize(ref x, (x.Length + 15) / 16 * 16 + 16);
        x[^1] = float.NaN; x[^2] = 88.72f; x[^3] = -103.9f; x[^4] = -87.5f;   // NaN, the last finite results, subnormal ones
        double worst = 0;
        float worstAt = 0;
        for (int i = 0; i < x.Length; i += 16)
        {
            var wide = VectorExp.Exp(Vector512.Create(x.AsSpan(i, 16)));
            var narrow = Vector256.IsHardwareAccelerated ? VectorExp.Exp(Vector256.Create(x.AsSpan(i, 8))) : wide.GetLower();
            for (int j = 0; j < 16; j++)
            {
                float v = x[i + j], got = wide[j];
                if (j < 8) Assert.Equal(BitConverter.SingleToInt32Bits(got), BitConverter.SingleToInt32Bits(narrow[j]));
                if (float.IsNaN(v)) { Assert.True(float.IsNaN(got), "e^NaN must be NaN"); continue; }
                double u = Ulps(got, Math.Exp(v));
                if (u > worst) { worst = u; worstAt = v; }
            }
        }
        _out.WriteLine($"exp: max {worst} ulp (at x = {worstAt:R}) over {x.Length} values");
        Assert.True(worst <= 1, $"exp: {worst} ulp at x = {worstAt:R}");
    }
}
