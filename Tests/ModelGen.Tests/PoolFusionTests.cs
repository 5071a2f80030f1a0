using System;
using System.Linq;
using ModelGen.Kernels;
using ModelGen.Tests.Models;
using Xunit;

namespace ModelGen.Tests;

/// <summary>
/// A pooling that alone reads a convolution is computed, in inference, by that convolution: a 2×2 max- or average pool
/// after a Winograd convolution by its output transform (each F(2×2, 3×3) output tile is one pooling window), any window
/// after a direct convolution from each sample's output while it is in the cache. The kernel against the output
/// transform followed by <c>Pool.Max</c> or <c>Pool.Average</c>, the models with <c>FusePooling</c> on and off, and where
/// the generator fuses and where it does not.
/// </summary>
[Collection(nameof(MinWorkCollection))]
public sealed class PoolFusionTests : MinWorkLowered
{

    /// <summary><c>Winograd.OutputPool</c> gives bit for bit what <c>Winograd.Output</c> then <c>Pool.Max</c> or <c>Pool.Average</c> give, at
    /// every width and epilogue, for even and odd images, rows of tiles that fill whole vectors and rows that do not, the
    /// tile rows in one block or in blocks of two (a block's products start at its first row), with NaN, −0 and ties
    /// among the products.</summary>
    [Theory]
    [InlineData(32, 10)]   // 16 tiles a row: in place at 512 bits
    [InlineData(16, 5)]    // 8 tiles, an odd height: its last tile row is in no window
    [InlineData(10, 4)]    // 5 tiles: through the scratch row
    [InlineData(9, 7)]     // odd both ways
    [InlineData(3, 2)]     // one window
    [InlineData(64, 6)]    // 32 tiles: two vectors a row
    public void Fused_output_transform_is_the_output_transform_then_the_pooling(int wo, int ho)
    {
        const int o = 3;
        int th = Winograd.Tiles(ho), tw = Winograd.Tiles(wo), ph = ho / 2, pw = wo / 2;
        var rng = new Rng((ulong)(wo * 31 + ho));
        var bias = new[] { 0.25f, -0.5f, 0f };
        foreach (var width in new[] { SimdWidth.Scalar, SimdWidth.V256, SimdWidth.V512 })
        {
            if (!Simd.IsSupported(width)) continue;
            foreach (int tb in new[] { th, 2 })
            {
                int ld = Winograd.Ld(tb, tw);
                var scratch = new float[Winograd.ScratchFloats(tb, tw)];
                foreach (var epi in new[] { Epilogue.Store, Epilogue.Bias, Epilogue.BiasRelu, Epilogue.BiasLeakyRelu })
                foreach (bool average in new[] { false, true })
                {
                    var y = new float[o * ho * wo];
                    var fused = Enumerable.Repeat(float.NaN, o * ph * pw + 16).ToArray();   // what is not written stays NaN: the tail must be
                    for (int t0 = 0; t0 < th; t0 += tb)
                    {
                        int t1 = Math.Min(t0 + tb, th);
                        var m = new float[16 * Winograd.Plane(o, ld)];
                        for (int i = 0; i < m.Length; i++)
                        {
                            int k = rng.NextInt(40);
                            m[i] = k == 0 ? float.NaN : k == 1 ? -0f : k < 5 ? 1f : (float)rng.NextGaussian();   // NaN, −0, ties
                        }
                        Winograd.Output(ref m[0], o, ld, tw, t0, t1, ho, wo, ref y[0], ho * wo, ref bias[0], epi, 0.1f, ref scratch[0], width);
                        Winograd.OutputPool(ref m[0], o, ld, tw, t0, t1, ho, wo, ref fused[0], ph * pw, ref bias[0], epi, 0.1f, average, ref scratch[0], width);
                    }
                    var pooled = new float[o * ph * pw];
                    if (average) Pool.Average(ref y[0], o, ho, wo, ho * wo, 2, 2, ph, pw, ph * pw, ref pooled[0]);
                    else Pool.Max(ref y[0], o, ho, wo, ho * wo, 2, 2, ph, pw, ph * pw, ref pooled[0], width);
                    for (int i = 0; i < pooled.Length; i++)
                        Assert.True(BitConverter.SingleToInt32Bits(pooled[i]) == BitConverter.SingleToInt32Bits(fused[i]),
                            $"{width} {epi} average {average} blocks of {tb}: pooled pixel {i} is {fused[i]}, Output + Pool give {pooled[i]}");
                    Assert.True(fused.Skip(pooled.Length).All(float.IsNaN), $"{width} {epi} average {average}: written past the pooled image");
                }
            }
        }
        var acc = new float[o * ph * pw + 16];
        var mm = new float[16 * Winograd.Plane(o, Winograd.Ld(th, tw))];
        var s = new float[Winograd.ScratchFloats(th, tw)];
        Assert.Throws<ArgumentException>(() => Winograd.OutputPool(ref mm[0], o, Winograd.Ld(th, tw), tw, 0, th, ho, wo, ref acc[0], ph * pw, ref bias[0], Epilogue.Accumulate, 0f, false, ref s[0], SimdWidth.Scalar));
    }

