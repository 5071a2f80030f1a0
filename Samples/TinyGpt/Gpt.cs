using ModelGen;

namespace TinyGpt;

/// <summary>
/// A character-level GPT (nanoGPT's shape, scaled down): token and learned position embeddings, four pre-LN Transformer
/// blocks of width 128 with 4 heads of 32 (<c>[TransformerBlock]</c>: <c>x += Proj(CausalSelfAttention(Qkv(LayerNorm(x))))</c>,
/// then <c>x += Fc2(Gelu(Fc(LayerNorm(x))))</c> with the MLP 4× wide) — a final layer norm and a head giving the next
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

    // Four pre-LN blocks, each x += Proj(CausalSelfAttention(Qkv(LayerNorm(x)))), then x += Fc2(Gelu(Fc(LayerNorm(x)))),
    // the MLP 4 × 128 wide; the generator expands each into its ten layers (B0Ln1, B0Qkv, B0Attn, … B0Fc2, then B0).
    [TransformerBlock(128, 4)] public partial Layer B0 { get; }
    [TransformerBlock(128, 4)] public partial Layer B1 { get; }
    [TransformerBlock(128, 4)] public partial Layer B2 { get; }
    [TransformerBlock(128, 4)] public partial Layer B3 { get; }

    [LayerNorm] public partial Layer LnF { get; }
    [Dense(Symbols)] public partial Layer Head { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}
