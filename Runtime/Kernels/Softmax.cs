using System.ComponentModel;
using System;
using System.Runtime.CompilerServices;

namespace ModelGen.Kernels;

/// <summary>Softmax over the features of each sample (a column of a feature-major panel).</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Softmax
{
    /// <summary><c>y[:,b] = softmax(x[:,b])</c> for <c>b &lt; cols</c>, max-subtracted for stability. x and y may alias.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(ref float x, ref float y, int features, int ld, int cols)
    {
        for (int b = 0; b < cols; b++)
        {
            float max = float.NegativeInfinity;
            for (int f = 0; f < features; f++) max = MathF.Max(max, Unsafe.Add(ref x, (nint)f * ld + b));
            float sum = 0f;
            for (int f = 0; f < features; f++)
            {
                float e = MathF.Exp(Unsafe.Add(ref x, (nint)f * ld + b) - max);
                Unsafe.Add(ref y, (nint)f * ld + b) = e;
                sum += e;
            }
            float inv = 1f / sum;
            for (int f = 0; f < features; f++) Unsafe.Add(ref y, (nint)f * ld + b) *= inv;
        }
    }

    /// <summary><c>dx[:,b] = y ⊙ (dy − Σ_f dy_f·y_f)</c> (the softmax Jacobian-vector product). dy and dx may alias.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(ref float dy, ref float y, ref float dx, int features, int ld, int cols)
    {
        for (int b = 0; b < cols; b++)
        {
            float dot = 0f;
            for (int f = 0; f < features; f++) dot += Unsafe.Add(ref dy, (nint)f * ld + b) * Unsafe.Add(ref y, (nint)f * ld + b);
            for (int f = 0; f < features; f++)
            {
                nint i = (nint)f * ld + b;
                Unsafe.Add(ref dx, i) = Unsafe.Add(ref y, i) * (Unsafe.Add(ref dy, i) - dot);
            }
        }
    }

    /// <summary>Softmax over each row of a sample-major <c>[rows, width]</c> block, in place, max-subtracted.</summary>
    public static void Rows(Span<float> data, int width)
    {
        for (int at = 0; at + width <= data.Length; at += width)
        {
            var row = data.Slice(at, width);
            float max = float.NegativeInfinity;
            foreach (float v in row) max = MathF.Max(max, v);
            float sum = 0f;
            for (int f = 0; f < row.Length; f++) { row[f] = MathF.Exp(row[f] - max); sum += row[f]; }
            float inv = 1f / sum;
            for (int f = 0; f < row.Length; f++) row[f] *= inv;
        }
    }
}