    private static float[] Random(int n, int seed)
    {
        var rng = new Rng((ulong)seed);
        return Enumerable.Range(0, n).Select(_ => (float)rng.NextGaussian()).ToArray();
    }

    /// <summary>The 2×2 max-pool, stride <paramref name="s"/>, of <paramref name="planes"/> images [h, w] (sample-major,
    /// as <c>GetActivation</c> gives them), the maxima taken as <c>Pool.Max</c>'s scalar code takes them.</summary>
    private static float[] MaxPool2x2(float[] x, int planes, int h, int w, int s, int ho, int wo)
    {
        var y = new float[planes * ho * wo];
        for (int p = 0; p < planes; p++)
            for (int i = 0; i < ho; i++)
                for (int j = 0; j < wo; j++)
                {
                    int at = (p * h + s * i) * w + s * j;
                    y[(p * ho + i) * wo + j] = MathF.Max(MathF.Max(x[at], x[at + 1]), MathF.Max(x[at + w], x[at + w + 1]));
                }
        return y;
    }

    private static float[] Predict(INetwork n, float[] x)
    {
        var y = new float[x.Length / n.InputSize * n.OutputSize];
        n.Predict(x, y);
        return y;
    }

    /// <summary>Predict with the pools fused and apart gives the same bits, at every width, batch and thread count, in
    /// a trainable model and in an inference-only one (whose activation memory is reused), and after training steps:
    /// Winograd convolutions (the output transform pools each tile) and direct ones (each sample's image pooled from the cache).</summary>
    [Fact]
    public void Fused_pooling_predicts_the_same_bits_as_pooling_apart() =>
        SameBitsFusedAndApart(() => new WinogradPoolNet(40, 7), () => new WinogradPoolInference(40, 7), (n, on) => n.FusePooling = on, (n, on) => n.FusePooling = on);

    [Fact]
    public void Pooling_fused_into_direct_convolutions_predicts_the_same_bits_as_pooling_apart() =>
        SameBitsFusedAndApart(() => new DirectPoolNet(40, 7), () => new DirectPoolInference(40, 7), (n, on) => n.FusePooling = on, (n, on) => n.FusePooling = on);

    /// <summary>The same for poolings after BatchNorms folded into the convolutions (Winograd and direct): the fold
    /// on, the pooling fused and apart. The model is trained first so that the running statistics are not the identity.</summary>
    [Fact]
    public void Pooling_after_a_folded_batch_norm_predicts_the_same_bits_fused_and_apart() =>
        SameBitsFusedAndApart(() => new BnPoolNet(40, 7), () => new BnPoolInference(40, 7), (n, on) => n.FusePooling = on, (n, on) => n.FusePooling = on);

