using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using System.Text;
using ModelGen.Kernels;
using ModelGen.Tests.Harness;
using ModelGen.Tests.Models;
using Xunit;

namespace ModelGen.Tests;

/// <summary>Vector512 and Vector256 paths against the scalar path: forward outputs and gradients.</summary>
public class SimdWidthTests
{
    private static readonly Lazy<Type[]> s_sized = new(CompileSizedNetworks);

    /// <summary>67 networks whose input, hidden and output sizes together take every value 1..67,
    /// so every row remainder, column remainder and scalar tail of the tile plans is exercised.</summary>
    private static Type[] CompileSizedNetworks()
    {
        var sb = new StringBuilder("using ModelGen;\nnamespace Sized;\n");
        for (int n = 1; n <= 67; n++)
        {
            int h = n * 29 % 67 + 1, o = n * 11 % 67 + 1;
            string act = n % 2 == 0 ? "Relu" : "LeakyRelu(0.05f)";
            sb.Append($"[Network({n})] public partial class Net{n} {{ [Dense({h}), {act}] public partial Layer A {{ get; }} [Dense({o})] public partial Layer B {{ get; }} [Mse] public partial Loss Loss {{ get; }} }}\n");
        }
        var result = GeneratorHarness.Run(sb.ToString());
        Assert.Empty(result.GeneratorDiagnostics);
        var asm = GeneratorHarness.Load(result.Output);
        return Enumerable.Range(1, 67).Select(n => asm.GetType("Sized.Net" + n)!).ToArray();
    }

    public static IEnumerable<object[]> Sizes() => Enumerable.Range(1, 67).Select(n => new object[] { n });

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Widths_agree_for_every_size(int n)
    {
        var type = s_sized.Value[n - 1];
        foreach (int batch in new[] { 1, 2, 16, 17, 45 })
            CompareWidths(() => (ITrainableNetwork)Activator.CreateInstance(type, 48, n)!, batch, labels: false);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(64)]
    [InlineData(256)]
    public void Widths_agree_on_the_sample_shapes(int batch) =>
        CompareWidths(() => new SampleMlp(256, 42), batch, labels: true);

    /// <summary>Products that run in K blocks (forward by rows of W, the input gradient by columns) against the scalar path,
    /// with every column remainder of the 64-column tiles.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(17)]
    [InlineData(64)]
    [InlineData(100)]
    public void Widths_agree_on_products_long_enough_for_k_blocks(int batch) =>
        CompareWidths(() => new KBlockedMlp(100, 3), batch, labels: false);

    /// <summary>Every layer kind at every width: the gradient-check models (which together use every registered
    /// kind, see GradientCheckTests) give the scalar path's outputs and gradients on the vector paths.</summary>
    public static IEnumerable<object[]> KindModels() => GradientCheckTests.Models.Select(m => new object[] { m });

    [Theory]
    [MemberData(nameof(KindModels))]
    public void Widths_agree_for_every_layer_kind(string model)
    {
        foreach (int batch in new[] { 1, 3, 17 })
            CompareWidths(() => GradientCheckTests.Create(model), batch, labels: GradientCheckTests.Create(model).LossKind.TakesLabels());
    }

    [Fact]
    public void This_machine_runs_the_vector_paths()
    {
        // The widths tests skip a path the machine cannot run; on the project's machines (AVX-512) none is skipped.
        Assert.True(Simd.IsSupported(SimdWidth.V256), "Vector256 is not accelerated here: the AVX2 path is untested on this machine");
        Assert.True(Simd.IsSupported(SimdWidth.V512) || Environment.GetEnvironmentVariable("DOTNET_EnableAVX512") == "0",
            "Vector512 is not accelerated here: the AVX-512 path is untested on this machine");
    }

    private static void CompareWidths(Func<ITrainableNetwork> make, int batch, bool labels)
    {
        var (refOut, refGrad) = Run(make, SimdWidth.Scalar, batch, labels);
        foreach (var width in new[] { SimdWidth.V256, SimdWidth.V512 })
        {
            if (!Simd.IsSupported(width)) continue;
            var (o, g) = Run(make, width, batch, labels);
            AssertClose(refOut, o, $"{width} output, batch {batch}");
            AssertClose(refGrad, g, $"{width} gradient, batch {batch}");
        }
    }

