using ModelGen;

namespace MnistRnn;

/// <summary>MNIST as a sequence: each image's 28 rows are 28 steps of 28 pixels, read by an LSTM whose last state is
/// classified — the note's recurrent chapter on the data set of its first chapters.</summary>
[Network(28, 28)]
public partial class MnistLstm
{
    [Lstm(128)] public partial Layer Rnn { get; }
    [Dense(10)] public partial Layer Logits { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}
