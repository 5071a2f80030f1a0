using System.ComponentModel;
using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ModelGen.Kernels;

/// <summary>Inverted dropout.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Dropout
{
    /// <summary>
    /// <c>mask[f,b] = (u ≥ rate ? 1/(1 − rate) : 0)</c> with <c>u ~ U[0,1)</c> drawn from <paramref name="rng"/> in
    /// row-major order over <c>b &lt; cols</c> (padding columns get 0); <c>y = x ⊙ mask</c>. x and y may alias.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(ReadOnlySpan<float> x, Span<float> y, Span<float> mask, int rows, int ld, int cols, float rate, ref Rng rng)
    {
        if (!(rate >= 0f && rate < 1f)) throw new ArgumentOutOfRangeException(nameof(rate), rate, "dropout rate must be in [0, 1)");
        float scale = 1f / (1f - rate);
        for (int r = 0; r < rows; r++)
        {
            int row = r * ld;
            for (int b = 0; b < ld; b++)
            {
                float m = b < cols && rng.NextFloat() >= rate ? scale : 0f;
                mask[row + b] = m;
                y[row + b] = x[row + b] * m;
            }
        }
    }
}
