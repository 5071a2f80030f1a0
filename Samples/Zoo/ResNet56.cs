// Written by Zoo/make_resnets.py: ResNets for CIFAR (He et al. 2016, section 4.2), basic blocks, projection shortcuts.
using ModelGen;

namespace Zoo;

/// <summary>ResNet-56 for CIFAR-10 (3×32×32): 55 convolutions + 1 dense layer.</summary>
[Network(3, 32, 32)]
public partial class ResNet56
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
    [Conv2D(16, 3, 1, 1, Bias = false)] public partial Layer S1B4Conv1 { get; }
    [BatchNorm2D, Relu] public partial Layer S1B4Bn1 { get; }
    [Conv2D(16, 3, padding: 1, Bias = false)] public partial Layer S1B4Conv2 { get; }
    [BatchNorm2D] public partial Layer S1B4Bn2 { get; }
    [Add(nameof(S1B3Out))] public partial Layer S1B4Sum { get; }                          // identity shortcut
    [Relu] public partial Layer S1B4Out { get; }
    [Conv2D(16, 3, 1, 1, Bias = false)] public partial Layer S1B5Conv1 { get; }
    [BatchNorm2D, Relu] public partial Layer S1B5Bn1 { get; }
    [Conv2D(16, 3, padding: 1, Bias = false)] public partial Layer S1B5Conv2 { get; }
    [BatchNorm2D] public partial Layer S1B5Bn2 { get; }
    [Add(nameof(S1B4Out))] public partial Layer S1B5Sum { get; }                          // identity shortcut
    [Relu] public partial Layer S1B5Out { get; }
    [Conv2D(16, 3, 1, 1, Bias = false)] public partial Layer S1B6Conv1 { get; }
    [BatchNorm2D, Relu] public partial Layer S1B6Bn1 { get; }
    [Conv2D(16, 3, padding: 1, Bias = false)] public partial Layer S1B6Conv2 { get; }
    [BatchNorm2D] public partial Layer S1B6Bn2 { get; }
    [Add(nameof(S1B5Out))] public partial Layer S1B6Sum { get; }                          // identity shortcut
    [Relu] public partial Layer S1B6Out { get; }
    [Conv2D(16, 3, 1, 1, Bias = false)] public partial Layer S1B7Conv1 { get; }
    [BatchNorm2D, Relu] public partial Layer S1B7Bn1 { get; }
    [Conv2D(16, 3, padding: 1, Bias = false)] public partial Layer S1B7Conv2 { get; }
    [BatchNorm2D] public partial Layer S1B7Bn2 { get; }
    [Add(nameof(S1B6Out))] public partial Layer S1B7Sum { get; }                          // identity shortcut
    [Relu] public partial Layer S1B7Out { get; }
    [Conv2D(16, 3, 1, 1, Bias = false)] public partial Layer S1B8Conv1 { get; }
    [BatchNorm2D, Relu] public partial Layer S1B8Bn1 { get; }
    [Conv2D(16, 3, padding: 1, Bias = false)] public partial Layer S1B8Conv2 { get; }
    [BatchNorm2D] public partial Layer S1B8Bn2 { get; }
    [Add(nameof(S1B7Out))] public partial Layer S1B8Sum { get; }                          // identity shortcut
    [Relu] public partial Layer S1B8Out { get; }
    [Conv2D(16, 3, 1, 1, Bias = false)] public partial Layer S1B9Conv1 { get; }
    [BatchNorm2D, Relu] public partial Layer S1B9Bn1 { get; }
    [Conv2D(16, 3, padding: 1, Bias = false)] public partial Layer S1B9Conv2 { get; }
    [BatchNorm2D] public partial Layer S1B9Bn2 { get; }
    [Add(nameof(S1B8Out))] public partial Layer S1B9Sum { get; }                          // identity shortcut
    [Relu] public partial Layer S1B9Out { get; }
    [Conv2D(32, 3, 2, 1, Bias = false)] public partial Layer S2B1Conv1 { get; }
    [BatchNorm2D, Relu] public partial Layer S2B1Bn1 { get; }
    [Conv2D(32, 3, padding: 1, Bias = false)] public partial Layer S2B1Conv2 { get; }
    [BatchNorm2D] public partial Layer S2B1Bn2 { get; }
    [Conv2D(32, 1, 2, Input = nameof(S1B9Out), Bias = false)] public partial Layer S2B1Proj { get; }   // projection shortcut
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
    [Conv2D(32, 3, 1, 1, Bias = false)] public partial Layer S2B4Conv1 { get; }
    [BatchNorm2D, Relu] public partial Layer S2B4Bn1 { get; }
    [Conv2D(32, 3, padding: 1, Bias = false)] public partial Layer S2B4Conv2 { get; }
    [BatchNorm2D] public partial Layer S2B4Bn2 { get; }
    [Add(nameof(S2B3Out))] public partial Layer S2B4Sum { get; }                          // identity shortcut
    [Relu] public partial Layer S2B4Out { get; }
    [Conv2D(32, 3, 1, 1, Bias = false)] public partial Layer S2B5Conv1 { get; }
    [BatchNorm2D, Relu] public partial Layer S2B5Bn1 { get; }
    [Conv2D(32, 3, padding: 1, Bias = false)] public partial Layer S2B5Conv2 { get; }
    [BatchNorm2D] public partial Layer S2B5Bn2 { get; }
    [Add(nameof(S2B4Out))] public partial Layer S2B5Sum { get; }                          // identity shortcut
    [Relu] public partial Layer S2B5Out { get; }
    [Conv2D(32, 3, 1, 1, Bias = false)] public partial Layer S2B6Conv1 { get; }
    [BatchNorm2D, Relu] public partial Layer S2B6Bn1 { get; }
    [Conv2D(32, 3, padding: 1, Bias = false)] public partial Layer S2B6Conv2 { get; }
    [BatchNorm2D] public partial Layer S2B6Bn2 { get; }
    [Add(nameof(S2B5Out))] public partial Layer S2B6Sum { get; }                          // identity shortcut
    [Relu] public partial Layer S2B6Out { get; }
    [Conv2D(32, 3, 1, 1, Bias = false)] public partial Layer S2B7Conv1 { get; }
    [BatchNorm2D, Relu] public partial Layer S2B7Bn1 { get; }
    [Conv2D(32, 3, padding: 1, Bias = false)] public partial Layer S2B7Conv2 { get; }
    [BatchNorm2D] public partial Layer S2B7Bn2 { get; }
    [Add(nameof(S2B6Out))] public partial Layer S2B7Sum { get; }                          // identity shortcut
    [Relu] public partial Layer S2B7Out { get; }
    [Conv2D(32, 3, 1, 1, Bias = false)] public partial Layer S2B8Conv1 { get; }
    [BatchNorm2D, Relu] public partial Layer S2B8Bn1 { get; }
    [Conv2D(32, 3, padding: 1, Bias = false)] public partial Layer S2B8Conv2 { get; }
    [BatchNorm2D] public partial Layer S2B8Bn2 { get; }
    [Add(nameof(S2B7Out))] public partial Layer S2B8Sum { get; }                          // identity shortcut
    [Relu] public partial Layer S2B8Out { get; }
    [Conv2D(32, 3, 1, 1, Bias = false)] public partial Layer S2B9Conv1 { get; }
    [BatchNorm2D, Relu] public partial Layer S2B9Bn1 { get; }
    [Conv2D(32, 3, padding: 1, Bias = false)] public partial Layer S2B9Conv2 { get; }
    [BatchNorm2D] public partial Layer S2B9Bn2 { get; }
    [Add(nameof(S2B8Out))] public partial Layer S2B9Sum { get; }                          // identity shortcut
    [Relu] public partial Layer S2B9Out { get; }
    [Conv2D(64, 3, 2, 1, Bias = false)] public partial Layer S3B1Conv1 { get; }
    [BatchNorm2D, Relu] public partial Layer S3B1Bn1 { get; }
    [Conv2D(64, 3, padding: 1, Bias = false)] public partial Layer S3B1Conv2 { get; }
    [BatchNorm2D] public partial Layer S3B1Bn2 { get; }
    [Conv2D(64, 1, 2, Input = nameof(S2B9Out), Bias = false)] public partial Layer S3B1Proj { get; }   // projection shortcut
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
    [Conv2D(64, 3, 1, 1, Bias = false)] public partial Layer S3B4Conv1 { get; }
    [BatchNorm2D, Relu] public partial Layer S3B4Bn1 { get; }
    [Conv2D(64, 3, padding: 1, Bias = false)] public partial Layer S3B4Conv2 { get; }
    [BatchNorm2D] public partial Layer S3B4Bn2 { get; }
    [Add(nameof(S3B3Out))] public partial Layer S3B4Sum { get; }                          // identity shortcut
    [Relu] public partial Layer S3B4Out { get; }
    [Conv2D(64, 3, 1, 1, Bias = false)] public partial Layer S3B5Conv1 { get; }
    [BatchNorm2D, Relu] public partial Layer S3B5Bn1 { get; }
    [Conv2D(64, 3, padding: 1, Bias = false)] public partial Layer S3B5Conv2 { get; }
    [BatchNorm2D] public partial Layer S3B5Bn2 { get; }
    [Add(nameof(S3B4Out))] public partial Layer S3B5Sum { get; }                          // identity shortcut
    [Relu] public partial Layer S3B5Out { get; }
    [Conv2D(64, 3, 1, 1, Bias = false)] public partial Layer S3B6Conv1 { get; }
    [BatchNorm2D, Relu] public partial Layer S3B6Bn1 { get; }
    [Conv2D(64, 3, padding: 1, Bias = false)] public partial Layer S3B6Conv2 { get; }
    [BatchNorm2D] public partial Layer S3B6Bn2 { get; }
    [Add(nameof(S3B5Out))] public partial Layer S3B6Sum { get; }                          // identity shortcut
    [Relu] public partial Layer S3B6Out { get; }
    [Conv2D(64, 3, 1, 1, Bias = false)] public partial Layer S3B7Conv1 { get; }
    [BatchNorm2D, Relu] public partial Layer S3B7Bn1 { get; }
    [Conv2D(64, 3, padding: 1, Bias = false)] public partial Layer S3B7Conv2 { get; }
    [BatchNorm2D] public partial Layer S3B7Bn2 { get; }
    [Add(nameof(S3B6Out))] public partial Layer S3B7Sum { get; }                          // identity shortcut
    [Relu] public partial Layer S3B7Out { get; }
    [Conv2D(64, 3, 1, 1, Bias = false)] public partial Layer S3B8Conv1 { get; }
    [BatchNorm2D, Relu] public partial Layer S3B8Bn1 { get; }
    [Conv2D(64, 3, padding: 1, Bias = false)] public partial Layer S3B8Conv2 { get; }
    [BatchNorm2D] public partial Layer S3B8Bn2 { get; }
    [Add(nameof(S3B7Out))] public partial Layer S3B8Sum { get; }                          // identity shortcut
    [Relu] public partial Layer S3B8Out { get; }
    [Conv2D(64, 3, 1, 1, Bias = false)] public partial Layer S3B9Conv1 { get; }
    [BatchNorm2D, Relu] public partial Layer S3B9Bn1 { get; }
    [Conv2D(64, 3, padding: 1, Bias = false)] public partial Layer S3B9Conv2 { get; }
    [BatchNorm2D] public partial Layer S3B9Bn2 { get; }
    [Add(nameof(S3B8Out))] public partial Layer S3B9Sum { get; }                          // identity shortcut
    [Relu] public partial Layer S3B9Out { get; }
    [GlobalAvgPool] public partial Layer Pool { get; }
    [Dense(10)] public partial Layer Logits { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}
