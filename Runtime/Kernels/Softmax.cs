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
            for (int f = 0; f < features; f++) max = MathF.Max(max, Mem.Add(ref x, (nint)f * ld + b));
            float sum = 0f;
            for (int f = 0; f < features; f++)
            {
                float e = MathF.Exp(Mem.Add(ref x, (nint)f * ld + b) - max);
                Mem.Add(ref y, (nint)f * ld + b) = e;
                sum += e;
            }
            float inv = 1f / sum;
            for (int f = 0; f < features; f++) Mem.Add(ref y, (nint)f * ld + b) *= inv;
        }
    }

    /// <summary><c>dx[:,b] = y ⊙ (dy − Σ_f dy_f·y_f)</c> (the softmax Jacobian-vector product). dy and dx may alias.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(ref float dy, ref float y, ref float dx, int features, int ld, int cols)
    {
        for (int b = 0; b < cols; b++)
        {
            float dot = 0f;
            for (int f = 0; f < features; f++) dot += Mem.Add(ref dy, (nint)f * ld + b) * Mem.Add(ref y, (nint)f * ld + b);
            for (int f = 0; f < features; f++)
            {
                nint i = (nint)f * ld + b;
                Mem.Add(ref dx, i) = Mem.Add(ref y, i) * (Mem.Add(ref dy, i) - dot);
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
