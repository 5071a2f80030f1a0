using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using ModelGen.Generator.Layers;
using ModelGen.Kernels;
using ModelGen.Tests.Models;
using ModelGen.Training;
using Xunit;

namespace ModelGen.Tests;

/// <summary>Winograd F(2×2, 3×3): the runtime's transforms against a direct convolution in double, and the generated
/// Winograd layers against the same network computed directly.</summary>
public class WinogradTests
{
    public static IEnumerable<object[]> Shapes()
    {
        // c, o, h, w, ph, pw: odd and even sizes, a last tile half used, rows of 1…20 tiles (a vector of tiles spanning
        // tile rows, or one tile row of several vectors), no padding, padding 1 and 2, unequal paddings
        yield return new object[] { 1, 1, 3, 3, 0, 0 };
        yield return new object[] { 3, 5, 7, 9, 1, 1 };
        yield return new object[] { 8, 8, 16, 16, 1, 1 };
        yield return new object[] { 5, 4, 6, 40, 1, 1 };
        yield return new object[] { 4, 6, 9, 5, 2, 2 };
        yield return new object[] { 2, 3, 11, 34, 0, 1 };
        yield return new object[] { 6, 2, 4, 17, 2, 0 };
        yield return new object[] { 3, 21, 5, 6, 1, 1 };   // filters 8 + 8 + 5: the weight gradient's transform back in vectors of 8 and one by one
    }

    /// <summary>Filters, Input, 16 products and Output compose to the convolution, at every width, with the tile rows
    /// done in one block or in blocks of one, two and three rows; the same transforms read as the input gradient reads
    /// them (flip: plane <c>Rotated(ξ)</c>, transposed) give the convolution with the weights rotated by 180° and the
    /// channels swapped.</summary>
    [Theory]
    [MemberData(nameof(Shapes))]
    public void Transforms_compose_to_the_convolution(int c, int o, int h, int w, int ph, int pw)
    {
        int ho = h + 2 * ph - 2, wo = w + 2 * pw - 2, th = Winograd.Tiles(ho), tw = Winograd.Tiles(wo);
        var rng = new Rng(3);
        var x = Enumerable.Range(0, c * h * w).Select(_ => (float)rng.NextGaussian()).ToArray();
        var wt = Enumerable.Range(0, o * c * 9).Select(_ => (float)rng.NextGaussian()).ToArray();
        var bias = Enumerable.Range(0, o).Select(_ => (float)rng.NextGaussian()).ToArray();
        foreach (bool flip in new[] { false, true })
        {
            // flip: the filters of the transposed convolution, [c][o] rotated, so the product maps o channels to c
            int ci = flip ? o : c, co = flip ? c : o;
            var xin = flip ? Enumerable.Range(0, ci * h * w).Select(_ => (float)rng.NextGaussian()).ToArray() : x;
            var expected = new double[co * ho * wo];
            for (int oo = 0; oo < co; oo++)
                for (int i = 0; i < ho; i++)
                    for (int j = 0; j < wo; j++)
                    {
                        double s = bias[oo % o];
                        for (int cc = 0; cc < ci; cc++)
                            for (int u = 0; u < 3; u++)
                                for (int v = 0; v < 3; v++)
                                {
                                    int ih = i + u - ph, iw = j + v - pw;
                                    if ((uint)ih >= (uint)h || (uint)iw >= (uint)w) continue;
                                    double g = flip ? wt[((cc * c + oo) * 3 + 2 - u) * 3 + 2 - v] : wt[((oo * c + cc) * 3 + u) * 3 + v];
                                    s += g * xin[(cc * h + ih) * w + iw];
                                }
                        expected[(oo * ho + i) * wo + j] = s;
                    }
            double scale = expected.Max(Math.Abs);
            var u16 = new float[16 * o * c];   // the forward's transforms, [16][o, c]; flip reads them rotated and transposed
            Winograd.Filters(ref wt[0], o, c, ref u16[0]);
            var bo = Enumerable.Range(0, co).Select(k => bias[k % o]).ToArray();
            foreach (var width in new[] { SimdWidth.Scalar, SimdWidth.V256, SimdWidth.V512 })
            {
                if (!Simd.IsSupported(width)) continue;
                foreach (int tb in new[] { th, 1, 2, 3 }.Where(b => b <= th).Distinct())
                {
                    int ld = Winograd.Ld(tb, tw), cols = Winograd.Columns(tb, tw);
                    var v = new float[16 * Winograd.Plane(ci, ld)];
                    var m = new float[16 * Winograd.Plane(co, ld)];
                    var scratch = new float[Winograd.ScratchFloats(tb, tw)];
                    var y = Enumerable.Repeat(float.NaN, co * ho * wo + 1).ToArray();   // one float past the image: never written
                    for (int t0 = 0; t0 < th; t0 += tb)
                    {
                        int t1 = Math.Min(th, t0 + tb);
                        Winograd.Input(ref xin[0], ci, h, w, h * w, ph, pw, tw, t0, t1, ref v[0], ld, Winograd.Plane(ci, ld), ref scratch[0], width);
                        for (int xi = 0; xi < 16; xi++)
                            for (int r = 0; r < co; r++)
                                for (int t = 0; t < cols; t++)
                                {
                                    float s = 0f;
                                    for (int k = 0; k < ci; k++)
                                        s += (flip ? u16[Winograd.Rotated(xi) * co * ci + k * co + r] : u16[xi * co * ci + r * ci + k]) * v[xi * Winograd.Plane(ci, ld) + k * ld + t];
                                    m[xi * Winograd.Plane(co, ld) + r * ld + t] = s;
                                }
                        Winograd.Output(ref m[0], co, ld, tw, t0, t1, ho, wo, ref y[0], ho * wo, ref bo[0], Epilogue.Bias, 0f, ref scratch[0], width);
                    }
                    Assert.True(float.IsNaN(y[^1]), "the output transform wrote past the image");
                    for (int k = 0; k < expected.Length; k++)
                        Assert.True(Math.Abs(y[k] - expected[k]) <= 1e-5 * scale,
                            $"{width}, blocks of {tb} tile rows, flip {flip}: output {k} (channel {k / (ho * wo)}, pixel {k % (ho * wo) / wo},{k % wo}) is {y[k]}, expected {expected[k]}");
                }
            }
        }
    }

