using System.ComponentModel;
using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ModelGen.Kernels;

/// <summary>Element-wise products, dropout, L2 and finiteness checks.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Elementwise
{
    /// <summary><c>z = x ⊙ y</c> over <c>z.Length</c> elements (z may alias x or y).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> z, SimdWidth width)
    {
        int n = z.Length, i = 0;
        if (x.Length < n || y.Length < n) throw new ArgumentException("x and y must be at least as long as z");
        ref float a = ref MemoryMarshal.GetReference(x);
        ref float b = ref MemoryMarshal.GetReference(y);
        ref float c = ref MemoryMarshal.GetReference(z);
        if (width == SimdWidth.V512)
            for (; i + 16 <= n; i += 16) (Mem.Load512(ref a, (nuint)i) * Mem.Load512(ref b, (nuint)i)).StoreAt(ref c, (nuint)i);
        else if (width == SimdWidth.V256)
            for (; i + 8 <= n; i += 8) (Mem.Load256(ref a, (nuint)i) * Mem.Load256(ref b, (nuint)i)).StoreAt(ref c, (nuint)i);
        for (; i < n; i++) Mem.Add(ref c, i) = Mem.Add(ref a, i) * Mem.Add(ref b, i);
    }
}
