using ModelGen;

namespace Mnist;

/// <summary>The MLP of the ModelGen README: 784 → 256 ReLU → 128 ReLU → 10, softmax cross-entropy.</summary>
[Network(784)]
public partial class MnistMlp
{
    [Dense(256), Relu] public partial Layer Hidden1 { get; }
    [Dense(128), Relu] public partial Layer Hidden2 { get; }
    [Dense(10)] public partial Layer Logits { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}
