using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using ModelGen.IO;
using ModelGen.Tests.Harness;
using ModelGen.Tests.Models;
using Xunit;

namespace ModelGen.Tests;

/// <summary>ONNX export: every sample model and every layer kind, run by ONNX Runtime on the same weights, against
/// <c>Predict</c> (relative L2 ≤ 1e-5).</summary>
public sealed class OnnxTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("modelgen-onnx-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Biases, γ, β and running statistics away from their initial values, so every tensor matters.</summary>
    private static void Perturb(INetwork net, ulong seed)
    {
        var rng = new Rng(seed);
        foreach (var t in net.Tensors.Where(t => !t.IsWeight))
            for (int k = 0; k < t.Length; k++)
                net.Parameters[t.Offset + k] = t.Name.EndsWith("running_var", StringComparison.Ordinal) ? 0.5f + rng.NextFloat() : (float)(rng.NextGaussian() * 0.3);
    }

    private void CheckAgainstOnnxRuntime(INetwork net, string name)
    {
        Perturb(net, 7);
        string path = Path.Combine(_dir, name + ".onnx");
        net.ExportOnnx(path);
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(path, options);
        Assert.Equal("input", session.InputMetadata.Keys.Single());
        var rng = new Rng(11);
        foreach (int batch in new[] { 1, 3 })
        {
            int n = Math.Min(batch, net.MaxBatch);
            var x = GradientCheckTests.InputsFor(net, n, ref rng);
            var expected = new float[n * net.OutputSize];
            net.Predict(x, expected);
            var input = new DenseTensor<float>(x, new[] { n }.Concat(net.InputShape).ToArray());
            using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor("input", input) });
            var actual = results.Single().AsTensor<float>().ToArray();
            Assert.Equal(expected.Length, actual.Length);
            double diff = 0, norm = 0;
            for (int i = 0; i < actual.Length; i++) { diff += Math.Pow(actual[i] - expected[i], 2); norm += Math.Pow(expected[i], 2); }
            double rel = Math.Sqrt(diff / Math.Max(norm, 1e-30));
            Assert.True(rel <= 1e-5, $"{name} batch {n}: ONNX Runtime differs from Predict by relative L2 {rel:E2}");
        }
    }

    public static IEnumerable<object[]> TestModels() => new[]
    {
        nameof(SampleMlp), nameof(SmallLeNet), nameof(GcResidual), nameof(GcBatchNorm), nameof(GcGelu), nameof(GcConvChannels),
        nameof(GcConvRect), nameof(GcConvStride), nameof(GcStandalone), nameof(GcLeaky), nameof(GcSoftmaxFused), nameof(GcInputReaders),
        nameof(GcFlatInputReaders), nameof(ServeNet), nameof(GcDropout), nameof(GcWide), nameof(GcBce),
        nameof(GcLstm), nameof(GcLstmStacked), nameof(GcLstmOneStep), nameof(GcGru), nameof(GcGruLast),
        nameof(GcEmbedPlain), nameof(GcCharLm), nameof(GcSeqDense), nameof(GcBiRecurrent), nameof(GcGptBlock), nameof(GcAttentionSeq), nameof(GcLayerNorm), nameof(GcTiedGpt),
    }.Select(n => new object[] { n });

    private static INetwork Create(string name) => name switch
    {
        nameof(SampleMlp) => new SampleMlp(3, 1),
        nameof(SmallLeNet) => new SmallLeNet(3, 1),
        nameof(ServeNet) => new ServeNet(3, 1),
        _ => GradientCheckTests.Create(name),
    };

    /// <summary>Every layer kind and activation (fused and standalone), both GELU forms (GcGelu), folded BatchNorm,
    /// residual adds and shortcuts from the input.</summary>
    [Theory]
    [MemberData(nameof(TestModels))]
    public void Exported_model_runs_in_ONNX_Runtime_as_Predict_does(string model)
    {
        using var net = Create(model);
        CheckAgainstOnnxRuntime(net, model);
    }

    /// <summary>The sample models, compiled from their sources: the MNIST MLP, LeNet, W2, ResNet-20 and the KindTour.</summary>
    [Theory]
    [InlineData("MnistMlp", "Mnist")]
    [InlineData("LeNet", "MnistCnn")]
    [InlineData("W2", "Cifar")]
    [InlineData("ResNet20", "Zoo")]
    [InlineData("KindTour", "Tour")]
    [InlineData("Recurrent", "Tour")]
    [InlineData("CharLstm", "CharLm")]
    public void Exported_sample_model_runs_in_ONNX_Runtime_as_Predict_does(string model, string ns)
    {
        var r = GeneratorHarness.Run(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Golden", model + ".source.cs")));
        Assert.Empty(r.CompileDiagnostics);
        var asm = GeneratorHarness.Load(r.Output);
        using var net = (INetwork)Activator.CreateInstance(asm.GetType($"{ns}.{model}")!, 3, 5)!;
        CheckAgainstOnnxRuntime(net, model);
    }

    [Fact]
    public void Masked_steps_have_no_ONNX_form_and_the_export_says_why()
    {
        using var net = new GcEmbedGru(1, 1);
        string target = Path.Combine(_dir, "masked.onnx");
        var e = Assert.Throws<NotSupportedException>(() => net.ExportOnnx(target));
        Assert.Contains("Embed", e.Message);
        Assert.Contains("MaskZero", e.Message);
        Assert.False(File.Exists(target));
    }

    [Fact]
    public void The_export_is_atomic_and_names_the_target()
    {
        using var net = new SampleMlp(1, 1);
        string target = Path.Combine(_dir, "missing", "m.onnx");
        var e = Assert.Throws<DirectoryNotFoundException>(() => net.ExportOnnx(target));
        Assert.Contains("cannot export " + target, e.Message);
        Assert.Contains("does not exist", e.Message);
        Assert.DoesNotContain(".tmp", e.Message);
        Assert.Empty(Directory.GetFiles(_dir));
    }
}
