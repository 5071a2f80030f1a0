using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using ModelGen.Generator.Analysis;
using ModelGen.Generator.Emit.CSharp;
using ModelGen.Generator.Layers;
using ModelGen.Tests.Harness;
using Xunit;

namespace ModelGen.Tests;

/// <summary>The generator's architecture as facts: the layer-kind registry is complete and checked, the generated
/// code is what the golden files show, its member names are all known to the analysis (MG0013), nothing depends on the
/// compiler's culture or on where the declaration sits, and a declaration with errors yields ModelGen errors only.</summary>
public class ArchitectureTests
{
    /// <summary>The golden models: their source files (copied beside the tests) and generated files.</summary>
    public static IEnumerable<object[]> GoldenModels() => new[]
    {
        new object[] { "MnistMlp" }, new object[] { "LeNet" }, new object[] { "ResNet20" }, new object[] { "KindTour" }, new object[] { "Recurrent" },
        new object[] { "Tokens" }, new object[] { "CharLstm" }, new object[] { "Padded" }, new object[] { "GptBlock" },
    };

    private static string Source(string model) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Golden", model + ".source.cs"));

    private static IEnumerable<NetworkPlan> Plans(GeneratorHarness.Result r) =>
        r.Run.Results.Single().TrackedSteps["Plan"].SelectMany(s => s.Outputs).Select(o => o.Value).OfType<NetworkPlan>();

