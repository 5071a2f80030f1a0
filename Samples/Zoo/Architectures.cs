using ModelGen;

namespace Zoo;

/// <summary>AlexNet-style (torchvision's layout): 5 convolutions, 3 max-pools, 3 fully connected layers; 224×224 RGB, 1000 classes.</summary>
[Network(3, 224, 224)]
public partial class AlexNet
{
    [Conv2D(64, 11, 4, 2), Relu] public partial Layer Conv1 { get; }     // [64,55,55]
    [MaxPool2D(3, 2)] public partial Layer Pool1 { get; }                 // [64,27,27]
    [Conv2D(192, 5, padding: 2), Relu] public partial Layer Conv2 { get; }
    [MaxPool2D(3, 2)] public partial Layer Pool2 { get; }                 // [192,13,13]
    [Conv2D(384, 3, padding: 1), Relu] public partial Layer Conv3 { get; }
    [Conv2D(256, 3, padding: 1), Relu] public partial Layer Conv4 { get; }
    [Conv2D(256, 3, padding: 1), Relu] public partial Layer Conv5 { get; }
    [MaxPool2D(3, 2)] public partial Layer Pool5 { get; }                 // [256,6,6]
    [Flatten] public partial Layer Flat { get; }                          // [9216]
    [Dropout(0.5)] public partial Layer Drop6 { get; }
    [Dense(4096), Relu] public partial Layer Fc6 { get; }
    [Dropout(0.5)] public partial Layer Drop7 { get; }
    [Dense(4096), Relu] public partial Layer Fc7 { get; }
    [Dense(1000)] public partial Layer Fc8 { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

/// <summary>VGG-16 (configuration D): 3×3 convolutions, channels doubled after each pool, 224×224 RGB, 1000 classes.
/// Its parameter count must be torchvision's 138,357,544.</summary>
[Network(3, 224, 224)]
public partial class Vgg16
{
    [Conv2D(64, 3, padding: 1), Relu] public partial Layer Conv1_1 { get; }
    [Conv2D(64, 3, padding: 1), Relu] public partial Layer Conv1_2 { get; }
    [MaxPool2D(2)] public partial Layer Pool1 { get; }                    // [64,112,112]
    [Conv2D(128, 3, padding: 1), Relu] public partial Layer Conv2_1 { get; }
    [Conv2D(128, 3, padding: 1), Relu] public partial Layer Conv2_2 { get; }
    [MaxPool2D(2)] public partial Layer Pool2 { get; }                    // [128,56,56]
    [Conv2D(256, 3, padding: 1), Relu] public partial Layer Conv3_1 { get; }
    [Conv2D(256, 3, padding: 1), Relu] public partial Layer Conv3_2 { get; }
    [Conv2D(256, 3, padding: 1), Relu] public partial Layer Conv3_3 { get; }
    [MaxPool2D(2)] public partial Layer Pool3 { get; }                    // [256,28,28]
    [Conv2D(512, 3, padding: 1), Relu] public partial Layer Conv4_1 { get; }
    [Conv2D(512, 3, padding: 1), Relu] public partial Layer Conv4_2 { get; }
    [Conv2D(512, 3, padding: 1), Relu] public partial Layer Conv4_3 { get; }
    [MaxPool2D(2)] public partial Layer Pool4 { get; }                    // [512,14,14]
    [Conv2D(512, 3, padding: 1), Relu] public partial Layer Conv5_1 { get; }
    [Conv2D(512, 3, padding: 1), Relu] public partial Layer Conv5_2 { get; }
    [Conv2D(512, 3, padding: 1), Relu] public partial Layer Conv5_3 { get; }
    [MaxPool2D(2)] public partial Layer Pool5 { get; }                    // [512,7,7]
    [Flatten] public partial Layer Flat { get; }                          // [25088]
    [Dense(4096), Relu] public partial Layer Fc6 { get; }
    [Dropout(0.5)] public partial Layer Drop6 { get; }
    [Dense(4096), Relu] public partial Layer Fc7 { get; }
    [Dropout(0.5)] public partial Layer Drop7 { get; }
    [Dense(1000)] public partial Layer Fc8 { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}
