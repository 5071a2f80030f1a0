using ModelGen;

namespace Tour;

/// <summary>The kinds the sample models do not use (a standalone activation, average pooling, GELU, global average
/// pooling), with in ≠ out channels and odd sizes: its golden file shows how each kind's code reads.</summary>
[Network(3, 9, 7)]
public partial class KindTour
{
    [Conv2D(8, 3, padding: 1)] public partial Layer Conv { get; }
    [LeakyRelu(0.1f)] public partial Layer Act { get; }
    [AvgPool2D(2)] public partial Layer Avg { get; }
    [Gelu] public partial Layer Smooth { get; }
    [Conv2D(5, 1)] public partial Layer Mix { get; }
    [Gelu("tanh")] public partial Layer SmoothTanh { get; }
    [GlobalAvgPool] public partial Layer Gap { get; }
    [Dense(4)] public partial Layer Logits { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}
