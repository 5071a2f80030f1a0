using ModelGen;

namespace CharLm;

/// <summary>A character-level language model: 64 characters in, at every step a distribution over the next one.
/// Trained on consecutive 64-character pieces of long streams with <c>Stateful</c> on (truncated backpropagation
/// through time, as PyTorch's word_language_model example detaches its hidden state between pieces).</summary>
[Network(Steps)]
public partial class CharLstm
{
    /// <summary>Characters per piece: the truncation length of backpropagation through time.</summary>
    public const int Steps = 64;
    /// <summary>Symbols: newline, space, a…z.</summary>
    public const int Symbols = 28;

    [Embedding(Symbols, 32)] public partial Layer Embed { get; }
    [Lstm(256, ReturnSequences = true)] public partial Layer Rnn { get; }
    [Dense(Symbols)] public partial Layer Next { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

/// <summary>The same layers over one step, for generation: the trained parameters copied in (the layout does not
/// depend on the number of steps), <c>Stateful</c> on, one character per call.</summary>
[Network(1)]
public partial class CharLstmStep
{
    [Embedding(CharLstm.Symbols, 32)] public partial Layer Embed { get; }
    [Lstm(256, ReturnSequences = true)] public partial Layer Rnn { get; }
    [Dense(CharLstm.Symbols)] public partial Layer Next { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}
