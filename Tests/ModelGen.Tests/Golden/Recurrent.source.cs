using ModelGen;

namespace Tour;

/// <summary>Recurrent layers on a sequence input of 7 steps × 3 features: a stacked LSTM (every step's state into the
/// second, whose last state feeds a dense layer), odd sizes: its golden file shows how the recurrent code reads.</summary>
[Network(7, 3)]
public partial class Recurrent
{
    [Lstm(5, ReturnSequences = true)] public partial Layer Encoder { get; }
    [Lstm(4)] public partial Layer Final { get; }
    [Dense(3)] public partial Layer Logits { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}
