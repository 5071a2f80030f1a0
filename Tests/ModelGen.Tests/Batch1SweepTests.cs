using System;
using System.Linq;
using ModelGen.Tests.Harness;
using Xunit;

namespace ModelGen.Tests;

/// <summary>The batch-1 forward of a dense layer whose input comes out of a ReLU (directly, or through max-pooling and
/// flattening) or is the network input (read in place): it sweeps the rows of Wᵀ (packed once per parameter version)
/// and skips those of zero inputs. Checked
/// bit for bit against one FMA chain per output over the inputs in order — what a batch tile computes — at both vector
/// widths, with the inputs' zeros in play, a non-finite weight (0·∞ is NaN: nothing may be skipped then), and weights
/// changed between calls (the packed copy follows).</summary>
public class Batch1SweepTests
{
    private static readonly Lazy<(Type Net, Type Pooled, GeneratorHarness.Result Result)> s_models = new(() =>
    {
        const string source = """
            using ModelGen;
            namespace Sweep;
            [Network(45)] public partial class Net
            {
                [Dense(130), Relu] public partial Layer H1 { get; }             // the network input, read in place: swept, 2·64 + 2 (V512), 2·64 + 2 (V256)
                [Dense(300), Relu] public partial Layer H2 { get; }             // swept: 256 + 2·16 + 12 (V512), 4·64 + 5·8 + 4 (V256)
                [Dense(83), LeakyRelu(0.1f)] public partial Layer H3 { get; }   // swept: 64 + 16 + 3, 64 + 2·8 + 3
                [Dense(70)] public partial Layer Out { get; }                   // after a leaky ReLU (no zeros): the GEMV
                [Mse] public partial Loss Loss { get; }
            }
            [Network(1, 12, 12)] public partial class Pooled
            {
                [Conv2D(5, 3), Relu] public partial Layer C { get; }   // 10 × 10
                [MaxPool2D(2)] public partial Layer P { get; }          // 5 × 5: a ReLU's zeros through the pool
                [Flatten] public partial Layer F { get; }               // 125
                [Dense(64)] public partial Layer D { get; }             // swept, bias only
                [Mse] public partial Loss Loss { get; }
            }
            """;
        var result = GeneratorHarness.Run(source);
        Assert.Empty(result.GeneratorDiagnostics);
        var asm = GeneratorHarness.Load(result.Output);
        return (asm.GetType("Sweep.Net")!, asm.GetType("Sweep.Pooled")!, result);
    });

    /// <summary>The layers (name, input layer — null for the network input —, epilogue) the sweep computes in each model.</summary>
    private static readonly (string Layer, string? Input, Func<float, float> Epilogue)[][] s_swept =
    {
        new (string, string?, Func<float, float>)[] { ("H1", null, z => MathF.Max(0f, z)), ("H2", "H1", z => MathF.Max(0f, z)), ("H3", "H2", z => z > 0f ? z : z * 0.1f) },
        new (string, string?, Func<float, float>)[] { ("D", "F", z => z) },
    };

    private static INetwork Create(int model, int maxBatch, SimdWidth width, int seed)
    {
        var net = (INetwork)Activator.CreateInstance(model == 0 ? s_models.Value.Net : s_models.Value.Pooled, maxBatch, 1)!;
        net.Width = width;
        var rng = new Rng((ulong)seed);
        var p = net.Parameters;
        for (int i = 0; i < p.Length; i++) p[i] = rng.NextFloat() * 2f - 1f;
        return net;
    }

    /// <summary>Uniform in [−1, 1), every third value 0 (as pixels and one-hot codes often are).</summary>
    private static float[] Input(INetwork net, int seed)
    {
        var rng = new Rng((ulong)seed);
        var x = new float[net.InputSize];
        for (int i = 0; i < x.Length; i++) x[i] = i % 3 == 1 ? 0f : rng.NextFloat() * 2f - 1f;
        return x;
    }

    private static float[] Activation(INetwork net, string layer)
    {
        var a = new float[net.Layers.Single(l => l.Name == layer).OutputShape.Aggregate(1, (s, d) => s * d)];
        net.GetActivation(layer, a);
        return a;
    }