    /// <summary>The weight gradient by the transposed algorithm — Input (the forward's V, here a channel range written
    /// into its rows of the whole layer's planes, as a thread's part does), OutputGradients (Z from dzᵀ), the 16 products
    /// summed over the tiles of two samples in two groups, AddWeightGradients — equals
    /// <c>dW[o,c,u,v] = Σ_(b,i,j) dz[b,o,i,j]·x[b,c,i+u−ph,j+v−pw]</c> at every width (odd sizes: the last tiles' dz
    /// blocks are half outside the image), added onto what dW held.</summary>
    [Theory]
    [MemberData(nameof(Shapes))]
    public void Weight_gradient_is_the_correlation_of_input_and_dz(int c, int o, int h, int w, int ph, int pw)
    {
        int ho = h + 2 * ph - 2, wo = w + 2 * pw - 2, th = Winograd.Tiles(ho), tw = Winograd.Tiles(wo), t = th * tw;
        var rng = new Rng(5);
        var x = Enumerable.Range(0, 2 * c * h * w).Select(_ => (float)rng.NextGaussian()).ToArray();
        var dz = Enumerable.Range(0, 2 * o * ho * wo).Select(_ => (float)rng.NextGaussian()).ToArray();
        var dw0 = Enumerable.Range(0, o * c * 9).Select(_ => (float)rng.NextGaussian()).ToArray();
        var expected = new double[o * c * 9];
        for (int oo = 0; oo < o; oo++)
            for (int cc = 0; cc < c; cc++)
                for (int u = 0; u < 3; u++)
                    for (int v = 0; v < 3; v++)
                    {
                        double s = 0;
                        for (int b = 0; b < 2; b++)
                            for (int i = 0; i < ho; i++)
                                for (int j = 0; j < wo; j++)
                                {
                                    int ih = i + u - ph, iw = j + v - pw;
                                    if ((uint)ih >= (uint)h || (uint)iw >= (uint)w) continue;
                                    s += (double)dz[((b * o + oo) * ho + i) * wo + j] * x[((b * c + cc) * h + ih) * w + iw];
                                }
                        expected[((oo * c + cc) * 3 + u) * 3 + v] = dw0[((oo * c + cc) * 3 + u) * 3 + v] + s;
                    }
        double scale = expected.Max(Math.Abs);
        int ld = Winograd.Ld(th, tw), vPlane = Winograd.Plane(c, ld), zPlane = t * o + 16, mPlane = c * o + 16, group = 16 * mPlane;
        foreach (var width in new[] { SimdWidth.Scalar, SimdWidth.V256, SimdWidth.V512 })
        {
            if (!Simd.IsSupported(width)) continue;
            var m = new float[2 * group];
            for (int b = 0; b < 2; b++)   // sample b into group b
            {
                var v = new float[16 * vPlane];
                var scratch = new float[Winograd.ScratchFloats(th, tw)];
                int half = c / 2;   // two channel ranges, as two parts would transform them
                Winograd.Input(ref x[b * c * h * w], half, h, w, h * w, ph, pw, tw, 0, th, ref v[0], ld, vPlane, ref scratch[0], width);
                if (half < c) Winograd.Input(ref x[(b * c + half) * h * w], c - half, h, w, h * w, ph, pw, tw, 0, th, ref v[half * ld], ld, vPlane, ref scratch[0], width);
                var dzT = new float[ho * wo * o];
                for (int oo = 0; oo < o; oo++)
                    for (int p = 0; p < ho * wo; p++) dzT[p * o + oo] = dz[(b * o + oo) * ho * wo + p];
                var z = new float[16 * zPlane];
                Winograd.OutputGradients(ref dzT[0], o, ho, wo, ref z[0], zPlane, width);
                for (int xi = 0; xi < 16; xi++)
                    for (int cc = 0; cc < c; cc++)
                        for (int oo = 0; oo < o; oo++)
                        {
                            float s = 0f;
                            for (int k = 0; k < t; k++) s += v[xi * vPlane + cc * ld + k] * z[xi * zPlane + k * o + oo];
                            m[b * group + xi * mPlane + cc * o + oo] = s;
                        }
            }
            var dw = (float[])dw0.Clone();
            Winograd.AddWeightGradients(ref m[0], 2, group, c, o, mPlane, ref dw[0]);
            for (int k = 0; k < expected.Length; k++)
                Assert.True(Math.Abs(dw[k] - expected[k]) <= 2e-5 * scale,
                    $"{width}: dW[{k / (c * 9)}, {k / 9 % c}, {k / 3 % 3}, {k % 3}] is {dw[k]}, expected {expected[k]}");
        }
    }

