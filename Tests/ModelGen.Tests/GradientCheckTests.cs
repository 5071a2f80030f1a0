using System;
using System.Collections.Generic;
using System.Linq;
using ModelGen.Generator.Layers;
using ModelGen.Tests.Harness;
using ModelGen.Tests.Models;
using Xunit;

namespace ModelGen.Tests;

/// <summary>
/// Every layer kind and loss: the generated backward (float, each SIMD width) against central differences of an
/// independent double-precision forward.
/// </summary>
public class GradientCheckTests
{
    public static IEnumerable<object[]> Cases()
    {
        foreach (var name in Models)
            foreach (var width in new[] { SimdWidth.Scalar, SimdWidth.V256, SimdWidth.V512 })
                foreach (int batch in new[] { 1, 3, 17 })
                    yield return new object[] { name, width, batch };
    }

    /// <summary>The gradient-check models (dropout has its own check below: its mask is random).</summary>
    internal static readonly string[] Models =
    {
        nameof(GcRelu), nameof(GcLeaky), nameof(GcSigmoid), nameof(GcTanh), nameof(GcSoftmaxFused), nameof(GcStandalone), nameof(GcWide),
        nameof(GcMae), nameof(GcHuber), nameof(GcQuantile), nameof(GcBce), nameof(GcHinge), nameof(GcMultiHinge), nameof(GcL2),
        nameof(GcConv), nameof(GcConvStride), nameof(GcConvRect), nameof(GcResidual), nameof(GcBatchNorm), nameof(GcGelu), nameof(GcConvChannels), nameof(GcConvRows), nameof(GcWinograd),
        nameof(GcInputReaders), nameof(GcFlatInputReaders), nameof(GcLstm), nameof(GcLstmStacked), nameof(GcLstmOneStep), nameof(GcGru), nameof(GcGruLast),
        nameof(GcEmbedGru), nameof(GcEmbedLstmStacked), nameof(GcEmbedOneStep), nameof(GcEmbedPlain),
        nameof(GcCharLm), nameof(GcSeqDense), nameof(GcBiRecurrent), nameof(GcBiMasked), nameof(GcMasking), nameof(GcOddPanels),
        nameof(GcGptBlock), nameof(GcAttentionSeq), nameof(GcLayerNorm), nameof(GcLongAttention), nameof(GcTiedGpt), nameof(GcGpt16),
    };

    /// <summary>The vocabulary of a model whose input is token ids (an embedding reads it), else 0.</summary>
    internal static int TokenVocabulary(INetwork net) =>
        net.Layers.FirstOrDefault(l => l.Type == LayerType.Embedding) is { } e ? (int)e.Options["vocabulary"] : 0;

    /// <summary>Inputs the model takes: Gaussian features, or uniform token ids (with a masking embedding, id 0 —
    /// padding — falls anywhere in a sequence, and whole padded samples occur at small vocabularies).</summary>
    internal static float[] InputsFor(INetwork net, int batch, ref Rng rng)
    {
        int v = TokenVocabulary(net);
        var x = new float[batch * net.InputSize];
        for (int i = 0; i < x.Length; i++) x[i] = v > 0 ? rng.NextInt(v) : (float)rng.NextGaussian();
        if (net.Layers.Any(l => l.Type == LayerType.Masking))
        {
            // Sequences of every length (steps of zeros after it), and one padded step inside a sequence.
            int steps = net.InputShape[0], features = net.InputShape[1];
            for (int b = 0; b < batch; b++)
            {
                int length = rng.NextInt(steps + 1);
                x.AsSpan((b * steps + length) * features, (steps - length) * features).Clear();
            }
            if (steps >= 3) x.AsSpan(((batch - 1) * steps + 1) * features, features).Clear();
        }
        return x;
    }

    internal static double LossParam(string name) => name switch { nameof(GcHuber) => 0.5, nameof(GcQuantile) => 0.9, _ => 0 };

