using ModelGen;

namespace Tour;

/// <summary>A one-block character GPT (context 16, width 32, 4 heads): token and position embeddings, a pre-LN
/// Transformer block (fused q/k/v projection, causal attention, output projection, residual; layer norm, MLP 4× with
/// GELU, residual), a final layer norm and a next-token head at every step whose weight is the token table (tied). Its golden file
/// shows the new kinds.</summary>
[Network(16)]
public partial class GptBlock
{
    [Embedding(40, 32, Sparse = false)] public partial Layer Tok { get; }
    [PositionEmbedding] public partial Layer Pos { get; }
    [LayerNorm] public partial Layer Ln1 { get; }
    [Dense(96)] public partial Layer Qkv { get; }
    [CausalSelfAttention(4)] public partial Layer Attn { get; }
    [Dense(32)] public partial Layer Proj { get; }
    [Add(nameof(Pos))] public partial Layer Res1 { get; }
    [LayerNorm] public partial Layer Ln2 { get; }
    [Dense(128)] public partial Layer Fc { get; }
    [Gelu("tanh")] public partial Layer Act { get; }
    [Dense(32)] public partial Layer Fc2 { get; }
    [Add(nameof(Res1))] public partial Layer Res2 { get; }
    [LayerNorm] public partial Layer LnF { get; }
    [Dense(40, TiedTo = nameof(Tok))] public partial Layer Head { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}
