using System.ComponentModel;
using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ModelGen.Kernels;

/// <summary>
/// Losses over a feature-major output panel <c>[outputs, ld]</c>. Each returns the mean loss over the batch
/// and, when asked, writes <c>∂L/∂output</c> into <c>grad</c> (padding columns <c>[batch, ld)</c> set to 0,
/// so they add nothing to the parameter gradients; entries below <see cref="FlushBelow"/> written as 0).
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Losses
{
    /// <summary>
    /// 2⁻¹⁰⁰ (≈ 7.9·10⁻³¹): a loss gradient entry smaller than this in magnitude is written as zero. A softmax or sigmoid
    /// of a saturated output gives probabilities down to 10⁻⁴⁵, subnormal floats, and every multiply-add that reads a
    /// subnormal takes a microcode assist (~100× slower on x86): one degenerate batch made a W2 training step take
    /// 1.7 s instead of 45 ms. An entry this small changes no parameter (its products are ~10⁻²⁰ of a weight's last
    /// bit), so flushing it is what <c>torch.set_flush_denormal(True)</c> buys, without touching the FPU's state.
    /// </summary>
    public const float FlushBelow = 7.8886091E-31f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Flush(float g) => MathF.Abs(g) < FlushBelow ? 0f : g;

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
                throw new ArgumentOutOfRangeException(nameof(labels), label, $"label of sample {b} of this batch is {label}; the network has {classes} classes (0..{classes - 1})");
            float max = float.NegativeInfinity;
            for (int c = 0; c < classes; c++) max = MathF.Max(max, Mem.Add(ref z, (nint)c * ld + b));
            float sum = 0f;
            for (int c = 0; c < classes; c++) sum += MathF.Exp(Mem.Add(ref z, (nint)c * ld + b) - max);
            float lse = max + MathF.Log(sum);
            total += lse - Mem.Add(ref z, (nint)label * ld + b);
            if (withGradient)
            {
                float inv = 1f / sum;
                for (int c = 0; c < classes; c++)
                {
                    nint i = (nint)c * ld + b;
                    float p = MathF.Exp(Mem.Add(ref z, i) - max) * inv;
                    Mem.Add(ref grad, i) = Flush((p - (c == label ? 1f : 0f)) * invB);
                }
            }
        }
        if (withGradient) Layout.ZeroColumns(ref grad, classes, ld, batch, ld);
        return (float)(total / batch);
    }

    /// <summary>The label of a step that no loss is computed for (PyTorch's <c>ignore_index</c> default).</summary>
    public const int IgnoreLabel = -100;

    /// <summary>Softmax cross-entropy at every step of a sequence output, logits <c>[classes, steps·ld]</c> (step t's
    /// samples in columns <c>t·ld + b</c>), labels sample-major <c>[batch, steps]</c> as PyTorch's <c>[B, T]</c> targets:
    /// <c>L = (1/N) Σ_(b,t) [log Σ_c e^{z} − z_label]</c> over the N labelled steps (<see cref="IgnoreLabel"/> skips one),
    /// <c>dz = (softmax − onehot)/N</c>; every other column's gradient (ignored steps, padding) is zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float SequenceSoftmaxCrossEntropy(ref float z, int classes, int steps, int ld, int batch, ReadOnlySpan<int> labels, ref float grad, bool withGradient)
    {
        if (labels.Length != batch * steps)
            throw new ArgumentException($"got {labels.Length} labels for a batch of {batch} samples × {steps} steps (one label per step, sample-major)", nameof(labels));
        nint row = (nint)steps * ld;
        int counted = 0;
        for (int i = 0; i < labels.Length; i++)
        {
            if (labels[i] == IgnoreLabel) continue;
            if ((uint)labels[i] >= (uint)classes)
                throw new ArgumentOutOfRangeException(nameof(labels), labels[i],
                    $"label of sample {i / steps}, step {i % steps} of this batch is {labels[i]}; the network has {classes} classes (0..{classes - 1}), or {IgnoreLabel} to skip the step");
            counted++;
        }
        if (withGradient)
            for (int c = 0; c < classes; c++) MemoryMarshal.CreateSpan(ref Mem.Add(ref grad, c * row), (int)row).Clear();
        if (counted == 0) return 0f;
        double total = 0;
        float inv = 1f / counted;
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < steps; t++)
            {
                int label = labels[b * steps + t];
                if (label == IgnoreLabel) continue;
                nint col = (nint)t * ld + b;
                float max = float.NegativeInfinity;
                for (int c = 0; c < classes; c++) max = MathF.Max(max, Mem.Add(ref z, c * row + col));
                float sum = 0f;
                for (int c = 0; c < classes; c++) sum += MathF.Exp(Mem.Add(ref z, c * row + col) - max);
                total += max + MathF.Log(sum) - Mem.Add(ref z, label * row + col);
                if (!withGradient) continue;
                float norm = inv / sum;
                for (int c = 0; c < classes; c++)
                    Mem.Add(ref grad, c * row + col) = Flush(MathF.Exp(Mem.Add(ref z, c * row + col) - max) * norm - (c == label ? inv : 0f));
            }
        return (float)(total / counted);
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
                float d = Mem.Add(ref y, i) - targets[b * outputs + o];
                total += (double)d * d;
                if (withGradient) Mem.Add(ref grad, i) = scale * d;
            }
        if (withGradient) Layout.ZeroColumns(ref grad, outputs, ld, batch, ld);
        return (float)(total / ((double)batch * outputs));
    }

    /// <summary>
    /// Multi-class SVM hinge (Weston–Watkins, margin 1): <c>L = (1/B) Σ_b Σ_{j≠y} max(0, s_j − s_y + 1)</c>;
    /// <c>∂L/∂s_j = [m_j &gt; 0]/B</c> for <c>j ≠ y</c>, <c>∂L/∂s_y = −#{j: m_j &gt; 0}/B</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float MultiClassHinge(ref float s, int classes, int ld, int batch, ReadOnlySpan<int> labels, ref float grad, bool withGradient)
    {
        if (labels.Length != batch)
            throw new ArgumentException($"got {labels.Length} labels for a batch of {batch} samples", nameof(labels));
        double total = 0;
        float invB = 1f / batch;
        for (int b = 0; b < batch; b++)
        {
            int y = labels[b];
            if ((uint)y >= (uint)classes)
                throw new ArgumentOutOfRangeException(nameof(labels), y, $"label of sample {b} of this batch is {y}; the network has {classes} classes (0..{classes - 1})");
            float sy = Mem.Add(ref s, (nint)y * ld + b);
            int active = 0;
            for (int j = 0; j < classes; j++)
            {
                if (j == y) continue;
                float m = Mem.Add(ref s, (nint)j * ld + b) - sy + 1f;
                bool on = m > 0f;
                if (on) { total += m; active++; }
                if (withGradient) Mem.Add(ref grad, (nint)j * ld + b) = on ? invB : 0f;
            }
            if (withGradient) Mem.Add(ref grad, (nint)y * ld + b) = -active * invB;
        }
        if (withGradient) Layout.ZeroColumns(ref grad, classes, ld, batch, ld);
        return (float)(total / batch);
    }

    /// <summary>
    /// The losses that are a mean over every output element of <c>ℓ(y, t)</c>, targets sample-major
    /// <c>[batch, outputs]</c>: Mse, Mae, Huber (<paramref name="param"/> = δ), Quantile (τ), BinaryCrossEntropy
    /// (on logits), Hinge (targets ±1). The formulas are on <see cref="LossKind"/>'s attributes; the gradient is
    /// <c>∂ℓ/∂y / (B·N)</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Elementwise(LossKind kind, float param, ref float y, int outputs, int ld, int batch, ReadOnlySpan<float> targets, ref float grad, bool withGradient)
    {
        if (targets.Length != batch * outputs)
            throw new ArgumentException($"got {targets.Length} targets for a batch of {batch} samples × {outputs} outputs", nameof(targets));
        double total = 0;
        float inv = 1f / (batch * outputs);
        for (int o = 0; o < outputs; o++)
            for (int b = 0; b < batch; b++)
            {
                nint i = (nint)o * ld + b;
                float v = Mem.Add(ref y, i), t = targets[b * outputs + o];
                float l, d;
                switch (kind)
                {
                    case LossKind.Mse: { float e = v - t; l = e * e; d = 2f * e; break; }
                    case LossKind.Mae: { float e = v - t; l = MathF.Abs(e); d = e > 0f ? 1f : e < 0f ? -1f : 0f; break; }
                    case LossKind.Huber:
                    {
                        float e = v - t, a = MathF.Abs(e);
                        if (a <= param) { l = 0.5f * e * e; d = e; }
                        else { l = param * (a - 0.5f * param); d = e > 0f ? param : -param; }
                        break;
                    }
                    case LossKind.Quantile:
                    {
                        float e = t - v;
                        l = MathF.Max(param * e, (param - 1f) * e);
                        d = e > 0f ? -param : e < 0f ? 1f - param : 0f;
                        break;
                    }
                    case LossKind.BinaryCrossEntropy:
                    {
                        if (!(t >= 0f && t <= 1f))
                            throw new ArgumentOutOfRangeException(nameof(targets), t, $"BinaryCrossEntropy target of sample {b} of this batch is {t}; it must be in [0, 1]");
                        // max(z,0) − z·t + log(1 + e^{−|z|}): never exponentiates a positive number.
                        l = MathF.Max(v, 0f) - v * t + MathF.Log(1f + MathF.Exp(-MathF.Abs(v)));
                        d = 1f / (1f + MathF.Exp(-v)) - t;
                        break;
                    }
                    case LossKind.Hinge:
                    {
                        if (t != 1f && t != -1f)
                            throw new ArgumentOutOfRangeException(nameof(targets), t, $"Hinge target of sample {b} of this batch is {t}; binary hinge labels are −1 or +1");
                        float m = 1f - t * v;
                        l = m > 0f ? m : 0f;
                        d = m > 0f ? -t : 0f;
                        break;
                    }
                    default: throw new ArgumentOutOfRangeException(nameof(kind), kind, "not an element-wise loss");
                }
                total += l;
                if (withGradient) Mem.Add(ref grad, i) = Flush(d * inv);
            }
        if (withGradient) Layout.ZeroColumns(ref grad, outputs, ld, batch, ld);
        return (float)(total * inv);
    }
}