    /// <summary>AddWeightGradients adds the groups' M in order, then Gᵀ·M·G written out filter by filter onto dW, bit for
    /// bit — eight filters at a time in vectors and the rest one by one give the same numbers.</summary>
    [Theory]
    [InlineData(3, 21, 2)]
    [InlineData(2, 8, 1)]
    [InlineData(1, 7, 3)]
    public void Weight_gradients_transform_back_bit_for_bit(int c, int o, int groups)
    {
        var rng = new Rng(13);
        int plane = c * o + 5, groupStride = 16 * plane + 3;
        var m = Enumerable.Range(0, groups * groupStride).Select(_ => (float)rng.NextGaussian()).ToArray();
        var dw = Enumerable.Range(0, o * c * 9).Select(_ => (float)rng.NextGaussian()).ToArray();
        var sum = (float[])m.Clone();   // the reference: groups added in order into group 0's planes
        for (int g = 1; g < groups; g++)
            for (int xi = 0; xi < 16; xi++)
                for (int k = 0; k < c * o; k++) sum[xi * plane + k] += m[g * groupStride + xi * plane + k];
        var expected = (float[])dw.Clone();
        for (int ci = 0; ci < c; ci++)
            for (int oi = 0; oi < o; oi++)
            {
                float M(int a, int b) => sum[(4 * a + b) * plane + ci * o + oi];
                var t = new float[3, 4];   // Gᵀ·M
                for (int b = 0; b < 4; b++)
                {
                    float s = 0.5f * (M(1, b) + M(2, b));
                    t[0, b] = M(0, b) + s; t[1, b] = 0.5f * (M(1, b) - M(2, b)); t[2, b] = s + M(3, b);
                }
                for (int u = 0; u < 3; u++)
                {
                    float s = 0.5f * (t[u, 1] + t[u, 2]);
                    expected[(oi * c + ci) * 9 + 3 * u] += t[u, 0] + s;
                    expected[(oi * c + ci) * 9 + 3 * u + 1] += 0.5f * (t[u, 1] - t[u, 2]);
                    expected[(oi * c + ci) * 9 + 3 * u + 2] += s + t[u, 3];
                }
            }
        Winograd.AddWeightGradients(ref m[0], groups, groupStride, c, o, plane, ref dw[0]);
        for (int k = 0; k < dw.Length; k++)
            Assert.True(expected[k].Equals(dw[k]), $"dW[{k / (c * 9)}, {k / 9 % c}, {k / 3 % 3}, {k % 3}] is {dw[k]}, expected {expected[k]}");
    }