    private static (float[] Output, float[] Gradient) Run(Func<ITrainableNetwork> make, SimdWidth width, int batch, bool labels)
    {
        using var net = make();
        net.Width = width;
        var rng = new Rng(7);
        foreach (var t in net.Tensors.Where(t => !t.IsWeight && !t.IsBuffer))
            for (int i = 0; i < t.Length; i++) net.Parameters[t.Offset + i] = (float)(rng.NextGaussian() * 0.1);
        var x = GradientCheckTests.InputsFor(net, batch, ref rng);
        var output = new float[batch * net.OutputSize];
        net.Predict(x, output);
        net.ZeroGrad();
        net.Forward(x, training: true);
        if (net.LossKind is LossKind.Hinge or LossKind.BinaryCrossEntropy)
        {
            var (_, t) = GradientCheckTests.TargetsFor(net, batch, ref rng);
            net.Backward(t!);
        }
        else if (labels) net.Backward(GradientCheckTests.TargetsFor(net, batch, ref rng).Labels!);
        else net.Backward(Enumerable.Range(0, batch * net.OutputSize).Select(_ => rng.NextFloat()).ToArray());
        return (output, net.Gradients.ToArray());
    }

    internal static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = expected.Length == 0 ? 1 : Math.Max(1e-3, expected.Max(v => Math.Abs(v)));
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5 * scale + 1e-4 * Math.Abs(expected[i]),
                $"{what}: element {i} is {actual[i]}, scalar path gives {expected[i]}");
    }

    // ── Runtime kernels: every length 0..256 against scalar ─────────────────────────────────────────────

    /// <summary>The optimisers honour the model's width: every path against the scalar one, lengths 0..67.</summary>
    [Theory]
    [InlineData(SimdWidth.V256)]
    [InlineData(SimdWidth.V512)]
    public void Optimizers_match_scalar_at_every_width(SimdWidth width)
    {
        if (!Simd.IsSupported(width)) return;
        var rng = new Rng(12);
        foreach (var make in new Func<ModelGen.Training.Optimizer>[] { () => new ModelGen.Training.Sgd(0.1f), () => new ModelGen.Training.Sgd(0.1f, 0.9f, nesterov: true), () => new ModelGen.Training.AdamW(0.01f) })
            for (int n = 0; n <= 67; n++)
            {
                var tensors = new[] { new TensorInfo("w", new[] { n }, 0, n, true) };
                var p0 = Enumerable.Range(0, n).Select(_ => (float)rng.NextGaussian()).ToArray();
                var g = Enumerable.Range(0, n).Select(_ => (float)rng.NextGaussian()).ToArray();
                float[] ps = (float[])p0.Clone(), pv = (float[])p0.Clone(), ss = new float[2 * n], sv = new float[2 * n];
                var opt = make();
                for (int step = 1; step <= 3; step++)
                {
                    opt.Update(ps, g, ss, step, tensors, SimdWidth.Scalar);
                    opt.Update(pv, g, sv, step, tensors, width);
                }
                AssertClose(ps, pv, $"{opt.GetType().Name} n={n}");
            }
    }

    [Theory]
    [InlineData(false, SimdWidth.V256)]
    [InlineData(false, SimdWidth.V512)]
    [InlineData(true, SimdWidth.V256)]
    [InlineData(true, SimdWidth.V512)]
    public void Gelu_kernels_match_scalar_for_every_length_and_the_definition(bool tanh, SimdWidth width)
    {
        if (!Simd.IsSupported(width)) return;
        var rng = new Rng(8);
        for (int n = 0; n <= 256; n++)
        {
            var x = Enumerable.Range(0, n).Select(_ => (float)(rng.NextGaussian() * 3)).ToArray();
            var dy = Enumerable.Range(0, n).Select(_ => (float)rng.NextGaussian()).ToArray();
            float[] ys = new float[n], yv = new float[n], dxs = new float[n], dxv = new float[n];
            Gelu.Forward(tanh, x, ys, SimdWidth.Scalar);
            Gelu.Forward(tanh, x, yv, width);
            AssertClose(ys, yv, $"gelu forward n={n}");
            Gelu.Backward(tanh, dy, x, dxs, SimdWidth.Scalar);
            Gelu.Backward(tanh, dy, x, dxv, width);
            AssertClose(dxs, dxv, $"gelu backward n={n}");
            for (int i = 0; i < n; i++)   // against x·Φ(x) in double: the erf approximation is below float resolution
                Assert.True(Math.Abs(ys[i] - ReferenceNet.Gelu(x[i], tanh)) <= 4e-7 * Math.Max(1, Math.Abs(x[i])), $"gelu({x[i]}) = {ys[i]}, definition {ReferenceNet.Gelu(x[i], tanh)}");
        }
    }

    public static IEnumerable<object[]> ActivationCases() =>
        from a in new[] { Activation.Identity, Activation.Relu, Activation.LeakyRelu, Activation.Sigmoid, Activation.Tanh }
        from w in new[] { SimdWidth.V256, SimdWidth.V512 }
        select new object[] { a, w };

    [Theory]
    [MemberData(nameof(ActivationCases))]
    public void Activation_kernels_match_scalar_for_every_length(Activation f, SimdWidth width)
    {
        if (!Simd.IsSupported(width)) return;
        var rng = new Rng(3);
        for (int n = 0; n <= 256; n++)
        {
            var x = Enumerable.Range(0, n).Select(_ => (float)(rng.NextGaussian() * 4)).ToArray();
            var dy = Enumerable.Range(0, n).Select(_ => (float)rng.NextGaussian()).ToArray();
            float[] ys = new float[n], yv = new float[n], dxs = new float[n], dxv = new float[n];
            Activations.Forward(f, 0.1f, x, ys, SimdWidth.Scalar);
            Activations.Forward(f, 0.1f, x, yv, width);
            AssertClose(ys, yv, $"{f} forward n={n}");
            Activations.Backward(f, 0.1f, dy, ys, dxs, SimdWidth.Scalar);
            Activations.Backward(f, 0.1f, dy, ys, dxv, width);
            AssertClose(dxs, dxv, $"{f} backward n={n}");
        }
    }

    [Theory]
    [InlineData(SimdWidth.V256)]
    [InlineData(SimdWidth.V512)]
    public void Gemv_and_row_sums_match_scalar(SimdWidth width)
    {
        if (!Simd.IsSupported(width)) return;
        var rng = new Rng(5);
        foreach (int k in new[] { 1, 7, 8, 15, 16, 17, 33, 67, 784 })
            foreach (int rows in new[] { 1, 3, 4, 8, 9, 13, 16, 24 })
            {
                var w = Enumerable.Range(0, rows * k).Select(_ => (float)rng.NextGaussian()).ToArray();
                var x = Enumerable.Range(0, k).Select(_ => (float)rng.NextGaussian()).ToArray();
                var bias = Enumerable.Range(0, rows).Select(_ => (float)rng.NextGaussian()).ToArray();
                // Every epilogue: rows in groups of 8 end in one vector store when k is a multiple of the lanes.
                foreach (var epi in Enum.GetValues<Epilogue>())
                {
                    var start = Enumerable.Range(0, rows).Select(_ => (float)rng.NextGaussian()).ToArray();   // what Accumulate adds to
                    float[] ys = start.ToArray(), yv = start.ToArray();
                    Gemm.Scalar(ref w[0], k, 1, ref x[0], 1, ref ys[0], 1, k, rows, 1, ref bias[0], epi, 0.1f);
                    if (width == SimdWidth.V512) Gemm.GemvV512(ref w[0], k, ref x[0], ref yv[0], rows, ref bias[0], epi, 0.1f);
                    else Gemm.GemvV256(ref w[0], k, ref x[0], ref yv[0], rows, ref bias[0], epi, 0.1f);
                    for (int r = 0; r < rows; r++)
                    {
                        // Summation order differs between the paths: the bound scales with the terms' magnitudes, not
                        // with a result that may be their near-cancelling sum.
                        double terms = Math.Abs(start[r]) + Math.Abs(bias[r]);
                        for (int p = 0; p < k; p++) terms += Math.Abs((double)w[r * k + p] * x[p]);
                        Assert.True(Math.Abs(ys[r] - yv[r]) <= 1e-6 * terms, $"gemv {epi} k={k} rows={rows}: row {r} is {yv[r]}, scalar path gives {ys[r]}");
                    }
                }
            }
        for (int batch = 0; batch <= 67; batch++)
        {
            int ld = Math.Max(16, Simd.PanelWidth(batch));
            var m = Enumerable.Range(0, 3 * ld).Select(_ => (float)rng.NextGaussian()).ToArray();
            float[] ss = new float[3], sv = new float[3];
            Reductions.AddRowSums(ref m[0], 3, ld, batch, ref ss[0], SimdWidth.Scalar);
            Reductions.AddRowSums(ref m[0], 3, ld, batch, ref sv[0], width);
            AssertClose(ss, sv, $"row sums batch={batch}");
        }
        // A convolution's bias gradient split by samples: each sample's row sums (a thread's part), then added in sample
        // order — bitwise what adding the row sums sample after sample gives, at every width.
        for (int samples = 1; samples <= 5; samples++)
            foreach (int pixels in new[] { 1, 15, 16, 17, 100 })
            {
                int o = 3, ld = pixels + 5;
                var dz = Enumerable.Range(0, samples * o * ld).Select(_ => (float)rng.NextGaussian()).ToArray();
                var parts = new float[samples * o];
                float[] direct = { 0.5f, -1f, 2f }, split = { 0.5f, -1f, 2f };
                for (int b = 0; b < samples; b++)
                {
                    Reductions.AddRowSums(ref dz[b * o * ld], o, ld, pixels, ref direct[0], width);
                    Reductions.RowSums(ref dz[b * o * ld], o, ld, pixels, ref parts[b * o], width);
                }
                Reductions.AddRows(ref parts[0], samples, o, ref split[0]);
                Assert.Equal(direct, split);
            }
    }
}

