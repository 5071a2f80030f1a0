using ModelGen;

namespace MnistCnn;

/// <summary>LeNet-like: conv → relu → pool, twice, then two dense layers.</summary>
[Network(1, 28, 28)]
public partial class LeNet
{
    [Conv2D(16, 5, padding: 2), Relu] public partial Layer Conv1 { get; }   // [16,28,28]
    [MaxPool2D(2)] public partial Layer Pool1 { get; }                       // [16,14,14]
    [Conv2D(32, 5, padding: 2), Relu] public partial Layer Conv2 { get; }   // [32,14,14]
    [MaxPool2D(2)] public partial Layer Pool2 { get; }                       // [32,7,7]
    [Flatten] public partial Layer Flat { get; }                             // [1568]
    [Dense(128), Relu] public partial Layer Hidden { get; }
    [Dropout(0.25)] public partial Layer Drop { get; }
    [Dense(10)] public partial Layer Logits { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}
