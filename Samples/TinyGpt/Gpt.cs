using ModelGen;

namespace TinyGpt;

/// <summary>
/// A character-level GPT (nanoGPT's shape, scaled down): token and learned position embeddings, four pre-LN Transformer
/// blocks of width 128 with 4 heads of 32 — <c>x += Proj(CausalSelfAttention(Qkv(LayerNorm(x))))</c>, then
/// <c>x += Fc2(Gelu(Fc(LayerNorm(x))))</c> with the MLP 4× wide — a final layer norm and a head giving the next
/// character's logits at each of the 128 steps of the context.
/// </summary>
[Network(Context)]
public partial class Gpt
{
    /// <summary>Characters of context.</summary>
    public const int Context = 128;
    /// <summary>Symbols: newline, space, a…z.</summary>
    public const int Symbols = 28;

    [Embedding(Symbols, 128, Sparse = false)] public partial Layer Tok { get; }
    [PositionEmbedding] public partial Layer Pos { get; }

    [LayerNorm] public partial Layer B0Ln1 { get; }
    [Dense(384)] public partial Layer B0Qkv { get; }
    [CausalSelfAttention(4)] public partial Layer B0Attn { get; }
    [Dense(128)] public partial Layer B0Proj { get; }
    [Add(nameof(Pos))] public partial Layer B0Res1 { get; }
    [LayerNorm] public partial Layer B0Ln2 { get; }
    [Dense(512)] public partial Layer B0Fc { get; }
    [Gelu("tanh")] public partial Layer B0Act { get; }
    [Dense(128)] public partial Layer B0Fc2 { get; }
    [Add(nameof(B0Res1))] public partial Layer B0Res2 { get; }

    [LayerNorm] public partial Layer B1Ln1 { get; }
    [Dense(384)] public partial Layer B1Qkv { get; }
    [CausalSelfAttention(4)] public partial Layer B1Attn { get; }
    [Dense(128)] public partial Layer B1Proj { get; }
    [Add(nameof(B0Res2))] public partial Layer B1Res1 { get; }
    [LayerNorm] public partial Layer B1Ln2 { get; }
    [Dense(512)] public partial Layer B1Fc { get; }
    [Gelu("tanh")] public partial Layer B1Act { get; }
    [Dense(128)] public partial Layer B1Fc2 { get; }
    [Add(nameof(B1Res1))] public partial Layer B1Res2 { get; }

    [LayerNorm] public partial Layer B2Ln1 { get; }
    [Dense(384)] public partial Layer B2Qkv { get; }
    [CausalSelfAttention(4)] public partial Layer B2Attn { get; }
    [Dense(128)] public partial Layer B2Proj { get; }
    [Add(nameof(B1Res2))] public partial Layer B2Res1 { get; }
    [LayerNorm] public partial Layer B2Ln2 { get; }
    [Dense(512)] public partial Layer B2Fc { get; }
    [Gelu("tanh")] public partial Layer B2Act { get; }
    [Dense(128)] public partial Layer B2Fc2 { get; }
    [Add(nameof(B2Res1))] public partial Layer B2Res2 { get; }

    [LayerNorm] public partial Layer B3Ln1 { get; }
    [Dense(384)] public partial Layer B3Qkv { get; }
    [CausalSelfAttention(4)] public partial Layer B3Attn { get; }
    [Dense(128)] public partial Layer B3Proj { get; }
    [Add(nameof(B2Res2))] public partial Layer B3Res1 { get; }
    [LayerNorm] public partial Layer B3Ln2 { get; }
    [Dense(512)] public partial Layer B3Fc { get; }
    [Gelu("tanh")] public partial Layer B3Act { get; }
    [Dense(128)] public partial Layer B3Fc2 { get; }
    [Add(nameof(B3Res1))] public partial Layer B3Res2 { get; }

    [LayerNorm] public partial Layer LnF { get; }
    [Dense(Symbols)] public partial Layer Head { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}
