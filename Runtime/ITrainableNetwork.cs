using System;
using ModelGen.Training;

namespace ModelGen;

/// <summary>A generated network with a loss: forward, loss, backward, update.</summary>
public interface ITrainableNetwork : INetwork
{
    /// <summary>The declared loss.</summary>
    LossKind LossKind { get; }
    /// <summary>Class labels per sample: 1, or one per step when the output is a sequence (softmax cross-entropy at
    /// every step: labels sample-major <c>[batch, steps]</c>, each step's classes the last dimension of the output).</summary>
    int LabelsPerSample => 1;
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
    /// <summary>As <see cref="Backward(ReadOnlySpan{int})"/>, also writing d loss / d input, row-major <c>[batch, InputSize]</c>.</summary>
    float Backward(ReadOnlySpan<int> labels, Span<float> inputGradient);
    /// <summary>As <see cref="Backward(ReadOnlySpan{float})"/>, also writing d loss / d input, row-major <c>[batch, InputSize]</c>.</summary>
    float Backward(ReadOnlySpan<float> targets, Span<float> inputGradient);
    /// <summary>The optimiser's per-parameter state (momentum, moments) and update count, kept with the model.</summary>
    OptimizerState OptimizerState { get; }
    /// <summary>The random stream of training-time layers (dropout masks); saved and restored by checkpoints.</summary>
    Rng TrainingRandom { get; set; }
    /// <summary>Sets every gradient to zero.</summary>
    void ZeroGrad();
    /// <summary>Applies one optimiser update to the parameters.</summary>
    void Step(Optimizer optimizer);
    /// <summary>The first layer (forward order) whose parameters, last output or gradients hold NaN or ±∞,
    /// e.g. <c>"Hidden2 (output)"</c>; null when everything is finite.</summary>
    string? FindNonFinite();
}