    /// <summary>With the fold off the convolution writes its own output and the BatchNorm and the pooling run apart,
    /// whatever <c>FusePooling</c> says (a pooling that skipped its pass would leave the last fused call's output); in
    /// inference with both on, the BatchNorm's output is refused naming the pooling and the switch, the convolution's
    /// naming the fold's.</summary>
    [Fact]
    public void With_the_fold_off_a_pooling_after_a_batch_norm_runs_apart()
    {
        using var net = new BnPoolNet(8, 1);
        var x = Random(4 * BnPoolNet.InputSize, 8);
        var other = Random(4 * BnPoolNet.InputSize, 9);
        var sgd = new Training.Sgd(0.05f, momentum: 0.9f);
        for (int i = 0; i < 3; i++) net.TrainStep(x, new[] { 0, 1, 2, 1 }, sgd);   // running statistics away from the identity
        net.FoldBatchNorm = false; net.FusePooling = false;
        var want = Predict(net, x);
        net.FoldBatchNorm = true; net.FusePooling = true;
        Assert.NotEqual(want, Predict(net, other));   // the pools' outputs now hold the other batch
        net.FoldBatchNorm = false;
        Assert.Equal(want, Predict(net, x));

        net.FoldBatchNorm = true;
        net.Forward(x, training: false);
        var b1 = new float[4 * 8 * 12 * 18];
        var e = Assert.Throws<InvalidOperationException>(() => net.GetActivation("B1", b1));
        Assert.Contains("P1 is fused in after it", e.Message);
        Assert.Contains("FusePooling = false", e.Message);
        e = Assert.Throws<InvalidOperationException>(() => net.GetActivation("C1", b1));
        Assert.Contains("FoldBatchNorm = false", e.Message);
        var p1 = new float[4 * 8 * 6 * 9];
        net.GetActivation("P1", p1);
        net.GetActivation("B3", new float[4 * 4 * 2 * 4]);   // folded, nothing fused after it: written by C3
        net.FusePooling = false;
        net.Forward(x, training: false);
        net.GetActivation("B1", b1);   // written by C1 with B1 folded in
        Assert.Equal(MaxPool2x2(b1, 4 * 8, 12, 18, 2, 6, 9), p1);
    }

    private static void SameBitsFusedAndApart<TNet, TInf>(Func<TNet> newNet, Func<TInf> newInf, Action<TNet, bool> fuseNet, Action<TInf, bool> fuseInf)
        where TNet : ITrainableNetwork, IDisposable where TInf : INetwork, IDisposable
    {
        foreach (var width in new[] { SimdWidth.Scalar, SimdWidth.V256, SimdWidth.V512 })
        {
            if (!Simd.IsSupported(width)) continue;
            foreach (int batch in new[] { 1, 3, 37 })
            {
                using var net = newNet();
                using var inf = newInf();
                net.Width = width; inf.Width = width;
                var x = Random(batch * net.InputSize, batch);
                net.Parameters.CopyTo(inf.Parameters);
                fuseNet(net, false);
                var apart = Predict(net, x);
                fuseNet(net, true);
                Assert.Equal(apart, Predict(net, x));
                Assert.Equal(apart, Predict(inf, x));
                fuseInf(inf, false);
                Assert.Equal(apart, Predict(inf, x));
                fuseInf(inf, true);
                foreach (int threads in new[] { 2, 3 })
                {
                    net.Threads = threads; inf.Threads = threads;
                    Assert.Equal(apart, Predict(net, x));
                    Assert.Equal(apart, Predict(inf, x));
                }
                net.Threads = 1;
                var labels = Enumerable.Range(0, batch).Select(i => i % 3).ToArray();
                var sgd = new Training.Sgd(0.05f, momentum: 0.9f);
                for (int i = 0; i < 3; i++) net.TrainStep(x, labels, sgd);   // trains through the pools apart
                fuseNet(net, false);
                apart = Predict(net, x);
                fuseNet(net, true);
                Assert.Equal(apart, Predict(net, x));
            }
        }
    }

    /// <summary>Threads predicting at once on one model with fused pools (each in a workspace of its own) get the
    /// single-caller results bit for bit.</summary>
    [Fact]
    public void Concurrent_callers_of_a_fused_model_get_the_single_caller_bits()
    {
        using var net = new WinogradPoolNet(8, 3);
        ServingTests.CheckConcurrentPredict(net, threads: 4, callsPerThread: 50);
        using var inf = new WinogradPoolInference(8, 3);
        ServingTests.CheckConcurrentPredict(inf, threads: 4, callsPerThread: 50);
        using var direct = new DirectPoolNet(8, 3);
        ServingTests.CheckConcurrentPredict(direct, threads: 4, callsPerThread: 50);
        using var directInf = new DirectPoolInference(8, 3);
        ServingTests.CheckConcurrentPredict(directInf, threads: 4, callsPerThread: 50);
    }

