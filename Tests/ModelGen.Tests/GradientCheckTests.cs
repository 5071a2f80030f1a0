using System;
using System.Collections.Generic;
using System.Linq;
using ModelGen.Generator.Layers;
using ModelGen.Generator.Model;
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
        var makers = new Func<ITrainableNetwork>[]
        {
            () => new GcRelu(32, 1), () => new GcLeaky(32, 2), () => new GcSigmoid(32, 3), () => new GcTanh(32, 4),
            () => new GcSoftmaxFused(32, 5), () => new GcStandalone(32, 6), () => new GcWide(32, 7),
        };
        foreach (var make in makers)
            foreach (var width in new[] { SimdWidth.Scalar, SimdWidth.V256, SimdWidth.V512 })
                foreach (int batch in new[] { 1, 3, 17 })
                    yield return new object[] { make().GetType().Name, width, batch };
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
        var x = Enumerable.Range(0, batch * net.InputSize).Select(_ => (float)rng.NextGaussian()).ToArray();
        int[]? labels = net.LossKind == LossKind.SoftmaxCrossEntropy ? Enumerable.Range(0, batch).Select(_ => rng.NextInt(net.OutputSize)).ToArray() : null;
        float[]? targets = labels is null ? Enumerable.Range(0, batch * net.OutputSize).Select(_ => rng.NextFloat()).ToArray() : null;

        net.ZeroGrad();
        net.Forward(x, training: true);
        float loss = labels is not null ? net.Backward(labels) : net.Backward(targets!);

        var reference = new ReferenceNet(net, LayersOf(net));
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

    /// <summary>The layer table and the activations are all exercised by the gradient-check models above.</summary>
    [Fact]
    public void Every_layer_kind_and_activation_has_a_gradient_check()
    {
        var kinds = new HashSet<string>();
        foreach (var name in new[] { "GcRelu", "GcLeaky", "GcSigmoid", "GcTanh", "GcSoftmaxFused", "GcStandalone", "GcWide" })
        {
            using var net = Create(name);
            foreach (var l in LayersOf(net))
            {
                bool dense = l.Kind.StartsWith("Dense(", StringComparison.Ordinal);
                string act = dense ? (l.Kind.Contains(", ") ? l.Kind.Split(", ")[1] : "None") : l.Kind;
                act = act.Split('(')[0];
                kinds.Add((dense ? "Dense" : "Activation") + ":" + act);
                if (dense) kinds.Add("Dense");
            }
            kinds.Add("Loss:" + net.LossKind);
        }
        foreach (var kind in LayerTable.Kinds)
            Assert.Contains(kinds, k => k.StartsWith(kind.ToString(), StringComparison.Ordinal));
        foreach (ActivationKind a in Enum.GetValues(typeof(ActivationKind)))
        {
            if (a == ActivationKind.None) continue;
            Assert.Contains("Activation:" + a, kinds);   // standalone
            Assert.Contains("Dense:" + a, kinds);        // fused into a dense layer
        }
        foreach (LossKind l in Enum.GetValues(typeof(LossKind)))
            if (l != LossKind.None) Assert.Contains("Loss:" + l, kinds);
    }
}
