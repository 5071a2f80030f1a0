using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using ModelGen.Generator.Diagnostics;
using ModelGen.Tests.Harness;
using Xunit;

namespace ModelGen.Tests;

/// <summary>One test per diagnostic id: the declaration a user could write, the id, and where it points.</summary>
public class DiagnosticTests
{
    private const string Usings = "using ModelGen;\n";

    private static Diagnostic Single(string source, string id, string? at = null, IReadOnlyDictionary<string, string>? props = null)
    {
        var r = GeneratorHarness.Run(Usings + source, props);
        var matching = r.GeneratorDiagnostics.Where(d => d.Id == id).ToList();
        Assert.True(matching.Count == 1, $"expected one {id}, got: {string.Join("; ", r.GeneratorDiagnostics)}");
        var d = matching[0];
        if (at is not null)
        {
            // Generators report file locations (path + span), since their models may not hold syntax trees.
            var span = d.Location.GetLineSpan();
            Assert.True(span.IsValid && d.Location.Kind != LocationKind.None, $"{id} has no source location");
            var tree = r.Output.SyntaxTrees.Single(t => t.FilePath == span.Path);
            string text = tree.ToString().Substring(d.Location.SourceSpan.Start, d.Location.SourceSpan.Length);
            Assert.Equal(at, text);
        }
        // The generator never emits code for an invalid network, so the only errors are its own diagnostics
        // (plus the compiler's CS9248 "partial property must have an implementation" for the unimplemented members).
        return d;
    }

    /// <summary>The recurrent kinds: a non-sequence input, a non-positive hidden size, an unknown nonlinearity, and a
    /// sequence output given to a loss.</summary>
    [Theory]
    [InlineData("[Network(3, 8, 8)]", "[Lstm(4)] public partial Layer A { get; }", "MG0014", "A", "sequence [steps, features]")]
    [InlineData("[Network(12)]", "[Gru(4)] public partial Layer A { get; }", "MG0014", "A", "sequence [steps, features]")]
    [InlineData("[Network(5, 3)]", "[Gru(0)] public partial Layer A { get; }", "MG0007", "A", "hidden")]
    [InlineData("[Network(5, 3)]", "[Rnn(4, Nonlinearity = \"sigmoid\")] public partial Layer A { get; }", "MG0008", "A", "\"tanh\" or \"relu\"")]
    [InlineData("[Network(5, 3)]", "[Lstm(4, ReturnSequences = true)] public partial Layer A { get; }", "MG0012", "L", "sequence [5,4]")]
    [InlineData("[Network(12)]", "[Masking] public partial Layer A { get; }", "MG0014", "A", "a sequence [steps, features]")]
    [InlineData("[Network(5, 3)]", "[Masking(double.NaN)] public partial Layer A { get; }", "MG0008", "A", "NaN")]
    [InlineData("[Network(8, 9, 9)]", "[Conv2D(8, 5, padding: 2, Algorithm = ConvAlgorithm.Winograd)] public partial Layer A { get; }", "MG0008", "A", "needs a 3x3 kernel with stride 1; this one is 5x5 with stride 1")]
    [InlineData("[Network(8, 9, 9)]", "[Conv2D(8, 3, stride: 2, Algorithm = ConvAlgorithm.Winograd)] public partial Layer A { get; }", "MG0008", "A", "3x3 with stride 2")]
    [InlineData("[Network(8, 9, 9)]", "[Conv2D(8, 3, Algorithm = (ConvAlgorithm)7)] public partial Layer A { get; }", "MG0008", "A", "Algorithm 7 is not a ConvAlgorithm")]
    public void Recurrent_layers_report_what_is_wrong(string network, string member, string id, string at, string words)
    {
        var d = Single($"{network} public partial class Net {{ {member} [Mse] public partial Loss L {{ get; }} }}", id, at);
        Assert.Contains(words, d.GetMessage());
    }

