using ModelGen;

namespace Tour;

/// <summary>Sequences of 8 steps × 3 features of different lengths, padded with steps of zeros (Keras's Masking): an
/// LSTM's every step into a GRU's last state — its golden file shows the mask of padded steps at work on float inputs.</summary>
[Network(8, 3)]
public partial class Padded
{
    [Masking(0.0)] public partial Layer Pad { get; }
    [Lstm(4, ReturnSequences = true)] public partial Layer Encoder { get; }
    [Gru(3)] public partial Layer Final { get; }
    [Dense(2)] public partial Layer Logits { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}
