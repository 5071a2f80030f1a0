using ModelGen;

namespace Tour;

/// <summary>The recurrent kinds stacked on a sequence input of 7 steps × 3 features — an LSTM and a GRU passing every
/// step's state on, a ReLU RNN whose last state feeds a dense layer — with odd sizes: its golden file shows how the
/// recurrent code reads.</summary>
[Network(7, 3)]
public partial class Recurrent
{
    [Lstm(5, ReturnSequences = true)] public partial Layer Encoder { get; }
    [Gru(4, ReturnSequences = true)] public partial Layer Middle { get; }
    [Rnn(3, Nonlinearity = "relu")] public partial Layer Final { get; }
    [Dense(3)] public partial Layer Logits { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}
