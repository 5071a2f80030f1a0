using System;
using System.IO;
using System.Linq;
using System.Reflection;
using Microsoft.CodeAnalysis;
using ModelGen.Data;
using ModelGen.Tests.Harness;
using ModelGen.Tests.Models;
using Xunit;
using ModelGen.Training;

namespace ModelGen.Tests;

/// <summary>Convolutional layers: the note's compile-time facts, shape diagnostics, equivalences, widths, a real run.</summary>
public class ConvTests
{
    private static Assembly Compile(string source)
    {
        var r = GeneratorHarness.Run("using ModelGen;\n" + source);
        Assert.DoesNotContain(r.GeneratorDiagnostics, d => d.Severity == DiagnosticSeverity.Error);
        return GeneratorHarness.Load(r.Output);
    }

    private static string SummaryOf(Assembly a, string type) => (string)a.GetType(type)!.GetField("Summary")!.GetValue(null)!;
    private static int ParamsOf(Assembly a, string type) => (int)a.GetType(type)!.GetField("ParameterCount")!.GetValue(null)!;

    [Fact]
    public void Dense_from_50x4x4_to_500_has_400000_weights_and_500_biases()
    {
        var a = Compile("[Network(50, 4, 4)] public partial class N { [Flatten] public partial Layer F { get; } [Dense(500)] public partial Layer D { get; } [Mse] public partial Loss L { get; } }");
        Assert.Equal(400_500, ParamsOf(a, "N"));
        using var net = (INetwork)Activator.CreateInstance(a.GetType("N")!, 1, 0)!;
        var d = (Layer)a.GetType("N")!.GetProperty("D")!.GetValue(net)!;
        Assert.Equal(400_000, d.Weight.Length);
        Assert.Equal(500, d.Bias.Length);
    }

