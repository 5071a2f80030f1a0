using System;
using System.Linq;
using ModelGen.Tests.Harness;
using Xunit;

namespace ModelGen.Tests;

/// <summary>
/// A pooling that alone reads a convolution passes its gradient back inside that convolution's per-sample backward
/// loop (each sample's dz still in the cache when the convolution reads it). Against twins whose poolings read a
/// standalone activation layer instead (so that they run apart, over the whole batch, as before): the same loss,
/// parameter gradients and input gradient bit for bit, at every width, batch and thread count; and where the generator
/// moves the pooling's backward and where it does not (a convolution read by two layers).
/// </summary>
[Collection(nameof(MinWorkCollection))]
public sealed class PoolBackwardTests : MinWorkLowered
{
    private static readonly Lazy<(Type Fused, Type Apart, Type Shared, Type Plain, GeneratorHarness.Result Result)> s_models = new(() =>
    {
        const string source = """
            using ModelGen;
            namespace PoolBack;
            [Network(3, 11, 13)] public partial class Fused
            {
                [Conv2D(5, 3, padding: 1), Relu] public partial Layer C1 { get; }                                   // [5,11,13], reads the network input
                [MaxPool2D(2)] public partial Layer P1 { get; }                                                      // [5,5,6]: the last row and column get no gradient
                [Conv2D(16, 3, padding: 1, Algorithm = ConvAlgorithm.Winograd), Tanh] public partial Layer C2 { get; } // [16,5,6]
                [AvgPool2D(2, 1)] public partial Layer P2 { get; }                                                   // [16,4,5]: overlapping means
                [Conv2D(4, 1, Bias = false)] public partial Layer C3 { get; }                                        // [4,4,5]: 1×1, no activation, no bias
                [MaxPool2D(3, 2)] public partial Layer P3 { get; }                                                   // [4,1,2]: overlapping windows
                [Flatten] public partial Layer F { get; }
                [Dense(3)] public partial Layer Out { get; }
                [SoftmaxCrossEntropy] public partial Loss Loss { get; }
            }
            [Network(3, 11, 13)] public partial class Apart
            {
                [Conv2D(5, 3, padding: 1)] public partial Layer C1 { get; }
                [Relu] public partial Layer R1 { get; }                                                              // the pooling reads an activation: apart
                [MaxPool2D(2)] public partial Layer P1 { get; }
                [Conv2D(16, 3, padding: 1, Algorithm = ConvAlgorithm.Winograd)] public partial Layer C2 { get; }
                [Tanh] public partial Layer T2 { get; }
                [AvgPool2D(2, 1)] public partial Layer P2 { get; }
                [Conv2D(4, 1, Bias = false)] public partial Layer C3 { get; }
                [MaxPool2D(3, 2)] public partial Layer P3 { get; }
                [Flatten] public partial Layer F { get; }
                [Dense(3)] public partial Layer Out { get; }
                [SoftmaxCrossEntropy] public partial Loss Loss { get; }
            }
            [Network(2, 8, 10)] public partial class Shared
            {
                [Conv2D(4, 3, padding: 1), Relu] public partial Layer C1 { get; }        // [4,8,10], read by P and Q
                [MaxPool2D(2)] public partial Layer P { get; }                            // [4,4,5]
                [AvgPool2D(2, Input = nameof(C1))] public partial Layer Q { get; }        // [4,4,5]
                [Add(nameof(P))] public partial Layer Sum { get; }
                [Flatten] public partial Layer F { get; }
                [Dense(3)] public partial Layer Out { get; }
                [SoftmaxCrossEntropy] public partial Loss Loss { get; }
            }
            [Network(2, 9, 9)] public partial class Plain
            {
                [Conv2D(3, 3)] public partial Layer C1 { get; }     // [3,7,7]: no activation, reads the network input — the pooling alone makes its backward per sample
                [MaxPool2D(2)] public partial Layer P { get; }       // [3,3,3]
                [Flatten] public partial Layer F { get; }
                [Dense(3)] public partial Layer Out { get; }
                [SoftmaxCrossEntropy] public partial Loss Loss { get; }
            }
            """;
        var result = GeneratorHarness.Run(source);
        Assert.All(result.GeneratorDiagnostics, d => Assert.Equal("MG0018", d.Id));   // odd sizes on purpose: rows no window covers
        var asm = GeneratorHarness.Load(result.Output);
        return (asm.GetType("PoolBack.Fused")!, asm.GetType("PoolBack.Apart")!, asm.GetType("PoolBack.Shared")!, asm.GetType("PoolBack.Plain")!, result);
    });

