using ModelGen;

namespace Cifar;

/// <summary>Workload W2: a VGG-style CNN for CIFAR-10 (3×3 convolutions, channels doubled after each pool).</summary>
[Network(3, 32, 32)]
public partial class W2
{
    [Conv2D(32, 3, padding: 1), Relu] public partial Layer Conv1 { get; }
    [Conv2D(32, 3, padding: 1), Relu] public partial Layer Conv2 { get; }
    [MaxPool2D(2)] public partial Layer Pool1 { get; }
    [Conv2D(64, 3, padding: 1), Relu] public partial Layer Conv3 { get; }
    [Conv2D(64, 3, padding: 1), Relu] public partial Layer Conv4 { get; }
    [MaxPool2D(2)] public partial Layer Pool2 { get; }
    [Flatten] public partial Layer Flat { get; }
    [Dense(256), Relu] public partial Layer Hidden { get; }
    [Dense(10)] public partial Layer Logits { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

/// <summary>W2's layers for 28×28 grey images (the Fashion-MNIST fallback): 28 → 14 → 7.</summary>
[Network(1, 28, 28)]
public partial class W2Gray
{
    [Conv2D(32, 3, padding: 1), Relu] public partial Layer Conv1 { get; }
    [Conv2D(32, 3, padding: 1), Relu] public partial Layer Conv2 { get; }
    [MaxPool2D(2)] public partial Layer Pool1 { get; }
    [Conv2D(64, 3, padding: 1), Relu] public partial Layer Conv3 { get; }
    [Conv2D(64, 3, padding: 1), Relu] public partial Layer Conv4 { get; }
    [MaxPool2D(2)] public partial Layer Pool2 { get; }
    [Flatten] public partial Layer Flat { get; }
    [Dense(256), Relu] public partial Layer Hidden { get; }
    [Dense(10)] public partial Layer Logits { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}