    /// <summary>Embeddings: sizes, where they may read, their input shape, and a layer that would read padded steps as data.</summary>
    [Theory]
    [InlineData("[Network(5)]", "[Embedding(0, 4)] public partial Layer A { get; }", "MG0007", "A", "vocabulary")]
    [InlineData("[Network(5)]", "[Embedding(10, -2)] public partial Layer A { get; }", "MG0007", "A", "dimension")]
    [InlineData("[Network(5, 3)]", "[Embedding(10, 4)] public partial Layer A { get; }", "MG0014", "A", "token ids [steps]")]
    [InlineData("[Network(5)]", "[Dense(5)] public partial Layer D { get; } [Embedding(10, 4)] public partial Layer A { get; }", "MG0008", "A", "must read the network input")]
    [InlineData("[Network(5)]", "[Embedding(1, 4, MaskZero = true)] public partial Layer A { get; }", "MG0008", "A", "at least 2 ids")]
    [InlineData("[Network(5)]", "[Embedding(20000000, 1)] public partial Layer A { get; }", "MG0008", "A", "2^24")]
    [InlineData("[Network(5)]", "[Embedding(10, 4), L2(0.01)] public partial Layer A { get; }", "MG0008", "A", "Sparse = false")]
    public void Embeddings_report_what_is_wrong(string network, string member, string id, string at, string words)
    {
        var d = Single($"{network} public partial class Net {{ {member} [Mse] public partial Loss L {{ get; }} }}", id, at);
        Assert.Contains(words, d.GetMessage());
    }

    /// <summary>The Transformer kinds and weight tying: heads that do not divide the channels, an input that is not a fused
    /// projection, layer norm on an image, a tie to a table of another shape, to a sparse table, to a layer without a
    /// weight, and to a layer that does not exist.</summary>
    [Theory]
    [InlineData("[Network(5)]", "[Embedding(10, 4)] public partial Layer E { get; } [Dense(12)] public partial Layer Q { get; } [CausalSelfAttention(3)] public partial Layer A { get; }", "MG0008", "A", "3 heads do not divide the 4 channels")]
    [InlineData("[Network(5, 4)]", "[CausalSelfAttention(2)] public partial Layer A { get; }", "MG0014", "A", "fused projection [steps, 3·C]")]
    [InlineData("[Network(5, 6)]", "[CausalSelfAttention(0)] public partial Layer A { get; }", "MG0007", "A", "heads")]
    [InlineData("[Network(12)]", "[PositionEmbedding] public partial Layer A { get; }", "MG0014", "A", "sequence [steps, features]")]
    [InlineData("[Network(3, 8, 8)]", "[LayerNorm] public partial Layer A { get; }", "MG0014", "A", "BatchNorm2D")]
    [InlineData("[Network(5)]", "[LayerNorm(0)] public partial Layer A { get; }", "MG0008", "A", "epsilon > 0")]
    [InlineData("[Network(5)]", "[Embedding(10, 4, Sparse = false)] public partial Layer E { get; } [Dense(9, TiedTo = nameof(E))] public partial Layer A { get; }", "MG0008", "A", "its weight is [10, 4], this layer's would be [9, 4]")]
    [InlineData("[Network(5)]", "[Embedding(10, 4)] public partial Layer E { get; } [Dense(10, TiedTo = nameof(E))] public partial Layer A { get; }", "MG0008", "A", "Sparse = false")]
    [InlineData("[Network(5)]", "[Embedding(10, 4, Sparse = false)] public partial Layer E { get; } [Gelu] public partial Layer G { get; } [Dense(10, TiedTo = nameof(G))] public partial Layer A { get; }", "MG0008", "A", "no 'weight' to share")]
    [InlineData("[Network(5)]", "[Embedding(10, 4, Sparse = false)] public partial Layer E { get; } [Dense(10, TiedTo = \"Nope\")] public partial Layer A { get; }", "MG0019", "A", "not a layer of this network")]
    public void Transformer_kinds_and_ties_report_what_is_wrong(string network, string members, string id, string at, string words)
    {
        var d = Single($"{network} public partial class Net {{ {members} [Mse] public partial Loss L {{ get; }} }}", id, at);
        Assert.Contains(words, d.GetMessage());
    }