public class LayoutTests
{
    [Fact]
    public void Feature_major_round_trip_for_every_shape_up_to_19_and_zeroes_the_padding()
    {
        var rng = new Rng(2);
        for (int batch = 1; batch <= 19; batch++)
            for (int features = 1; features <= 19; features++)
            {
                int ld = Simd.PanelStride(Simd.PanelWidth(batch));
                var x = Enumerable.Range(0, batch * features).Select(_ => rng.NextFloat() + 1f).ToArray();
                var panel = Enumerable.Repeat(float.NaN, features * ld).ToArray();
                ModelGen.Kernels.Layout.ToFeatureMajor(x, batch, features, ref panel[0], ld);
                for (int f = 0; f < features; f++)
                    for (int b = 0; b < ld; b++)
                        Assert.Equal(b < batch ? x[b * features + f] : 0f, panel[f * ld + b]);
                var back = new float[batch * features];
                ModelGen.Kernels.Layout.ToSampleMajor(ref panel[0], features, ld, batch, back);
                Assert.Equal(x, back);
                int stride = features + 3;   // rows padded (a dense layer's weight gradient pads rows of a multiple of 1 KB)
                var padded = Enumerable.Repeat(float.NaN, (batch - 1) * stride + features).ToArray();
                ModelGen.Kernels.Layout.ToSampleMajor(ref panel[0], features, ld, batch, padded, stride);
                for (int b = 0; b < batch; b++)
                    for (int f = 0; f < stride && b * stride + f < padded.Length; f++)
                        if (f < features) Assert.Equal(x[b * features + f], padded[b * stride + f]);
                        else Assert.True(float.IsNaN(padded[b * stride + f]), $"{batch}×{features}: wrote into the padding of row {b}");
            }
        var src = new float[4 * 16];
        Assert.Throws<ArgumentException>(() => ModelGen.Kernels.Layout.ToSampleMajor(ref src[0], 4, 16, 3, new float[13], 5));   // 3 rows of 4, 5 apart, need 14 floats
        Assert.Throws<ArgumentException>(() => ModelGen.Kernels.Layout.ToSampleMajor(ref src[0], 4, 16, 3, new float[64], 3));   // rows closer than their length
    }