    /// <summary>In inference a fused convolution's own output is not computed: asking for it names the pool and the
    /// switch; with the switch off, or after a training forward, it is there, and the pool's output is there either way.</summary>
    [Fact]
    public void A_fused_convolutions_activation_is_refused_in_inference_and_named()
    {
        using var net = new WinogradPoolNet(4, 1);
        var x = Random(2 * WinogradPoolNet.InputSize, 5);
        var c1 = new float[2 * 5 * 10 * 32];
        var p1 = new float[2 * 5 * 5 * 16];
        net.Forward(x, training: false);
        var e = Assert.Throws<InvalidOperationException>(() => net.GetActivation("C1", c1));
        Assert.Contains("P1 is fused into it", e.Message);
        Assert.Contains("FusePooling = false", e.Message);
        net.GetActivation("P1", p1);
        var fusedP1 = p1.ToArray();
        net.GetActivation("C4", new float[2 * 2 * 2 * 5]);   // Tanh: not fused, kept
        net.FusePooling = false;
        net.Forward(x, training: false);
        net.GetActivation("C1", c1);
        net.GetActivation("P1", p1);
        Assert.Equal(fusedP1, p1);
        Assert.Equal(MaxPool2x2(c1, 2 * 5, 10, 32, 2, 5, 16), p1);
        net.FusePooling = true;
        net.Forward(x, training: true);
        net.GetActivation("C1", c1);   // a training forward stores every layer's output
    }

    /// <summary>The same for a direct convolution through its wide output (C3: a 2×2, stride-1 window, no activation):
    /// refused in inference while fused, and its pool's output, computed from the cache, is the pooling of the output
    /// computed apart.</summary>
    [Fact]
    public void A_fused_direct_convolutions_activation_is_refused_and_its_pool_is_the_pooling_of_it()
    {
        using var net = new DirectPoolNet(4, 1);
        var x = Random(2 * DirectPoolNet.InputSize, 6);
        var c3 = new float[2 * 6 * 5 * 7];
        var p3 = new float[2 * 6 * 4 * 6];
        net.Forward(x, training: false);
        var e = Assert.Throws<InvalidOperationException>(() => net.GetActivation("C3", c3));
        Assert.Contains("P3 is fused into it", e.Message);
        net.GetActivation("P3", p3);
        var fusedP3 = p3.ToArray();
        net.GetActivation("C5", new float[2 * 2 * 1 * 2]);   // Tanh: not fused, kept
        net.FusePooling = false;
        net.Forward(x, training: false);
        net.GetActivation("C3", c3);
        Assert.Equal(MaxPool2x2(c3, 2 * 6, 5, 7, 1, 4, 6), fusedP3);
    }

