using ModelGen;

namespace TextClassifier;

/// <summary>Which book a line comes from: its first 40 words as ids (0 pads shorter lines and is masked), a learned
/// 64-wide vector per word, a GRU reading them, and a two-way classifier on its last state.</summary>
[Network(BibleOrAusten.Words)]
public partial class BibleOrAusten
{
    /// <summary>Words read per line.</summary>
    public const int Words = 40;
    /// <summary>Ids: padding, unknown, and the 10,000 most frequent training words.</summary>
    public const int VocabularySize = 10002;

    [Embedding(VocabularySize, 64, MaskZero = true)] public partial Layer Embed { get; }
    [Gru(64)] public partial Layer Reader { get; }
    [Dense(2)] public partial Layer Logits { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}