    /// <summary>Targets of the right kind for the model's loss: labels, 0/1, ±1 or reals.</summary>
    internal static (int[]? Labels, float[]? Targets) TargetsFor(ITrainableNetwork net, int batch, ref Rng rng)
    {
        int n = batch * net.OutputSize;
        if (net.LossKind.TakesLabels())
        {
            // One label per sample, or per step of a sequence output (then about one step in five skipped: −100).
            int perSample = net.LabelsPerSample, classes = net.OutputSize / perSample;
            var labels = new int[batch * perSample];
            for (int i = 0; i < labels.Length; i++) labels[i] = perSample > 1 && rng.NextInt(5) == 0 ? -100 : rng.NextInt(classes);
            return (labels, null);
        }
        var t = new float[n];
        for (int i = 0; i < n; i++)
            t[i] = net.LossKind switch
            {
                LossKind.BinaryCrossEntropy => rng.NextInt(2),
                LossKind.Hinge => rng.NextInt(2) * 2 - 1,
                _ => (float)rng.NextGaussian(),
            };
        return (null, t);
    }

    internal static ITrainableNetwork Create(string name) => name switch
    {
        nameof(GcRelu) => new GcRelu(32, 1),
        nameof(GcLeaky) => new GcLeaky(32, 2),
        nameof(GcSigmoid) => new GcSigmoid(32, 3),
        nameof(GcTanh) => new GcTanh(32, 4),
        nameof(GcSoftmaxFused) => new GcSoftmaxFused(32, 5),
        nameof(GcStandalone) => new GcStandalone(32, 6),
        nameof(GcWide) => new GcWide(32, 7),
        nameof(GcMae) => new GcMae(32, 8),
        nameof(GcHuber) => new GcHuber(32, 9),
        nameof(GcQuantile) => new GcQuantile(32, 10),
        nameof(GcBce) => new GcBce(32, 11),
        nameof(GcHinge) => new GcHinge(32, 12),
        nameof(GcMultiHinge) => new GcMultiHinge(32, 13),
        nameof(GcL2) => new GcL2(32, 14),
        nameof(GcDropout) => new GcDropout(32, 15),
        nameof(GcConv) => new GcConv(32, 16),
        nameof(GcConvStride) => new GcConvStride(32, 17),
        nameof(GcConvRect) => new GcConvRect(32, 18),
        nameof(GcResidual) => new GcResidual(32, 19),
        nameof(GcBatchNorm) => new GcBatchNorm(32, 20),
        nameof(GcGelu) => new GcGelu(32, 21),
        nameof(GcConvChannels) => new GcConvChannels(32, 22),
        nameof(GcConvRows) => new GcConvRows(32, 43),
        nameof(GcWinograd) => new GcWinograd(32, 61),
        nameof(GcLstm) => new GcLstm(32, 23),
        nameof(GcLstmStacked) => new GcLstmStacked(32, 24),
        nameof(GcLstmOneStep) => new GcLstmOneStep(32, 25),
        nameof(GcGru) => new GcGru(32, 26),
        nameof(GcGruLast) => new GcGruLast(32, 27),
        nameof(GcEmbedGru) => new GcEmbedGru(32, 28),
        nameof(GcCharLm) => new GcCharLm(32, 32),
        nameof(GcBiRecurrent) => new GcBiRecurrent(32, 34),
        nameof(GcBiMasked) => new GcBiMasked(32, 35),
        nameof(GcMasking) => new GcMasking(32, 36),
        nameof(GcSeqDense) => new GcSeqDense(32, 33),
        nameof(GcGptBlock) => new GcGptBlock(32, 37),
        nameof(GcAttentionSeq) => new GcAttentionSeq(32, 38),
        nameof(GcLayerNorm) => new GcLayerNorm(32, 39),
        nameof(GcLongAttention) => new GcLongAttention(32, 40),
        nameof(GcTiedGpt) => new GcTiedGpt(32, 41),
        nameof(GcGpt16) => new GcGpt16(32, 42),
        nameof(GcEmbedLstmStacked) => new GcEmbedLstmStacked(32, 29),
        nameof(GcOddPanels) => new GcOddPanels(32, 62),
        nameof(GcEmbedOneStep) => new GcEmbedOneStep(32, 30),
        nameof(GcEmbedPlain) => new GcEmbedPlain(32, 31),
        nameof(GcInputReaders) => new GcInputReaders(32, 23),
        nameof(GcFlatInputReaders) => new GcFlatInputReaders(32, 24),
        _ => throw new ArgumentException(name),
    };

