using ModelGen;

namespace ModelGen.Tests.Models;

// Networks declared as a user would; the generator runs on them when this project builds.
// Together the gradient-check models use every layer kind, every activation fused and standalone, and both losses.

/// <summary>The sample's shapes (784 → 256 → 128 → 10).</summary>
[Network(784)]
public partial class SampleMlp
{
    [Dense(256), Relu] public partial Layer Hidden1 { get; }
    [Dense(128), Relu] public partial Layer Hidden2 { get; }
    [Dense(10)] public partial Layer Logits { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

/// <summary>Products long enough to run in K blocks (more than 128 steps): B's and C's forwards (150 and 140 inputs) and
/// B's input gradient (Wᵀ·dZ over 140 outputs, A read by columns); see GemmTilingTests and SimdWidthTests.</summary>
[Network(40)]
public partial class KBlockedMlp
{
    [Dense(150), Relu] public partial Layer A { get; }
    [Dense(140), LeakyRelu(0.1f)] public partial Layer B { get; }
    [Dense(3)] public partial Layer C { get; }
    [Mse] public partial Loss Loss { get; }
}

[Network(5)]
public partial class GcRelu
{
    [Dense(7), Relu] public partial Layer A { get; }
    [Dense(4)] public partial Layer B { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

[Network(6)]
public partial class GcLeaky
{
    [Dense(9), LeakyRelu(0.1f)] public partial Layer A { get; }
    [Dense(3)] public partial Layer B { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

[Network(4)]
public partial class GcSigmoid
{
    [Dense(6), Sigmoid] public partial Layer A { get; }
    [Dense(3)] public partial Layer B { get; }
    [Mse] public partial Loss Loss { get; }
}

[Network(3)]
public partial class GcTanh
{
    [Dense(5), Tanh] public partial Layer A { get; }
    [Dense(2), Tanh] public partial Layer B { get; }
    [Mse] public partial Loss Loss { get; }
}

[Network(4)]
public partial class GcSoftmaxFused
{
    [Dense(6), Sigmoid] public partial Layer A { get; }
    [Dense(3), Softmax] public partial Layer Probabilities { get; }
    [Mse] public partial Loss Loss { get; }
}

[Network(5)]
public partial class GcStandalone
{
    [Dense(6)] public partial Layer A { get; }
    [Relu] public partial Layer ReluA { get; }
    [Dense(5)] public partial Layer B { get; }
    [Tanh] public partial Layer TanhB { get; }
    [Dense(4)] public partial Layer C { get; }
    [LeakyRelu(0.2f)] public partial Layer LeakyC { get; }
    [Dense(4)] public partial Layer D { get; }
    [Sigmoid] public partial Layer SigmoidD { get; }
    [Dense(3)] public partial Layer E { get; }
    [Softmax] public partial Layer SoftmaxE { get; }
    [Mse] public partial Loss Loss { get; }
}

/// <summary>A layer wider than one register tile in every dimension, with row and column remainders.</summary>
[Network(37)]
public partial class GcWide
{
    [Dense(41), Relu] public partial Layer A { get; }
    [Dense(19)] public partial Layer B { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

/// <summary>Inference only: no loss, no training code.</summary>
[Network(8, InferenceOnly = true)]
public partial class InferenceOnlyNet
{
    [Dense(4), Tanh] public partial Layer A { get; }
    [Dense(2)] public partial Layer B { get; }
}

/// <summary>Inference only, recurrent: an LSTM (both directions) whose forward must not touch the buffers a training
/// forward keeps for backward (an inference-only network has none); the same layers as <see cref="LstmTwinTrainable"/>.</summary>
[Network(6, 3, InferenceOnly = true)]
public partial class InferenceOnlyLstm
{
    [Lstm(5, Bidirectional = true)] public partial Layer Rnn { get; }
    [Dense(2)] public partial Layer Out { get; }
}

/// <summary><see cref="InferenceOnlyLstm"/>'s layers with a loss.</summary>
[Network(6, 3)]
public partial class LstmTwinTrainable
{
    [Lstm(5, Bidirectional = true)] public partial Layer Rnn { get; }
    [Dense(2)] public partial Layer Out { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

// ── Issue 3: losses, L2, dropout ─────────────────────────────────────────────────────────────────────

[Network(4)]
public partial class GcMae
{
    [Dense(5), Tanh] public partial Layer A { get; }
    [Dense(2)] public partial Layer B { get; }
    [Mae] public partial Loss Loss { get; }
}

[Network(4)]
public partial class GcHuber
{
    [Dense(5), Tanh] public partial Layer A { get; }
    [Dense(2)] public partial Layer B { get; }
    [Huber(0.5)] public partial Loss Loss { get; }
}

[Network(4)]
public partial class GcQuantile
{
    [Dense(5), Tanh] public partial Layer A { get; }
    [Dense(2)] public partial Layer B { get; }
    [Quantile(0.9)] public partial Loss Loss { get; }
}

[Network(4)]
public partial class GcBce
{
    [Dense(5), Tanh] public partial Layer A { get; }
    [Dense(1)] public partial Layer Logit { get; }
    [BinaryCrossEntropy] public partial Loss Loss { get; }
}

[Network(4)]
public partial class GcHinge
{
    [Dense(5), Tanh] public partial Layer A { get; }
    [Dense(1)] public partial Layer Score { get; }
    [Hinge] public partial Loss Loss { get; }
}

[Network(5)]
public partial class GcMultiHinge
{
    [Dense(6), Relu] public partial Layer A { get; }
    [Dense(4)] public partial Layer Scores { get; }
    [MultiClassHinge] public partial Loss Loss { get; }
}

/// <summary>Network-wide L2 with a per-layer override and a layer that turns it off.</summary>
[Network(5), L2(0.01)]
public partial class GcL2
{
    [Dense(6), Relu, L2(0.05)] public partial Layer A { get; }
    [Dense(4), Tanh] public partial Layer B { get; }
    [Dense(3), L2(0)] public partial Layer C { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

[Network(6)]
public partial class GcDropout
{
    [Dense(8), Tanh] public partial Layer A { get; }
    [Dropout(0.3)] public partial Layer Drop { get; }
    [Dense(3)] public partial Layer B { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

/// <summary>Linear quantile regression: learns the 0.9-quantile of its target.</summary>
[Network(1)]
public partial class QuantileLine
{
    [Dense(1)] public partial Layer Line { get; }
    [Quantile(0.9)] public partial Loss Loss { get; }
}

/// <summary>Linear regression with the Huber loss.</summary>
[Network(1)]
public partial class HuberLine
{
    [Dense(1)] public partial Layer Line { get; }
    [Huber(1.0)] public partial Loss Loss { get; }
}

// ── Issue 4: convolutional layers ──────────────────────────────────────────────────────────────────────

/// <summary>Padded 3×3 conv, ReLU, max-pool with an odd width (rows dropped), flatten, dense.</summary>
[Network(2, 6, 5)]
public partial class GcConv
{
    [Conv2D(3, 3, padding: 1), Relu] public partial Layer C { get; }    // [3,6,5]
    [MaxPool2D(2)] public partial Layer P { get; }                       // [3,3,2]
    [Flatten] public partial Layer F { get; }                            // [18]
    [Dense(4)] public partial Layer D { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

/// <summary>Stride 2, tanh, overlapping average pool, a 1×1 convolution, global average pooling.</summary>
[Network(3, 7, 7)]
public partial class GcConvStride
{
    [Conv2D(4, 3, stride: 2), Tanh] public partial Layer C { get; }     // [4,3,3]
    [AvgPool2D(2, 1)] public partial Layer P { get; }                    // [4,2,2]
    [Conv2D(5, 1), LeakyRelu(0.1f)] public partial Layer Pointwise { get; }   // [5,2,2]
    [GlobalAvgPool] public partial Layer G { get; }                      // [5]
    [Dense(3)] public partial Layer D { get; }
    [Mse] public partial Loss Loss { get; }
}

/// <summary>A rectangular kernel with "same" padding, a standalone activation on an image, L2 on a conv.</summary>
[Network(2, 5, 6)]
public partial class GcConvRect
{
    [Conv2D(3, 1, KernelHeight = 3, KernelWidth = 5, Same = true), L2(0.01)] public partial Layer C { get; }   // [3,5,6]
    [Sigmoid] public partial Layer S { get; }
    [Conv2D(2, 2, stride: 2)] public partial Layer C2 { get; }          // [2,2,3]
    [Flatten] public partial Layer F { get; }
    [Dense(3)] public partial Layer D { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

/// <summary>LeNet shapes, for the SIMD-width comparison and a short real training run.</summary>
[Network(1, 28, 28)]
public partial class SmallLeNet
{
    [Conv2D(8, 5, padding: 2), Relu] public partial Layer Conv1 { get; }
    [MaxPool2D(2)] public partial Layer Pool1 { get; }
    [Conv2D(16, 5, padding: 2), Relu] public partial Layer Conv2 { get; }
    [MaxPool2D(2)] public partial Layer Pool2 { get; }
    [Flatten] public partial Layer Flat { get; }
    [Dense(64), Relu] public partial Layer Hidden { get; }
    [Dense(10)] public partial Layer Logits { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

/// <summary>Residual blocks: an identity shortcut and a projection shortcut (1×1 conv, stride 2, reading an earlier layer).</summary>
[Network(2, 6, 6)]
public partial class GcResidual
{
    [Conv2D(4, 3, padding: 1), Relu] public partial Layer Stem { get; }        // [4,6,6]
    [Conv2D(4, 3, padding: 1), Relu] public partial Layer A { get; }
    [Conv2D(4, 3, padding: 1)] public partial Layer B { get; }
    [Add(nameof(Stem))] public partial Layer Sum1 { get; }                      // B + Stem
    [Relu] public partial Layer R1 { get; }
    [Conv2D(6, 3, 2, 1), Relu] public partial Layer C { get; }                 // [6,3,3]
    [Conv2D(6, 3, padding: 1)] public partial Layer D { get; }
    [Conv2D(6, 1, 2, Input = nameof(R1))] public partial Layer Proj { get; }   // R1 → [6,3,3]
    [Add(nameof(D))] public partial Layer Sum2 { get; }                         // Proj + D
    [Relu] public partial Layer R2 { get; }
    [GlobalAvgPool] public partial Layer G { get; }
    [Dense(3)] public partial Layer Out { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

/// <summary>The network input read by several layers (Input = "input", [Add("input")]), on images: its gradient is the
/// sum of three readers' shares.</summary>
[Network(3, 5, 5)]
public partial class GcInputReaders
{
    [Conv2D(3, 3, padding: 1), Relu] public partial Layer A { get; }                // [3,5,5]
    [Add(LayerAttribute.NetworkInput)] public partial Layer Sum { get; }            // A + input
    [Conv2D(2, 1)] public partial Layer C { get; }                                  // [2,5,5]
    [Conv2D(2, 1, Input = LayerAttribute.NetworkInput)] public partial Layer Proj { get; }   // input → [2,5,5]
    [Add(nameof(C))] public partial Layer Sum2 { get; }                             // Proj + C
    [Flatten] public partial Layer F { get; }
    [Dense(3)] public partial Layer Out { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

/// <summary>The same on a flat input: a residual add of the input and a dense layer reading it again.</summary>
[Network(7)]
public partial class GcFlatInputReaders
{
    [Dense(7), Tanh] public partial Layer A { get; }
    [Add("input")] public partial Layer S { get; }
    [Dense(4)] public partial Layer Q { get; }
    [Dense(4, Input = "input")] public partial Layer P { get; }
    [Add(nameof(Q))] public partial Layer T { get; }
    [Dense(3)] public partial Layer Out { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

/// <summary>BatchNorm2D with and without a fused ReLU, after padded and strided convolutions.</summary>
[Network(2, 5, 5)]
public partial class GcBatchNorm
{
    [Conv2D(3, 3, padding: 1, Bias = false)] public partial Layer C1 { get; }
    [BatchNorm2D, Relu] public partial Layer N1 { get; }
    [Conv2D(4, 3, 2)] public partial Layer C2 { get; }          // [4,2,2]
    [BatchNorm2D] public partial Layer N2 { get; }
    [Flatten] public partial Layer F { get; }
    [Dense(3)] public partial Layer Out { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

/// <summary>GELU, exact and tanh forms, at non-first positions.</summary>
[Network(5)]
public partial class GcGelu
{
    [Dense(7)] public partial Layer A { get; }
    [Gelu] public partial Layer G1 { get; }
    [Dense(6)] public partial Layer B { get; }
    [Gelu("tanh")] public partial Layer G2 { get; }
    [Dense(3)] public partial Layer C { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

/// <summary>Stride-1 convolutions at non-first positions with in &lt; out, in &gt; out and in = out channels, odd sizes,
/// square and rectangular kernels, "same" and partial padding: the input gradient of each reaches the first layer's
/// parameters, so the gradient check sees it.</summary>
[Network(3, 7, 9)]
public partial class GcConvChannels
{
    [Conv2D(2, 3, padding: 1), Tanh] public partial Layer C1 { get; }        // 3 → 2 (first: no input gradient)
    [Conv2D(5, 3, padding: 1), Relu] public partial Layer Up { get; }         // 2 → 5
    [Conv2D(3, 3, KernelWidth = 2), Tanh] public partial Layer Down { get; }  // 5 → 3, rectangular, unpadded
    [Conv2D(3, 3, Same = true)] public partial Layer Equal { get; }           // 3 → 3
    [Conv2D(4, 1)] public partial Layer Point { get; }                        // 1×1, 3 → 4
    [Conv2D(2, 3, stride: 2, padding: 1)] public partial Layer Strided { get; }  // 4 → 2, stride 2
    [Flatten] public partial Layer F { get; }
    [Dense(3)] public partial Layer D { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

/// <summary>Stride-1 convolutions whose output rows are whole vectors (widths 32 and 16): their tiles are a few output
/// rows × one vector of pixels, stored straight into the output — odd row counts leave a tile of fewer rows; the input
/// gradients of the non-first layers run the same way over the input's rows; in ≠ out channels throughout.</summary>
[Network(2, 5, 32)]
public partial class GcConvRows
{
    [Conv2D(3, 3, padding: 1), Tanh] public partial Layer C1 { get; }                       // 2 → 3, [3,5,32]: 5 rows of two vectors
    [Conv2D(4, 3, padding: 1), Relu] public partial Layer C2 { get; }                       // 3 → 4, input gradient over rows of 32
    [MaxPool2D(2)] public partial Layer P { get; }                                          // [4,2,16]
    [Conv2D(3, 1, KernelHeight = 1, KernelWidth = 3, Same = true)] public partial Layer C3 { get; }   // 4 → 3, [3,2,16]
    [Conv2D(2, 3, padding: 1, KernelHeight = 2), Tanh] public partial Layer C4 { get; }     // 3 → 2, [2,3,16]: 3 rows of one vector
    [Conv2D(3, 1, KernelHeight = 3, KernelWidth = 1), Relu] public partial Layer C5 { get; } // 2 → 3, [3,1,16]: one row only
    [Flatten] public partial Layer F { get; }
    [Dense(3)] public partial Layer D { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

/// <summary>Winograd F(2×2, 3×3) convolutions (asked for: the generator picks it itself from 16 channels on) that are not
/// the first layer, in ≠ out channels, odd output sizes (a last tile half used; 5 tiles a row, so a vector of tiles
/// spans tile rows), no padding and padding 2, a BatchNorm after one (folded for inference into its transformed
/// filters), and the epilogues LeakyReLU, none and sigmoid. Small enough for the central differences.</summary>
[Network(2, 5, 9)]
public partial class GcWinograd
{
    [Conv2D(3, 3, padding: 1), Tanh] public partial Layer C0 { get; }                                             // [3,5,9], direct
    [Conv2D(4, 3, padding: 1, Algorithm = ConvAlgorithm.Winograd), LeakyRelu(0.1f)] public partial Layer C1 { get; }   // [4,5,9]
    [Conv2D(3, 3, Bias = false, Algorithm = ConvAlgorithm.Winograd)] public partial Layer C2 { get; }               // [3,3,7]
    [BatchNorm2D, Relu] public partial Layer N { get; }
    [Conv2D(2, 3, padding: 2, Algorithm = ConvAlgorithm.Winograd), Sigmoid] public partial Layer C3 { get; }        // [2,5,9]
    [Flatten] public partial Layer F { get; }
    [Dense(3)] public partial Layer Out { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

/// <summary>Winograd convolutions each followed by a 2×2 max- or average pool, which inference fuses into the output transform:
/// rows of 16 tiles (stored in place at 512 bits), an odd height (the last tile row outside every window) with rows of
/// 8 tiles (in place at 256 bits), and rows of 5 (through the scratch row); the epilogues LeakyReLU, bias alone and
/// ReLU without bias; in ≠ out channels throughout. The last pool follows a Tanh convolution: not fused.</summary>
[Network(3, 10, 32)]
public partial class WinogradPoolNet
{
    [Conv2D(5, 3, padding: 1, Algorithm = ConvAlgorithm.Winograd), LeakyRelu(0.1f)] public partial Layer C1 { get; }   // [5,10,32]
    [MaxPool2D(2)] public partial Layer P1 { get; }                                                                     // [5,5,16]
    [Conv2D(4, 3, padding: 1, Algorithm = ConvAlgorithm.Winograd)] public partial Layer C2 { get; }                    // [4,5,16]
    [AvgPool2D(2)] public partial Layer P2 { get; }                                                                     // [4,2,8], the mean
    [Conv2D(6, 3, padding: 2, Bias = false, Algorithm = ConvAlgorithm.Winograd), Relu] public partial Layer C3 { get; } // [6,4,10]
    [MaxPool2D(2)] public partial Layer P3 { get; }                                                                     // [6,2,5]
    [Conv2D(2, 3, padding: 1, Algorithm = ConvAlgorithm.Winograd), Tanh] public partial Layer C4 { get; }             // [2,2,5]
    [MaxPool2D(2)] public partial Layer P4 { get; }                                                                     // [2,1,2], not fused
    [Flatten] public partial Layer F { get; }
    [Dense(3)] public partial Layer Out { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

/// <summary><see cref="WinogradPoolNet"/> for inference only (activation memory reused: a fused pool's output must not
/// share memory with its convolution's input).</summary>
[Network(3, 10, 32, InferenceOnly = true)]
public partial class WinogradPoolInference
{
    [Conv2D(5, 3, padding: 1, Algorithm = ConvAlgorithm.Winograd), LeakyRelu(0.1f)] public partial Layer C1 { get; }
    [MaxPool2D(2)] public partial Layer P1 { get; }
    [Conv2D(4, 3, padding: 1, Algorithm = ConvAlgorithm.Winograd)] public partial Layer C2 { get; }
    [AvgPool2D(2)] public partial Layer P2 { get; }
    [Conv2D(6, 3, padding: 2, Bias = false, Algorithm = ConvAlgorithm.Winograd), Relu] public partial Layer C3 { get; }
    [MaxPool2D(2)] public partial Layer P3 { get; }
    [Conv2D(2, 3, padding: 1, Algorithm = ConvAlgorithm.Winograd), Tanh] public partial Layer C4 { get; }
    [MaxPool2D(2)] public partial Layer P4 { get; }
    [Flatten] public partial Layer F { get; }
    [Dense(3)] public partial Layer Out { get; }
}

/// <summary>Direct convolutions with a pooling fused in, one per path of the direct forward: rows of whole vectors
/// (width 32: the tiles store into a one-sample staging image) with a 3×3, stride-2 max-pool that drops a row and a column;
/// a 1×1 with a 2×2 mean over an odd width; a 3×3 through the wide output (rows 9 apart) with a stride-1 max window, no bias
/// and no activation; a stride-2 im2col convolution with a 2×2, stride-1 mean; in ≠ out channels throughout. The last
/// pool follows a Tanh convolution: not fused.</summary>
[Network(3, 22, 32)]
public partial class DirectPoolNet
{
    [Conv2D(5, 5, padding: 2), LeakyRelu(0.1f)] public partial Layer C1 { get; }                                   // [5,22,32] rows direct
    [MaxPool2D(3, 2)] public partial Layer P1 { get; }                                                             // [5,10,15]
    [Conv2D(4, 1), Relu] public partial Layer C2 { get; }                                                          // [4,10,15] 1×1
    [AvgPool2D(2)] public partial Layer P2 { get; }                                                                // [4,5,7]
    [Conv2D(6, 3, padding: 1, Bias = false, Algorithm = ConvAlgorithm.Direct)] public partial Layer C3 { get; }   // [6,5,7] wide
    [MaxPool2D(2, 1)] public partial Layer P3 { get; }                                                             // [6,4,6]
    [Conv2D(7, 3, stride: 2, padding: 1), Relu] public partial Layer C4 { get; }                                  // [7,2,3] im2col
    [AvgPool2D(2, 1)] public partial Layer P4 { get; }                                                             // [7,1,2]
    [Conv2D(2, 1), Tanh] public partial Layer C5 { get; }                                                          // [2,1,2]
    [MaxPool2D(1)] public partial Layer P5 { get; }                                                                // [2,1,2], not fused
    [Flatten] public partial Layer F { get; }
    [Dense(3)] public partial Layer Out { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

/// <summary><see cref="DirectPoolNet"/> for inference only (activation memory reused).</summary>
[Network(3, 22, 32, InferenceOnly = true)]
public partial class DirectPoolInference
{
    [Conv2D(5, 5, padding: 2), LeakyRelu(0.1f)] public partial Layer C1 { get; }
    [MaxPool2D(3, 2)] public partial Layer P1 { get; }
    [Conv2D(4, 1), Relu] public partial Layer C2 { get; }
    [AvgPool2D(2)] public partial Layer P2 { get; }
    [Conv2D(6, 3, padding: 1, Bias = false, Algorithm = ConvAlgorithm.Direct)] public partial Layer C3 { get; }
    [MaxPool2D(2, 1)] public partial Layer P3 { get; }
    [Conv2D(7, 3, stride: 2, padding: 1), Relu] public partial Layer C4 { get; }
    [AvgPool2D(2, 1)] public partial Layer P4 { get; }
    [Conv2D(2, 1), Tanh] public partial Layer C5 { get; }
    [MaxPool2D(1)] public partial Layer P5 { get; }
    [Flatten] public partial Layer F { get; }
    [Dense(3)] public partial Layer Out { get; }
}

/// <summary>Poolings after BatchNorms folded into convolutions: fused too, into a Winograd convolution (2×2 max after
/// BatchNorm + ReLU) and a direct one through its wide output (3×3, stride-2 mean after BatchNorm + LeakyReLU, no bias);
/// then a fold with no pooling after it. In ≠ out channels, odd sizes.</summary>
[Network(3, 12, 18)]
public partial class BnPoolNet
{
    [Conv2D(8, 3, padding: 1, Algorithm = ConvAlgorithm.Winograd)] public partial Layer C1 { get; }   // [8,12,18]
    [BatchNorm2D, Relu] public partial Layer B1 { get; }
    [MaxPool2D(2)] public partial Layer P1 { get; }                                                     // [8,6,9]
    [Conv2D(5, 5, padding: 2, Bias = false)] public partial Layer C2 { get; }                          // [5,6,9] wide
    [BatchNorm2D, LeakyRelu(0.1f)] public partial Layer B2 { get; }
    [AvgPool2D(3, 2)] public partial Layer P2 { get; }                                                  // [5,2,4]
    [Conv2D(4, 3, padding: 1, Algorithm = ConvAlgorithm.Direct)] public partial Layer C3 { get; }      // [4,2,4]
    [BatchNorm2D] public partial Layer B3 { get; }                                                      // folded, nothing fused
    [Flatten] public partial Layer F { get; }
    [Dense(3)] public partial Layer Out { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

/// <summary><see cref="BnPoolNet"/> for inference only (activation memory reused).</summary>
[Network(3, 12, 18, InferenceOnly = true)]
public partial class BnPoolInference
{
    [Conv2D(8, 3, padding: 1, Algorithm = ConvAlgorithm.Winograd)] public partial Layer C1 { get; }
    [BatchNorm2D, Relu] public partial Layer B1 { get; }
    [MaxPool2D(2)] public partial Layer P1 { get; }
    [Conv2D(5, 5, padding: 2, Bias = false)] public partial Layer C2 { get; }
    [BatchNorm2D, LeakyRelu(0.1f)] public partial Layer B2 { get; }
    [AvgPool2D(3, 2)] public partial Layer P2 { get; }
    [Conv2D(4, 3, padding: 1, Algorithm = ConvAlgorithm.Direct)] public partial Layer C3 { get; }
    [BatchNorm2D] public partial Layer B3 { get; }
    [Flatten] public partial Layer F { get; }
    [Dense(3)] public partial Layer Out { get; }
}

/// <summary><see cref="GcWinograd"/> with every convolution direct: the reference its outputs are compared with.</summary>
[Network(2, 5, 9)]
public partial class GcWinogradDirect
{
    [Conv2D(3, 3, padding: 1), Tanh] public partial Layer C0 { get; }
    [Conv2D(4, 3, padding: 1), LeakyRelu(0.1f)] public partial Layer C1 { get; }
    [Conv2D(3, 3, Bias = false)] public partial Layer C2 { get; }
    [BatchNorm2D, Relu] public partial Layer N { get; }
    [Conv2D(2, 3, padding: 2), Sigmoid] public partial Layer C3 { get; }
    [Flatten] public partial Layer F { get; }
    [Dense(3)] public partial Layer Out { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

// ── Issue 8: serving ─────────────────────────────────────────────────────────────────────────────────

/// <summary>An inference-only CNN a service would run: BatchNorm folded, a residual add, memory reused between layers.</summary>
[Network(3, 9, 9, InferenceOnly = true)]
public partial class ServeNet
{
    [Conv2D(8, 3, padding: 1, Bias = false)] public partial Layer C1 { get; }   // [8,9,9]
    [BatchNorm2D, Relu] public partial Layer N1 { get; }
    [Conv2D(8, 3, padding: 1), Relu] public partial Layer C2 { get; }
    [Add(nameof(N1))] public partial Layer Sum { get; }
    [MaxPool2D(2)] public partial Layer Pool { get; }                         // [8,4,4]
    [Flatten] public partial Layer Flat { get; }
    [Dense(5)] public partial Layer Out { get; }
}

/// <summary>The same network, trainable (BatchNorm folded for inference, every activation kept).</summary>
[Network(3, 9, 9)]
public partial class ServeNetTrainable
{
    [Conv2D(8, 3, padding: 1, Bias = false)] public partial Layer C1 { get; }
    [BatchNorm2D, Relu] public partial Layer N1 { get; }
    [Conv2D(8, 3, padding: 1), Relu] public partial Layer C2 { get; }
    [Add(nameof(N1))] public partial Layer Sum { get; }
    [MaxPool2D(2)] public partial Layer Pool { get; }
    [Flatten] public partial Layer Flat { get; }
    [Dense(5)] public partial Layer Out { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

// ── Issue 9: training over threads ───────────────────────────────────────────────────────────────────

/// <summary>Every product path large enough to be split over threads at batch 64: indirect 3×3 convolutions with in ≠ out
/// channels (the first has no input gradient; the second by Winograd), a 1×1, a strided one (im2col, col2im), a sigmoid epilogue, dense layers.</summary>
[Network(3, 16, 16)]
public partial class ThreadNet
{
    [Conv2D(8, 3, padding: 1), Relu] public partial Layer C1 { get; }                  // [8,16,16]
    [Conv2D(12, 3, padding: 1, Algorithm = ConvAlgorithm.Winograd), Sigmoid] public partial Layer C2 { get; }   // [12,16,16]
    [Conv2D(6, 1)] public partial Layer Point { get; }                                 // [6,16,16]
    [Conv2D(10, 3, stride: 2, padding: 1), Relu] public partial Layer Strided { get; } // [10,8,8]
    [Flatten] public partial Layer F { get; }
    [Dense(64), Relu] public partial Layer Hidden { get; }
    [Dropout(0.25)] public partial Layer Drop { get; }
    [Dense(5)] public partial Layer Out { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

// ── Issue 10: recurrent layers ───────────────────────────────────────────────────────────────────────

/// <summary>An LSTM on a sequence of 5 steps × 3 features, its last state into a dense layer (odd sizes: H = 4 ≠ F).</summary>
[Network(5, 3)]
public partial class GcLstm
{
    [Lstm(4)] public partial Layer Rnn { get; }
    [Dense(3)] public partial Layer Out { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

/// <summary>Two stacked LSTMs (every step's state into the second), one step and nine steps.</summary>
[Network(9, 2)]
public partial class GcLstmStacked
{
    [Lstm(5, ReturnSequences = true)] public partial Layer L1 { get; }
    [Lstm(3)] public partial Layer L2 { get; }
    [Dense(2)] public partial Layer Out { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

/// <summary>A single step.</summary>
[Network(1, 6)]
public partial class GcLstmOneStep
{
    [Lstm(7)] public partial Layer Rnn { get; }
    [Dense(4)] public partial Layer Out { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

/// <summary>A GRU with every step's state into a tanh RNN, then a ReLU RNN's last state (the three cells stacked).</summary>
[Network(6, 3)]
public partial class GcGru
{
    [Gru(5, ReturnSequences = true)] public partial Layer G { get; }
    [Rnn(4, ReturnSequences = true)] public partial Layer R { get; }
    [Rnn(3, Nonlinearity = "relu")] public partial Layer Relu { get; }
    [Dense(3)] public partial Layer Out { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

/// <summary>A GRU's last state (one and two steps are covered by the LSTM models' shapes too).</summary>
[Network(2, 4)]
public partial class GcGruLast
{
    [Gru(3)] public partial Layer G { get; }
    [Dense(2)] public partial Layer Out { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

// ── Issue 10: token inputs, embeddings, padded steps ─────────────────────────────────────────────────

/// <summary>Token ids (id 0 padding, anywhere in a sequence) through a sparse embedding into a GRU's last state.</summary>
[Network(7)]
public partial class GcEmbedGru
{
    [Embedding(9, 3, MaskZero = true)] public partial Layer Embed { get; }
    [Gru(4)] public partial Layer G { get; }
    [Dense(3)] public partial Layer Out { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

/// <summary>A dense (Sparse = false) masked embedding into stacked LSTMs: the first's every-step output is masked and
/// carries the mask to the second.</summary>
[Network(5)]
public partial class GcEmbedLstmStacked
{
    [Embedding(6, 4, MaskZero = true, Sparse = false)] public partial Layer Embed { get; }
    [Lstm(5, ReturnSequences = true)] public partial Layer L1 { get; }
    [Lstm(3)] public partial Layer L2 { get; }
    [Dense(2)] public partial Layer Out { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

/// <summary>One step, masked (a padded sample keeps the zero state), into a tanh RNN.</summary>
[Network(1)]
public partial class GcEmbedOneStep
{
    [Embedding(5, 3, MaskZero = true)] public partial Layer Embed { get; }
    [Rnn(4)] public partial Layer R { get; }
    [Dense(2)] public partial Layer Out { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

/// <summary>No mask: id 0 is an ordinary token; a GRU's every step through dropout-free stacking into an RNN.</summary>
[Network(4)]
public partial class GcEmbedPlain
{
    [Embedding(5, 3)] public partial Layer Embed { get; }
    [Gru(3, ReturnSequences = true)] public partial Layer G { get; }
    [Rnn(2)] public partial Layer R { get; }
    [Dense(2)] public partial Layer Out { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

/// <summary><see cref="GcEmbedGru"/> with a dense table (Sparse = false): the same parameters, initialised alike.</summary>
[Network(7)]
public partial class GcEmbedGruDense
{
    [Embedding(9, 3, MaskZero = true, Sparse = false)] public partial Layer Embed { get; }
    [Gru(4)] public partial Layer G { get; }
    [Dense(3)] public partial Layer Out { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

/// <summary>A language model's shape: token ids → embedding → LSTM at every step → a dense layer at every step, one
/// softmax cross-entropy label per step (some steps skipped with −100).</summary>
[Network(6)]
public partial class GcCharLm
{
    [Embedding(5, 3)] public partial Layer Embed { get; }
    [Lstm(4, ReturnSequences = true)] public partial Layer L { get; }
    [Dense(5)] public partial Layer Next { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

/// <summary>Dense layers on sequences: one reading the network's sequence input, one with a fused tanh between a GRU's
/// every step and the per-step classifier.</summary>
[Network(4, 3)]
public partial class GcSeqDense
{
    [Dense(5), Tanh] public partial Layer In { get; }
    [Gru(4, ReturnSequences = true)] public partial Layer G { get; }
    [Dense(6), Tanh] public partial Layer Mid { get; }
    [Dense(3)] public partial Layer Out { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

/// <summary><see cref="GcLstm"/> over twice the steps (the same parameters): a long sequence in one call.</summary>
[Network(10, 3)]
public partial class GcLstmLong
{
    [Lstm(4)] public partial Layer Rnn { get; }
    [Dense(3)] public partial Layer Out { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

/// <summary><see cref="GcGru"/> over three times the steps (the same parameters).</summary>
[Network(18, 3)]
public partial class GcGruLong
{
    [Gru(5, ReturnSequences = true)] public partial Layer G { get; }
    [Rnn(4, ReturnSequences = true)] public partial Layer R { get; }
    [Rnn(3, Nonlinearity = "relu")] public partial Layer Relu { get; }
    [Dense(3)] public partial Layer Out { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

// ── Bidirectional recurrent layers ───────────────────────────────────────────────────────────────────

/// <summary>A bidirectional GRU's every step ([T, 2H]) into a bidirectional LSTM's two last states ([2H]).</summary>
[Network(5, 3)]
public partial class GcBiRecurrent
{
    [Gru(4, ReturnSequences = true, Bidirectional = true)] public partial Layer G { get; }
    [Lstm(3, Bidirectional = true)] public partial Layer L { get; }
    [Dense(2)] public partial Layer Out { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

/// <summary>Padded token sequences through bidirectional layers: the reverse direction starts at each sequence's own
/// last token (the padding after it carries its zero state), and a tanh RNN's last states.</summary>
[Network(6)]
public partial class GcBiMasked
{
    [Embedding(7, 3, MaskZero = true)] public partial Layer Embed { get; }
    [Lstm(3, ReturnSequences = true, Bidirectional = true)] public partial Layer L { get; }
    [Rnn(2, Bidirectional = true)] public partial Layer R { get; }
    [Dense(3)] public partial Layer Out { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

/// <summary>Variable-length feature sequences: steps of zeros are padding (Keras's Masking), read by a GRU's every step
/// and a bidirectional LSTM.</summary>
[Network(6, 2)]
public partial class GcMasking
{
    [Masking] public partial Layer Pad { get; }
    [Gru(3, ReturnSequences = true)] public partial Layer G { get; }
    [Lstm(2, Bidirectional = true)] public partial Layer L { get; }
    [Dense(2)] public partial Layer Out { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

/// <summary><see cref="GcEmbedLstmStacked"/> over twice the steps (the same parameters).</summary>
[Network(10)]
public partial class GcEmbedLstmStackedLong
{
    [Embedding(6, 4, MaskZero = true, Sparse = false)] public partial Layer Embed { get; }
    [Lstm(5, ReturnSequences = true)] public partial Layer L1 { get; }
    [Lstm(3)] public partial Layer L2 { get; }
    [Dense(2)] public partial Layer Out { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

/// <summary>A small GPT: token and position embeddings, a pre-LN block (layer norm, fused q/k/v projection, causal
/// attention with 2 heads of odd size 3, output projection, residual; layer norm, MLP with GELU, residual), a final layer
/// norm and a head with one label per step. Odd sizes everywhere (T = 5, C = 6, V = 7).</summary>
[Network(5)]
public partial class GcGptBlock
{
    [Embedding(7, 6)] public partial Layer Tok { get; }
    [PositionEmbedding] public partial Layer Pos { get; }
    [LayerNorm] public partial Layer Ln1 { get; }
    [Dense(18)] public partial Layer Qkv { get; }
    [CausalSelfAttention(2)] public partial Layer Attn { get; }
    [Dense(6)] public partial Layer Proj { get; }
    [Add(nameof(Pos))] public partial Layer Res1 { get; }
    [LayerNorm] public partial Layer Ln2 { get; }
    [Dense(10)] public partial Layer Fc { get; }
    [Gelu("tanh")] public partial Layer Act { get; }
    [Dense(6)] public partial Layer Fc2 { get; }
    [Add(nameof(Res1))] public partial Layer Res2 { get; }
    [LayerNorm] public partial Layer LnF { get; }
    [Dense(7)] public partial Layer Head { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

/// <summary>Layer norm reading a feature-sequence input (its input gradient is the network's), attention with 4 heads
/// of one channel, and layer norm on a vector with a non-default ε.</summary>
[Network(4, 5)]
public partial class GcAttentionSeq
{
    [LayerNorm] public partial Layer N { get; }
    [Dense(12)] public partial Layer Qkv { get; }
    [CausalSelfAttention(4)] public partial Layer A { get; }
    [Gelu] public partial Layer G { get; }
    [Dense(3)] public partial Layer Out { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

/// <summary>Layer norm on vectors, between dense layers.</summary>
[Network(6)]
public partial class GcLayerNorm
{
    [Dense(5)] public partial Layer A { get; }
    [LayerNorm(1e-3)] public partial Layer N { get; }
    [Dense(3), Tanh] public partial Layer B { get; }
    [LayerNorm] public partial Layer N2 { get; }
    [Dense(4)] public partial Layer C { get; }
    [Mse] public partial Loss Loss { get; }
}


/// <summary>Attention over 70 steps (two key tiles of the online softmax) in a residual block, as a sequence of features.</summary>
[Network(70, 4)]
public partial class GcLongAttention
{
    [Dense(12)] public partial Layer Qkv { get; }
    [CausalSelfAttention(2)] public partial Layer A { get; }
    [Dense(4)] public partial Layer Proj { get; }
    [Add("input")] public partial Layer Res { get; }
    [LayerNorm] public partial Layer N { get; }
    [Dense(3)] public partial Layer Out { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

/// <summary>Weight tying: the head's weight is the token embedding's table (one tensor, gradients from both uses).</summary>
[Network(4)]
public partial class GcTiedGpt
{
    [Embedding(6, 5, Sparse = false)] public partial Layer Tok { get; }
    [PositionEmbedding] public partial Layer Pos { get; }
    [Dense(15)] public partial Layer Qkv { get; }
    [CausalSelfAttention(1)] public partial Layer Attn { get; }
    [Add(nameof(Pos))] public partial Layer Res { get; }
    [LayerNorm] public partial Layer N { get; }
    [Dense(6, TiedTo = nameof(Tok))] public partial Layer Head { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

/// <summary>A block over 16 steps: with a multiple of 16 steps the panels get a per-step stride of n + 1 (the rows off
/// multiples of 4 KB), so the kernels run with padding columns between the steps.</summary>
[Network(16)]
public partial class GcGpt16
{
    [Embedding(5, 4, Sparse = false)] public partial Layer Tok { get; }
    [PositionEmbedding] public partial Layer Pos { get; }
    [LayerNorm] public partial Layer N { get; }
    [Dense(12)] public partial Layer Qkv { get; }
    [CausalSelfAttention(2)] public partial Layer Attn { get; }
    [Add(nameof(Pos))] public partial Layer Res { get; }
    [Gelu] public partial Layer G { get; }
    [Dense(5, TiedTo = nameof(Tok))] public partial Layer Head { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

/// <summary>A block declared with <c>[TransformerBlock]</c> (odd sizes: width 6, 2 heads of 3, MLP 10 wide, exact GELU,
/// ε 1e-4) and an [L2] that reaches its layers with weights; <see cref="BlockExplicit"/> is the same network layer by layer.</summary>
[Network(5)]
public partial class BlockDeclared
{
    [Embedding(7, 6)] public partial Layer Tok { get; }
    [PositionEmbedding] public partial Layer Pos { get; }
    [TransformerBlock(6, 2, FeedForward = 10, Gelu = "none", Epsilon = 1e-4), L2(0.01)] public partial Layer B { get; }
    [LayerNorm] public partial Layer LnF { get; }
    [Dense(7)] public partial Layer Head { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

/// <summary><see cref="BlockDeclared"/> written out: the ten layers the block expands into, under the names it gives them.</summary>
[Network(5)]
public partial class BlockExplicit
{
    [Embedding(7, 6)] public partial Layer Tok { get; }
    [PositionEmbedding] public partial Layer Pos { get; }
    [LayerNorm(1e-4)] public partial Layer BLn1 { get; }
    [Dense(18), L2(0.01)] public partial Layer BQkv { get; }
    [CausalSelfAttention(2)] public partial Layer BAttn { get; }
    [Dense(6), L2(0.01)] public partial Layer BProj { get; }
    [Add(nameof(Pos))] public partial Layer BRes1 { get; }
    [LayerNorm(1e-4)] public partial Layer BLn2 { get; }
    [Dense(10), L2(0.01)] public partial Layer BFc { get; }
    [Gelu] public partial Layer BAct { get; }
    [Dense(6), L2(0.01)] public partial Layer BFc2 { get; }
    [Add(nameof(BRes1))] public partial Layer B { get; }
    [LayerNorm] public partial Layer LnF { get; }
    [Dense(7)] public partial Layer Head { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

// ── Issue 11: GPU twins ──────────────────────────────────────────────────────────────────────────────

/// <summary>LayerNorm and GELU on every step of a sequence, dense layers applied per step (odd sizes: 4 steps of
/// 6 → 10 → 3); inference only (a loss at every step has no PTX yet).</summary>
[Network(4, 6, InferenceOnly = true)]
public partial class TwinSequenceNorm
{
    [Dense(10)] public partial Layer A { get; }
    [LayerNorm] public partial Layer N { get; }
    [Gelu("tanh")] public partial Layer G { get; }
    [Dense(3)] public partial Layer B { get; }
}

/// <summary>LayerNorm on vectors after an exact GELU, dropout between, classes at the end.</summary>
[Network(9)]
public partial class TwinVectorNorm
{
    [Dense(13)] public partial Layer A { get; }
    [Gelu] public partial Layer G { get; }
    [LayerNorm(1e-3f)] public partial Layer N { get; }
    [Dropout(0.25)] public partial Layer D { get; }
    [Dense(5)] public partial Layer B { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

/// <summary>GPU twin: token ids through an embedding, a learned position embedding, layer norm and a head at every step
/// (a class per step): the gather, the in-order table gradient and the position sums.</summary>
[Network(6)]
public partial class TwinTokens
{
    [Embedding(11, 5, Sparse = false)] public partial Layer Tok { get; }
    [PositionEmbedding] public partial Layer Pos { get; }
    [LayerNorm] public partial Layer N { get; }
    [Dense(4)] public partial Layer Head { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

// ── Wider recurrent layers ───────────────────────────────────────────────────────────────────────────

/// <summary>A bidirectional LSTM of 70 units (280 gate columns: two 128-column tiles and a tail of 24) over masked steps,
/// then a GRU of 33 (99 gate columns).</summary>
[Network(6, 2)]
public partial class GcWideRecurrent
{
    [Masking] public partial Layer Pad { get; }
    [Lstm(70, ReturnSequences = true, Bidirectional = true)] public partial Layer L { get; }
    [Gru(33)] public partial Layer G { get; }
    [Dense(3)] public partial Layer Out { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

/// <summary>Hidden 13 in every kind: the per-step products' 12-row panels end in a one-row panel — the RNN's W_hh (13
/// rows) and every backward W_hhᵀ (13 rows) — or in a 3- and 4-row one (the GRU's 39 gate rows, the LSTM's 52).</summary>
[Network(3, 2)]
public partial class GcOddPanels
{
    [Rnn(13, ReturnSequences = true)] public partial Layer R { get; }
    [Gru(13, ReturnSequences = true)] public partial Layer G { get; }
    [Lstm(13)] public partial Layer L { get; }
    [Dense(2)] public partial Layer Out { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

/// <summary>192 and 256 gate columns (one 128-column tile and a 64-column one; two tiles): a GRU's every step into an LSTM's last state.</summary>
[Network(4, 5)]
public partial class GcWideEven
{
    [Gru(64, ReturnSequences = true)] public partial Layer G { get; }
    [Lstm(64)] public partial Layer L { get; }
    [Dense(2)] public partial Layer Out { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

/// <summary><see cref="GcWideEven"/> over twice the steps (the same parameters).</summary>
[Network(8, 5)]
public partial class GcWideEvenLong
{
    [Gru(64, ReturnSequences = true)] public partial Layer G { get; }
    [Lstm(64)] public partial Layer L { get; }
    [Dense(2)] public partial Layer Out { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}
