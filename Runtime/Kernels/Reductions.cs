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
            ref float row = ref Unsafe.Add(ref m, (nint)r * ld);
            int b = 0;
            float s = 0f;
            if (width == SimdWidth.V512)
            {
                var acc = Vector512<float>.Zero;
                for (; b + 16 <= batch; b += 16) acc += Vector512.LoadUnsafe(ref row, (nuint)b);
                s = Vector512.Sum(acc);
            }
            else if (width == SimdWidth.V256)
            {
                var acc = Vector256<float>.Zero;
                for (; b + 8 <= batch; b += 8) acc += Vector256.LoadUnsafe(ref row, (nuint)b);
                s = Vector256.Sum(acc);
            }
            for (; b < batch; b++) s += Unsafe.Add(ref row, b);
            Unsafe.Add(ref sums, r) += s;
        }
    }
}
