using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;

namespace ModelGen.Kernels;

/// <summary>
/// The element-wise part of a recurrent step, over the batch columns of one time step. Sequences are feature-major
/// panels <c>[rows, T·ld]</c>: step t's columns are <c>[t·ld, t·ld + n)</c>, so the input projection, the recurrent
/// product and the weight gradients are ordinary GEMMs over them. LSTM gates are stacked in PyTorch's order
/// <c>i, f, g, o</c>, <c>hidden</c> rows each.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Recurrent
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-x));

    /// <summary>One LSTM step forward: <paramref name="gates"/> holds the pre-activations <c>[4H rows][ldg]</c> and is
    /// replaced by the activations <c>i = σ, f = σ, g = tanh, o = σ</c>; then <c>c = f⊙cPrev + i⊙g</c>,
    /// <c>h = o⊙tanh(c)</c> (rows <paramref name="ldc"/> apart; <paramref name="first"/>: cPrev = 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LstmForward(ref float gates, nint ldg, ref float cPrev, ref float c, ref float h, nint ldc, int hidden, int n, bool first)
    {
        for (int r = 0; r < hidden; r++)
        {
            ref float gi = ref Mem.Add(ref gates, r * ldg);
            ref float gf = ref Mem.Add(ref gates, (hidden + r) * ldg);
            ref float gg = ref Mem.Add(ref gates, (2 * hidden + r) * ldg);
            ref float go = ref Mem.Add(ref gates, (3 * hidden + r) * ldg);
            for (int j = 0; j < n; j++)
            {
                float i = Sigmoid(Mem.Add(ref gi, j)), f = Sigmoid(Mem.Add(ref gf, j)), g = MathF.Tanh(Mem.Add(ref gg, j)), o = Sigmoid(Mem.Add(ref go, j));
                Mem.Add(ref gi, j) = i; Mem.Add(ref gf, j) = f; Mem.Add(ref gg, j) = g; Mem.Add(ref go, j) = o;
                float cp = first ? 0f : Mem.Add(ref cPrev, r * ldc + j);
                float cv = f * cp + i * g;
                Mem.Add(ref c, r * ldc + j) = cv;
                Mem.Add(ref h, r * ldc + j) = o * MathF.Tanh(cv);
            }
        }
    }

    /// <summary>
    /// One LSTM step backward. In: the activated gates of the step (<c>[4H][ldg]</c>), its cell state and the previous
    /// one (rows <paramref name="ldc"/> apart), <paramref name="dh"/> = d loss / d h of the step and
    /// <paramref name="dc"/> = d loss / d c from the step after (rows <paramref name="ldd"/> apart). Out: the gates hold
    /// d loss / d pre-activation (<c>dGᵢ = dc·g·i(1−i)</c>, <c>dG_f = dc·cPrev·f(1−f)</c>, <c>dG_g = dc·i·(1−g²)</c>,
    /// <c>dG_o = dh·tanh(c)·o(1−o)</c>, with <c>dc = dc_next + dh·o·(1−tanh²c)</c>), and <paramref name="dc"/> holds
    /// <c>dc·f</c> for the step before. Columns from <paramref name="batch"/> to <paramref name="n"/> are padding: their
    /// gradients are set to zero, so that sums over whole panels count real samples only.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LstmBackward(ref float gates, nint ldg, ref float cPrev, ref float c, nint ldc, ref float dh, ref float dc, nint ldd,
        int hidden, int n, int batch, bool first)
    {
        for (int r = 0; r < hidden; r++)
        {
            ref float gi = ref Mem.Add(ref gates, r * ldg);
            ref float gf = ref Mem.Add(ref gates, (hidden + r) * ldg);
            ref float gg = ref Mem.Add(ref gates, (2 * hidden + r) * ldg);
            ref float go = ref Mem.Add(ref gates, (3 * hidden + r) * ldg);
            for (int j = 0; j < n; j++)
            {
                if (j >= batch)
                {
                    Mem.Add(ref gi, j) = 0f; Mem.Add(ref gf, j) = 0f; Mem.Add(ref gg, j) = 0f; Mem.Add(ref go, j) = 0f;
                    Mem.Add(ref dc, r * ldd + j) = 0f;
                    continue;
                }
                float i = Mem.Add(ref gi, j), f = Mem.Add(ref gf, j), g = Mem.Add(ref gg, j), o = Mem.Add(ref go, j);
                float cp = first ? 0f : Mem.Add(ref cPrev, r * ldc + j);
                float tc = MathF.Tanh(Mem.Add(ref c, r * ldc + j));
                float dhv = Mem.Add(ref dh, r * ldd + j);
                float dcv = Mem.Add(ref dc, r * ldd + j) + dhv * o * (1f - tc * tc);
                Mem.Add(ref gi, j) = dcv * g * i * (1f - i);
                Mem.Add(ref gf, j) = dcv * cp * f * (1f - f);
                Mem.Add(ref gg, j) = dcv * i * (1f - g * g);
                Mem.Add(ref go, j) = dhv * tc * o * (1f - o);
                Mem.Add(ref dc, r * ldd + j) = dcv * f;
            }
        }
    }
}
