using ModelGen;

namespace Baselines;

// The note's baselines as one-layer networks, and an MLP, for 8x8 digits (64 inputs) and 28x28 images (784).

/// <summary>Linear softmax classifier: scores <c>Wx + b</c>, softmax cross-entropy.</summary>
[Network(64)]
public partial class DigitsSoftmax
{
    [Dense(10)] public partial Layer Scores { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

/// <summary>Linear SVM: scores <c>Wx + b</c>, multi-class hinge + L2 (hinge + L2 = SVM).</summary>
[Network(64), L2(1e-3)]
public partial class DigitsSvm
{
    [Dense(10)] public partial Layer Scores { get; }
    [MultiClassHinge] public partial Loss Loss { get; }
}

[Network(64)]
public partial class DigitsMlp
{
    [Dense(128), Relu] public partial Layer Hidden { get; }
    [Dropout(0.2)] public partial Layer Drop { get; }
    [Dense(10)] public partial Layer Logits { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

[Network(784)]
public partial class ImageSoftmax
{
    [Dense(10)] public partial Layer Scores { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

[Network(784), L2(1e-4)]
public partial class ImageSvm
{
    [Dense(10)] public partial Layer Scores { get; }
    [MultiClassHinge] public partial Loss Loss { get; }
}

[Network(784)]
public partial class ImageMlp
{
    [Dense(256), Relu] public partial Layer Hidden1 { get; }
    [Dropout(0.2)] public partial Layer Drop { get; }
    [Dense(128), Relu] public partial Layer Hidden2 { get; }
    [Dense(10)] public partial Layer Logits { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}
