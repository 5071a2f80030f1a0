using System;
using System.Linq;
using ModelGen.Kernels;
using ModelGen.Tests.Models;
using Xunit;

namespace ModelGen.Tests;

/// <summary>
/// Loss gradients below <see cref="Losses.FlushBelow"/> (2⁻¹⁰⁰) are written as zero: a saturated softmax or sigmoid
/// otherwise hands subnormal floats to every product of the backward pass, each of which then runs ~100× slower.
/// </summary>
public class LossFlushTests
{
    [Fact]
    public void The_threshold_is_two_to_the_minus_100() => Assert.Equal(Losses.FlushBelow, MathF.ScaleB(1f, -100));

    /// <summary>One sample, logits 0, −100, −60 (ld 16): the −100 class's probability (e⁻¹⁰⁰ ≈ 3.7·10⁻⁴⁴) is subnormal
    /// and flushed, the −60 class's (≈ 8.8·10⁻²⁷) is kept.</summary>
    [Fact]
    public void Softmax_cross_entropy_flushes_only_the_subnormal_probabilities()
    {
        var z = new float[3 * 16];
        z[16] = -100f; z[32] = -60f;
        var grad = new float[z.Length];
        Losses.SoftmaxCrossEntropy(ref z[0], 3, 16, 1, new[] { 0 }, ref grad[0], true);
        Assert.Equal(0f, grad[16]);
        Assert.Equal(MathF.Exp(-60f), grad[32], MathF.Exp(-60f) * 1e-5f);
        Assert.True(grad[0] <= 0f);

        var seq = new float[3 * 16];   // one step of a sequence output: the same numbers
        seq[16] = -100f; seq[32] = -60f;
        var seqGrad = new float[seq.Length];
        Losses.SequenceSoftmaxCrossEntropy(ref seq[0], 3, 1, 16, 1, new[] { 0 }, ref seqGrad[0], true);
        Assert.Equal(0f, seqGrad[16]);
        Assert.Equal(grad[32], seqGrad[32]);
    }

    /// <summary>BCE on a logit of −88: the sigmoid is 1/(1 + e⁸⁸) ≈ 6·10⁻³⁹, a subnormal, flushed; −60 is kept.</summary>
    [Fact]
    public void Binary_cross_entropy_flushes_a_subnormal_sigmoid()
    {
        var y = new float[2 * 16];
        y[0] = -88f; y[16] = -60f;
        var grad = new float[y.Length];
        Losses.Elementwise(LossKind.BinaryCrossEntropy, 0f, ref y[0], 2, 16, 1, new[] { 0f, 0f }, ref grad[0], true);
        Assert.True(float.IsSubnormal(1f / (1f + MathF.Exp(88f))), "the unflushed value would be subnormal");
        Assert.Equal(0f, grad[0]);
        Assert.True(grad[16] > 0f && float.IsNormal(grad[16]));
    }

    /// <summary>A model that is certain of class 0 (its bias 100 above the others) trained on class-0 labels: without the
    /// flush the nine other classes' gradients, and their products with the hidden activations, are subnormal.</summary>
    [Theory]
    [InlineData(SimdWidth.V512)]
    [InlineData(SimdWidth.V256)]
    [InlineData(SimdWidth.Scalar)]
    public void A_saturated_classifier_has_no_subnormal_gradients(SimdWidth width)
    {
        if (!Simd.IsSupported(width)) return;
        using var net = new SampleMlp(32, 1) { Width = width };
        var bias = net.Tensors.Single(t => t.Name == "Logits.bias");
        net.Parameters.Slice(bias.Offset, bias.Length).Clear();
        net.Parameters[bias.Offset] = 100f;
        var rng = new Rng(3);
        var x = Enumerable.Range(0, 32 * 784).Select(_ => rng.NextFloat()).ToArray();
        net.ZeroGrad();
        net.Forward(x, training: true);
        float loss = net.Backward(new int[32]);
        Assert.True(loss < 1e-30f, $"the model is certain (loss {loss})");
        int subnormal = 0;
        foreach (float g in net.Gradients) if (float.IsSubnormal(g)) subnormal++;
        Assert.Equal(0, subnormal);
    }
}
