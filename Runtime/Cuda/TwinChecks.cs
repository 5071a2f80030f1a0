using System;
using System.ComponentModel;

namespace ModelGen.Cuda;

/// <summary>The checks a GPU twin makes on the host before it uploads labels or targets: the same errors, with the same
/// words, as the C# path's losses (which find them while they compute).</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class TwinChecks
{
    /// <summary>One class index in [0, classes) per sample.</summary>
    public static void Labels(ReadOnlySpan<int> labels, int batch, int classes)
    {
        if (labels.Length != batch)
            throw new ArgumentException($"got {labels.Length} labels for a batch of {batch} samples", nameof(labels));
        for (int b = 0; b < batch; b++)
            if ((uint)labels[b] >= (uint)classes)
                throw new ArgumentOutOfRangeException(nameof(labels), labels[b], $"label of sample {b} of this batch is {labels[b]}; the network has {classes} classes (0..{classes - 1})");
    }

    /// <summary>One label per step (sample-major <c>[batch, steps]</c>), each a class or <c>IgnoreLabel</c> (−100); returns how many
    /// steps are labelled (the mean's divisor).</summary>
    public static int StepLabels(ReadOnlySpan<int> labels, int batch, int steps, int classes)
    {
        if (labels.Length != batch * steps)
            throw new ArgumentException($"got {labels.Length} labels for a batch of {batch} samples × {steps} steps (one label per step, sample-major)", nameof(labels));
        int counted = 0;
        for (int i = 0; i < labels.Length; i++)
        {
            if (labels[i] == Kernels.Losses.IgnoreLabel) continue;
            if ((uint)labels[i] >= (uint)classes)
                throw new ArgumentOutOfRangeException(nameof(labels), labels[i],
                    $"label of sample {i / steps}, step {i % steps} of this batch is {labels[i]}; the network has {classes} classes (0..{classes - 1}), or {Kernels.Losses.IgnoreLabel} to skip the step");
            counted++;
        }
        return counted;
    }

    /// <summary><c>batch × outputs</c> targets, in [0, 1] for binary cross-entropy and ±1 for the binary hinge.</summary>
    public static void Targets(LossKind kind, ReadOnlySpan<float> targets, int batch, int outputs)
    {
        if (targets.Length != batch * outputs)
            throw new ArgumentException($"got {targets.Length} targets for a batch of {batch} samples × {outputs} outputs", nameof(targets));
        for (int i = 0; i < targets.Length; i++)
        {
            float t = targets[i];
            if (kind == LossKind.BinaryCrossEntropy && !(t >= 0f && t <= 1f))
                throw new ArgumentOutOfRangeException(nameof(targets), t, $"BinaryCrossEntropy target of sample {i / outputs} of this batch is {t}; it must be in [0, 1]");
            if (kind == LossKind.Hinge && t != 1f && t != -1f)
                throw new ArgumentOutOfRangeException(nameof(targets), t, $"Hinge target of sample {i / outputs} of this batch is {t}; binary hinge labels are −1 or +1");
        }
    }
}