    private static ITrainableNetwork Create(Type t, int maxBatch) => (ITrainableNetwork)Activator.CreateInstance(t, maxBatch, 1)!;

    private static float[] Random(int n, int seed)
    {
        var rng = new Rng((ulong)seed);
        return Enumerable.Range(0, n).Select(_ => (float)rng.NextGaussian()).ToArray();
    }

    private static (float Loss, float[] Grads, float[] InputGrad, float[] Y) Step(ITrainableNetwork net, float[] x, int[] labels)
    {
        net.ZeroGrad();
        var y = new float[labels.Length * net.OutputSize];
        net.Forward(x, training: true);
        var dx = new float[x.Length];
        float loss = net.Backward(labels, dx);
        net.Predict(x, y);
        return (loss, net.Gradients.ToArray(), dx, y);
    }

    private static void AssertBits(float[] want, float[] got, string what)
    {
        Assert.Equal(want.Length, got.Length);
        for (int i = 0; i < want.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(want[i]) == BitConverter.SingleToInt32Bits(got[i]), $"{what}[{i}]: {got[i]:R}, apart {want[i]:R}");
    }

    [Fact]
    public void The_pooling_backward_inside_the_convolution_gives_the_bits_of_the_pooling_apart()
    {
        foreach (var width in new[] { SimdWidth.Scalar, SimdWidth.V256, SimdWidth.V512 })
        {
            if (!Simd.IsSupported(width)) continue;
            foreach (int batch in new[] { 1, 3, 17 })
            {
                using var apart = Create(s_models.Value.Apart, 17);
                apart.Width = width;
                var x = Random(batch * apart.InputSize, batch);
                var labels = Enumerable.Range(0, batch).Select(i => (i * 7 + 1) % 3).ToArray();
                var want = Step(apart, x, labels);
                foreach (int threads in new[] { 1, 2, 3 })
                {
                    using var fused = Create(s_models.Value.Fused, 17);
                    Assert.Equal(apart.Parameters.Length, fused.Parameters.Length);
                    apart.Parameters.CopyTo(fused.Parameters);
                    fused.Width = width;
                    fused.Threads = threads;
                    var got = Step(fused, x, labels);
                    string at = $"{width}, batch {batch}, {threads} thread(s): ";
                    Assert.True(BitConverter.SingleToInt32Bits(want.Loss) == BitConverter.SingleToInt32Bits(got.Loss), at + $"loss {got.Loss:R}, apart {want.Loss:R}");
                    AssertBits(want.Y, got.Y, at + "output");
                    AssertBits(want.Grads, got.Grads, at + "gradient");
                    AssertBits(want.InputGrad, got.InputGrad, at + "input gradient");
                }
                Assert.Contains(want.Grads, g => g != 0f);   // the comparison saw gradients
                Assert.Contains(want.InputGrad, g => g != 0f);
            }
        }
    }