    [Theory]
    [MemberData(nameof(GoldenModels))]
    public void Golden_models_generate_their_golden_code_without_warnings(string model)
    {
        var r = GeneratorHarness.Run(Source(model));
        Assert.Empty(r.GeneratorDiagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning));
        Assert.Empty(r.CompileDiagnostics);
        Golden.Verify(model + ".g.cs.txt", r.Source(model + ".g.cs"));
        Golden.Verify(model + ".Kernels.g.cs.txt", r.Source(model + ".Kernels.g.cs"));
        // The recurrent GPU twin's C# (launch order, step loops, the Stateful surface, graph keys), its PTX left out:
        // ptxas and the interpreter check that, and MnistMlp.Cuda's golden shows a whole module.
        if (model == "Recurrent") Golden.Verify(model + ".Cuda.g.cs.txt", WithoutPtx(r.Source(model + ".Cuda.g.cs")));
    }

    /// <summary>A twin's source with the lines of its PTX constant replaced by one line that says how many there were.</summary>
    private static string WithoutPtx(string source)
    {
        var lines = source.Split('\n');
        int start = Array.FindIndex(lines, l => l.Contains("public static ReadOnlySpan<byte> Ptx => \"\"\"", StringComparison.Ordinal));
        int end = Array.FindIndex(lines, start + 1, l => l.TrimStart().StartsWith("\"\"\"u8;", StringComparison.Ordinal));
        Assert.True(start >= 0 && end > start, "the twin's PTX constant was not found");
        return string.Join('\n', lines.Take(start + 1).Append($"    … {end - start - 1} lines of PTX …").Concat(lines.Skip(end)));
    }

    [Fact]
    public void Every_registered_kind_is_complete_and_appears_in_a_golden_model()
    {
        var inGolden = new HashSet<LayerKind>();
        foreach (var m in GoldenModels())
            foreach (var plan in Plans(GeneratorHarness.Run(Source((string)m[0]))))
                foreach (var l in plan.Layers) inGolden.Add(l.Kind);
        var attributes = typeof(NetworkAttribute).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(LayerAttribute)) && !t.IsAbstract).Select(t => t.Name).ToHashSet();
        foreach (var kind in LayerRegistry.All)
        {
            Assert.True(inGolden.Contains(kind), $"layer kind {kind.Name} is in no golden model");
            Assert.True(kind is ICSharpLayer, $"layer kind {kind.Name} has no C# code");
            Assert.True(Enum.TryParse<LayerType>(kind.Name, out _), $"layer kind {kind.Name} is not a LayerType member");
            if (kind.AttributeName is { } a) Assert.True(attributes.Remove(a), $"layer kind {kind.Name} names attribute {a}, which does not exist");
        }
        // [TransformerBlock] is no kind: the parser expands it into registered ones (TransformerTests checks the expansion
        // against the same layers written out).
        Assert.True(attributes.Remove(TransformerBlock.AttributeName), "the [TransformerBlock] expansion names an attribute that does not exist");
        Assert.True(attributes.Count == 0, "layer attributes without a kind: " + string.Join(", ", attributes));
        Assert.Equal(Enum.GetValues<LayerType>().Length, LayerRegistry.All.Count);
        Assert.Equal(LayerRegistry.All.Count, LayerRegistry.All.Select(k => k.Name).Distinct().Count());
    }

    /// <summary>Every member the generated class declares is a name the analysis knows (so MG0013 can protect it):
    /// parsed from the generated code of every golden model, not taken from the emitter's word.</summary>
    [Theory]
    [MemberData(nameof(GoldenModels))]
    public void Generated_members_are_all_known_to_the_reserved_name_check(string model)
    {
        var r = GeneratorHarness.Run(Source(model));
        var plan = Plans(r).Single(p => p.ClassName == model);   // a source may declare more than one network
        var known = GeneratedNames.Of(plan);
        foreach (var l in plan.Layers) known.Add(l.Name);
        if (plan.Loss is not null) known.Add(plan.Loss.Name);
        known.Add(plan.ClassName);   // the constructor
        foreach (var file in new[] { model + ".g.cs", model + ".Kernels.g.cs", model + ".Cuda.g.cs" })
        {
            var root = CSharpSyntaxTree.ParseText(r.Source(file)).GetRoot();
            var cls = root.DescendantNodes().OfType<ClassDeclarationSyntax>().First(c => c.Parent is not ClassDeclarationSyntax);   // the network's class, not its GPU twin
            foreach (var member in cls.Members)
            {
                var names = member switch
                {
                    FieldDeclarationSyntax f => f.Declaration.Variables.Select(v => v.Identifier.Text),
                    MethodDeclarationSyntax m when m.ExplicitInterfaceSpecifier is null => new[] { m.Identifier.Text },
                    PropertyDeclarationSyntax p when p.ExplicitInterfaceSpecifier is null => new[] { p.Identifier.Text },
                    ConstructorDeclarationSyntax c => new[] { c.Identifier.Text },
                    ClassDeclarationSyntax nested => new[] { nested.Identifier.Text },   // the GPU twin, Cuda
                    _ => Array.Empty<string>(),
                };
                foreach (var n in names)
                    Assert.True(known.Contains(n) || GeneratedNames.IsKernelName(n), $"{file} declares '{n}', which the reserved-name check does not know");
            }
        }
    }

    [Fact]
    public void Layers_named_like_generated_members_get_MG0013_only()
    {
        var r = GeneratorHarness.Run("""
            using ModelGen;
            [Network(4)]
            public partial class Clash
            {
                [Dense(5), Relu] public partial Layer Penalty { get; }
                [Dense(5)] public partial Layer BatchOf { get; }
                [Relu] public partial Layer GradientBase { get; }
                [Dense(3)] public partial Layer FoldBatchNorm { get; }
                [Dense(3)] public partial Layer Penalty_Weight { get; }
                [Mse] public partial Loss Loss { get; }
            }
            """);
        var ids = r.GeneratorDiagnostics.Select(d => d.Id).ToList();
        Assert.Equal(5, ids.Count(i => i == "MG0013"));
        Assert.DoesNotContain("MG0009", ids);
        Assert.DoesNotContain(r.CompileDiagnostics, d => d.Id.StartsWith("CS", StringComparison.Ordinal));
    }

    [Fact]
    public void A_network_whose_only_layer_is_rejected_is_not_also_told_it_has_none()
    {
        var r = GeneratorHarness.Run("""
            using ModelGen;
            [Network(4, InferenceOnly = true)]
            public partial class Only { [Dense(0)] public partial Layer Step { get; } }
            """);
        var ids = r.GeneratorDiagnostics.Select(d => d.Id).ToList();
        Assert.Contains("MG0007", ids);
        Assert.DoesNotContain("MG0009", ids);
        Assert.DoesNotContain(r.CompileDiagnostics, d => d.Id.StartsWith("CS", StringComparison.Ordinal));
    }

    /// <summary>Fourteen mistakes give ModelGen's errors and no C# error: every partial member still gets a body.</summary>
    [Fact]
    public void A_declaration_with_errors_gets_member_bodies_so_only_ModelGen_errors_show()
    {
        var r = GeneratorHarness.Run("""
            using ModelGen;
            [Network(1, 8, 8)]
            public partial class Broken
            {
                [Conv2D(0, 3)] public partial Layer C1 { get; }
                [Conv2D(4, 9)] public partial Layer C2 { get; }
                [MaxPool2D(0)] public partial Layer P { get; }
                [Dropout(2.0)] public partial Layer D { get; }
                [Dense(3), Relu, Tanh] public partial Layer Two { get; }
                [Dense(3), Conv2D(3, 3)] public partial Layer Both { get; }
                [L2(-1), Dense(3)] public partial Layer Neg { get; }
                [Flatten, Relu] public partial Layer F { get; }
                [Add("Nowhere")] public partial Layer A { get; }
                [Gelu("fast")] public partial Layer G { get; }
                [LeakyRelu(2f)] public partial Layer Leaky { get; }
                [BatchNorm2D(0)] public partial Layer Bn { get; }
                public partial Layer Bare { get; }
                [Huber(-1)] public partial Loss Loss { get; }
            }
            """);
        Assert.True(r.GeneratorDiagnostics.Count(d => d.Id.StartsWith("MG", StringComparison.Ordinal)) >= 10, string.Join("\n", r.GeneratorDiagnostics));
        var cs = r.CompileDiagnostics.Where(d => d.Id.StartsWith("CS", StringComparison.Ordinal)).ToList();
        Assert.True(cs.Count == 0, "C# errors besides ModelGen's: " + string.Join("\n", cs));
    }

    /// <summary>The generated code is the same on a German or Swedish compiler (thousands separators, decimal commas,
    /// U+2212 minus signs): everything is formatted invariantly.</summary>
    [Theory]
    [InlineData("de-DE")]
    [InlineData("sv-SE")]
    [InlineData("ar-SA")]
    public void Generated_code_does_not_depend_on_the_culture(string culture)
    {
        var expected = new Dictionary<string, string>();
        foreach (var m in GoldenModels())
        {
            string model = (string)m[0];
            expected[model] = GeneratorHarness.Run(Source(model)).Source(model + ".g.cs");
        }
        var saved = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo(culture);
            foreach (var (model, code) in expected)
                Assert.Equal(code, GeneratorHarness.Run(Source(model)).Source(model + ".g.cs"));
            var d = GeneratorHarness.Run("using ModelGen; [Network(4)] public partial class Q { [Dense(3)] public partial Layer A { get; } [Quantile(1.5)] public partial Loss Loss { get; } }")
                .GeneratorDiagnostics.Single(x => x.Id == "MG0008");
            Assert.Contains("1.5", d.GetMessage(CultureInfo.InvariantCulture));
        }
        finally { CultureInfo.CurrentCulture = saved; }
        Assert.Contains("200,960", expected["MnistMlp"]);
    }

    /// <summary>The model that reaches the emit step holds no source location: a comment added above [Network]
    /// (which moves every location) re-emits nothing.</summary>
    [Fact]
    public void Moving_the_declaration_does_not_re_emit()
    {
        string source = Source("MnistMlp");
        var compilation = GeneratorHarness.Compilation(source);
        var driver = GeneratorHarness.Driver().RunGenerators(compilation);
        var moved = compilation.ReplaceSyntaxTree(compilation.SyntaxTrees.Single(),
            CSharpSyntaxTree.ParseText(source.Replace("[Network(", "// a comment that moves everything below\n[Network("), GeneratorHarness.ParseOptions, path: "Input0.cs"));
        driver = driver.RunGenerators(moved);
        var run = driver.GetRunResult().Results.Single();
        foreach (var step in new[] { "Plan", "Stub" })
            Assert.All(run.TrackedSteps[step].SelectMany(s => s.Outputs), o => Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged,
                $"step {step} re-ran ({o.Reason}) after the declaration moved"));
    }

    /// <summary>Inference-only networks reuse activation memory where lifetimes allow; the outputs stay bit for bit
    /// those of the trainable twin with the same parameters — through every kind that runs in inference (KindTour:
    /// odd shapes, in ≠ out channels) and through a graph with residual adds and folded BatchNorms (ResNet-20, with
    /// BatchNorm folding on and off, running statistics away from their initial values).</summary>
    [Theory]
    [InlineData("KindTour", "Tour", "[Network(3, 9, 7)]")]
    [InlineData("ResNet20", "Zoo", "[Network(3, 32, 32)]")]
    public void Inference_only_buffer_reuse_keeps_the_outputs(string model, string ns, string network)
    {
        string source = Source(model);
        string twin = source.Substring(source.IndexOf("/// <summary>", StringComparison.Ordinal))
            .Replace($"class {model}", $"class {model}Inference")
            .Replace(network, network.Replace(")]", ", InferenceOnly = true)]"))
            .Replace("[SoftmaxCrossEntropy] public partial Loss Loss { get; }", "");
        var r = GeneratorHarness.Run(source + "\n" + twin);
        Assert.Empty(r.CompileDiagnostics);
        var plan = Plans(r).Single(p => p.ClassName == model + "Inference");
        Assert.Contains(plan.Buffers.Buffers, b => b.AliasOf.Length > 0);
        var asm = GeneratorHarness.Load(r.Output);
        using var train = (INetwork)Activator.CreateInstance(asm.GetType($"{ns}.{model}")!, 3, 3)!;
        using var infer = (INetwork)Activator.CreateInstance(asm.GetType($"{ns}.{model}Inference")!, 3, 5)!;
        var rng = new Rng(4);
        foreach (var t in train.Tensors.Where(t => !t.IsWeight))   // biases, γ, β, running statistics (variance > 0)
            for (int k = 0; k < t.Length; k++)
                train.Parameters[t.Offset + k] = t.Name.EndsWith("running_var", StringComparison.Ordinal) ? 0.5f + rng.NextFloat() : (float)(rng.NextGaussian() * 0.3);
        train.Parameters.CopyTo(infer.Parameters);
        var x = Enumerable.Range(0, 3 * train.InputSize).Select(_ => (float)rng.NextGaussian()).ToArray();
        var fold = train.GetType().GetProperty("FoldBatchNorm");
        foreach (bool folded in fold is null ? new[] { true } : new[] { true, false })
        {
            fold?.SetValue(train, folded);
            infer.GetType().GetProperty("FoldBatchNorm")?.SetValue(infer, folded);
            foreach (int batch in new[] { 1, 3 })
            {
                var a = new float[batch * train.OutputSize];
                var b = new float[batch * train.OutputSize];
                train.Predict(x.AsSpan(0, batch * train.InputSize), a);
                infer.Predict(x.AsSpan(0, batch * train.InputSize), b);
                Assert.Equal(a, b);
                Assert.All(a, v => Assert.True(float.IsFinite(v)));
            }
        }
    }

    [Fact]
    public void Asking_a_layer_for_a_tensor_it_lacks_names_what_it_has()
    {
        using var net = new Models.GcBatchNorm(4, 1);
        var e = Assert.Throws<KeyNotFoundException>(() => net.N1.Parameter("running_max"));
        Assert.Contains("N1", e.Message);
        Assert.Contains("weight, bias, running_mean, running_var", e.Message);
        Assert.Equal(net.N1.Parameter("running_var").Length, net.N1.OutputShape[0]);
        Assert.Equal(LayerType.BatchNorm2D, net.N1.Type);
        Assert.Equal(1e-5, net.N1.Options["epsilon"], 6);
        Assert.Empty(net.F.Tensors);
        Assert.True(net.F.Weight.IsEmpty);
    }
}
