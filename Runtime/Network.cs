using System;
using System.Collections.Generic;

namespace ModelGen;

/// <summary>The training loss a network declares; it fixes what the targets are.</summary>
public enum LossKind
{
    /// <summary>Inference-only network.</summary>
    None = 0,
    /// <summary>Softmax cross-entropy on logits; targets are integer class labels.</summary>
    SoftmaxCrossEntropy = 1,
    /// <summary>Mean squared error (L2); targets are floats, one per output.</summary>
    Mse = 2,
    /// <summary>Mean absolute error (L1); float targets.</summary>
    Mae = 3,
    /// <summary>Huber (δ): quadratic near 0, linear beyond; float targets.</summary>
    Huber = 4,
    /// <summary>Quantile / pinball (τ); float targets.</summary>
    Quantile = 5,
    /// <summary>Binary cross-entropy on one logit; float targets in [0, 1].</summary>
    BinaryCrossEntropy = 6,
    /// <summary>Binary hinge on one score; float targets −1 / +1.</summary>
    Hinge = 7,
    /// <summary>Multi-class SVM hinge (margin 1); integer class labels.</summary>
    MultiClassHinge = 8,
}

/// <summary>Facts about each loss.</summary>
public static class LossKinds
{
    /// <summary>True when the loss takes integer class labels (else float targets).</summary>
    public static bool TakesLabels(this LossKind kind) => kind is LossKind.SoftmaxCrossEntropy or LossKind.MultiClassHinge;
}

/// <summary>A named parameter tensor: its place in <see cref="INetwork.Parameters"/> and its shape
/// (PyTorch's layout, e.g. <c>[out, in]</c> for a dense weight).</summary>
/// <param name="Name">Safetensors name, e.g. <c>Hidden1.weight</c>.</param>
/// <param name="Shape">Shape.</param>
/// <param name="Offset">Offset in floats into <see cref="INetwork.Parameters"/>.</param>
/// <param name="Length">Number of floats.</param>
/// <param name="IsWeight">True for weights (subject to weight decay), false for biases.</param>
/// <param name="IsBuffer">True for state that is saved but not trained (BatchNorm's running statistics).</param>
public sealed record TensorInfo(string Name, int[] Shape, int Offset, int Length, bool IsWeight, bool IsBuffer = false);

/// <summary>A generated network: fixed shapes, one arena, zero allocation per call.</summary>
public interface INetwork : IDisposable
{
    /// <summary>Floats per input sample.</summary>
    int InputSize { get; }
    /// <summary>Floats per output sample.</summary>
    int OutputSize { get; }
    /// <summary>Largest batch this instance accepts (set at construction).</summary>
    int MaxBatch { get; }
    /// <summary>Number of trainable parameters.</summary>
    int ParameterCount { get; }
    /// <summary>Which generated code path runs; defaults to <see cref="Simd.Best"/>.</summary>
    SimdWidth Width { get; set; }
    /// <summary>Every parameter tensor, in declaration order.</summary>
    IReadOnlyList<TensorInfo> Tensors { get; }
    /// <summary>All parameters, one contiguous block (tensors at <see cref="TensorInfo.Offset"/>, zero padding between).</summary>
    Span<float> Parameters { get; }
    /// <summary>Runs the network on <c>input.Length / InputSize</c> samples (row-major <c>[batch, InputSize]</c>).
    /// With <paramref name="training"/> the activations are kept for <c>Backward</c>.</summary>
    void Forward(ReadOnlySpan<float> input, bool training = false);
    /// <summary>Copies the last forward's outputs, row-major <c>[batch, OutputSize]</c>.</summary>
    void GetOutput(Span<float> output);
    /// <summary><see cref="Forward"/> (inference) then <see cref="GetOutput"/>.</summary>
    void Predict(ReadOnlySpan<float> input, Span<float> output);
}