    internal static Layer[] LayersOf(ITrainableNetwork model) => model switch
    {
        GcRelu m => new[] { m.A, m.B },
        GcLeaky m => new[] { m.A, m.B },
        GcSigmoid m => new[] { m.A, m.B },
        GcTanh m => new[] { m.A, m.B },
        GcSoftmaxFused m => new[] { m.A, m.Probabilities },
        GcStandalone m => new[] { m.A, m.ReluA, m.B, m.TanhB, m.C, m.LeakyC, m.D, m.SigmoidD, m.E, m.SoftmaxE },
        GcWide m => new[] { m.A, m.B },
        GcMae m => new[] { m.A, m.B },
        GcHuber m => new[] { m.A, m.B },
        GcQuantile m => new[] { m.A, m.B },
        GcBce m => new[] { m.A, m.Logit },
        GcHinge m => new[] { m.A, m.Score },
        GcMultiHinge m => new[] { m.A, m.Scores },
        GcL2 m => new[] { m.A, m.B, m.C },
        GcDropout m => new[] { m.A, m.Drop, m.B },
        GcConv m => new[] { m.C, m.P, m.F, m.D },
        GcConvStride m => new[] { m.C, m.P, m.Pointwise, m.G, m.D },
        GcConvRect m => new[] { m.C, m.S, m.C2, m.F, m.D },
        GcResidual m => new[] { m.Stem, m.A, m.B, m.Sum1, m.R1, m.C, m.D, m.Proj, m.Sum2, m.R2, m.G, m.Out },
        GcBatchNorm m => new[] { m.C1, m.N1, m.C2, m.N2, m.F, m.Out },
        GcGelu m => new[] { m.A, m.G1, m.B, m.G2, m.C },
        GcConvChannels m => new[] { m.C1, m.Up, m.Down, m.Equal, m.Point, m.Strided, m.F, m.D },
        GcConvRows m => new[] { m.C1, m.C2, m.P, m.C3, m.C4, m.C5, m.F, m.D },
        GcWinograd m => new[] { m.C0, m.C1, m.C2, m.N, m.C3, m.F, m.Out },
        GcInputReaders m => new[] { m.A, m.Sum, m.C, m.Proj, m.Sum2, m.F, m.Out },
        GcFlatInputReaders m => new[] { m.A, m.S, m.Q, m.P, m.T, m.Out },
        SmallLeNet m => new[] { m.Conv1, m.Pool1, m.Conv2, m.Pool2, m.Flat, m.Hidden, m.Logits },
        GcLstm m => new[] { m.Rnn, m.Out },
        GcLstmStacked m => new[] { m.L1, m.L2, m.Out },
        GcLstmOneStep m => new[] { m.Rnn, m.Out },
        GcGru m => new[] { m.G, m.R, m.Relu, m.Out },
        GcGruLast m => new[] { m.G, m.Out },
        GcEmbedGru m => new[] { m.Embed, m.G, m.Out },
        GcCharLm m => new[] { m.Embed, m.L, m.Next },
        GcBiRecurrent m => new[] { m.G, m.L, m.Out },
        GcBiMasked m => new[] { m.Embed, m.L, m.R, m.Out },
        GcMasking m => new[] { m.Pad, m.G, m.L, m.Out },
        GcSeqDense m => new[] { m.In, m.G, m.Mid, m.Out },
        GcGptBlock m => new[] { m.Tok, m.Pos, m.Ln1, m.Qkv, m.Attn, m.Proj, m.Res1, m.Ln2, m.Fc, m.Act, m.Fc2, m.Res2, m.LnF, m.Head },
        GcAttentionSeq m => new[] { m.N, m.Qkv, m.A, m.G, m.Out },
        GcLayerNorm m => new[] { m.A, m.N, m.B, m.N2, m.C },
        GcLongAttention m => new[] { m.Qkv, m.A, m.Proj, m.Res, m.N, m.Out },
        GcTiedGpt m => new[] { m.Tok, m.Pos, m.Qkv, m.Attn, m.Res, m.N, m.Head },
        GcGpt16 m => new[] { m.Tok, m.Pos, m.N, m.Qkv, m.Attn, m.Res, m.G, m.Head },
        GcEmbedLstmStacked m => new[] { m.Embed, m.L1, m.L2, m.Out },
        GcEmbedOneStep m => new[] { m.Embed, m.R, m.Out },
        GcEmbedPlain m => new[] { m.Embed, m.G, m.R, m.Out },
        GcOddPanels m => new[] { m.R, m.G, m.L, m.Out },
        SampleMlp m => new[] { m.Hidden1, m.Hidden2, m.Logits },
        _ => throw new ArgumentException(model.GetType().Name),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Backward_matches_central_differences(string model, SimdWidth width, int batch)
    {
        if (!Simd.IsSupported(width)) return; // this machine cannot run the path (reported by SimdWidthTests)
        using var net = Create(model);
        net.Width = width;
        var rng = new Rng(99);
        // Biases away from zero so that no ReLU sits on its kink.
        foreach (var t in net.Tensors.Where(t => !t.IsWeight))
            for (int i = 0; i < t.Length; i++) net.Parameters[t.Offset + i] = (float)(rng.NextGaussian() * 0.3);
        var x = InputsFor(net, batch, ref rng);
        var (labels, targets) = TargetsFor(net, batch, ref rng);

        net.ZeroGrad();
        net.Forward(x, training: true);
        float loss = labels is not null ? net.Backward(labels) : net.Backward(targets!);

        var reference = new ReferenceNet(net, LayersOf(net), LossParam(model));
        var p = net.Parameters.ToArray().Select(v => (double)v).ToArray();
        double refLoss = reference.Loss(p, x, batch, labels, targets);
        Assert.True(Math.Abs(loss - refLoss) <= 1e-5 + 1e-5 * Math.Abs(refLoss), $"loss {loss} vs reference {refLoss}");

        var numeric = reference.NumericGradient(p, x, batch, labels, targets);
        var g = net.Gradients;
        foreach (var t in net.Tensors)
            for (int i = 0; i < t.Length; i++)
            {
                int k = t.Offset + i;
                double tol = 2e-5 + 2e-3 * Math.Abs(numeric[k]);
                Assert.True(Math.Abs(g[k] - numeric[k]) <= tol,
                    $"{model} {width} batch {batch}: d loss / d {t.Name}[{i}] = {g[k]} but central differences give {numeric[k]}");
            }

        // d loss / d input: every layer's input-gradient path is on the way down to it (in < out, in > out and
        // in = out channels, odd sizes, every stride/padding path; GcInputReaders/GcFlatInputReaders read the input
        // from several layers). Asking for it changes no parameter gradient.
        var paramGrads = g.ToArray();
        var dx = new float[x.Length];
        net.ZeroGrad();
        net.Forward(x, training: true);
        float loss2 = labels is not null ? net.Backward(labels, dx) : net.Backward(targets!, dx);
        Assert.Equal(loss, loss2);
        Assert.Equal(paramGrads, net.Gradients.ToArray());
        if (TokenVocabulary(net) > 0)
        {
            Assert.All(dx, v => Assert.Equal(0f, v));   // token ids are not differentiable: the input gradient is zero
            return;
        }
        // Every input of small cases; 120 positions spread over every sample (first and last included) otherwise.
        var positions = x.Length <= 120 ? Enumerable.Range(0, x.Length).ToArray()
            : Enumerable.Range(0, 120).Select(j => j < batch ? j * net.InputSize + j % net.InputSize : j == batch ? x.Length - 1 : rng.NextInt(x.Length)).ToArray();
        if (net.Layers.Any(l => l.Type == LayerType.Masking))
        {
            // A padded step (all zeros) is no step: nudging one of its zeros makes it data, so its central difference is
            // not the derivative of anything (the backward gives it 0). The other inputs are checked.
            int f = net.InputShape[1];
            positions = positions.Where(i => x.AsSpan(i / f * f, f).ToArray().Any(v => v != 0f)).ToArray();
            foreach (int i in Enumerable.Range(0, x.Length).Except(positions).Where(i => x.AsSpan(i / f * f, f).ToArray().All(v => v == 0f)))
                Assert.Equal(0f, dx[i]);
        }
        var numericX = reference.NumericInputGradient(p, x, batch, labels, targets, positions);
        foreach (int i in positions)
        {
            double tol = 2e-5 + 2e-3 * Math.Abs(numericX[i]);
            Assert.True(Math.Abs(dx[i] - numericX[i]) <= tol,
                $"{model} {width} batch {batch}: d loss / d input[{i}] = {dx[i]} but central differences give {numericX[i]}");
        }
    }

    /// <summary>Dropout's mask is random, so it is checked with the model's own central differences under a
    /// re-seeded mask (float, h = 1e-3): the backward must use exactly the mask the forward drew.</summary>
    [Theory]
    [InlineData(SimdWidth.Scalar)]
    [InlineData(SimdWidth.V256)]
    [InlineData(SimdWidth.V512)]
    public void Dropout_backward_matches_central_differences_under_the_same_mask(SimdWidth width)
    {
        if (!Simd.IsSupported(width)) return;
        using var net = new GcDropout(8, seed: 3) { Width = width };
        var rng = new Rng(5);
        foreach (var t in net.Tensors.Where(t => !t.IsWeight))
            for (int i = 0; i < t.Length; i++) net.Parameters[t.Offset + i] = (float)(rng.NextGaussian() * 0.3);
        var x = Enumerable.Range(0, 5 * 6).Select(_ => (float)rng.NextGaussian()).ToArray();
        int[] labels = { 0, 2, 1, 1, 0 };
        float LossAt()
        {
            net.SeedDropout(77);
            net.Forward(x, training: true);
            return net.ComputeLoss(labels);
        }
        net.ZeroGrad();
        net.SeedDropout(77);
        net.Forward(x, training: true);
        net.Backward(labels);
        CentralDifferences.CheckParameters(net, net.Gradients.ToArray(), LossAt);
        const float h = 1e-3f;
        // d loss / d input through the same mask.
        var dx = new float[x.Length];
        net.SeedDropout(77);
        net.Forward(x, training: true);
        net.Backward(labels, dx);
        for (int i = 0; i < x.Length; i++)
        {
            float keep = x[i];
            x[i] = keep + h; float up = LossAt();
            x[i] = keep - h; float down = LossAt();
            x[i] = keep;
            float numeric = (up - down) / (2 * h);
            Assert.True(Math.Abs(dx[i] - numeric) <= 2e-3 + 2e-2 * Math.Abs(numeric), $"input[{i}]: backward {dx[i]}, central differences {numeric}");
        }
    }

    [Fact]
    public void Backward_accumulates_until_ZeroGrad()
    {
        using var net = new GcRelu(8, 1);
        var x = Enumerable.Range(0, 2 * 5).Select(i => (float)Math.Sin(i)).ToArray();
        int[] labels = { 1, 3 };
        net.ZeroGrad();
        net.Forward(x, training: true); net.Backward(labels);
        var once = net.Gradients.ToArray();
        net.Forward(x, training: true); net.Backward(labels);
        var twice = net.Gradients.ToArray();
        for (int i = 0; i < once.Length; i++) Assert.Equal(2 * once[i], twice[i], 5);
        net.ZeroGrad();
        Assert.All(net.Gradients.ToArray(), v => Assert.Equal(0f, v));
    }

    /// <summary>Every registered layer kind, every activation (fused and standalone) and every loss is exercised by
    /// the gradient-check models above, read from the layers' structured metadata.</summary>
    [Fact]
    public void Every_layer_kind_and_activation_has_a_gradient_check()
    {
        var kinds = new HashSet<string>();
        foreach (var name in Models.Append(nameof(GcDropout)))
        {
            using var net = Create(name);
            foreach (var l in LayersOf(net))
            {
                kinds.Add(l.Type.ToString());
                if (l.Type == LayerType.Activation) kinds.Add("Activation:" + l.Activation);
                if (l.Type == LayerType.Dense) kinds.Add("Dense:" + l.Activation);
                if (l.L2 > 0) kinds.Add("L2");
            }
            kinds.Add("Loss:" + net.LossKind);
        }
        Assert.Contains("L2", kinds);
        foreach (var kind in LayerRegistry.All)
            Assert.True(kinds.Contains(kind.Name), $"layer kind {kind.Name} has no gradient-check model");
        foreach (ActivationType a in Enum.GetValues(typeof(ActivationType)))
        {
            if (a == ActivationType.None) continue;
            Assert.Contains("Activation:" + a, kinds);   // standalone
            Assert.Contains("Dense:" + a, kinds);        // fused into a dense layer
        }
        foreach (LossKind l in Enum.GetValues(typeof(LossKind)))
            if (l != LossKind.None) Assert.Contains("Loss:" + l, kinds);
    }
}
