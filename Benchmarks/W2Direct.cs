using ModelGen;

namespace ModelGen.Benchmarks;

/// <summary>W2 with every convolution computed directly (no Winograd): the same model and weights as
/// <c>Cifar.W2</c>, so one run measures what the generator's Winograd choice gains.</summary>
[Network(3, 32, 32)]
public partial class W2Direct
{
    [Conv2D(32, 3, padding: 1, Algorithm = ConvAlgorithm.Direct), Relu] public partial Layer Conv1 { get; }
    [Conv2D(32, 3, padding: 1, Algorithm = ConvAlgorithm.Direct), Relu] public partial Layer Conv2 { get; }
    [MaxPool2D(2)] public partial Layer Pool1 { get; }
    [Conv2D(64, 3, padding: 1, Algorithm = ConvAlgorithm.Direct), Relu] public partial Layer Conv3 { get; }
    [Conv2D(64, 3, padding: 1, Algorithm = ConvAlgorithm.Direct), Relu] public partial Layer Conv4 { get; }
    [MaxPool2D(2)] public partial Layer Pool2 { get; }
    [Flatten] public partial Layer Flat { get; }
    [Dense(256), Relu] public partial Layer Hidden { get; }
    [Dense(10)] public partial Layer Logits { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

/// <summary>One 3×3 convolution of 8, 16 and 128 channels, Winograd (W) and direct (D): where the generator's Auto
/// choice (Winograd from 8 channels) stands (<c>--ab-conv</c>).</summary>
[Network(8, 32, 32, InferenceOnly = true)]
public partial class Conv8W { [Conv2D(8, 3, padding: 1, Algorithm = ConvAlgorithm.Winograd), Relu] public partial Layer C { get; } }
[Network(8, 32, 32, InferenceOnly = true)]
public partial class Conv8D { [Conv2D(8, 3, padding: 1, Algorithm = ConvAlgorithm.Direct), Relu] public partial Layer C { get; } }
[Network(16, 32, 32, InferenceOnly = true)]
public partial class Conv16W { [Conv2D(16, 3, padding: 1, Algorithm = ConvAlgorithm.Winograd), Relu] public partial Layer C { get; } }
[Network(16, 32, 32, InferenceOnly = true)]
public partial class Conv16D { [Conv2D(16, 3, padding: 1, Algorithm = ConvAlgorithm.Direct), Relu] public partial Layer C { get; } }
[Network(128, 8, 8, InferenceOnly = true)]
public partial class Conv128W { [Conv2D(128, 3, padding: 1, Algorithm = ConvAlgorithm.Winograd), Relu] public partial Layer C { get; } }
[Network(128, 8, 8, InferenceOnly = true)]
public partial class Conv128D { [Conv2D(128, 3, padding: 1, Algorithm = ConvAlgorithm.Direct), Relu] public partial Layer C { get; } }

/// <summary>W2 as a VGG-BN network: each convolution followed by BatchNorm + ReLU, so in inference each BatchNorm folds
/// into its convolution and each pool fuses in after it (<c>--ab-pool-fusion</c>).</summary>
[Network(3, 32, 32)]
public partial class W2Bn
{
    [Conv2D(32, 3, padding: 1, Bias = false)] public partial Layer Conv1 { get; }
    [BatchNorm2D, Relu] public partial Layer Bn1 { get; }
    [Conv2D(32, 3, padding: 1, Bias = false)] public partial Layer Conv2 { get; }
    [BatchNorm2D, Relu] public partial Layer Bn2 { get; }
    [MaxPool2D(2)] public partial Layer Pool1 { get; }
    [Conv2D(64, 3, padding: 1, Bias = false)] public partial Layer Conv3 { get; }
    [BatchNorm2D, Relu] public partial Layer Bn3 { get; }
    [Conv2D(64, 3, padding: 1, Bias = false)] public partial Layer Conv4 { get; }
    [BatchNorm2D, Relu] public partial Layer Bn4 { get; }
    [MaxPool2D(2)] public partial Layer Pool2 { get; }
    [Flatten] public partial Layer Flat { get; }
    [Dense(256), Relu] public partial Layer Hidden { get; }
    [Dense(10)] public partial Layer Logits { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}