    [Fact]
    public void Sequence_panels_round_trip_for_every_shape_and_zero_every_steps_padding()
    {
        var rng = new Rng(3);
        foreach (int steps in new[] { 1, 2, 5 })
            for (int batch = 1; batch <= 19; batch++)
                foreach (int features in new[] { 1, 3, 8, 9, 17 })
                {
                    int ld = Simd.PanelStride(Simd.PanelWidth(batch)), row = steps * ld;
                    var x = Enumerable.Range(0, batch * steps * features).Select(_ => rng.NextFloat() + 1f).ToArray();
                    var panel = Enumerable.Repeat(float.NaN, features * row).ToArray();
                    ModelGen.Kernels.Layout.SequencesToFeatureMajor(x, batch, steps, features, ref panel[0], ld);
                    for (int f = 0; f < features; f++)
                        for (int t = 0; t < steps; t++)
                            for (int b = 0; b < ld; b++)
                                Assert.Equal(b < batch ? x[(b * steps + t) * features + f] : 0f, panel[f * row + t * ld + b]);
                    var back = new float[x.Length];
                    ModelGen.Kernels.Layout.SequencesToSampleMajor(ref panel[0], steps, features, ld, batch, back);
                    Assert.Equal(x, back);
                }
    }

    /// <summary>Every width moves every float to its place and nothing else, for sizes around the 8×8 and 16×16 blocks and
    /// the 32-column strips (a 16-row band with an 8-row block below it, then a 4-row band; edges of 1…15), with strides wider than the
    /// matrix — and destination strides of 512 and 1024 floats, which take strips of 16 and 8 columns.</summary>
    [Theory]
    [InlineData(SimdWidth.V512)]
    [InlineData(SimdWidth.V256)]
    [InlineData(SimdWidth.Scalar)]
    public void Transpose_moves_every_float_at_every_width(SimdWidth width)
    {
        if (!Simd.IsSupported(width)) return;
        foreach (int rows in new[] { 1, 4, 7, 8, 12, 15, 16, 17, 20, 24, 33, 40, 44 })
            foreach (int cols in new[] { 1, 9, 16, 23, 32, 47, 64, 71 })
            foreach (int dstStride in new[] { rows + 5, 512, 1024 })
            {
                int srcStride = cols + 3;
                var src = Enumerable.Range(0, rows * srcStride).Select(i => (float)i).ToArray();
                var dst = Enumerable.Repeat(float.NaN, cols * dstStride).ToArray();
                ModelGen.Kernels.Layout.Transpose(ref src[0], rows, cols, srcStride, ref dst[0], dstStride, width);
                for (int c = 0; c < cols; c++)
                    for (int r = 0; r < dstStride; r++)
                        if (r < rows) Assert.Equal(src[r * srcStride + c], dst[c * dstStride + r]);
                        else Assert.True(float.IsNaN(dst[c * dstStride + r]), $"{rows}×{cols}, destination stride {dstStride}: wrote past row {rows} of column {c}");
            }
    }

