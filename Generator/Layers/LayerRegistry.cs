using System.Collections.Generic;
using System.Linq;
using ModelGen.Generator.Analysis;

namespace ModelGen.Generator.Layers;

/// <summary>
/// Every layer kind, once. The parser finds a kind here by its attribute; tests enumerate <see cref="All"/> and fail
/// when a kind is not parsed, described, gradient-checked, width-checked, present in a golden file, or missing a
/// backend (so a new kind cannot be half added). Adding a kind: its attribute, one <c>Layers/&lt;Kind&gt;.cs</c>, its
/// runtime kernel, tests — and its line here.
/// </summary>
internal static class LayerRegistry
{
    public static readonly IReadOnlyList<LayerKind> All = new LayerKind[]
    {
        Dense.Instance, Activation.Instance, Dropout.Instance, Conv2D.Instance, MaxPool2D.Instance, AvgPool2D.Instance,
        GlobalAvgPool.Instance, Flatten.Instance, Add.Instance, BatchNorm2D.Instance, Gelu.Instance, Lstm.Instance, Gru.Instance, Rnn.Instance,
        Embedding.Instance, Masking.Instance, LayerNorm.Instance, PositionEmbedding.Instance, CausalSelfAttention.Instance,
    };

    private static readonly Dictionary<string, LayerKind> s_byAttribute =
        All.Where(k => k.AttributeName is not null).ToDictionary(k => k.AttributeName!, k => k);

    /// <summary>The kind declared by the attribute class named <paramref name="attributeName"/>, or null.</summary>
    public static LayerKind? ByAttribute(string attributeName) => s_byAttribute.TryGetValue(attributeName, out var k) ? k : null;

    /// <summary>The kind a member with only an activation attribute becomes.</summary>
    public static LayerKind StandaloneActivation => Activation.Instance;
}
