using System.Collections.Generic;
using ModelGen.Generator.Analysis;
using ModelGen.Generator.Model;

namespace ModelGen.Generator.Layers;

/// <summary>A <c>[TransformerBlock]</c> member as declared: the block's arguments, checked.</summary>
internal sealed record BlockSpec(string Name, string Accessibility, int Width, int Heads, int FeedForward, bool Tanh, float Epsilon,
    float L2, string? InputName, LocationInfo? Location);

/// <summary>
/// <c>[TransformerBlock(width, heads)]</c> is not a layer kind of its own: the parser expands it into the ten layers of a
/// pre-LN block (GPT-2's), each then analysed, planned, emitted, gradient-checked and saved like a declared one, so the
/// block needs no kernel, no backward and no file format of its own. The layers are named after the member P
/// (<c>PLn1, PQkv, PAttn, PProj, PRes1, PLn2, PFc, PAct, PFc2</c>) and the last, the second residual add, is P itself
/// (the block's output, and the member's <c>Layer</c>); the others get no property.
/// </summary>
internal static class TransformerBlock
{
    public const string AttributeName = "TransformerBlockAttribute";

    /// <summary>The names the expansion gives its layers before the last (which is the member's own name).</summary>
    public static readonly string[] Parts = { "Ln1", "Qkv", "Attn", "Proj", "Res1", "Ln2", "Fc", "Act", "Fc2" };

    /// <summary>The block's arguments, or null (reported) when one is out of range.</summary>
    public static BlockSpec? Read(AttributeArgs a, string name, string accessibility, float l2, string? inputName, LayerDiagnostics d)
    {
        int width = a.Int(0, 0), heads = a.Int(1, 0), ff = a.NamedInt("FeedForward", 0);
        string gelu = a.NamedString("Gelu") ?? "tanh";
        float eps = a.NamedFloat("Epsilon", 1e-5f);
        if (width <= 0) d.Invalid($"[TransformerBlock] width must be positive, got {width}");
        else if (heads <= 0 || width % heads != 0) d.Invalid($"[TransformerBlock] heads must be positive and divide the width {width}, got {heads}");
        else if (ff < 0) d.Invalid($"[TransformerBlock] FeedForward must be positive (or 0 for 4 × width), got {ff}");
        else if (gelu is not ("tanh" or "none")) d.Invalid($"[TransformerBlock] Gelu must be \"tanh\" or \"none\", got \"{gelu}\"");
        else if (!(eps > 0f) || float.IsInfinity(eps)) d.Invalid($"[TransformerBlock] Epsilon must be a finite number > 0, got {eps.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}");
        else return new BlockSpec(name, accessibility, width, heads, ff == 0 ? 4 * width : ff, gelu == "tanh", eps, l2, inputName, d.Location);
        return null;
    }

    /// <summary>The ten layers; <paramref name="previous"/> is the layer declared before the block (or the network input),
    /// which the block reads unless it names its input.</summary>
    public static IEnumerable<LayerSpec> Expand(BlockSpec b, string previous)
    {
        string input = b.InputName ?? previous;
        LayerSpec Part(int index, LayerKind kind, LayerOptions options, string? inputName = null) =>
            new(index < Parts.Length ? b.Name + Parts[index] : b.Name, index < Parts.Length ? "" : b.Accessibility, kind, options,
                ActivationKind.None, 0f, kind.HasWeights ? b.L2 : float.NaN, inputName, b.Location, b.Name);
        yield return Part(0, LayerNorm.Instance, new LayerNormOptions(b.Epsilon), b.InputName);
        yield return Part(1, Dense.Instance, new DenseOptions(3 * b.Width));
        yield return Part(2, CausalSelfAttention.Instance, new CausalSelfAttentionOptions(b.Heads));
        yield return Part(3, Dense.Instance, new DenseOptions(b.Width));
        yield return Part(4, Add.Instance, new AddOptions(input));
        yield return Part(5, LayerNorm.Instance, new LayerNormOptions(b.Epsilon));
        yield return Part(6, Dense.Instance, new DenseOptions(b.FeedForward));
        yield return Part(7, Gelu.Instance, new GeluOptions(b.Tanh));
        yield return Part(8, Dense.Instance, new DenseOptions(b.Width));
        yield return Part(9, Add.Instance, new AddOptions(b.Name + Parts[4]));
    }
}