    /// <summary>PackPanels puts A[r, p] at <c>q·panel·k + p·h + i</c> (panel q = r / panel, i = r mod panel, h the panel's
    /// rows) from rows contiguous along the reduction (W), from a step's rows side by side (Wᵀ) and from any strides, for
    /// row counts that leave a short last panel or none, and writes nothing past <c>rows·k</c>.</summary>
    [Theory]
    [InlineData(SimdWidth.V512)]
    [InlineData(SimdWidth.Scalar)]
    public void PackPanels_puts_each_row_of_a_step_beside_the_others_of_its_panel(SimdWidth width)
    {
        if (!Simd.IsSupported(width)) return;
        foreach (int rows in new[] { 1, 5, 12, 13, 24, 70, 280 })
            foreach (int k in new[] { 1, 7, 33 })
                foreach (var (rs, ks) in new (nint, nint)[] { (k + 2, 1), (1, rows + 3), (k * 3 + 1, 2) })
                {
                    const int panel = 12;
                    var src = Enumerable.Range(0, (int)((rows - 1) * rs + (k - 1) * ks + 1)).Select(i => (float)i).ToArray();
                    var dst = Enumerable.Repeat(float.NaN, rows * k + 5).ToArray();
                    ModelGen.Kernels.Layout.PackPanels(ref src[0], rows, k, rs, ks, panel, ref dst[0], width);
                    for (int r = 0; r < rows; r++)
                    {
                        int q = r / panel, h = Math.Min(panel, rows - q * panel);
                        for (int p = 0; p < k; p++)
                            Assert.True(src[r * rs + p * ks] == dst[q * panel * k + p * h + r % panel], $"{rows}×{k}, strides ({rs}, {ks}): A[{r}, {p}]");
                    }
                    Assert.True(dst.Skip(rows * k).All(float.IsNaN), $"{rows}×{k}: wrote past the panels");
                }
    }