    /// <summary>Where the generator moves a pooling's backward: into a convolution that it alone reads (after a ReLU, a
    /// tanh or no activation; max and mean; the first layer, which computes d loss / d input only when asked), and not
    /// after an activation layer or when a second layer reads the convolution (both poolings' shares go to dz).</summary>
    [Fact]
    public void The_pooling_backward_moves_into_a_convolution_that_it_alone_reads()
    {
        var r = s_models.Value.Result;
        string fused = r.Source("PoolBack.Fused.g.cs"), apart = r.Source("PoolBack.Apart.g.cs"), shared = r.Source("PoolBack.Shared.g.cs");
        static string Method(string src, string name)
        {
            int at = src.IndexOf($"private void {name}(", StringComparison.Ordinal);
            Assert.True(at >= 0, name + " is not in the generated source");
            int end = src.IndexOf("\n    }\n", at, StringComparison.Ordinal);
            return src[at..end];
        }
        foreach (var (conv, pool, call) in new[] { ("C1", "P1", "MG.Pool.MaxBackward("), ("C2", "P2", "MG.Pool.AverageBackward("), ("C3", "P3", "MG.Pool.MaxBackward(") })
            foreach (var w in new[] { "V512", "V256", "Scalar" })
            {
                Assert.Contains(call, Method(fused, $"{conv}_BackwardPart_{w}"));
                Assert.DoesNotContain($"{pool}_BackwardPart_{w}", fused);
                Assert.Contains($"{conv}'s backward runs this one", Method(fused, $"{pool}_Backward_{w}"));
                if (pool != "P3") Assert.Contains(call, Method(apart, $"{pool}_BackwardPart_{w}"));   // P3 reads C3 in both
            }
        foreach (var w in new[] { "V512", "V256", "Scalar" })
        {
            // C1 (ReLU, max): the pooling applies the ReLU's derivative, no pass of its own; C2 (tanh, mean) keeps it
            Assert.Contains(", relu: true);", Method(fused, $"C1_BackwardPart_{w}"));
            Assert.DoesNotContain("MG.Activations.Backward(", Method(fused, $"C1_BackwardPart_{w}"));
            Assert.Contains("MG.Activations.Backward(", Method(fused, $"C2_BackwardPart_{w}"));
            Assert.DoesNotContain("relu: true", Method(fused, $"C3_BackwardPart_{w}"));
            Assert.DoesNotContain("relu: true", apart);
        }
        Assert.Contains("with the ReLU's derivative", fused);
        Assert.DoesNotContain("MG.Pool.", Method(apart, "C1_BackwardPart_V512"));
        Assert.DoesNotContain("MG.Pool.", Method(shared, "C1_BackwardPart_V512"));
        Assert.Contains("MG.Pool.MaxBackward(", Method(shared, "P_BackwardPart_V512"));
        Assert.Contains("MG.Pool.AverageBackward(", Method(shared, "Q_BackwardPart_V512"));
        Assert.Contains("training: the backward runs inside C2's, sample by sample", fused);
        Assert.Contains("MG.Pool.MaxBackward(", Method(r.Source("PoolBack.Plain.g.cs"), "C1_BackwardPart_V512"));
    }

    /// <summary>The shared convolution's gradient is both poolings' shares; a first convolution without activation
    /// whose per-sample backward exists only for its pooling (no input gradient asked: the bias sums per sample, added
    /// in order): both against central differences of the loss.</summary>
    [Theory]
    [InlineData("Shared", 4 * 2 * 9 + 4)]
    [InlineData("Plain", 3 * 2 * 9 + 3)]
    public void Convolution_gradients_match_central_differences(string model, int convParameters)
    {
        using var net = Create(model == "Shared" ? s_models.Value.Shared : s_models.Value.Plain, 4);
        net.Width = SimdWidth.Scalar;
        var x = Random(4 * net.InputSize, 5);
        var labels = new[] { 0, 2, 1, 2 };
        net.ZeroGrad();
        net.Forward(x, training: true);
        net.Backward(labels);
        var grads = net.Gradients.ToArray();
        var p = net.Parameters;
        double Loss() { net.Forward(x, training: true); return net.ComputeLoss(labels); }
        for (int i = 0; i < convParameters; i += i < convParameters - 8 ? 5 : 1)   // some of C1's weights, all of its bias
        {
            float keep = p[i];
            const float h = 1e-3f;   // 1e-2 crosses a ReLU or max kink at some weights
            p[i] = keep + h; double up = Loss();
            p[i] = keep - h; double down = Loss();
            p[i] = keep;
            double fd = (up - down) / (2 * h);
            Assert.True(Math.Abs(fd - grads[i]) <= 1e-3 + 5e-3 * Math.Abs(fd), $"{model} C1 parameter {i}: backward {grads[i]}, central differences {fd}");
        }
        Assert.Contains(grads.Take(convParameters), g => g != 0f);
    }
}