    /// <summary>A <c>[TransformerBlock]</c>'s arguments out of range, a width other than its input's (reported at the
    /// block, naming the layer where the shapes meet), an activation on it, and another member with the name of one of the
    /// layers it adds.</summary>
    [Theory]
    [InlineData("[TransformerBlock(0, 2)] public partial Layer B { get; }", "MG0008", "B", "width must be positive, got 0")]
    [InlineData("[TransformerBlock(8, 3)] public partial Layer B { get; }", "MG0008", "B", "divide the width 8, got 3")]
    [InlineData("[TransformerBlock(8, 2, FeedForward = -1)] public partial Layer B { get; }", "MG0008", "B", "FeedForward")]
    [InlineData("[TransformerBlock(8, 2, Gelu = \"erf\")] public partial Layer B { get; }", "MG0008", "B", "\"erf\"")]
    [InlineData("[TransformerBlock(8, 2, Epsilon = 0)] public partial Layer B { get; }", "MG0008", "B", "Epsilon")]
    [InlineData("[TransformerBlock(6, 2)] public partial Layer B { get; }", "MG0014", "B", "'E' is [5,8]")]
    [InlineData("[TransformerBlock(8, 2), Relu] public partial Layer B { get; }", "MG0006", "B", "takes no activation")]
    [InlineData("[TransformerBlock(8, 2)] public partial Layer B { get; } [Dense(8)] public partial Layer BFc { get; }", "MG0008", "B", "another member of the class has that name")]
    public void Transformer_blocks_report_what_is_wrong(string members, string id, string at, string words)
    {
        var d = Single($"[Network(5)] public partial class Net {{ [Embedding(10, 8)] public partial Layer E {{ get; }} {members} [Mse] public partial Loss L {{ get; }} }}", id, at);
        Assert.Contains(words, d.GetMessage());
    }

