using System;
using System.Linq;
using System.Threading.Tasks;
using ModelGen.Tests.Harness;
using Xunit;

namespace ModelGen.Tests;

/// <summary>A dense layer that is the network input's only reader reads the caller's row-major input in place at
/// inference (tiles of 8 samples × 32 units, or 16 × 16 for a last, odd panel, transposed in registers into its output
/// panel, <c>Wᵀ</c> packed in 16-unit panels
/// once per parameter version) at AVX-512 and scalar; the training forward, and AVX2 inference, transpose the input into
/// a panel as before. Each output of both is
/// one FMA chain over the inputs in order, so <c>Predict</c> must give the training forward's bits — at every width,
/// for batches that are and are not whole groups of 16 samples, unit counts that are not whole panels, one and two
/// threads, weights changed between calls, several callers at once, and the width changed between calls.</summary>
public class InPlaceInputTests
{
    private static readonly Lazy<(System.Reflection.Assembly Asm, GeneratorHarness.Result Result)> s_models = new(() =>
    {
        const string source = """
            using ModelGen;
            namespace InPlace;
            [Network(45)] public partial class Leaky
            {
                [Dense(20), LeakyRelu(0.1f)] public partial Layer H { get; }   // 16 + 4 units: a partial panel (and 8 + 8 + 4 at AVX2)
                [Dense(7)] public partial Layer Out { get; }
                [Mse] public partial Loss Loss { get; }
            }
            [Network(33)] public partial class Squashed
            {
                [Dense(40), Tanh] public partial Layer H { get; }             // the bias in the store, tanh after it
                [Dense(3)] public partial Layer Out { get; }
                [Mse] public partial Loss Loss { get; }
            }
            [Network(17)] public partial class Plain
            {
                [Dense(5)] public partial Layer Out { get; }                    // bias only; the output layer itself
                [Mse] public partial Loss Loss { get; }
            }
            [Network(17, InferenceOnly = true)] public partial class InferenceOnly
            {
                [Dense(16), Relu] public partial Layer H { get; }
                [Dense(5)] public partial Layer Out { get; }
            }
            [Network(12)] public partial class TwoReaders
            {
                [Dense(12), Relu] public partial Layer A { get; }
                [Dense(12, Input = "input")] public partial Layer B { get; }   // the input read twice: the panel stays
                [Add(nameof(A))] public partial Layer S { get; }
                [Mse] public partial Loss Loss { get; }
            }
            [Network(12)] public partial class DropoutFirst
            {
                [Dropout(0.2f)] public partial Layer D { get; }               // not a dense reader: the panel stays
                [Dense(6)] public partial Layer Out { get; }
                [Mse] public partial Loss Loss { get; }
            }
            """;
        var result = GeneratorHarness.Run(source);
        Assert.Empty(result.GeneratorDiagnostics);
        Assert.Empty(result.CompileDiagnostics);
        return (GeneratorHarness.Load(result.Output), result);
    });

    internal static ITrainableNetwork Create(string model, int maxBatch, int seed = 3)
    {
        var net = (ITrainableNetwork)Activator.CreateInstance(s_models.Value.Asm.GetType("InPlace." + model)!, maxBatch, 1)!;
        var rng = new Rng((ulong)seed);
        var p = net.Parameters;
        for (int i = 0; i < p.Length; i++) p[i] = rng.NextFloat() * 2f - 1f;
        return net;
    }

    internal static float[] Input(int length, int seed)
    {
        var rng = new Rng((ulong)seed);
        var x = new float[length];   // exactly batch × InputSize: a read past the caller's input fails in the checked build
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextFloat() * 2f - 1f;
        return x;
    }

    internal static float[] Predict(INetwork net, float[] x)
    {
        var y = new float[x.Length / net.InputSize * net.OutputSize];
        net.Predict(x, y);
        return y;
    }

    internal static float[] TrainingForward(ITrainableNetwork net, float[] x)
    {
        var y = new float[x.Length / net.InputSize * net.OutputSize];
        net.Forward(x, training: true);
        net.GetOutput(y);
        return y;
    }

    internal static void AssertSameBits(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                Assert.Fail($"{what}: output {i} is {actual[i]:R}, the training forward's {expected[i]:R}");
    }