    /// <summary>Which poolings the generator fuses into the convolution they alone read, when its activation goes into
    /// the store — or a BatchNorm folded into one: after a Winograd convolution a 2×2, stride-2 window (its output
    /// transform pools each tile); after a direct one any window, from the wide output, or from a staging image (im2col,
    /// 1×1) — and not after a Tanh or a Sigmoid, a BatchNorm that does not fold (Tanh; a convolution with an activation
    /// of its own), a Winograd convolution with another window, or an output read twice. The marker is the call that
    /// pools (null: not fused).</summary>
    [Theory]
    [InlineData("[Conv2D(16, 3, padding: 1), Relu] public partial Layer C { get; } [MaxPool2D(2)] public partial Layer P { get; }", "MG.Winograd.OutputPool(")]
    [InlineData("[Conv2D(16, 3, padding: 1), LeakyRelu(0.2f)] public partial Layer C { get; } [MaxPool2D(2)] public partial Layer P { get; }", "MG.Winograd.OutputPool(")]
    [InlineData("[Conv2D(16, 3)] public partial Layer C { get; } [MaxPool2D(2, 2)] public partial Layer P { get; }", "MG.Winograd.OutputPool(")]
    [InlineData("[Conv2D(16, 3, padding: 1), Relu] public partial Layer C { get; } [AvgPool2D(2)] public partial Layer P { get; }", "MG.Winograd.OutputPool(")]
    [InlineData("[Conv2D(16, 3, padding: 1, Algorithm = ConvAlgorithm.Direct), Relu] public partial Layer C { get; } [MaxPool2D(2)] public partial Layer P { get; }", "MG.Pool.Max(ref wide, 16, 8, 10, ")]
    [InlineData("[Conv2D(16, 3, padding: 1, Algorithm = ConvAlgorithm.Direct), Relu] public partial Layer C { get; } [MaxPool2D(3, 2)] public partial Layer P { get; }", "MG.Pool.Max(ref wide, 16, 8, 10, ")]
    [InlineData("[Conv2D(16, 5, padding: 2)] public partial Layer C { get; } [AvgPool2D(2)] public partial Layer P { get; }", "MG.Pool.Average(ref wide, 16, 8, 12, ")]
    [InlineData("[Conv2D(16, 3, stride: 2, padding: 1), Relu] public partial Layer C { get; } [MaxPool2D(2)] public partial Layer P { get; }", "MG.Pool.Max(ref y, 16, 4, 4, ")]
    [InlineData("[Conv2D(16, 1), Relu] public partial Layer C { get; } [AvgPool2D(2)] public partial Layer P { get; }", "MG.Pool.Average(ref y, 16, 8, 8, ")]
    [InlineData("[Conv2D(16, 3, padding: 1), Tanh] public partial Layer C { get; } [MaxPool2D(2)] public partial Layer P { get; }", null)]
    [InlineData("[Conv2D(16, 5, padding: 2), Sigmoid] public partial Layer C { get; } [MaxPool2D(2)] public partial Layer P { get; }", null)]
    [InlineData("[Conv2D(16, 3, padding: 1)] public partial Layer C { get; } [BatchNorm2D, Relu] public partial Layer B { get; } [MaxPool2D(2)] public partial Layer P { get; }", "MG.Winograd.OutputPool(")]
    [InlineData("[Conv2D(16, 3, padding: 1, Algorithm = ConvAlgorithm.Direct)] public partial Layer C { get; } [BatchNorm2D, Relu] public partial Layer B { get; } [MaxPool2D(3, 2)] public partial Layer P { get; }", "MG.Pool.Max(ref wide, 16, 8, 10, ")]
    [InlineData("[Conv2D(16, 3, stride: 2, padding: 1)] public partial Layer C { get; } [BatchNorm2D] public partial Layer B { get; } [AvgPool2D(2)] public partial Layer P { get; }", "MG.Pool.Average(ref y, 16, 4, 4, ")]
    [InlineData("[Conv2D(16, 3, padding: 1)] public partial Layer C { get; } [BatchNorm2D, Tanh] public partial Layer B { get; } [MaxPool2D(2)] public partial Layer P { get; }", null)]
    [InlineData("[Conv2D(16, 3, padding: 1), Relu] public partial Layer C { get; } [BatchNorm2D] public partial Layer B { get; } [MaxPool2D(2)] public partial Layer P { get; }", null)]
    [InlineData("[Conv2D(16, 3, padding: 1), Relu] public partial Layer C { get; } [AvgPool2D(3, 2)] public partial Layer P { get; }", null)]
    [InlineData("[Conv2D(16, 3, padding: 1), Relu] public partial Layer C { get; } [MaxPool2D(3, 2)] public partial Layer P { get; }", null)]
    [InlineData("[Conv2D(16, 3, padding: 1), Relu] public partial Layer C { get; } [MaxPool2D(2, 1)] public partial Layer P { get; }", null)]
    [InlineData("[Conv2D(16, 3, padding: 1), Relu] public partial Layer C { get; } [MaxPool2D(2)] public partial Layer P { get; } "
        + "[MaxPool2D(2, Input = nameof(C))] public partial Layer Q { get; } [Add(nameof(P))] public partial Layer S { get; }", null)]
    [InlineData("[Conv2D(16, 5, padding: 2), Relu] public partial Layer C { get; } [MaxPool2D(2)] public partial Layer P { get; } "
        + "[MaxPool2D(2, Input = nameof(C))] public partial Layer Q { get; } [Add(nameof(P))] public partial Layer S { get; }", null)]
    public void Which_poolings_fuse_into_the_convolution_before_them(string layers, string? marker)
    {
        foreach (string network in new[] { "[Network(16, 8, 8)]", "[Network(16, 8, 8, InferenceOnly = true)]" })
        {
            string loss = network.Contains("InferenceOnly") ? "" : "[SoftmaxCrossEntropy] public partial Loss L { get; } ";
            var r = Harness.GeneratorHarness.Run("using ModelGen;\n" + network + "\npublic partial class N { " + layers
                + " [Flatten] public partial Layer F { get; } [Dense(2)] public partial Layer D { get; } " + loss + "}");
            Assert.Empty(r.GeneratorDiagnostics.Where(d => d.Severity > Microsoft.CodeAnalysis.DiagnosticSeverity.Info));   // a 3×3 window leaves a row: MG0018, information
            Assert.Empty(r.CompileDiagnostics);
            string source = r.Source("N.g.cs");
            Assert.Equal(marker is not null, source.Contains("public bool FusePooling", StringComparison.Ordinal));
            if (marker is not null) Assert.Contains(marker, source, StringComparison.Ordinal);
            Assert.Equal(marker is not null && marker.StartsWith("MG.Winograd", StringComparison.Ordinal), source.Contains("MG.Winograd.OutputPool(", StringComparison.Ordinal));
        }
    }
}