    [Fact]
    public void Three_stacked_3x3_convs_have_27C2_weights_against_49C2_for_one_7x7_and_the_same_receptive_field()
    {
        const int C = 8;
        var a = Compile($@"
[Network({C}, 20, 20)] public partial class Three {{
    [Conv2D({C}, 3)] public partial Layer A {{ get; }} [Conv2D({C}, 3)] public partial Layer B {{ get; }} [Conv2D({C}, 3)] public partial Layer C {{ get; }}
    [Flatten] public partial Layer F {{ get; }} [Mse] public partial Loss L {{ get; }} }}
[Network({C}, 20, 20)] public partial class One {{
    [Conv2D({C}, 7)] public partial Layer A {{ get; }} [Flatten] public partial Layer F {{ get; }} [Mse] public partial Loss L {{ get; }} }}");
        Assert.Equal(27 * C * C + 3 * C, ParamsOf(a, "Three"));   // + one bias per filter per layer
        Assert.Equal(49 * C * C + C, ParamsOf(a, "One"));
        // Receptive field column: 3, 5, 7 for the stack; 7 for the single layer; both outputs 14x14.
        var three = SummaryOf(a, "Three").Split('\n');
        Assert.EndsWith("  3", three.Single(l => l.Contains("  A  ")).TrimEnd());
        Assert.EndsWith("  5", three.Single(l => l.Contains("  B  ")).TrimEnd());
        Assert.EndsWith("  7", three.Single(l => l.Contains("  C  ")).TrimEnd());
        Assert.Contains("[8,14,14]", three.Single(l => l.Contains("  C  ")));
        Assert.EndsWith("  7", SummaryOf(a, "One").Split('\n').Single(l => l.Contains("  A  ")).TrimEnd());
    }

    [Theory]
    [InlineData(32, 3, 1, 1, 32)]    // "same"
    [InlineData(32, 5, 1, 0, 28)]
    [InlineData(227, 11, 4, 0, 55)]  // AlexNet's first layer
    [InlineData(7, 3, 2, 0, 3)]
    [InlineData(224, 7, 2, 3, 112)]  // ResNet's stem
    public void Output_size_is_H_plus_2P_minus_F_over_S_plus_1(int h, int f, int s, int p, int expected)
    {
        var r = GeneratorHarness.Run($"using ModelGen;\n[Network(1, {h}, {h})] public partial class N {{ [Conv2D(2, {f}, {s}, {p})] public partial Layer C {{ get; }} [Flatten] public partial Layer F {{ get; }} [Mse] public partial Loss L {{ get; }} }}");
        Assert.DoesNotContain(r.GeneratorDiagnostics, d => d.Severity == DiagnosticSeverity.Error);
        Assert.Contains($"[2,{expected},{expected}]", r.Source("N.g.cs"));
    }

    /// <summary>The zoo's declarations compile without warnings, with torchvision's exact parameter counts.</summary>
    [Fact]
    public void Zoo_compiles_with_torchvisions_parameter_counts()
    {
        var r = GeneratorHarness.Run(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Golden", "Zoo.source.cs")));
        Assert.DoesNotContain(r.GeneratorDiagnostics, d => d.Severity >= DiagnosticSeverity.Warning);
        Assert.Empty(r.CompileDiagnostics);
        Assert.Contains("public const int ParameterCount = 138357544;", r.Source("Vgg16.g.cs"));
        Assert.Contains("public const int ParameterCount = 61100840;", r.Source("AlexNet.g.cs"));
        Assert.Contains("Conv5_3  Conv2D(512, 3, pad 1, Winograd), Relu  [512,14,14]", r.Source("Vgg16.g.cs"));
    }

    /// <summary>ResNet-20/56 for CIFAR (no conv biases, BatchNorm, projection shortcuts): the usual 272,474 / 855,770.</summary>
    [Fact]
    public void Resnets_compile_with_the_usual_parameter_counts()
    {
        string Src(string f) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Golden", f));
        var r = GeneratorHarness.Run(Src("ResNet20.source.cs") + "\n" + Src("ResNet56.source.cs").Replace("using ModelGen;", "").Replace("namespace Zoo;", ""));
        Assert.DoesNotContain(r.GeneratorDiagnostics, d => d.Severity >= DiagnosticSeverity.Warning);
        Assert.Empty(r.CompileDiagnostics);
        Assert.Contains("public const int ParameterCount = 272474;", r.Source("ResNet20.g.cs"));
        Assert.Contains("public const int ParameterCount = 855770;", r.Source("ResNet56.g.cs"));
    }

    [Fact]
    public void MG0017_output_below_one()
    {
        var r = GeneratorHarness.Run("using ModelGen;\n[Network(1, 4, 4)] public partial class N { [Conv2D(2, 5)] public partial Layer C { get; } [Flatten] public partial Layer F { get; } [Mse] public partial Loss L { get; } }");
        var d = r.GeneratorDiagnostics.Where(x => x.Id == "MG0017").ToList();
        Assert.Equal(2, d.Count);   // height and width
        Assert.Contains("output height (H + 2P − F)/S + 1 = (4 + 2·0 − 5)/1 + 1 = 0", d[0].GetMessage());
        Assert.Contains("output width", d[1].GetMessage());
        Assert.Contains("'C'", d[0].GetMessage());
    }

    [Fact]
    public void MG0018_rows_dropped_by_the_stride_is_information()
    {
        var r = GeneratorHarness.Run("using ModelGen;\n[Network(1, 8, 8)] public partial class N { [Conv2D(2, 3, 2)] public partial Layer C { get; } [Flatten] public partial Layer F { get; } [Mse] public partial Loss L { get; } }");
        var d = r.GeneratorDiagnostics.Where(x => x.Id == "MG0018").ToList();
        Assert.Equal(2, d.Count);   // height and width
        Assert.All(d, x => Assert.Equal(DiagnosticSeverity.Info, x.Severity));
        Assert.Contains("(8 + 2·0 − 3) = 5 is not divisible by the stride 2", d[0].GetMessage());
        Assert.Empty(r.CompileDiagnostics);
    }

    [Theory]
    [InlineData("[Network(1, 8, 8)] public partial class N { [Dense(4)] public partial Layer D { get; } [Mse] public partial Loss L { get; } }", "D", "[Flatten]")]
    [InlineData("[Network(64)] public partial class N { [Conv2D(4, 3)] public partial Layer C { get; } [Mse] public partial Loss L { get; } }", "C", "[channels, height, width]")]
    [InlineData("[Network(64)] public partial class N { [MaxPool2D(2)] public partial Layer P { get; } [Mse] public partial Loss L { get; } }", "P", "[channels, height, width]")]
    public void MG0014_flat_and_image_layers_must_meet_the_right_shape(string source, string layer, string words)
    {
        var r = GeneratorHarness.Run("using ModelGen;\n" + source);
        var d = Assert.Single(r.GeneratorDiagnostics, x => x.Id == "MG0014");
        Assert.Contains($"'{layer}'", d.GetMessage());
        Assert.Contains(words, d.GetMessage());
    }

    [Fact]
    public void MG0012_loss_on_an_image_output()
    {
        var r = GeneratorHarness.Run("using ModelGen;\n[Network(1, 8, 8)] public partial class N { [Conv2D(2, 3)] public partial Layer C { get; } [Mse] public partial Loss L { get; } }");
        Assert.Contains("[Flatten]", Assert.Single(r.GeneratorDiagnostics, x => x.Id == "MG0012").GetMessage());
    }

    /// <summary>A convolution whose kernel covers the whole map is a dense layer with the same weights.</summary>
    [Fact]
    public void Conv_covering_the_whole_map_equals_a_dense_layer()
    {
        var a = Compile(@"
[Network(3, 4, 4)] public partial class Whole { [Conv2D(5, 4)] public partial Layer C { get; } [Flatten] public partial Layer F { get; } [Mse] public partial Loss L { get; } }
[Network(48)] public partial class Flat { [Dense(5)] public partial Layer D { get; } [Mse] public partial Loss L { get; } }");
        using var conv = (INetwork)Activator.CreateInstance(a.GetType("Whole")!, 7, 1)!;
        using var dense = (INetwork)Activator.CreateInstance(a.GetType("Flat")!, 7, 2)!;
        conv.Parameters.CopyTo(dense.Parameters);   // same layout: W [5, 3·4·4] then the bias
        var rng = new Rng(3);
        var x = Enumerable.Range(0, 7 * 48).Select(_ => (float)rng.NextGaussian()).ToArray();
        float[] yc = new float[35], yd = new float[35];
        conv.Predict(x, yc);
        dense.Predict(x, yd);
        SimdWidthTests.AssertClose(yd, yc, "whole-map conv vs dense");
    }

    /// <summary>A 1×1 convolution is a dense layer applied to every pixel's channel vector.</summary>
    [Fact]
    public void Pointwise_conv_equals_a_per_pixel_dense_layer()
    {
        var a = Compile(@"[Network(3, 5, 5)] public partial class P { [Conv2D(4, 1)] public partial Layer C { get; } [Flatten] public partial Layer F { get; } [Mse] public partial Loss L { get; } }");
        using var net = (INetwork)Activator.CreateInstance(a.GetType("P")!, 2, 5)!;
        var w = net.Parameters.Slice(net.Tensors[0].Offset, 12).ToArray();
        var b = net.Parameters.Slice(net.Tensors[1].Offset, 4).ToArray();
        var rng = new Rng(4);
        var x = Enumerable.Range(0, 2 * 75).Select(_ => (float)rng.NextGaussian()).ToArray();
        var y = new float[2 * 100];
        net.Predict(x, y);
        for (int s = 0; s < 2; s++)
            for (int px = 0; px < 25; px++)
                for (int o = 0; o < 4; o++)
                {
                    float expected = b[o];
                    for (int c = 0; c < 3; c++) expected += w[o * 3 + c] * x[s * 75 + c * 25 + px];
                    Assert.Equal(expected, y[s * 100 + o * 25 + px], 4);
                }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(33)]
    public void Widths_agree_on_lenet_shapes(int batch)
    {
        float[] Run(SimdWidth width, out float[] grads)
        {
            using var net = new SmallLeNet(40, 9) { Width = width };
            var rng = new Rng(8);
            var x = Enumerable.Range(0, batch * 784).Select(_ => rng.NextFloat()).ToArray();
            var y = new float[batch * 10];
            net.Predict(x, y);
            net.ZeroGrad();
            net.Forward(x, training: true);
            net.Backward(Enumerable.Range(0, batch).Select(i => i % 10).ToArray());
            grads = net.Gradients.ToArray();
            return y;
        }
        var ys = Run(SimdWidth.Scalar, out var gs);
        foreach (var w in new[] { SimdWidth.V256, SimdWidth.V512 })
        {
            if (!Simd.IsSupported(w)) continue;
            SimdWidthTests.AssertClose(ys, Run(w, out var g), $"{w} output");
            SimdWidthTests.AssertClose(gs, g, $"{w} gradients");
        }
    }

    [Fact]
    public void Cnn_prediction_and_training_step_allocate_nothing()
    {
        using var net = new SmallLeNet(maxBatch: 4, seed: 1);
        var x = new float[4 * 784]; var y = new float[40]; var labels = new int[4];
        var adam = new Adam(1e-3f);
        for (int i = 0; i < 2; i++) { net.Predict(x, y); net.TrainStep(x, labels, adam); }
        Assert.Equal(0, Allocations.SteadyState(() =>
        {
            for (int i = 0; i < 3; i++) { net.Predict(x, y); net.Predict(x.AsSpan(0, 784), y.AsSpan(0, 10)); net.TrainStep(x, labels, adam); }
        }));
    }

    [Fact]
    public void A_small_cnn_learns_real_digits()
    {
        string dir = Path.Combine(AppContext.BaseDirectory, "data", "mnist");
        var train = Idx.Load(Path.Combine(dir, "train-images-idx3-ubyte.gz"), Path.Combine(dir, "train-labels-idx1-ubyte.gz")).Slice(0, 2000);
        var test = Idx.Load(Path.Combine(dir, "t10k-images-idx3-ubyte.gz"), Path.Combine(dir, "t10k-labels-idx1-ubyte.gz")).Slice(0, 500);
        using var net = new SmallLeNet(maxBatch: 50, seed: 1);
        var h = Trainer.Fit(net, train, test, new TrainOptions { Epochs = 3, BatchSize = 50, Optimizer = new Adam(2e-3f), Log = null });
        Assert.True(h.Epochs[^1].TestAccuracy > 0.9f, $"test accuracy {h.Epochs[^1].TestAccuracy}");
        Assert.Equal(new[] { 8, 28, 28 }, net.Conv1.OutputShape);
        Assert.Equal(8 * 25 + 8, net.Conv1.ParameterCount);
    }
}

public class BatchNormTests
{
    [Fact]
    public void Running_statistics_follow_pytorch_and_inference_uses_them()
    {
        using var net = new GcBatchNorm(maxBatch: 8, seed: 1);
        var n1 = net.N1;
        var rng = new Rng(2);
        var x = Enumerable.Range(0, 8 * 50).Select(_ => (float)(rng.NextGaussian() * 2 + 1)).ToArray();
        net.Forward(x, training: true);
        // Running mean after one step from 0 with momentum 0.1 = 0.1·batch mean; running var from 1 = 0.9 + 0.1·unbiased var.
        var rm = net.Parameters.Slice(net.Tensors.Single(t => t.Name == "N1.running_mean").Offset, 3).ToArray();
        var rv = net.Parameters.Slice(net.Tensors.Single(t => t.Name == "N1.running_var").Offset, 3).ToArray();
        Assert.All(rm, v => Assert.NotEqual(0f, v));
        Assert.All(rv, v => Assert.NotEqual(1f, v));
        Assert.All(rv, v => Assert.True(v > 0.9f));
        // Inference is deterministic and independent of the batch: a sample alone gives the same output as in a batch.
        var all = new float[8 * 3];
        net.Predict(x, all);
        var one = new float[3];
        net.Predict(x.AsSpan(0, 50), one);
        SimdWidthTests.AssertClose(all.Take(3).ToArray(), one, "batch-independent inference");
    }

    [Fact]
    public void Buffers_are_saved_but_not_counted_or_trained()
    {
        Assert.Equal(54 + 2 * 3 + 112 + 2 * 4 + 51, GcBatchNorm.ParameterCount);   // conv (no bias), γ/β, conv, γ/β, dense: running stats excluded
        using (var probe = new GcBatchNorm(1)) Assert.DoesNotContain(probe.Tensors, t => t.Name == "C1.bias");
        using var net = new GcBatchNorm(maxBatch: 4, seed: 1);
        var names = net.Tensors.Select(t => t.Name).ToList();
        Assert.Contains("N1.running_mean", names);
        Assert.Contains("N2.running_var", names);
        Assert.True(net.Tensors.Single(t => t.Name == "N1.running_var").IsBuffer);
        string path = Path.Combine(Path.GetTempPath(), $"bn-{Guid.NewGuid():N}.safetensors");
        try
        {
            net.Forward(new float[4 * 50].Select((_, i) => (float)Math.Sin(i)).ToArray(), training: true);
            net.Save(path);
            using var copy = new GcBatchNorm(maxBatch: 4, seed: 9);
            copy.Load(path);
            Assert.Equal(net.Parameters.ToArray(), copy.Parameters.ToArray());
        }
        finally { File.Delete(path); }
    }
}

public class BatchNormFoldingTests
{
    /// <summary>Inference with BatchNorm folded into the convolutions equals running them apart, and follows parameter changes.</summary>
    [Theory]
    [InlineData(SimdWidth.Scalar)]
    [InlineData(SimdWidth.V512)]
    public void Folded_inference_equals_separate_batchnorm(SimdWidth width)
    {
        if (!Simd.IsSupported(width)) return;
        using var net = new GcBatchNorm(maxBatch: 6, seed: 3) { Width = width };
        var rng = new Rng(1);
        var x = Enumerable.Range(0, 6 * 50).Select(_ => (float)rng.NextGaussian()).ToArray();
        var labels = new[] { 0, 1, 2, 0, 1, 2 };
        var adam = new Adam(0.05f);
        for (int i = 0; i < 3; i++) net.TrainStep(x, labels, adam);   // moves γ, β and the running statistics
        float[] Predict(bool fold) { net.FoldBatchNorm = fold; var y = new float[18]; net.Predict(x, y); return y; }
        var apart = Predict(false);
        var folded = Predict(true);
        SimdWidthTests.AssertClose(apart, folded, "folded vs separate");
        net.TrainStep(x, labels, adam);                                // parameters change: the fold must follow
        SimdWidthTests.AssertClose(Predict(false), Predict(true), "after another step");
        net.N1.Weight[0] *= 2f;                                          // a direct edit through a layer view, too
        SimdWidthTests.AssertClose(Predict(false), Predict(true), "after editing γ");
        Assert.NotEqual(apart, Predict(true));
    }
}
