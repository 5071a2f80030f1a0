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
        for (int r = 0; r < rows; r++) Mem.Add(ref sums, r) += RowSum(ref Mem.Add(ref m, (nint)r * ld), batch, width);
    }

    /// <summary><c>sums[r] = Σ_{b &lt; count} m[r·ld + b]</c>, each sum exactly as <see cref="AddRowSums"/> forms it: a
    /// sample's part of a bias gradient, computed where the sample is (a thread's part) and added in sample order later
    /// by <see cref="AddRows"/> — the same float result as <see cref="AddRowSums"/> sample after sample.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RowSums(ref float m, int rows, int ld, int count, ref float sums, SimdWidth width)
    {
        for (int r = 0; r < rows; r++) Mem.Add(ref sums, r) = RowSum(ref Mem.Add(ref m, (nint)r * ld), count, width);
    }

    /// <summary><c>acc[r] += rows[b·length + r]</c> for b = 0, 1, … <paramref name="count"/> − 1 in that order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddRows(ref float rows, int count, int length, ref float acc)
    {
        for (int b = 0; b < count; b++)
        {
            ref float row = ref Mem.Add(ref rows, (nint)b * length);
            for (int r = 0; r < length; r++) Mem.Add(ref acc, r) += Mem.Add(ref row, r);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float RowSum(ref float row, int count, SimdWidth width)
    {
        int b = 0;
        float s = 0f;
        if (width == SimdWidth.V512)
        {
            var acc = Vector512<float>.Zero;
            for (; b + 16 <= count; b += 16) acc += Mem.Load512(ref row, (nuint)b);
            s = Vector512.Sum(acc);
        }
        else if (width == SimdWidth.V256)
        {
            var acc = Vector256<float>.Zero;
            for (; b + 8 <= count; b += 8) acc += Mem.Load256(ref row, (nuint)b);
            s = Vector256.Sum(acc);
        }
        for (; b < count; b++) s += Mem.Add(ref row, b);
        return s;
    }
}
