using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ModelGen.Kernels;

/// <summary>Reductions over the batch columns of a feature-major panel.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Reductions
{
    /// <summary><c>sums[r] += Σ_{b &lt; batch} m[r·ld + b]</c> — the bias gradient <c>dbias[o] += Σ_b dz[o,b]</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddRowSums(ref float m, int rows, int ld, int batch, ref float sums, SimdWidth width)
    {
        for (int r = 0; r < rows; r++)
        {
            ref float row = ref Mem.Add(ref m, (nint)r * ld);
            int b = 0;
            float s = 0f;
            if (width == SimdWidth.V512)
            {
                var acc = Vector512<float>.Zero;
                for (; b + 16 <= batch; b += 16) acc += Mem.Load512(ref row, (nuint)b);
                s = Vector512.Sum(acc);
            }
            else if (width == SimdWidth.V256)
            {
                var acc = Vector256<float>.Zero;
                for (; b + 8 <= batch; b += 8) acc += Mem.Load256(ref row, (nuint)b);
                s = Vector256.Sum(acc);
            }
            for (; b < batch; b++) s += Mem.Add(ref row, b);
            Mem.Add(ref sums, r) += s;
        }
    }
}
