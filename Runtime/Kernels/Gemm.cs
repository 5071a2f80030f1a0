using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ModelGen.Kernels;

/// <summary>
/// The general matrix kernels the generated code calls where it does not unroll: the scalar reference
/// (also the scalar path and the narrow column tails) and the batch-1 matrix-vector products.
/// <para>Convention: <c>C[r, j] (epi)= Σ_p A(r, p) · B[p, j]</c> with <c>A(r, p) = a[r·ars + p·aks]</c>,
/// <c>B[p, j] = b[p·ldb + j]</c>, <c>C[r, j] = c[r·ldc + j]</c>. Strided A covers W (ars = in, aks = 1)
/// and Wᵀ (ars = 1, aks = in) without copying.</para>
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static partial class Gemm
{
    /// <summary>Scalar reference: <paramref name="rows"/> × <paramref name="cols"/> outputs, reduction length <paramref name="k"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Scalar(ref float a, nint ars, nint aks, ref float b, nint ldb, ref float c, nint ldc,
        int k, int rows, int cols, ref float bias, Epilogue epi, float alpha)
    {
        for (int r = 0; r < rows; r++)
        {
            float bv = Epilogues.BiasOf(ref bias, r, epi);
            for (int j = 0; j < cols; j++)
            {
                float acc = 0f;
                for (int p = 0; p < k; p++)
                    acc += Mem.Add(ref a, r * ars + p * aks) * Mem.Add(ref b, p * ldb + j);
                Epilogues.Apply(acc, ref Mem.Add(ref c, r * ldc + j), bv, epi, alpha);
            }
        }
    }

    /// <summary>As <see cref="Scalar"/> with B's rows at <c>b + boff[p]</c> (indirect B).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ScalarIndirect(ref float a, nint ars, nint aks, ref float b, ref int boff, ref float c, nint ldc,
        int k, int rows, int cols, ref float bias, Epilogue epi, float alpha)
    {
        for (int r = 0; r < rows; r++)
        {
            float bv = Epilogues.BiasOf(ref bias, r, epi);
            for (int j = 0; j < cols; j++)
            {
                float acc = 0f;
                for (int p = 0; p < k; p++)
                    acc += Mem.Add(ref a, r * ars + p * aks) * Mem.Add(ref b, Mem.Add(ref boff, p) + j);
                Epilogues.Apply(acc, ref Mem.Add(ref c, r * ldc + j), bv, epi, alpha);
            }
        }
    }

    /// <summary>As <see cref="Scalar"/> with A's rows at <c>a + aoff[r]</c> (indirect A: the weight gradient of a
    /// stride-1 convolution reading shifted rows of the padded image).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ScalarIndirectA(ref float a, ref int aoff, nint aks, ref float b, nint ldb, ref float c, nint ldc,
        int k, int rows, int cols, ref float bias, Epilogue epi, float alpha)
    {
        for (int r = 0; r < rows; r++)
        {
            float bv = Epilogues.BiasOf(ref bias, r, epi);
            nint row = Mem.Add(ref aoff, r);
            for (int j = 0; j < cols; j++)
            {
                float acc = 0f;
                for (int p = 0; p < k; p++)
                    acc += Mem.Add(ref a, row + p * aks) * Mem.Add(ref b, p * ldb + j);
                Epilogues.Apply(acc, ref Mem.Add(ref c, r * ldc + j), bv, epi, alpha);
            }
        }
    }

    /// <summary>Batch-1 forward, AVX-512: <c>y[o] = epi(Σ_i W[o,i]·x[i])</c>, W row-major [rows, k].
    /// Eight rows per pass share each load of x; eight independent FMA chains hide the FMA latency.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GemvV512(ref float w, int k, ref float x, ref float y, int rows, ref float bias, Epilogue epi, float alpha)
    {
        int o = 0;
        int kv = k & ~15;
        for (; o + 8 <= rows; o += 8)
        {
            ref float w0 = ref Mem.Add(ref w, (nint)o * k);
            nint s = k;
            Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
            for (int i = 0; i < kv; i += 16)
            {
                var xv = Mem.Load512(ref x, (nuint)i);
                c0 = Vector512.FusedMultiplyAdd(Mem.Load512(ref w0, (nuint)i), xv, c0);
                c1 = Vector512.FusedMultiplyAdd(Mem.Load512(ref Mem.Add(ref w0, s), (nuint)i), xv, c1);
                c2 = Vector512.FusedMultiplyAdd(Mem.Load512(ref Mem.Add(ref w0, 2 * s), (nuint)i), xv, c2);
                c3 = Vector512.FusedMultiplyAdd(Mem.Load512(ref Mem.Add(ref w0, 3 * s), (nuint)i), xv, c3);
                c4 = Vector512.FusedMultiplyAdd(Mem.Load512(ref Mem.Add(ref w0, 4 * s), (nuint)i), xv, c4);
                c5 = Vector512.FusedMultiplyAdd(Mem.Load512(ref Mem.Add(ref w0, 5 * s), (nuint)i), xv, c5);
                c6 = Vector512.FusedMultiplyAdd(Mem.Load512(ref Mem.Add(ref w0, 6 * s), (nuint)i), xv, c6);
                c7 = Vector512.FusedMultiplyAdd(Mem.Load512(ref Mem.Add(ref w0, 7 * s), (nuint)i), xv, c7);
            }
            if (kv == k && Avx512F.IsSupported)
            {
                Store8(Sum8(c0, c1, c2, c3, c4, c5, c6, c7), ref Mem.Add(ref y, o), ref bias, o, epi, alpha);
                continue;
            }
            Finish(Vector512.Sum(c0), ref w0, 0, k, kv, ref x, ref y, o, ref bias, epi, alpha);
            Finish(Vector512.Sum(c1), ref w0, 1, k, kv, ref x, ref y, o, ref bias, epi, alpha);
            Finish(Vector512.Sum(c2), ref w0, 2, k, kv, ref x, ref y, o, ref bias, epi, alpha);
            Finish(Vector512.Sum(c3), ref w0, 3, k, kv, ref x, ref y, o, ref bias, epi, alpha);
            Finish(Vector512.Sum(c4), ref w0, 4, k, kv, ref x, ref y, o, ref bias, epi, alpha);
            Finish(Vector512.Sum(c5), ref w0, 5, k, kv, ref x, ref y, o, ref bias, epi, alpha);
            Finish(Vector512.Sum(c6), ref w0, 6, k, kv, ref x, ref y, o, ref bias, epi, alpha);
            Finish(Vector512.Sum(c7), ref w0, 7, k, kv, ref x, ref y, o, ref bias, epi, alpha);
        }
        for (; o < rows; o++)
        {
            ref float w0 = ref Mem.Add(ref w, (nint)o * k);
            Vector512<float> c0 = default;
            for (int i = 0; i < kv; i += 16)
                c0 = Vector512.FusedMultiplyAdd(Mem.Load512(ref w0, (nuint)i), Mem.Load512(ref x, (nuint)i), c0);
            Finish(Vector512.Sum(c0), ref w0, 0, k, kv, ref x, ref y, o, ref bias, epi, alpha);
        }
    }

    /// <summary>Batch-1 forward, AVX2: as <see cref="GemvV512"/> with 8-float vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GemvV256(ref float w, int k, ref float x, ref float y, int rows, ref float bias, Epilogue epi, float alpha)
    {
        int o = 0;
        int kv = k & ~7;
        for (; o + 4 <= rows; o += 4)
        {
            ref float w0 = ref Mem.Add(ref w, (nint)o * k);
            nint s = k;
            Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default;
            for (int i = 0; i < kv; i += 8)
            {
                var xv = Mem.Load256(ref x, (nuint)i);
                c0 = Vector256.FusedMultiplyAdd(Mem.Load256(ref w0, (nuint)i), xv, c0);
                c1 = Vector256.FusedMultiplyAdd(Mem.Load256(ref Mem.Add(ref w0, s), (nuint)i), xv, c1);
                c2 = Vector256.FusedMultiplyAdd(Mem.Load256(ref Mem.Add(ref w0, 2 * s), (nuint)i), xv, c2);
                c3 = Vector256.FusedMultiplyAdd(Mem.Load256(ref Mem.Add(ref w0, 3 * s), (nuint)i), xv, c3);
            }
            if (kv == k && Avx2.IsSupported)
            {
                Store4(Sum4(c0, c1, c2, c3), ref Mem.Add(ref y, o), ref bias, o, epi, alpha);
                continue;
            }
            Finish(Vector256.Sum(c0), ref w0, 0, k, kv, ref x, ref y, o, ref bias, epi, alpha);
            Finish(Vector256.Sum(c1), ref w0, 1, k, kv, ref x, ref y, o, ref bias, epi, alpha);
            Finish(Vector256.Sum(c2), ref w0, 2, k, kv, ref x, ref y, o, ref bias, epi, alpha);
            Finish(Vector256.Sum(c3), ref w0, 3, k, kv, ref x, ref y, o, ref bias, epi, alpha);
        }
        for (; o < rows; o++)
        {
            ref float w0 = ref Mem.Add(ref w, (nint)o * k);
            Vector256<float> c0 = default;
            for (int i = 0; i < kv; i += 8)
                c0 = Vector256.FusedMultiplyAdd(Mem.Load256(ref w0, (nuint)i), Mem.Load256(ref x, (nuint)i), c0);
            Finish(Vector256.Sum(c0), ref w0, 0, k, kv, ref x, ref y, o, ref bias, epi, alpha);
        }
    }

    /// <summary>The sums of eight 16-lane accumulators (rows 0…7 in the lanes of the result) by one reduction tree: 128-bit
    /// blocks, then 4-lane groups, then pairs and single lanes folded across all eight at once — 16 shuffles and 8 adds,
    /// where eight separate horizontal sums take 32 of each and leave eight scalars to store one at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Sum8(Vector512<float> c0, Vector512<float> c1, Vector512<float> c2, Vector512<float> c3,
        Vector512<float> c4, Vector512<float> c5, Vector512<float> c6, Vector512<float> c7)
    {
        // [cᵢ's 8 partial sums | cⱼ's 8]: the halves of each added
        var t01 = Avx512F.Shuffle4x128(c0, c1, 0x44) + Avx512F.Shuffle4x128(c0, c1, 0xEE);
        var t23 = Avx512F.Shuffle4x128(c2, c3, 0x44) + Avx512F.Shuffle4x128(c2, c3, 0xEE);
        var t45 = Avx512F.Shuffle4x128(c4, c5, 0x44) + Avx512F.Shuffle4x128(c4, c5, 0xEE);
        var t67 = Avx512F.Shuffle4x128(c6, c7, 0x44) + Avx512F.Shuffle4x128(c6, c7, 0xEE);
        // [c0 | c1 | c2 | c3] and [c4 | c5 | c6 | c7], 4 partial sums each
        var u0 = Avx512F.Shuffle4x128(t01, t23, 0x88) + Avx512F.Shuffle4x128(t01, t23, 0xDD);
        var u1 = Avx512F.Shuffle4x128(t45, t67, 0x88) + Avx512F.Shuffle4x128(t45, t67, 0xDD);
        // block q: [c_q, c_(q+4), c_q, c_(q+4)] in pairs, then whole
        var v = Avx512F.UnpackLow(u0, u1) + Avx512F.UnpackHigh(u0, u1);
        var s = v + Avx512F.Permute4x32(v, 0b01_00_11_10);
        return Avx512F.PermuteVar16x32(s, Vector512.Create(0, 4, 8, 12, 1, 5, 9, 13, 0, 0, 0, 0, 0, 0, 0, 0)).GetLower();
    }

    /// <summary><c>y[0…8) (epi)= s + bias[o…o+8)</c>: eight rows' results stored at once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store8(Vector256<float> s, ref float y, ref float bias, int o, Epilogue epi, float alpha)
    {
        if (epi == Epilogue.Accumulate) (s + Mem.Load256(ref y)).StoreAt(ref y);
        else Epilogues.Of(s, epi >= Epilogue.Bias ? Mem.Load256(ref Mem.Add(ref bias, o)) : default, epi, alpha).StoreAt(ref y);
    }

    /// <summary>The sums of four 8-lane accumulators (rows 0…3 in the lanes of the result), as <see cref="Sum8"/>: the
    /// 128-bit halves added, then two horizontal adds across all four, then the lanes put in row order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Sum4(Vector256<float> c0, Vector256<float> c1, Vector256<float> c2, Vector256<float> c3)
    {
        var a = Avx.Permute2x128(c0, c1, 0x20) + Avx.Permute2x128(c0, c1, 0x31);   // [c0's 4 | c1's 4]
        var b = Avx.Permute2x128(c2, c3, 0x20) + Avx.Permute2x128(c2, c3, 0x31);   // [c2's 4 | c3's 4]
        var pairs = Avx.HorizontalAdd(a, b);                                          // [c0, c0, c2, c2 | c1, c1, c3, c3] in pairs
        var h = Avx.HorizontalAdd(pairs, pairs);                                      // [c0, c2, c0, c2 | c1, c3, c1, c3]
        return Avx2.PermuteVar8x32(h, Vector256.Create(0, 4, 1, 5, 0, 0, 0, 0)).GetLower();
    }

    /// <summary><c>y[0…4) (epi)= s + bias[o…o+4)</c>: four rows' results stored at once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store4(Vector128<float> s, ref float y, ref float bias, int o, Epilogue epi, float alpha)
    {
        if (epi == Epilogue.Accumulate) (s + Vector128.LoadUnsafe(ref y)).StoreUnsafe(ref y);
        else Epilogues.Of(s, epi >= Epilogue.Bias ? Vector128.LoadUnsafe(ref Mem.Add(ref bias, o)) : default, epi, alpha).StoreUnsafe(ref y);
    }

    /// <summary>Adds the scalar tail <c>i ∈ [kv, k)</c> of row <c>o + r</c> and stores through the epilogue.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish(float acc, ref float w0, int r, int k, int kv, ref float x, ref float y, int o, ref float bias, Epilogue epi, float alpha)
    {
        ref float row = ref Mem.Add(ref w0, (nint)r * k);
        for (int i = kv; i < k; i++) acc += Mem.Add(ref row, i) * Mem.Add(ref x, i);
        Epilogues.Apply(acc, ref Mem.Add(ref y, o + r), Epilogues.BiasOf(ref bias, o + r, epi), epi, alpha);
    }
}
