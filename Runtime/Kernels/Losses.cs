using System;
using System.Runtime.CompilerServices;

namespace ModelGen.Kernels;

/// <summary>
/// Losses over a feature-major output panel <c>[outputs, ld]</c>. Each returns the mean loss over the batch
/// and, when asked, writes <c>∂L/∂output</c> into <c>grad</c> (padding columns <c>[batch, ld)</c> set to 0,
/// so they add nothing to the parameter gradients).
/// </summary>
public static class Losses
{
    /// <summary>
    /// Softmax cross-entropy: <c>L = (1/B) Σ_b [log Σ_c e^{z_cb} − z_{y_b, b}]</c>, computed as
    /// <c>m + log Σ e^{z−m}</c> with <c>m = max_c z</c> (no overflow);
    /// <c>∂L/∂z_cb = (softmax(z_b)_c − [c = y_b]) / B</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float SoftmaxCrossEntropy(ref float z, int classes, int ld, int batch, ReadOnlySpan<int> labels, ref float grad, bool withGradient)
    {
        if (labels.Length != batch)
            throw new ArgumentException($"got {labels.Length} labels for a batch of {batch} samples", nameof(labels));
        double total = 0;
        float invB = 1f / batch;
        for (int b = 0; b < batch; b++)
        {
            int label = labels[b];
            if ((uint)label >= (uint)classes)
                throw new ArgumentOutOfRangeException(nameof(labels), label, $"label of sample {b} is {label}; the network has {classes} classes (0..{classes - 1})");
            float max = float.NegativeInfinity;
            for (int c = 0; c < classes; c++) max = MathF.Max(max, Unsafe.Add(ref z, (nint)c * ld + b));
            float sum = 0f;
            for (int c = 0; c < classes; c++) sum += MathF.Exp(Unsafe.Add(ref z, (nint)c * ld + b) - max);
            float lse = max + MathF.Log(sum);
            total += lse - Unsafe.Add(ref z, (nint)label * ld + b);
            if (withGradient)
            {
                float inv = 1f / sum;
                for (int c = 0; c < classes; c++)
                {
                    nint i = (nint)c * ld + b;
                    float p = MathF.Exp(Unsafe.Add(ref z, i) - max) * inv;
                    Unsafe.Add(ref grad, i) = (p - (c == label ? 1f : 0f)) * invB;
                }
            }
        }
        if (withGradient) ZeroPadding(ref grad, classes, ld, batch);
        return (float)(total / batch);
    }

    /// <summary>Mean squared error over every element: <c>L = (1/(B·N)) Σ (y − t)²</c>; <c>∂L/∂y = 2(y − t)/(B·N)</c>.
    /// Targets are sample-major <c>[batch, outputs]</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Mse(ref float y, int outputs, int ld, int batch, ReadOnlySpan<float> targets, ref float grad, bool withGradient)
    {
        if (targets.Length != batch * outputs)
            throw new ArgumentException($"got {targets.Length} targets for a batch of {batch} samples × {outputs} outputs", nameof(targets));
        double total = 0;
        float scale = 2f / (batch * outputs);
        for (int o = 0; o < outputs; o++)
            for (int b = 0; b < batch; b++)
            {
                nint i = (nint)o * ld + b;
                float d = Unsafe.Add(ref y, i) - targets[b * outputs + o];
                total += (double)d * d;
                if (withGradient) Unsafe.Add(ref grad, i) = scale * d;
            }
        if (withGradient) ZeroPadding(ref grad, outputs, ld, batch);
        return (float)(total / ((double)batch * outputs));
    }

    private static void ZeroPadding(ref float grad, int rows, int ld, int batch)
    {
        for (int r = 0; r < rows; r++)
            for (int b = batch; b < ld; b++) Unsafe.Add(ref grad, (nint)r * ld + b) = 0f;
    }
}
