using System.ComponentModel;
using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ModelGen.Kernels;

/// <summary>L2 regularisation <c>λ·Σ W²</c> (weights only).</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Regularization
{
    /// <summary><c>λ·Σ w²</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float L2Penalty(ReadOnlySpan<float> w, float lambda, SimdWidth width)
    {
        double s = 0;
        int i = 0;
        ref float p = ref MemoryMarshal.GetReference(w);
        if (width == SimdWidth.V512)
        {
            var acc = Vector512<float>.Zero;
            for (; i + 16 <= w.Length; i += 16) { var v = Mem.Load512(ref p, (nuint)i); acc = Vector512.FusedMultiplyAdd(v, v, acc); }
            s = Vector512.Sum(acc);
        }
        else if (width == SimdWidth.V256)
        {
            var acc = Vector256<float>.Zero;
            for (; i + 8 <= w.Length; i += 8) { var v = Mem.Load256(ref p, (nuint)i); acc = Vector256.FusedMultiplyAdd(v, v, acc); }
            s = Vector256.Sum(acc);
        }
        for (; i < w.Length; i++) s += (double)w[i] * w[i];
        return (float)(lambda * s);
    }

    /// <summary><c>dw += 2λ·w</c>; returns the penalty <c>λ·Σ w²</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float AddL2Gradient(ReadOnlySpan<float> w, Span<float> dw, float lambda, SimdWidth width)
    {
        if (dw.Length != w.Length) throw new ArgumentException("w and dw differ in length");
        ref float p = ref MemoryMarshal.GetReference(w);
        ref float g = ref MemoryMarshal.GetReference(dw);
        float k = 2f * lambda;
        int i = 0;
        if (width == SimdWidth.V512)
            for (; i + 16 <= w.Length; i += 16)
                Vector512.FusedMultiplyAdd(Vector512.Create(k), Mem.Load512(ref p, (nuint)i), Mem.Load512(ref g, (nuint)i)).StoreAt(ref g, (nuint)i);
        else if (width == SimdWidth.V256)
            for (; i + 8 <= w.Length; i += 8)
                Vector256.FusedMultiplyAdd(Vector256.Create(k), Mem.Load256(ref p, (nuint)i), Mem.Load256(ref g, (nuint)i)).StoreAt(ref g, (nuint)i);
        for (; i < w.Length; i++) Mem.Add(ref g, i) += k * Mem.Add(ref p, i);
        return L2Penalty(w, lambda, width);
    }
}
