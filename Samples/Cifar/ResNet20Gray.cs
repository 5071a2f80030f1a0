// Written by Zoo/make_resnets.py: ResNets for CIFAR (He et al. 2016, section 4.2), basic blocks, projection shortcuts.
using ModelGen;

namespace Cifar;

/// <summary>ResNet-20 for 28×28 grey images (the Fashion-MNIST fallback).</summary>
[Network(1, 28, 28)]
public partial class ResNet20Gray
{
    [Conv2D(16, 3, padding: 1, Bias = false)] public partial Layer Stem { get; }
    [BatchNorm2D, Relu] public partial Layer StemBn { get; }
    [Conv2D(16, 3, 1, 1, Bias = false)] public partial Layer S1B1Conv1 { get; }
    [BatchNorm2D, Relu] public partial Layer S1B1Bn1 { get; }
    [Conv2D(16, 3, padding: 1, Bias = false)] public partial Layer S1B1Conv2 { get; }
    [BatchNorm2D] public partial Layer S1B1Bn2 { get; }
    [Add(nameof(StemBn))] public partial Layer S1B1Sum { get; }                          // identity shortcut
    [Relu] public partial Layer S1B1Out { get; }
    [Conv2D(16, 3, 1, 1, Bias = false)] public partial Layer S1B2Conv1 { get; }
    [BatchNorm2D, Relu] public partial Layer S1B2Bn1 { get; }
    [Conv2D(16, 3, padding: 1, Bias = false)] public partial Layer S1B2Conv2 { get; }
    [BatchNorm2D] public partial Layer S1B2Bn2 { get; }
    [Add(nameof(S1B1Out))] public partial Layer S1B2Sum { get; }                          // identity shortcut
    [Relu] public partial Layer S1B2Out { get; }
    [Conv2D(16, 3, 1, 1, Bias = false)] public partial Layer S1B3Conv1 { get; }
    [BatchNorm2D, Relu] public partial Layer S1B3Bn1 { get; }
    [Conv2D(16, 3, padding: 1, Bias = false)] public partial Layer S1B3Conv2 { get; }
    [BatchNorm2D] public partial Layer S1B3Bn2 { get; }
    [Add(nameof(S1B2Out))] public partial Layer S1B3Sum { get; }                          // identity shortcut
    [Relu] public partial Layer S1B3Out { get; }
    [Conv2D(32, 3, 2, 1, Bias = false)] public partial Layer S2B1Conv1 { get; }
    [BatchNorm2D, Relu] public partial Layer S2B1Bn1 { get; }
    [Conv2D(32, 3, padding: 1, Bias = false)] public partial Layer S2B1Conv2 { get; }
    [BatchNorm2D] public partial Layer S2B1Bn2 { get; }
    [Conv2D(32, 1, 2, Input = nameof(S1B3Out), Bias = false)] public partial Layer S2B1Proj { get; }   // projection shortcut
    [BatchNorm2D] public partial Layer S2B1ProjBn { get; }
    [Add(nameof(S2B1Bn2))] public partial Layer S2B1Sum { get; }
    [Relu] public partial Layer S2B1Out { get; }
    [Conv2D(32, 3, 1, 1, Bias = false)] public partial Layer S2B2Conv1 { get; }
    [BatchNorm2D, Relu] public partial Layer S2B2Bn1 { get; }
    [Conv2D(32, 3, padding: 1, Bias = false)] public partial Layer S2B2Conv2 { get; }
    [BatchNorm2D] public partial Layer S2B2Bn2 { get; }
    [Add(nameof(S2B1Out))] public partial Layer S2B2Sum { get; }                          // identity shortcut
    [Relu] public partial Layer S2B2Out { get; }
    [Conv2D(32, 3, 1, 1, Bias = false)] public partial Layer S2B3Conv1 { get; }
    [BatchNorm2D, Relu] public partial Layer S2B3Bn1 { get; }
    [Conv2D(32, 3, padding: 1, Bias = false)] public partial Layer S2B3Conv2 { get; }
    [BatchNorm2D] public partial Layer S2B3Bn2 { get; }
    [Add(nameof(S2B2Out))] public partial Layer S2B3Sum { get; }                          // identity shortcut
    [Relu] public partial Layer S2B3Out { get; }
    [Conv2D(64, 3, 2, 1, Bias = false)] public partial Layer S3B1Conv1 { get; }
    [BatchNorm2D, Relu] public partial Layer S3B1Bn1 { get; }
    [Conv2D(64, 3, padding: 1, Bias = false)] public partial Layer S3B1Conv2 { get; }
    [BatchNorm2D] public partial Layer S3B1Bn2 { get; }
    [Conv2D(64, 1, 2, Input = nameof(S2B3Out), Bias = false)] public partial Layer S3B1Proj { get; }   // projection shortcut
    [BatchNorm2D] public partial Layer S3B1ProjBn { get; }
    [Add(nameof(S3B1Bn2))] public partial Layer S3B1Sum { get; }
    [Relu] public partial Layer S3B1Out { get; }
    [Conv2D(64, 3, 1, 1, Bias = false)] public partial Layer S3B2Conv1 { get; }
    [BatchNorm2D, Relu] public partial Layer S3B2Bn1 { get; }
    [Conv2D(64, 3, padding: 1, Bias = false)] public partial Layer S3B2Conv2 { get; }
    [BatchNorm2D] public partial Layer S3B2Bn2 { get; }
    [Add(nameof(S3B1Out))] public partial Layer S3B2Sum { get; }                          // identity shortcut
    [Relu] public partial Layer S3B2Out { get; }
    [Conv2D(64, 3, 1, 1, Bias = false)] public partial Layer S3B3Conv1 { get; }
    [BatchNorm2D, Relu] public partial Layer S3B3Bn1 { get; }
    [Conv2D(64, 3, padding: 1, Bias = false)] public partial Layer S3B3Conv2 { get; }
    [BatchNorm2D] public partial Layer S3B3Bn2 { get; }
    [Add(nameof(S3B2Out))] public partial Layer S3B3Sum { get; }                          // identity shortcut
    [Relu] public partial Layer S3B3Out { get; }
    [GlobalAvgPool] public partial Layer Pool { get; }
    [Dense(10)] public partial Layer Logits { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}
