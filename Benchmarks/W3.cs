using ModelGen;

namespace ModelGen.Benchmarks;

/// <summary>Workload W3: an LSTM over 32 steps of 64 features, hidden 128, its last state into a dense layer of 10.</summary>
[Network(32, 64)]
public partial class W3
{
    [Lstm(128)] public partial Layer Rnn { get; }
    [Dense(10)] public partial Layer Logits { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

/// <summary>W3 over 31 steps (a diagnostic): a sequence panel's row is 31·16 floats, an odd number of cache lines.</summary>
[Network(31, 64)]
public partial class W3Odd
{
    [Lstm(128)] public partial Layer Rnn { get; }
    [Dense(10)] public partial Layer Logits { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}
