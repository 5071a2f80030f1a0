using ModelGen;

namespace Tour;

/// <summary>Token ids of 6 steps (id 0 padding) through an embedding of 50 × 4 into an LSTM whose every step passes
/// dropout into a bidirectional GRU's last states: its golden file shows the embedding, the mask of padded steps, the sparse table and the reverse direction.</summary>
[Network(6)]
public partial class Tokens
{
    [Embedding(50, 4, MaskZero = true)] public partial Layer Embed { get; }
    [Lstm(5, ReturnSequences = true)] public partial Layer Encoder { get; }
    [Dropout(0.1)] public partial Layer Drop { get; }
    [Gru(3, Bidirectional = true)] public partial Layer Final { get; }
    [Dense(2)] public partial Layer Logits { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}