    [Theory]
    [InlineData(16, 16)]
    [InlineData(32, 48)]
    [InlineData(256, 272)]
    public void Panel_strides_are_odd_multiples_of_16(int columns, int stride)
    {
        Assert.Equal(stride, Simd.PanelStride(columns));
        Assert.Equal(1, Simd.PanelStride(1));
    }
}

public class PoolingWidthTests
{
    /// <summary>The vectorised 2×2 max-pool against the scalar one, bit for bit, at widths around the vector steps
    /// (odd widths drop the last column), with NaN, ±∞ and signed zeros in the data.</summary>
    [Theory]
    [InlineData(SimdWidth.V256)]
    [InlineData(SimdWidth.V512)]
    public void Max_pool_2x2_at_every_width_is_the_scalar_one_bit_for_bit(SimdWidth width)
    {
        if (!Simd.IsSupported(width)) return;
        var rng = new Rng(9);
        float[] special = { float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0f, -0f };
        foreach (int w in new[] { 2, 5, 16, 17, 31, 32, 33, 34, 35, 48, 64, 65, 67, 100 })
            foreach (int h in new[] { 2, 3, 6 })
            {
                int c = 3, ho = h / 2, wo = w / 2, ldIn = h * w + 7, ldOut = ho * wo + 5;
                var x = new float[c * ldIn];
                for (int i = 0; i < x.Length; i++) x[i] = rng.NextInt(20) == 0 ? special[rng.NextInt(special.Length)] : (float)rng.NextGaussian();
                var scalar = new float[c * ldOut];
                var vector = new float[c * ldOut];
                ModelGen.Kernels.Pool.Max(ref x[0], c, h, w, ldIn, 2, 2, ho, wo, ldOut, ref scalar[0], SimdWidth.Scalar);
                ModelGen.Kernels.Pool.Max(ref x[0], c, h, w, ldIn, 2, 2, ho, wo, ldOut, ref vector[0], width);
                for (int i = 0; i < scalar.Length; i++)
                    Assert.True(BitConverter.SingleToInt32Bits(scalar[i]) == BitConverter.SingleToInt32Bits(vector[i]) || (float.IsNaN(scalar[i]) && float.IsNaN(vector[i])),
                        $"{width} w={w} h={h} at {i}: scalar {scalar[i]}, vector {vector[i]}");
            }
    }

    /// <summary>The vectorised 2×2 max-pool gradient against the scalar one at each width, and the scalar one against the
    /// definition, bit for bit: ties (the first maximum in row-major order takes the gradient), NaN, signed zeros, widths
    /// around the vector steps, odd widths and heights (the last column and row no window covers are cleared, the
    /// channel's padding is not touched), a gradient buffer that holds old values.</summary>
    [Theory]
    [InlineData(SimdWidth.V256)]
    [InlineData(SimdWidth.V512)]
    public void Max_pool_2x2_gradient_at_every_width_is_the_scalar_one_bit_for_bit(SimdWidth width)
    {
        if (!Simd.IsSupported(width)) return;
        var rng = new Rng(10);
        float[] special = { float.NaN, 0f, -0f, 1f };
        foreach (int w in new[] { 2, 5, 16, 17, 18, 19, 31, 32, 33, 34, 35, 48, 64, 65, 67 })
            foreach (int h in new[] { 2, 3, 6 })
            {
                int c = 3, ho = h / 2, wo = w / 2, ldIn = h * w + 7, ldOut = ho * wo + 5;
                var x = new float[c * ldIn];
                for (int i = 0; i < x.Length; i++) x[i] = rng.NextInt(4) == 0 ? special[rng.NextInt(special.Length)] : rng.NextInt(3);   // many ties
                var dy = new float[c * ldOut];
                for (int i = 0; i < dy.Length; i++) dy[i] = rng.NextInt(10) == 0 ? -0f : (float)rng.NextGaussian();
                var scalar = Enumerable.Repeat(7f, c * ldIn).ToArray();
                var vector = Enumerable.Repeat(7f, c * ldIn).ToArray();
                ModelGen.Kernels.Pool.MaxBackward(ref x[0], ref dy[0], c, h, w, ldIn, 2, 2, ho, wo, ldOut, ref scalar[0], SimdWidth.Scalar);
                ModelGen.Kernels.Pool.MaxBackward(ref x[0], ref dy[0], c, h, w, ldIn, 2, 2, ho, wo, ldOut, ref vector[0], width);
                // The definition: dx = 0 over each channel's h·w (the padding after it untouched), then dy to the first maximum.
                var reference = Enumerable.Repeat(7f, c * ldIn).ToArray();
                for (int ch = 0; ch < c; ch++)
                {
                    Array.Clear(reference, ch * ldIn, h * w);
                    for (int i = 0; i < ho; i++)
                        for (int j = 0; j < wo; j++)
                        {
                            int best = ch * ldIn + 2 * i * w + 2 * j;
                            foreach (int at in new[] { best + 1, best + w, best + w + 1 })
                                if (x[at] > x[best]) best = at;
                            reference[best] += dy[ch * ldOut + i * wo + j];
                        }
                }
                for (int i = 0; i < scalar.Length; i++)
                {
                    Assert.True(BitConverter.SingleToInt32Bits(reference[i]) == BitConverter.SingleToInt32Bits(scalar[i]),
                        $"w={w} h={h} at {i}: scalar {scalar[i]}, the definition {reference[i]}");
                    Assert.True(BitConverter.SingleToInt32Bits(scalar[i]) == BitConverter.SingleToInt32Bits(vector[i]),
                        $"w={w} h={h} at {i}: scalar {scalar[i]}, vector {vector[i]}");
                }
            }
    }