    public static TheoryData<string, SimdWidth> Cases()
    {
        var data = new TheoryData<string, SimdWidth>();
        foreach (var model in new[] { "Leaky", "Squashed", "Plain" })
            foreach (var width in new[] { SimdWidth.V512, SimdWidth.V256, SimdWidth.Scalar })
                data.Add(model, width);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Predict_reading_the_input_in_place_gives_the_training_forwards_bits(string model, SimdWidth width)
    {
        if (!Simd.IsSupported(width)) return;
        foreach (int threads in new[] { 1, 2 })
        {
            using var net = (IDisposable)Create(model, 48);
            var n = (ITrainableNetwork)net;
            n.Width = width;
            n.Threads = threads;
            foreach (int batch in new[] { 2, 15, 16, 17, 33, 48 })
            {
                var x = Input(batch * n.InputSize, batch);
                var expected = TrainingForward(n, x);
                AssertSameBits(expected, Predict(n, x), $"{model} {width} batch {batch}, {threads} thread(s)");
            }
            // Batch 1 streams W (a GEMV over the input in place): its sums run in another order.
            var x1 = Input(n.InputSize, 1);
            var t1 = TrainingForward(n, x1);
            var p1 = Predict(n, x1);
            for (int i = 0; i < t1.Length; i++) Assert.True(MathF.Abs(t1[i] - p1[i]) <= 1e-5f * (1f + MathF.Abs(t1[i])), $"{model} {width} batch 1: {p1[i]} against {t1[i]}");
        }
    }

    [Fact]
    public void The_packed_weights_follow_every_change_and_serve_both_vector_widths()
    {
        using var net = (IDisposable)Create("Leaky", 40);
        var n = (ITrainableNetwork)net;
        var x = Input(33 * n.InputSize, 7);
        var before = Predict(n, x);
        n.Parameters[5] += 0.25f;                                // a weight of the first layer's first panel
        n.Parameters[19 * n.InputSize + 44] -= 0.5f;             // and of its last, partial one
        Assert.NotEqual(before, TrainingForward(n, x));
        foreach (var width in new[] { SimdWidth.V512, SimdWidth.V256, SimdWidth.Scalar, SimdWidth.V512 })
        {
            if (!Simd.IsSupported(width)) continue;
            n.Width = width;
            var actual = Predict(n, x);   // the first Predict at the new version packs Wᵀ (V512); V256 transposes the input; back at V512 the packed panels serve
            AssertSameBits(TrainingForward(n, x), actual, $"after the change, {width}");
        }
        n.Width = Simd.Best;
        var step = new ModelGen.Training.Sgd(0.1f);
        ModelGen.NetworkExtensions.TrainStep(n, x, new float[33 * n.OutputSize], step);   // an optimiser step changes every weight
        AssertSameBits(TrainingForward(n, x), Predict(n, x), "after a training step");
    }

    [Fact]
    public void Callers_at_once_each_read_their_own_input()
    {
        using var net = (IDisposable)Create("Squashed", 33);
        var n = (ITrainableNetwork)net;
        var inputs = Enumerable.Range(0, 8).Select(i => Input((17 + 2 * i) * n.InputSize, 100 + i)).ToArray();
        var expected = inputs.Select(x => Predict(n, x)).ToArray();
        Parallel.For(0, 64, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
            AssertSameBits(expected[i % 8], Predict(n, inputs[i % 8]), $"caller {i}"));
    }

    [Fact]
    public void An_inference_only_model_reads_in_place_and_a_model_whose_input_has_other_readers_does_not()
    {
        var r = s_models.Value.Result;
        Assert.Contains("ws.WithInput(input, this, s_forwardLayers);", r.Source("InPlace.Leaky.g.cs"));
        // The row stride, the panel stride and the reduction as constants: 20 units are one pair of panels (8 × 32 tiles,
        // the second panel partial), 40 a pair and an odd panel (16 × 16 tiles), 5 an odd panel alone.
        Assert.Contains("MG.Gemm.RowsTile8x32V512(ref x, 45, ref b, 720, 45,", r.Source("InPlace.Leaky.g.cs"));
        Assert.DoesNotContain("MG.Gemm.RowsTileV512(", r.Source("InPlace.Leaky.g.cs"));
        Assert.Contains("MG.Gemm.RowsTile8x32V512(ref x, 33, ref b, 528, 33,", r.Source("InPlace.Squashed.g.cs"));
        Assert.Contains("MG.Gemm.RowsTileV512(ref x, 33, ref b, 33,", r.Source("InPlace.Squashed.g.cs"));
        Assert.Contains("MG.Gemm.RowsTileV512(ref x, 17, ref b, 17,", r.Source("InPlace.Plain.g.cs"));
        Assert.DoesNotContain("MG.Gemm.RowsTile8x32V512(", r.Source("InPlace.Plain.g.cs"));
        Assert.Contains("ws.WithInput(input, this, s_forwardLayers);", r.Source("InPlace.InferenceOnly.g.cs"));
        // No training forward: the panel is made only for AVX2, whose 8 × 8 tile lost to the transposition.
        Assert.Contains("if (n > 1 && _width == global::ModelGen.SimdWidth.V256)   // AVX2 reads the input as a panel", r.Source("InPlace.InferenceOnly.g.cs"));
        Assert.Contains("if (training || (n > 1 && _width == global::ModelGen.SimdWidth.V256))", r.Source("InPlace.Leaky.g.cs"));
        foreach (var model in new[] { "Leaky", "InferenceOnly" })   // the in-place product at AVX-512 and scalar only
        {
            var src = r.Source($"InPlace.{model}.g.cs");
            Assert.Contains("H_ForwardInPlacePart_V512(", src);
            Assert.Contains("H_ForwardInPlacePart_Scalar(", src);
            Assert.DoesNotContain("H_ForwardInPlacePart_V256(", src);
        }
        Assert.DoesNotContain("WithInput", r.Source("InPlace.TwoReaders.g.cs"));
        Assert.DoesNotContain("WithInput", r.Source("InPlace.DropoutFirst.g.cs"));

        using var net = (IDisposable)Activator.CreateInstance(s_models.Value.Asm.GetType("InPlace.InferenceOnly")!, 40, 2)!;
        var n = (INetwork)net;
        var x = Input(37 * n.InputSize, 9);
        var y = Predict(n, x);
        // Reference: the plain sums of the declaration, in doubles.
        var p = n.Parameters;
        int o1 = 16 * 17, o2 = o1 + 16, o3 = o2 + 5 * 16;
        for (int s = 0; s < 37; s++)
        {
            var h = new double[16];
            for (int u = 0; u < 16; u++)
            {
                double z = p[o1 + u];
                for (int i = 0; i < 17; i++) z += (double)p[u * 17 + i] * x[s * 17 + i];
                h[u] = Math.Max(0, z);
            }
            for (int o = 0; o < 5; o++)
            {
                double z = p[o3 + o];
                for (int u = 0; u < 16; u++) z += (double)p[o2 + o * 16 + u] * h[u];
                Assert.True(Math.Abs(z - y[s * 5 + o]) <= 1e-4 * (1 + Math.Abs(z)), $"sample {s} output {o}: {y[s * 5 + o]} against {z}");
            }
        }
    }
}

/// <summary>The in-place product split over threads by blocks of units (pairs of panels at AVX-512, a last, odd panel
/// in the last part), with <see cref="ThreadTeam.MinWork"/> lowered so that small layers split too: the training
/// forward's bits at every part count.</summary>
[Collection(nameof(MinWorkCollection))]
public sealed class InPlacePartsTests : MinWorkLowered
{
    [Theory]
    [InlineData("Leaky")]      // 20 units: one pair, its second panel partial
    [InlineData("Squashed")]   // 40 units: a pair in part 0, the odd panel in part 1
    [InlineData("Plain")]      // 5 units: the odd panel alone
    public void Parts_of_the_in_place_product_give_the_training_forwards_bits(string model)
    {
        foreach (var width in new[] { SimdWidth.V512, SimdWidth.Scalar })
        {
            if (!Simd.IsSupported(width)) continue;
            foreach (int threads in new[] { 2, 3 })
            {
                using var net = (IDisposable)InPlaceInputTests.Create(model, 31);
                var n = (ITrainableNetwork)net;
                n.Width = width;
                n.Threads = threads;
                foreach (int batch in new[] { 2, 9, 17, 31 })   // under 32 samples: the layers split, not the batch
                {
                    var x = InPlaceInputTests.Input(batch * n.InputSize, 50 + batch);
                    InPlaceInputTests.AssertSameBits(InPlaceInputTests.TrainingForward(n, x), InPlaceInputTests.Predict(n, x), $"{model} {width} batch {batch}, {threads} threads");
                }
            }
        }
    }
}
