using System.ComponentModel;
using System;
using System.Runtime.CompilerServices;

namespace ModelGen.Kernels;

/// <summary>
/// BatchNorm2D over images <c>x[batch][C][ldP]</c> (P real pixels per channel), N = batch·P values per channel.
/// Statistics are accumulated in double. <c>stats</c> holds per channel the batch mean and 1/√(σ² + ε) for backward.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class BatchNorm
{
    /// <summary>Training: normalise with the batch's statistics, update the running averages (unbiased variance, as PyTorch).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ForwardTraining(ref float x, int batch, int c, int pixels, int ldP, ref float gamma, ref float beta,
        ref float runMean, ref float runVar, float momentum, float eps, ref float stats, ref float y)
    {
        long n = (long)batch * pixels;
        for (int ci = 0; ci < c; ci++)
        {
            double sum = 0, sq = 0;
            for (int b = 0; b < batch; b++)
            {
                ref float row = ref Mem.Add(ref x, ((nint)b * c + ci) * ldP);
                for (int q = 0; q < pixels; q++) { double v = Mem.Add(ref row, q); sum += v; sq += v * v; }
            }
            double mean = sum / n, var = Math.Max(sq / n - mean * mean, 0);
            float inv = (float)(1.0 / Math.Sqrt(var + eps));
            Mem.Add(ref stats, 2 * ci) = (float)mean;
            Mem.Add(ref stats, 2 * ci + 1) = inv;
            ref float rm = ref Mem.Add(ref runMean, ci);
            ref float rv = ref Mem.Add(ref runVar, ci);
            rm = (1 - momentum) * rm + momentum * (float)mean;
            rv = (1 - momentum) * rv + momentum * (float)(n > 1 ? var * n / (n - 1) : var);
            float g = Mem.Add(ref gamma, ci) * inv, sh = Mem.Add(ref beta, ci) - (float)mean * g;
            for (int b = 0; b < batch; b++)
            {
                nint o = ((nint)b * c + ci) * ldP;
                for (int q = 0; q < pixels; q++) Mem.Add(ref y, o + q) = Mem.Add(ref x, o + q) * g + sh;
            }
        }
    }

    /// <summary>Inference: <c>y = γ·(x − running_mean)/√(running_var + ε) + β</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ForwardInference(ref float x, int batch, int c, int pixels, int ldP, ref float gamma, ref float beta,
        ref float runMean, ref float runVar, float eps, ref float y)
    {
        for (int ci = 0; ci < c; ci++)
        {
            float g = Mem.Add(ref gamma, ci) / MathF.Sqrt(Mem.Add(ref runVar, ci) + eps);
            float sh = Mem.Add(ref beta, ci) - Mem.Add(ref runMean, ci) * g;
            for (int b = 0; b < batch; b++)
            {
                nint o = ((nint)b * c + ci) * ldP;
                for (int q = 0; q < pixels; q++) Mem.Add(ref y, o + q) = Mem.Add(ref x, o + q) * g + sh;
            }
        }
    }

    /// <summary><c>dβ += Σ dy; dγ += Σ dy·x̂; dx = γ·inv/N·(N·dy − Σdy − x̂·Σ dy·x̂)</c> (the batch statistics depend on x).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(ref float x, ref float dy, int batch, int c, int pixels, int ldP, ref float gamma, ref float stats,
        ref float dgamma, ref float dbeta, ref float dx, bool inputGradient)
    {
        long n = (long)batch * pixels;
        for (int ci = 0; ci < c; ci++)
        {
            float mean = Mem.Add(ref stats, 2 * ci), inv = Mem.Add(ref stats, 2 * ci + 1);
            double sdy = 0, sdyx = 0;
            for (int b = 0; b < batch; b++)
            {
                nint o = ((nint)b * c + ci) * ldP;
                for (int q = 0; q < pixels; q++)
                {
                    double d = Mem.Add(ref dy, o + q);
                    sdy += d;
                    sdyx += d * (Mem.Add(ref x, o + q) - mean) * inv;
                }
            }
            Mem.Add(ref dbeta, ci) += (float)sdy;
            Mem.Add(ref dgamma, ci) += (float)sdyx;
            if (!inputGradient) continue;
            float k = Mem.Add(ref gamma, ci) * inv / n;
            float a = (float)sdy, bxh = (float)sdyx;
            for (int b = 0; b < batch; b++)
            {
                nint o = ((nint)b * c + ci) * ldP;
                for (int q = 0; q < pixels; q++)
                {
                    float xh = (Mem.Add(ref x, o + q) - mean) * inv;
                    Mem.Add(ref dx, o + q) = k * (n * Mem.Add(ref dy, o + q) - a - xh * bxh);
                }
            }
        }
    }

    /// <summary>
    /// Folds an inference-mode BatchNorm into the convolution before it: with <c>s = γ/√(running_var + ε)</c>,
    /// <c>W'[o,k] = s[o]·W[o,k]</c> and <c>b'[o] = s[o]·(b[o] − running_mean[o]) + β[o]</c>, so <c>conv'(x) = BN(conv(x))</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Fold(ref float w, ref float bias, int outputs, int k, ref float gamma, ref float beta, ref float runMean, ref float runVar,
        float eps, ref float foldedW, ref float foldedBias)
    {
        for (int o = 0; o < outputs; o++)
        {
            float s = Mem.Add(ref gamma, o) / MathF.Sqrt(Mem.Add(ref runVar, o) + eps);
            nint row = (nint)o * k;
            for (int i = 0; i < k; i++) Mem.Add(ref foldedW, row + i) = s * Mem.Add(ref w, row + i);
            Mem.Add(ref foldedBias, o) = s * (Mem.Add(ref bias, o) - Mem.Add(ref runMean, o)) + Mem.Add(ref beta, o);
        }
    }
}