    /// <summary>The generated code of a block: each added layer's banner says which block and part it is, the block's own
    /// layer that it is the output, and the class gets no property for the parts.</summary>
    [Fact]
    public void A_blocks_layers_say_whose_parts_they_are_in_the_generated_code()
    {
        var r = GeneratorHarness.Run(Usings + @"
[Network(5)] public partial class Net
{
    [Embedding(10, 8)] public partial Layer E { get; }
    [TransformerBlock(8, 2)] public partial Layer B { get; }
    [SoftmaxCrossEntropy] public partial Loss L { get; }
}");
        Assert.Empty(r.GeneratorDiagnostics);
        string code = r.Source("Net.g.cs");
        Assert.Contains("// ── BLn1: LayerNorm", code);
        Assert.Contains("(TransformerBlock B, part 1 of 10)", code);
        Assert.Contains("// ── BQkv: Dense(24", code);
        Assert.Contains("(TransformerBlock B, part 9 of 10)", code);
        Assert.Contains("(TransformerBlock B: its output)", code);
        Assert.Contains("partial Layer B {", code);
        Assert.DoesNotContain("partial Layer BQkv", code);
    }

    /// <summary>An embedding's padded steps read by a layer that would take them for data (Keras: "does not support masking").</summary>
    [Theory]
    [InlineData("[Embedding(10, 4, MaskZero = true)] public partial Layer E { get; } [Gelu] public partial Layer A { get; }", "A", "Gelu")]
    [InlineData("[Embedding(10, 4, MaskZero = true)] public partial Layer E { get; } [Lstm(3, ReturnSequences = true)] public partial Layer R { get; } [Dropout(0.1)] public partial Layer D { get; } [Tanh] public partial Layer A { get; }", "A", "Activation")]
    [InlineData("[Embedding(10, 4, MaskZero = true)] public partial Layer E { get; } [Embedding(10, 4, Input = \"input\")] public partial Layer F { get; } [Add(nameof(E))] public partial Layer A { get; }", "A", "Add")]
    public void MG0020_masked_sequence_read_by_a_layer_that_ignores_masks(string members, string at, string kind)
    {
        var d = Single($"[Network(5)] public partial class Net {{ {members} [Gru(2)] public partial Layer Z {{ get; }} [Mse] public partial Loss L {{ get; }} }}", "MG0020", at);
        Assert.Contains(kind, d.GetMessage());
    }

    [Fact]
    public void Class_wide_L2_passes_sparse_tables_by()
    {
        var r = GeneratorHarness.Run(Usings + @"
[Network(5), L2(0.01)] public partial class Net
{
    [Embedding(10, 4)] public partial Layer E { get; }
    [Gru(3)] public partial Layer G { get; }
    [Dense(2)] public partial Layer D { get; }
    [SoftmaxCrossEntropy] public partial Loss L { get; }
}");
        Assert.Empty(r.GeneratorDiagnostics);
        string code = r.Source("Net.g.cs");
        Assert.Contains("AddL2Gradient(_arena.Span(D_Weight", code);
        Assert.DoesNotContain("AddL2Gradient(_arena.Span(E_Weight", code);
    }

    [Fact]
    public void MG0001_class_not_partial() =>
        Single("[Network(4)] public class Net { [Dense(2)] public Layer A => null!; }", "MG0001", "Net");

    [Theory]
    [InlineData("public class Outer { [Network(4)] public partial class Net { [Dense(2)] public partial Layer A { get; } [Mse] public partial Loss L { get; } } }", "nested")]
    [InlineData("[Network(4)] public partial class Net<T> { [Dense(2)] public partial Layer A { get; } [Mse] public partial Loss L { get; } }", "generic")]
    [InlineData("[Network(4)] public static partial class Net { }", "static")]
    public void MG0002_unsupported_class(string source, string word)
    {
        var d = Single(source, "MG0002", "Net");
        Assert.Contains(word, d.GetMessage());
    }

    [Theory]
    [InlineData("[Network]")]
    [InlineData("[Network(0)]")]
    [InlineData("[Network(28, -1)]")]
    public void MG0003_invalid_input_shape(string attr) =>
        Single(attr + " public partial class Net { [Dense(2)] public partial Layer A { get; } [Mse] public partial Loss L { get; } }", "MG0003", "Net");

    [Theory]
    [InlineData("[Dense(2)] public Layer A { get; }")]                 // not partial
    [InlineData("[Dense(2)] public partial Layer A { get; set; }")]    // setter
    [InlineData("[Dense(2)] public static partial Layer A { get; }")]  // static
    [InlineData("[Dense(2)] public partial int A { get; }")]           // wrong type
    public void MG0004_invalid_layer_member(string member) =>
        Single($"[Network(4)] public partial class Net {{ {member} [Mse] public partial Loss L {{ get; }} }}", "MG0004", "A");

    [Fact]
    public void MG0004_invalid_loss_member() =>
        Single("[Network(4)] public partial class Net { [Dense(2)] public partial Layer A { get; } [Mse] public partial Layer L { get; } }", "MG0004", "L");

    [Theory]
    [InlineData("public partial Layer A { get; }", "A")]
    [InlineData("public partial Loss L { get; }", "L")]
    public void MG0005_member_without_attribute(string member, string name) =>
        Single($"[Network(4)] public partial class Net {{ [Dense(2)] public partial Layer X {{ get; }} {member} }}", "MG0005", name);

    [Theory]
    [InlineData("[Dense(2), Dense(3)]", "more than one layer kind")]
    [InlineData("[Dense(2), Relu, Tanh]", "more than one activation")]
    [InlineData("[Dense(2), Mse]", "a loss cannot also be a layer")]
    public void MG0006_conflicting_attributes(string attrs, string words)
    {
        var d = Single($"[Network(4)] public partial class Net {{ {attrs} public partial Layer A {{ get; }} [Mse] public partial Loss L {{ get; }} }}", "MG0006", "A");
        Assert.Contains(words, d.GetMessage());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public void MG0007_non_positive_units(int units)
    {
        var d = Single($"[Network(4)] public partial class Net {{ [Dense(8)] public partial Layer A {{ get; }} [Dense({units})] public partial Layer B {{ get; }} [Mse] public partial Loss L {{ get; }} }}", "MG0007", "B");
        Assert.Contains("'B'", d.GetMessage());
    }

    [Theory]
    [InlineData("-0.5f")]
    [InlineData("1.5f")]
    [InlineData("float.NaN")]
    public void MG0008_invalid_leaky_relu_slope(string alpha) =>
        Single($"[Network(4)] public partial class Net {{ [Dense(8), LeakyRelu({alpha})] public partial Layer A {{ get; }} [Mse] public partial Loss L {{ get; }} }}", "MG0008", "A");

    [Theory]
    [InlineData("[Dense(8)] public partial Layer A { get; } [Mse] public partial Loss L { get; } [Dropout(1.0)] public partial Layer D { get; }", "D", "Dropout rate")]
    [InlineData("[Dense(8), L2(-1)] public partial Layer A { get; } [Mse] public partial Loss L { get; }", "A", "L2 lambda")]
    [InlineData("[Dense(8)] public partial Layer X { get; } [Relu, L2(0.1)] public partial Layer A { get; } [Mse] public partial Loss L { get; }", "A", "has none")]
    [InlineData("[Dense(8)] public partial Layer X { get; } [Huber(0)] public partial Loss A { get; }", "A", "Huber delta")]
    [InlineData("[Dense(8)] public partial Layer X { get; } [Quantile(1.5)] public partial Loss A { get; }", "A", "Quantile tau")]
    public void MG0008_invalid_argument_of_dropout_l2_or_loss(string members, string at, string words)
    {
        var d = Single($"[Network(4)] public partial class Net {{ {members} }}", "MG0008", at);
        Assert.Contains(words, d.GetMessage());
    }

    [Fact]
    public void MG0008_invalid_network_l2() =>
        Single("[Network(4), L2(double.NaN)] public partial class Net { [Dense(2)] public partial Layer A { get; } [Mse] public partial Loss L { get; } }", "MG0008", "Net");

    [Fact]
    public void MG0006_dropout_with_an_activation() =>
        Single("[Network(4)] public partial class Net { [Dense(8)] public partial Layer X { get; } [Dropout(0.5), Relu] public partial Layer A { get; } [Mse] public partial Loss L { get; } }", "MG0006", "A");

    [Fact]
    public void MG0006_l2_on_the_loss() =>
        Single("[Network(4)] public partial class Net { [Dense(2)] public partial Layer X { get; } [Mse, L2(0.1)] public partial Loss A { get; } }", "MG0006", "A");

    [Theory]
    [InlineData("[Dense(10)]", "[BinaryCrossEntropy]", "one logit")]
    [InlineData("[Dense(1), Sigmoid]", "[BinaryCrossEntropy]", "applies the sigmoid")]
    [InlineData("[Dense(3)]", "[Hinge]", "labels ±1")]
    [InlineData("[Dense(1)]", "[MultiClassHinge]", "at least 2 classes")]
    [InlineData("[Dense(4), Softmax]", "[MultiClassHinge]", "raw scores")]
    public void MG0012_binary_and_hinge_losses_that_do_not_fit(string last, string loss, string words)
    {
        var d = Single($"[Network(4)] public partial class Net {{ [Dense(8), Relu] public partial Layer A {{ get; }} {last} public partial Layer Out {{ get; }} {loss} public partial Loss L {{ get; }} }}", "MG0012", "L");
        Assert.Contains(words, d.GetMessage());
    }

    [Theory]
    [InlineData("[Add(\"Nope\")] public partial Layer S { get; }", "S", "not a layer of this network")]
    [InlineData("[Add(nameof(Later))] public partial Layer S { get; } [Dense(8)] public partial Layer Later { get; }", "S", "declared later")]
    [InlineData("[Dense(8, Input = nameof(S))] public partial Layer S { get; }", "S", "itself")]
    public void MG0019_unknown_or_later_layer_name(string members, string at, string words)
    {
        var d = Single($"[Network(4)] public partial class Net {{ [Dense(8)] public partial Layer A {{ get; }} {members} [Mse] public partial Loss L {{ get; }} }}", "MG0019", at);
        Assert.Contains(words, d.GetMessage());
    }

    [Fact]
    public void MG0014_add_of_two_shapes() =>
        Assert.Contains("one shape", Single("[Network(4)] public partial class Net { [Dense(8)] public partial Layer A { get; } [Dense(6)] public partial Layer B { get; } [Add(nameof(A))] public partial Layer S { get; } [Mse] public partial Loss L { get; } }", "MG0014", "S").GetMessage());

    [Fact]
    public void MG0009_no_layers() =>
        Single("[Network(4)] public partial class Net { [Mse] public partial Loss L { get; } }", "MG0009", "Net");

    [Fact]
    public void MG0010_trainable_network_without_loss() =>
        Single("[Network(4)] public partial class Net { [Dense(2)] public partial Layer A { get; } }", "MG0010", "Net");

    [Fact]
    public void MG0011_two_losses() =>
        Single("[Network(4)] public partial class Net { [Dense(2)] public partial Layer A { get; } [Mse] public partial Loss L1 { get; } [SoftmaxCrossEntropy] public partial Loss L2 { get; } }", "MG0011", "L2");

    [Theory]
    [InlineData("[Dense(1)]", "at least 2 classes")]
    [InlineData("[Dense(10), Softmax]", "remove [Softmax]")]
    public void MG0012_loss_does_not_fit_output(string last, string words)
    {
        var d = Single($"[Network(4)] public partial class Net {{ [Dense(8), Relu] public partial Layer A {{ get; }} {last} public partial Layer Out {{ get; }} [SoftmaxCrossEntropy] public partial Loss L {{ get; }} }}", "MG0012", "L");
        Assert.Contains(words, d.GetMessage());
        Assert.Contains("'Out'", d.GetMessage());
    }

    [Theory]
    [InlineData("Predict")]
    [InlineData("Parameters")]
    [InlineData("Summary")]
    [InlineData("GetActivation")]
    [InlineData("input")]   // the network input's name in Input = "input"
    [InlineData("Input")]   // would share the input's buffer names
    [InlineData("Cuda")]    // the GPU twin, a nested class
    public void MG0013_layer_name_collides_with_generated_member(string name) =>
        Single($"[Network(4)] public partial class Net {{ [Dense(2)] public partial Layer {name} {{ get; }} [Mse] public partial Loss L {{ get; }} }}", "MG0013", name);

    /// <summary>The class's own members that cannot overload — a constant, a property, a field, a nested type, an event —
    /// named like a generated member: MG0013 at the member, not a C# error inside the generated code (a GPU check's
    /// <c>const int Vocabulary</c> on a token model was CS0102 in generated code before).</summary>
    [Theory]
    [InlineData("public const int Vocabulary = 5;", "Vocabulary")]
    [InlineData("public string Summary => \"mine\";", "Summary")]
    [InlineData("private float[] _arena = new float[1];", "_arena")]
    [InlineData("public sealed class Cuda { }", "Cuda")]
    [InlineData("public event System.Action? Threads;", "Threads")]
    public void MG0013_another_member_collides_with_generated_member(string member, string name)
    {
        var d = Single($"[Network(4)] public partial class Net {{ {member} [Dense(2)] public partial Layer A {{ get; }} [Mse] public partial Loss L {{ get; }} }}", "MG0013", name);
        Assert.Contains("rename it", d.GetMessage());
    }

    /// <summary>Methods may overload the generated ones (a convenience <c>Predict(float[])</c>), and members with names of
    /// their own are the user's business: no diagnostic, and the class compiles.</summary>
    [Fact]
    public void Own_members_with_other_names_or_overloads_compile()
    {
        var r = GeneratorHarness.Run(Usings + "[Network(4)] public partial class Net { public const int Classes = 2; private readonly string _label = \"x\"; public string Label => _label; " +
            "public float[] Predict(float[] x) { var y = new float[x.Length / InputSize * OutputSize]; Predict(x, y); return y; } " +
            "[Dense(Classes)] public partial Layer A { get; } [Mse] public partial Loss L { get; } }");
        Assert.Empty(r.GeneratorDiagnostics);
        Assert.Empty(r.Output.GetDiagnostics().Where(d => d.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error));
    }

    [Fact]
    public void MG0014_dense_on_a_multi_dimensional_input() =>
        Single("[Network(1, 28, 28)] public partial class Net { [Dense(2)] public partial Layer A { get; } [Mse] public partial Loss L { get; } }", "MG0014", "A");

    [Fact]
    public void MG0015_loss_on_inference_only_network()
    {
        var r = GeneratorHarness.Run(Usings + "[Network(4, InferenceOnly = true)] public partial class Net { [Dense(2)] public partial Layer A { get; } [Mse] public partial Loss L { get; } }");
        var d = Assert.Single(r.GeneratorDiagnostics);
        Assert.Equal("MG0015", d.Id);
        Assert.Equal(DiagnosticSeverity.Warning, d.Severity);
        Assert.DoesNotContain(r.CompileDiagnostics, x => x.Severity == DiagnosticSeverity.Error); // still compiles
    }

    [Fact]
    public void MG0016_publish_aot_without_instruction_set()
    {
        const string ok = "[Network(4)] public partial class Net { [Dense(2)] public partial Layer A { get; } [Mse] public partial Loss L { get; } }";
        var d = Single(ok, "MG0016", props: new Dictionary<string, string> { ["PublishAot"] = "true" });
        Assert.Equal(DiagnosticSeverity.Warning, d.Severity);
        Assert.Contains("IlcInstructionSet", d.GetMessage());
        var set = GeneratorHarness.Run(Usings + ok, new Dictionary<string, string> { ["PublishAot"] = "true", ["IlcInstructionSet"] = "x86-64-v3" });
        Assert.DoesNotContain(set.GeneratorDiagnostics, x => x.Id == "MG0016");
        var noAot = GeneratorHarness.Run(Usings + ok, new Dictionary<string, string>());
        Assert.DoesNotContain(noAot.GeneratorDiagnostics, x => x.Id == "MG0016");
    }

    [Fact]
    public void Every_descriptor_has_a_test()
    {
        var tested = typeof(DiagnosticTests).GetMethods().Select(m => m.Name).Where(n => n.StartsWith("MG")).Select(n => n.Substring(0, 6)).ToHashSet();
        tested.Add("MG0099"); // internal error: GeneratorPipelineTests
        tested.Add("MG0017"); tested.Add("MG0018"); // ConvTests
        foreach (var id in Descriptors.ById.Keys) Assert.Contains(id, tested);
    }

    /// <summary>Natural layer names that are also names of runtime classes the generated code calls.</summary>
    [Fact]
    public void Layers_may_be_named_like_runtime_classes()
    {
        var r = GeneratorHarness.Run(Usings + @"
[Network(1, 8, 8)] public partial class Net
{
    [Conv2D(2, 3, padding: 1)] public partial Layer Layout { get; }
    [BatchNorm2D, Relu] public partial Layer BatchNorm { get; }
    [Add(nameof(Layout))] public partial Layer Sum { get; }
    [MaxPool2D(2)] public partial Layer Pool { get; }
    [Dropout(0.1)] public partial Layer Dropout { get; }
    [Flatten] public partial Layer Images { get; }
    [Dense(4)] public partial Layer Gemm { get; }
    [Softmax] public partial Layer Softmax { get; }
    [Mse] public partial Loss Losses { get; }
}");
        Assert.Empty(r.GeneratorDiagnostics);
        Assert.Empty(r.CompileDiagnostics);
    }

    [Fact]
    public void Unrelated_classes_and_members_are_left_alone()
    {
        var r = GeneratorHarness.Run(Usings + @"
public partial class Plain { public int X { get; } }
[Network(4)] public partial class Net
{
    public const int Version = 2;
    public string Name { get; } = ""n"";
    [System.Obsolete] public int Other => 1;
    [Dense(2)] public partial Layer A { get; }
    [Mse] public partial Loss L { get; }
}");
        Assert.Empty(r.GeneratorDiagnostics);
        Assert.Empty(r.CompileDiagnostics);
    }
}