/// <summary>A generated network with a loss: forward, loss, backward, update.</summary>
public interface ITrainableNetwork : INetwork
{
    /// <summary>The declared loss.</summary>
    LossKind LossKind { get; }
    /// <summary>Gradients, laid out exactly as <see cref="INetwork.Parameters"/>.</summary>
    Span<float> Gradients { get; }
    /// <summary>Mean loss of the last forward against class labels (softmax cross-entropy).</summary>
    float ComputeLoss(ReadOnlySpan<int> labels);
    /// <summary>Mean loss of the last forward against float targets (regression losses).</summary>
    float ComputeLoss(ReadOnlySpan<float> targets);
    /// <summary>Loss of the last training forward, back-propagated: gradients are <b>added</b> to <see cref="Gradients"/>.</summary>
    float Backward(ReadOnlySpan<int> labels);
    /// <summary>As <see cref="Backward(ReadOnlySpan{int})"/> with float targets.</summary>
    float Backward(ReadOnlySpan<float> targets);
    /// <summary>Sets every gradient to zero.</summary>
    void ZeroGrad();
    /// <summary>Applies one optimiser update to the parameters.</summary>
    void Step(Optimizer optimizer);
    /// <summary>The first layer (forward order) whose parameters, last output or gradients hold NaN or ±∞,
    /// e.g. <c>"Hidden2 (output)"</c>; null when everything is finite.</summary>
    string? FindNonFinite();
}

/// <summary>A layer of a generated network: name, shapes and views of its parameters.</summary>
public sealed class Layer
{
    private readonly Arena _arena;
    private readonly long _weight, _bias, _gradBase;

    /// <summary>Used by generated code.</summary>
    public Layer(Arena arena, string name, string kind, int[] inputShape, int[] outputShape,
        long weightOffset, int weightLength, long biasOffset, int biasLength, long gradientBase, string[] inputs)
    {
        _arena = arena; Name = name; Kind = kind; InputShape = inputShape; OutputShape = outputShape;
        _weight = weightOffset; WeightLength = weightLength; _bias = biasOffset; BiasLength = biasLength; _gradBase = gradientBase;
        Inputs = inputs;
    }

    /// <summary>The layers this one reads, by name (<c>"(input)"</c> for the network input): one, or two for an add.</summary>
    public string[] Inputs { get; }

    /// <summary>The member's name.</summary>
    public string Name { get; }
    /// <summary>Kind and options, e.g. <c>Dense(256), Relu</c>.</summary>
    public string Kind { get; }
    /// <summary>Shape of one input sample.</summary>
    public int[] InputShape { get; }
    /// <summary>Shape of one output sample.</summary>
    public int[] OutputShape { get; }
    private int WeightLength { get; }
    private int BiasLength { get; }
    /// <summary>Number of parameters.</summary>
    public int ParameterCount => WeightLength + BiasLength;
    /// <summary>The weights (<c>[out, in]</c>, row-major); empty for layers without weights.</summary>
    public Span<float> Weight { get { _arena.Touch(); return WeightLength == 0 ? default : _arena.Span(_weight, WeightLength); } }
    /// <summary>The biases; empty for layers without biases.</summary>
    public Span<float> Bias { get { _arena.Touch(); return BiasLength == 0 ? default : _arena.Span(_bias, BiasLength); } }
    /// <summary>Gradient of the loss with respect to <see cref="Weight"/>.</summary>
    public Span<float> WeightGradient => WeightLength == 0 ? default : _arena.Span(_gradBase + _weight, WeightLength);
    /// <summary>Gradient of the loss with respect to <see cref="Bias"/>.</summary>
    public Span<float> BiasGradient => BiasLength == 0 ? default : _arena.Span(_gradBase + _bias, BiasLength);
    /// <inheritdoc/>
    public override string ToString() => $"{Name}: {Kind} [{string.Join(",", InputShape)}] -> [{string.Join(",", OutputShape)}]";
}

/// <summary>The declared loss of a generated network.</summary>
public sealed class Loss
{
    /// <summary>Used by generated code.</summary>
    public Loss(string name, LossKind kind) { Name = name; Kind = kind; }
    /// <summary>The member's name.</summary>
    public string Name { get; }
    /// <summary>Which loss.</summary>
    public LossKind Kind { get; }
    /// <inheritdoc/>
    public override string ToString() => $"{Name}: {Kind}";
}