    /// <summary>Checks layer <paramref name="layer"/>'s batch-1 output against one FMA chain per output from its input
    /// <paramref name="x"/> and the weights as they are now.</summary>
    private static void AssertOneChain(INetwork net, string layer, float[] x, Func<float, float> epilogue, string what)
    {
        var y = Activation(net, layer);
        var w = net.Tensors.Single(t => t.Name == layer + ".weight");
        var bias = net.Tensors.Single(t => t.Name == layer + ".bias");
        ReadOnlySpan<float> p = net.Parameters;
        int k = x.Length;
        for (int o = 0; o < y.Length; o++)
        {
            float acc = 0f;
            for (int i = 0; i < k; i++) acc = MathF.FusedMultiplyAdd(p[w.Offset + o * k + i], x[i], acc);
            float expected = epilogue(acc + p[bias.Offset + o]);
            if (float.IsNaN(expected)) { Assert.True(float.IsNaN(y[o]), $"{what}: {layer}[{o}] is {y[o]:R}, NaN by the definition"); continue; }
            Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(y[o]),
                $"{what}: {layer}[{o}] is {y[o]:R} at batch 1, {expected:R} from one FMA chain");
        }
    }

    public static TheoryData<int, int, SimdWidth> Cases()
    {
        var data = new TheoryData<int, int, SimdWidth>();
        foreach (int model in new[] { 0, 1 })
            foreach (int maxBatch in new[] { 1, 9 })
                foreach (var width in new[] { SimdWidth.V256, SimdWidth.V512 })
                    data.Add(model, maxBatch, width);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_dense_layer_after_a_relu_gives_one_fma_chain_per_output_at_batch_1(int model, int maxBatch, SimdWidth width)
    {
        if (!Simd.IsSupported(width)) return;   // the AVX2-only leg of CI runs V256
        using var net = Create(model, maxBatch, width, seed: 3);
        for (int sample = 0; sample < 3; sample++)
        {
            var x = Input(net, 100 + sample);
            net.Forward(x, training: false);
            foreach (var (layer, input, epilogue) in s_swept[model])
            {
                var xs = input is null ? x : Activation(net, input);
                int zeros = xs.Count(v => v == 0f);
                Assert.True(zeros > 0, $"{input ?? "the input"} has no zero: the skip is not exercised");
                AssertOneChain(net, layer, xs, epilogue, $"{width}, max batch {maxBatch}, sample {sample} ({zeros} zero inputs)");
            }
        }
    }

    /// <summary>An infinite weight meets a zero input: its term is NaN and must not be skipped; the packed copy follows
    /// the weights when they change (to the infinity, then back to a finite value).</summary>
    [Theory]
    [InlineData(SimdWidth.V256)]
    [InlineData(SimdWidth.V512)]
    public void A_weight_that_is_not_finite_turns_the_skip_off_and_the_packed_weights_follow_changes(SimdWidth width)
    {
        if (!Simd.IsSupported(width)) return;
        using var net = Create(0, 1, width, seed: 5);
        var x = Input(net, 200);
        net.Forward(x, training: false);
        var h1 = Activation(net, "H1");
        int zero = Array.IndexOf(h1, 0f);
        Assert.True(zero >= 0, "H1 has no zero output");
        var w2 = net.Tensors.Single(t => t.Name == "H2.weight");
        int at = w2.Offset + 7 * h1.Length + zero;   // H2's unit 7 meets the zero input
        float old = net.Parameters[at];

        net.Parameters[at] = float.PositiveInfinity;
        net.Forward(x, training: false);
        Assert.True(float.IsNaN(Activation(net, "H2")[7]), "0·∞ skipped: H2[7] should be NaN");
        AssertOneChain(net, "H2", Activation(net, "H1"), z => MathF.Max(0f, z), $"{width}, W2[7, {zero}] = ∞");

        net.Parameters[at] = old + 0.5f;
        net.Forward(x, training: false);
        AssertOneChain(net, "H2", Activation(net, "H1"), z => MathF.Max(0f, z), $"{width}, W2[7, {zero}] finite again");
        Assert.False(float.IsNaN(Activation(net, "H2")[7]));

        // The same at the network input (the layer that reads it in place): an infinite weight meets a zero pixel.
        var w1 = net.Tensors.Single(t => t.Name == "H1.weight");
        int pixel = Array.IndexOf(x, 0f), at1 = w1.Offset + 5 * x.Length + pixel;   // H1's unit 5 meets it
        float old1 = net.Parameters[at1];
        net.Parameters[at1] = float.NegativeInfinity;
        net.Forward(x, training: false);
        Assert.True(float.IsNaN(Activation(net, "H1")[5]), "0·∞ skipped: H1[5] should be NaN");
        net.Parameters[at1] = old1;
        net.Forward(x, training: false);
        AssertOneChain(net, "H1", x, z => MathF.Max(0f, z), $"{width}, W1[5, {pixel}] finite again");
    }

    /// <summary>The rule in the generated code: the sweep where the input comes out of a ReLU (through pooling and
    /// flattening too) or is the network input, and the layer has 64 outputs or more; the GEMV over W elsewhere; Wᵀ
    /// packed for batch 1 only (<c>PackBatch1</c>), not by the packing every forward runs — and for the layer that reads
    /// the input in place besides its panels for batches (<c>PackRows</c>).</summary>
    [Fact]
    public void The_sweep_is_chosen_after_a_relu_or_at_the_input_and_packed_for_batch_1_only()
    {
        string net = s_models.Value.Result.Source("Sweep.Net.g.cs"), pooled = s_models.Value.Result.Source("Sweep.Pooled.g.cs");
        string Forward(string src, string layer) => src[src.IndexOf($"private void {layer}_Forward_V512(", StringComparison.Ordinal)..][..1200];
        Assert.Contains("MG.Gemm.ColumnsV512(", Forward(net, "H1"));
        Assert.Contains("ref float x = ref ws.Input;", Forward(net, "H1"));
        string Method(string src, string name) => src[src.IndexOf($"private void {name}(Workspace ws)", StringComparison.Ordinal)..][..800];
        Assert.Contains("ref ws.Ref(_h1WT)", Method(net, "PackBatch1"));
        Assert.Contains("ref ws.Ref(_h1Wp)", Method(net, "PackRows"));
        Assert.Contains("MG.Gemm.ColumnsV512(", Forward(net, "H2"));
        Assert.Contains("MG.Gemm.ColumnsV512(", Forward(net, "H3"));
        Assert.Contains("MG.Gemm.GemvV512(", Forward(net, "Out"));
        Assert.Contains("MG.Gemm.ColumnsV512(", Forward(pooled, "D"));
        Assert.Contains("if (n == 1 && ws.Batch1Version != _arena.Version) PackBatch1(ws);", net);
        Assert.DoesNotContain("PackWeights(", net);
    }
}