    /// <summary>The max-pool gradient with the ReLU's derivative (<c>relu: true</c>, what a convolution with ReLU runs
    /// for the pooling after it) is, bit for bit at every width, the gradient without it followed by
    /// <c>Activations.Backward(Relu)</c> over the image: maxima ≤ 0, −0, NaN and ties, odd sizes, the 2×2 kernels and the
    /// general path (overlapping 3×3 windows of stride 2, several windows sending to one position).</summary>
    [Theory]
    [InlineData(SimdWidth.Scalar)]
    [InlineData(SimdWidth.V256)]
    [InlineData(SimdWidth.V512)]
    public void Max_pool_gradient_with_the_relu_is_the_pooling_then_the_relu_bit_for_bit(SimdWidth width)
    {
        if (!Simd.IsSupported(width)) return;
        var rng = new Rng(12);
        float[] special = { float.NaN, 0f, -0f, -1f, 1f };
        foreach (var (k, st) in new[] { (2, 2), (3, 2), (2, 1) })
            foreach (int w in new[] { 3, 16, 17, 33, 35, 64 })
                foreach (int h in new[] { 3, 4, 7 })
                {
                    int c = 3, ho = (h - k) / st + 1, wo = (w - k) / st + 1, ldIn = h * w + 5, ldOut = ho * wo + 3;
                    var x = new float[c * ldIn];
                    for (int i = 0; i < x.Length; i++) x[i] = rng.NextInt(3) == 0 ? special[rng.NextInt(special.Length)] : (float)rng.NextGaussian();
                    var dy = new float[c * ldOut];
                    for (int i = 0; i < dy.Length; i++) dy[i] = rng.NextInt(10) == 0 ? -0f : (float)rng.NextGaussian();
                    var fused = Enumerable.Repeat(7f, c * ldIn).ToArray();
                    var apart = Enumerable.Repeat(7f, c * ldIn).ToArray();
                    ModelGen.Kernels.Pool.MaxBackward(ref x[0], ref dy[0], c, h, w, ldIn, k, st, ho, wo, ldOut, ref fused[0], width, relu: true);
                    ModelGen.Kernels.Pool.MaxBackward(ref x[0], ref dy[0], c, h, w, ldIn, k, st, ho, wo, ldOut, ref apart[0], width);
                    for (int ch = 0; ch < c; ch++)
                    {
                        var image = apart.AsSpan(ch * ldIn, h * w);
                        ModelGen.Kernels.Activations.Backward(ModelGen.Kernels.Activation.Relu, 0f, image, x.AsSpan(ch * ldIn, h * w), image, width);
                    }
                    for (int i = 0; i < fused.Length; i++)
                        Assert.True(BitConverter.SingleToInt32Bits(apart[i]) == BitConverter.SingleToInt32Bits(fused[i]),
                            $"{k}×{k}/{st} w={w} h={h} at {i}: pooling then ReLU {apart[i]}, with the ReLU {fused[i]} (x {x[i]})");
                }
    }
}