    /// <summary>Filters equals G·g·Gᵀ written out with G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1] (the sums in the same order, so
    /// bit for bit), for rows ≠ cols; and plane <c>Rotated(ξ)</c> holds plane ξ of the filters rotated by 180°, G·rot(g)·Gᵀ
    /// written out the same way (its three-term sums in the other order: equal to rounding).</summary>
    [Fact]
    public void Filters_are_G_g_G_transposed()
    {
        const int rows = 19, cols = 21;   // a block of 16 neighbours and a remainder
        var rng = new Rng(11);
        var w = Enumerable.Range(0, rows * cols * 9).Select(_ => (float)rng.NextGaussian()).ToArray();
        float[,] gm = { { 1f, 0f, 0f }, { 0.5f, 0.5f, 0.5f }, { 0.5f, -0.5f, 0.5f }, { 0f, 0f, 1f } };
        var u = new float[16 * rows * cols];
        Winograd.Filters(ref w[0], rows, cols, ref u[0]);
        Assert.Equal(Enumerable.Range(0, 16), Enumerable.Range(0, 16).Select(Winograd.Rotated).Order());   // a permutation
        foreach (bool rotated in new[] { false, true })
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < cols; c++)
                {
                    float G(int i, int j) => w[(r * cols + c) * 9 + (rotated ? 8 - (3 * i + j) : 3 * i + j)];
                    var t = new float[4, 3];   // G·g: the ½ rows as ½·(g0 ± g1 + g2)
                    for (int a = 0; a < 4; a++)
                        for (int x = 0; x < 3; x++)
                            t[a, x] = gm[a, 0] == 0.5f ? 0.5f * (G(0, x) + gm[a, 1] * 2 * G(1, x) + G(2, x)) : gm[a, 0] * G(0, x) + gm[a, 2] * G(2, x);
                    for (int a = 0; a < 4; a++)
                        for (int b = 0; b < 4; b++)
                        {
                            float expected = gm[b, 0] == 0.5f ? 0.5f * (t[a, 0] + gm[b, 1] * 2 * t[a, 1] + t[a, 2]) : gm[b, 0] * t[a, 0] + gm[b, 2] * t[a, 2];
                            int xi = 4 * a + b;
                            float actual = u[(rotated ? Winograd.Rotated(xi) : xi) * rows * cols + r * cols + c];
                            if (rotated)
                                Assert.True(Math.Abs(actual - expected) <= 2e-7f * Enumerable.Range(0, 9).Sum(i => Math.Abs(G(i / 3, i % 3))), $"filter ({r},{c}) rotated, plane {xi}: {actual}, expected {expected}");   // rounding of sums of up to 9 terms
                            else
                                Assert.Equal(expected, actual);
                        }
                }
    }

    [Fact]
    public void Output_applies_the_epilogue()
    {
        foreach (var width in new[] { SimdWidth.Scalar, SimdWidth.V256, SimdWidth.V512 })
        {
            if (!Simd.IsSupported(width)) continue;
            int tw = 8, ld = Winograd.Ld(1, tw);
            var m = new float[16 * Winograd.Plane(1, ld)];
            // only M[0] (ξ = (0,0)) set: y[0,0] = M[0], the other three outputs of a tile 0
            for (int t = 0; t < tw; t++) m[t] = t % 3 == 0 ? -2f : t % 3 == 1 ? 3f : float.NaN;
            var bias = new[] { 0.5f };
            var scratch = new float[Winograd.ScratchFloats(1, tw)];
            foreach (var (epi, f) in new (Epilogue, Func<float, float>)[]
                { (Epilogue.BiasRelu, z => float.IsNaN(z) ? z : Math.Max(0f, z + 0.5f)), (Epilogue.BiasLeakyRelu, z => z + 0.5f > 0 ? z + 0.5f : 0.1f * (z + 0.5f)), (Epilogue.Store, z => z) })
            {
                var y = new float[2 * 2 * tw];
                Winograd.Output(ref m[0], 1, ld, tw, 0, 1, 2, 2 * tw, ref y[0], 4 * tw, ref bias[0], epi, 0.1f, ref scratch[0], width);
                for (int t = 0; t < tw; t++)
                {
                    float want = f(m[t]);
                    Assert.True(want.Equals(y[2 * t]), $"{width} {epi}: tile {t} gives {y[2 * t]}, expected {want}");
                }
            }
            var acc = new float[4 * tw];
            Assert.Throws<ArgumentException>(() => Winograd.Output(ref m[0], 1, ld, tw, 0, 1, 2, 2 * tw, ref acc[0], 4 * tw, ref bias[0], Epilogue.Accumulate, 0f, ref scratch[0], width));
        }
    }

    /// <summary>The generator sizes the buffers with the runtime's formulas.</summary>
    [Fact]
    public void Generator_and_runtime_agree_on_the_buffer_sizes()
    {
        foreach (int tb in new[] { 1, 2, 5, 16 })
            foreach (int tw in new[] { 1, 7, 8, 16, 17 })
            {
                Assert.Equal(Winograd.Ld(tb, tw), Conv2D.WinogradLd(tb, tw));
                Assert.Equal(Winograd.Columns(tb, tw), Conv2D.WinogradColumns(tb, tw));
                Assert.Equal(Winograd.ScratchFloats(tb, tw), Conv2D.WinogradScratch(tb, tw));
                Assert.Equal(Winograd.Plane(tb * 3, tw), Conv2D.WinogradPlane(tb * 3, tw));
            }
    }

    /// <summary>Auto picks Winograd for a 3×3 stride-1 convolution with at least 16 input and 16 output channels, and the
    /// summary says so; Direct keeps it direct.</summary>
    [Theory]
    [InlineData("[Network(16, 6, 6)]", "[Conv2D(16, 3, padding: 1)]", true)]
    [InlineData("[Network(16, 6, 6)]", "[Conv2D(24, 3)]", true)]
    [InlineData("[Network(15, 6, 6)]", "[Conv2D(16, 3, padding: 1)]", false)]
    [InlineData("[Network(16, 6, 6)]", "[Conv2D(15, 3, padding: 1)]", false)]
    [InlineData("[Network(16, 7, 7)]", "[Conv2D(16, 3, stride: 2)]", false)]
    [InlineData("[Network(16, 6, 6)]", "[Conv2D(16, 5, padding: 2)]", false)]
    [InlineData("[Network(16, 6, 6)]", "[Conv2D(16, 3, padding: 1, Algorithm = ConvAlgorithm.Direct)]", false)]
    [InlineData("[Network(2, 6, 6)]", "[Conv2D(3, 3, padding: 1, Algorithm = ConvAlgorithm.Winograd)]", true)]
    public void Auto_chooses_winograd_from_sixteen_channels(string network, string conv, bool winograd)
    {
        var r = Harness.GeneratorHarness.Run("using ModelGen;\n" + network + "\npublic partial class N { " + conv + " public partial Layer C { get; } "
            + "[Flatten] public partial Layer F { get; } [Dense(2)] public partial Layer D { get; } [SoftmaxCrossEntropy] public partial Loss L { get; } }");
        Assert.Empty(r.GeneratorDiagnostics);
        Assert.Empty(r.CompileDiagnostics);
        string source = r.Source("N.g.cs");
        Assert.Equal(winograd, source.Contains(", Winograd)", StringComparison.Ordinal));
        Assert.Equal(winograd, source.Contains("MG.Winograd.Input(", StringComparison.Ordinal));
    }

    /// <summary>The per-sample transforms, <c>AggressiveInlining</c> in the runtime, are called only from static local
    /// functions marked <c>NoInlining</c>, one per distinct call, whose arguments are the layer's shapes as constants:
    /// inlined into the large generated methods themselves they exhausted the JIT's inlining budget (W2's Conv2 ran
    /// 1.4–1.9× slower). Forward with and without a fused pooling, a BatchNorm folded in, backward and weight gradients.</summary>
    [Fact]
    public void Transforms_run_in_local_functions_specialised_to_the_layer()
    {
        var r = Harness.GeneratorHarness.Run("using ModelGen;\n[Network(16, 8, 10)]\npublic partial class N { "
            + "[Conv2D(16, 3, padding: 1), Relu] public partial Layer C0 { get; } "
            + "[Conv2D(24, 3, padding: 1)] public partial Layer C1 { get; } [BatchNorm2D, Relu] public partial Layer B { get; } [MaxPool2D(2)] public partial Layer P { get; } "
            + "[Flatten] public partial Layer F { get; } [Dense(2)] public partial Layer D { get; } [SoftmaxCrossEntropy] public partial Loss L { get; } }");
        Assert.Empty(r.CompileDiagnostics);
        Assert.All(r.GeneratorDiagnostics, d => Assert.Equal(DiagnosticSeverity.Info, d.Severity));
        string[] lines = r.Source("N.g.cs").Split('\n');
        var kernels = new[] { "MG.Winograd.Input(", "MG.Winograd.Output(", "MG.Winograd.OutputPool(", "MG.Winograd.OutputGradients(" };
        var seen = new HashSet<string>();
        for (int i = 0; i < lines.Length; i++)
        {
            string? kernel = kernels.FirstOrDefault(k => lines[i].Contains(k, StringComparison.Ordinal));
            if (kernel is null) continue;
            seen.Add(kernel);
            string line = lines[i].Trim();
            Assert.True(line.StartsWith("static void ", StringComparison.Ordinal), $"line {i + 1} calls {kernel} outside a local function: {line}");
            Assert.Contains("MethodImplOptions.NoInlining", lines[i - 1]);
            string name = line.Substring("static void ".Length, line.IndexOf('(') - "static void ".Length);
            Assert.Contains(lines.Take(i), l => l.Contains(name + "(", StringComparison.Ordinal) && !l.Contains("static void", StringComparison.Ordinal));   // called above, in its method
            // the shapes are constants: C1's channels, its 8×10 image as 4×5 tiles
            if (kernel == "MG.Winograd.Input(" && line.Contains("ref x, 16, 8, 10,", StringComparison.Ordinal)) Assert.Contains(", 1, 1, 5, ", line);
        }
        Assert.Equal(kernels.Length, seen.Count);
        // one local function per distinct call in a method: C1's forward part has the folded, fused, plain and training outputs
        string part = string.Join("\n", lines.SkipWhile(l => !l.Contains("void C1_ForwardPart_V512", StringComparison.Ordinal)).TakeWhile((l, k) => k == 0 || !l.Contains("private void ", StringComparison.Ordinal)));
        Assert.Single(Regex.Matches(part, @"static void InputTransform\("));
        Assert.True(Regex.Matches(part, @"static void (Pooled)?OutputTransform\d*\(").Count >= 3, part);
    }

    /// <summary>The blocks split a sample's tile rows evenly, at least one row each.</summary>
    [Theory]
    [InlineData(32, 32, 16, 16)]
    [InlineData(64, 64, 8, 8)]
    [InlineData(512, 512, 7, 7)]
    [InlineData(8, 9, 4, 5)]
    [InlineData(3, 3, 1, 1)]
    public void Blocks_cover_the_tile_rows(int ci, int co, int th, int tw)
    {
        int tb = Conv2D.WinogradBlockRows(ci, co, th, tw);
        Assert.InRange(tb, 1, th);
        int blocks = (th + tb - 1) / tb;
        Assert.True(th - (blocks - 1) * tb >= tb - blocks + 1, $"uneven blocks: {th} rows in blocks of {tb}");
    }

    /// <summary>
    /// The Winograd network and the same network computed directly, on the same parameters: inference (BatchNorm folded
    /// into the transformed filters, and not), the training forward and its gradients at every width and batch; then
    /// both train five SGD steps side by side and still agree — the transformed filters follow every update.
    /// </summary>
    [Fact]
    public void Winograd_layers_match_the_direct_convolution()
    {
        Assert.Contains("Conv2D(4, 3, pad 1, Winograd), LeakyRelu", GcWinograd.Summary);
        Assert.Contains("Conv2D(3, 3, no bias, Winograd)", GcWinograd.Summary);
        Assert.Contains("Conv2D(3, 3, pad 1), Tanh", GcWinograd.Summary);
        Assert.DoesNotContain(", Winograd)", GcWinogradDirect.Summary);   // Auto below 8 channels: direct
        foreach (var width in new[] { SimdWidth.Scalar, SimdWidth.V256, SimdWidth.V512 })
        {
            if (!Simd.IsSupported(width)) continue;
            foreach (int batch in new[] { 1, 3, 17 })
            {
                using var a = new GcWinograd(32, 5) { Width = width };
                using var b = new GcWinogradDirect(32, 6) { Width = width };
                a.Parameters.CopyTo(b.Parameters);
                var rng = new Rng(11);
                // running statistics that make the folded BatchNorm matter
                foreach (var t in a.Tensors.Where(t => t.IsBuffer))
                    for (int i = 0; i < t.Length; i++) a.Parameters[t.Offset + i] = b.Parameters[t.Offset + i] = t.Name.EndsWith("var", StringComparison.Ordinal) ? 0.5f + rng.NextFloat() : (float)rng.NextGaussian() * 0.2f;
                var x = Enumerable.Range(0, batch * GcWinograd.InputSize).Select(_ => (float)rng.NextGaussian()).ToArray();
                var labels = Enumerable.Range(0, batch).Select(_ => rng.NextInt(3)).ToArray();
                foreach (bool fold in new[] { true, false })
                {
                    a.FoldBatchNorm = b.FoldBatchNorm = fold;
                    SimdWidthTests.AssertClose(Predict(b, x, batch), Predict(a, x, batch), $"{width} batch {batch} inference, BatchNorm folded {fold}");
                }
                foreach (var n in new ITrainableNetwork[] { a, b }) { n.ZeroGrad(); n.Forward(x, training: true); n.Backward(labels); }
                SimdWidthTests.AssertClose(b.Gradients.ToArray(), a.Gradients.ToArray(), $"{width} batch {batch} gradients");
                var sa = new Sgd(0.05f, momentum: 0.9f);
                var sb = new Sgd(0.05f, momentum: 0.9f);
                for (int step = 0; step < 5; step++)
                {
                    a.TrainStep(x, labels, sa);
                    b.TrainStep(x, labels, sb);
                }
                SimdWidthTests.AssertClose(Predict(b, x, batch), Predict(a, x, batch), $"{width} batch {batch} after five steps");
            }
        }
    }

    /// <summary>Many threads predicting on one Winograd model (each workspace packs its own filter transforms) get the
    /// single-thread results bit for bit and allocate nothing; a file loaded after the filters were packed is what the
    /// next Predict uses.</summary>
    [Fact]
    public void Concurrent_Predict_and_a_later_Load_use_the_current_filters()
    {
        using var net = new GcWinograd(16, 1);
        ServingTests.CheckConcurrentPredict(net, threads: 4, callsPerThread: 200);
        string path = System.IO.Path.GetTempFileName();
        try
        {
            var rng = new Rng(5);
            var x = Enumerable.Range(0, 3 * GcWinograd.InputSize).Select(_ => (float)rng.NextGaussian()).ToArray();
            float[] expected;
            using (var other = new GcWinograd(16, 2))
            {
                other.Save(path);
                expected = Predict(other, x, 3);
            }
            net.Load(path);
            Assert.Equal(expected, Predict(net, x, 3));
        }
        finally { System.IO.File.Delete(path); }
    }

    private static float[] Predict(INetwork n, float[] x, int batch)
    {
        var y = new float[batch * n.OutputSize];
        n.Predict(x, y);
        return y;
    }
}
