using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ModelGen.Kernels;

public static partial class Gemm
{
    /// <summary>
    /// Batch-1 forward from the transposed weights <c>Wᵀ [k, units]</c> (packed once per parameter version):
    /// <c>y[o] = epi(Σ_i x[i]·Wᵀ[i, o])</c>, the outputs in the vector lanes, up to 16 vectors of them held while the
    /// inputs stream by. Each output is one FMA chain over i in order, started from +0, then the epilogue — the chain
    /// and epilogue a batch tile gives its row, so one sample gets the bits it gets in a batch.
    /// <para>With <paramref name="skipZeros"/> an input that is 0 (a ReLU's output often is) skips its row of Wᵀ: the
    /// term it would add is ±0, which leaves a chain that never holds −0 unchanged, and its <c>4·units</c> bytes are
    /// not read — for weights streamed from beyond L2 the time falls with the zeros. Callers pass false when a weight
    /// is not finite (0·∞ is NaN, which a skipped term would lose).</para>
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ColumnsV512(ref float wT, int k, int units, ref float x, ref float y, ref float bias, Epilogue epi, float alpha, bool skipZeros)
    {
        int o = 0;
        for (; o + 256 <= units; o += 256) Columns16x16(ref wT, k, units, ref x, ref y, ref bias, o, epi, alpha, skipZeros);
        for (; o + 64 <= units; o += 64) Columns4x16(ref wT, k, units, ref x, ref y, ref bias, o, epi, alpha, skipZeros);
        for (; o + 16 <= units; o += 16) Columns1x16(ref wT, k, units, ref x, ref y, ref bias, o, epi, alpha, skipZeros);
        for (; o < units; o++) Column(ref wT, k, units, ref x, ref y, ref bias, o, epi, alpha, skipZeros);
    }

    /// <summary>As <see cref="ColumnsV512"/> with 8-float vectors, up to 8 of them held.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ColumnsV256(ref float wT, int k, int units, ref float x, ref float y, ref float bias, Epilogue epi, float alpha, bool skipZeros)
    {
        int o = 0;
        for (; o + 64 <= units; o += 64) Columns8x8(ref wT, k, units, ref x, ref y, ref bias, o, epi, alpha, skipZeros);
        for (; o + 8 <= units; o += 8) Columns1x8(ref wT, k, units, ref x, ref y, ref bias, o, epi, alpha, skipZeros);
        for (; o < units; o++) Column(ref wT, k, units, ref x, ref y, ref bias, o, epi, alpha, skipZeros);
    }

    // Outputs o … o + 256: sixteen accumulators.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Columns16x16(ref float wT, int k, int units, ref float x, ref float y, ref float bias, int o, Epilogue epi, float alpha, bool skipZeros)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        Vector512<float> c8 = default, c9 = default, c10 = default, c11 = default, c12 = default, c13 = default, c14 = default, c15 = default;
        for (int i = 0; i < k; i++)
        {
            float xi = Mem.Add(ref x, i);
            if (skipZeros && xi == 0f) continue;
            ref float row = ref Mem.Add(ref wT, (nint)i * units + o);   // row i's outputs o…: no reference is formed past the last row
            var s = Vector512.Create(xi);
            c0 = Vector512.FusedMultiplyAdd(Mem.Load512(ref row, 0), s, c0); c1 = Vector512.FusedMultiplyAdd(Mem.Load512(ref row, 16), s, c1);
            c2 = Vector512.FusedMultiplyAdd(Mem.Load512(ref row, 32), s, c2); c3 = Vector512.FusedMultiplyAdd(Mem.Load512(ref row, 48), s, c3);
            c4 = Vector512.FusedMultiplyAdd(Mem.Load512(ref row, 64), s, c4); c5 = Vector512.FusedMultiplyAdd(Mem.Load512(ref row, 80), s, c5);
            c6 = Vector512.FusedMultiplyAdd(Mem.Load512(ref row, 96), s, c6); c7 = Vector512.FusedMultiplyAdd(Mem.Load512(ref row, 112), s, c7);
            c8 = Vector512.FusedMultiplyAdd(Mem.Load512(ref row, 128), s, c8); c9 = Vector512.FusedMultiplyAdd(Mem.Load512(ref row, 144), s, c9);
            c10 = Vector512.FusedMultiplyAdd(Mem.Load512(ref row, 160), s, c10); c11 = Vector512.FusedMultiplyAdd(Mem.Load512(ref row, 176), s, c11);
            c12 = Vector512.FusedMultiplyAdd(Mem.Load512(ref row, 192), s, c12); c13 = Vector512.FusedMultiplyAdd(Mem.Load512(ref row, 208), s, c13);
            c14 = Vector512.FusedMultiplyAdd(Mem.Load512(ref row, 224), s, c14); c15 = Vector512.FusedMultiplyAdd(Mem.Load512(ref row, 240), s, c15);
        }
        Store(c0, ref y, ref bias, o, epi, alpha); Store(c1, ref y, ref bias, o + 16, epi, alpha);
        Store(c2, ref y, ref bias, o + 32, epi, alpha); Store(c3, ref y, ref bias, o + 48, epi, alpha);
        Store(c4, ref y, ref bias, o + 64, epi, alpha); Store(c5, ref y, ref bias, o + 80, epi, alpha);
        Store(c6, ref y, ref bias, o + 96, epi, alpha); Store(c7, ref y, ref bias, o + 112, epi, alpha);
        Store(c8, ref y, ref bias, o + 128, epi, alpha); Store(c9, ref y, ref bias, o + 144, epi, alpha);
        Store(c10, ref y, ref bias, o + 160, epi, alpha); Store(c11, ref y, ref bias, o + 176, epi, alpha);
        Store(c12, ref y, ref bias, o + 192, epi, alpha); Store(c13, ref y, ref bias, o + 208, epi, alpha);
        Store(c14, ref y, ref bias, o + 224, epi, alpha); Store(c15, ref y, ref bias, o + 240, epi, alpha);
    }

    // Outputs o … o + 64: four accumulators.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Columns4x16(ref float wT, int k, int units, ref float x, ref float y, ref float bias, int o, Epilogue epi, float alpha, bool skipZeros)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default;
        for (int i = 0; i < k; i++)
        {
            float xi = Mem.Add(ref x, i);
            if (skipZeros && xi == 0f) continue;
            ref float row = ref Mem.Add(ref wT, (nint)i * units + o);   // row i's outputs o…: no reference is formed past the last row
            var s = Vector512.Create(xi);
            c0 = Vector512.FusedMultiplyAdd(Mem.Load512(ref row, 0), s, c0); c1 = Vector512.FusedMultiplyAdd(Mem.Load512(ref row, 16), s, c1);
            c2 = Vector512.FusedMultiplyAdd(Mem.Load512(ref row, 32), s, c2); c3 = Vector512.FusedMultiplyAdd(Mem.Load512(ref row, 48), s, c3);
        }
        Store(c0, ref y, ref bias, o, epi, alpha); Store(c1, ref y, ref bias, o + 16, epi, alpha);
        Store(c2, ref y, ref bias, o + 32, epi, alpha); Store(c3, ref y, ref bias, o + 48, epi, alpha);
    }

    // Outputs o … o + 16: one accumulator.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Columns1x16(ref float wT, int k, int units, ref float x, ref float y, ref float bias, int o, Epilogue epi, float alpha, bool skipZeros)
    {
        Vector512<float> c0 = default;
        for (int i = 0; i < k; i++)
        {
            float xi = Mem.Add(ref x, i);
            if (skipZeros && xi == 0f) continue;
            ref float row = ref Mem.Add(ref wT, (nint)i * units + o);   // row i's outputs o…: no reference is formed past the last row
            c0 = Vector512.FusedMultiplyAdd(Mem.Load512(ref row, 0), Vector512.Create(xi), c0);
        }
        Store(c0, ref y, ref bias, o, epi, alpha);
    }

    // Outputs o … o + 64: eight 8-float accumulators.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Columns8x8(ref float wT, int k, int units, ref float x, ref float y, ref float bias, int o, Epilogue epi, float alpha, bool skipZeros)
    {
        Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        for (int i = 0; i < k; i++)
        {
            float xi = Mem.Add(ref x, i);
            if (skipZeros && xi == 0f) continue;
            ref float row = ref Mem.Add(ref wT, (nint)i * units + o);   // row i's outputs o…: no reference is formed past the last row
            var s = Vector256.Create(xi);
            c0 = Vector256.FusedMultiplyAdd(Mem.Load256(ref row, 0), s, c0); c1 = Vector256.FusedMultiplyAdd(Mem.Load256(ref row, 8), s, c1);
            c2 = Vector256.FusedMultiplyAdd(Mem.Load256(ref row, 16), s, c2); c3 = Vector256.FusedMultiplyAdd(Mem.Load256(ref row, 24), s, c3);
            c4 = Vector256.FusedMultiplyAdd(Mem.Load256(ref row, 32), s, c4); c5 = Vector256.FusedMultiplyAdd(Mem.Load256(ref row, 40), s, c5);
            c6 = Vector256.FusedMultiplyAdd(Mem.Load256(ref row, 48), s, c6); c7 = Vector256.FusedMultiplyAdd(Mem.Load256(ref row, 56), s, c7);
        }
        Store(c0, ref y, ref bias, o, epi, alpha); Store(c1, ref y, ref bias, o + 8, epi, alpha);
        Store(c2, ref y, ref bias, o + 16, epi, alpha); Store(c3, ref y, ref bias, o + 24, epi, alpha);
        Store(c4, ref y, ref bias, o + 32, epi, alpha); Store(c5, ref y, ref bias, o + 40, epi, alpha);
        Store(c6, ref y, ref bias, o + 48, epi, alpha); Store(c7, ref y, ref bias, o + 56, epi, alpha);
    }

    // Outputs o … o + 8: one 8-float accumulator.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Columns1x8(ref float wT, int k, int units, ref float x, ref float y, ref float bias, int o, Epilogue epi, float alpha, bool skipZeros)
    {
        Vector256<float> c0 = default;
        for (int i = 0; i < k; i++)
        {
            float xi = Mem.Add(ref x, i);
            if (skipZeros && xi == 0f) continue;
            ref float row = ref Mem.Add(ref wT, (nint)i * units + o);   // row i's outputs o…: no reference is formed past the last row
            c0 = Vector256.FusedMultiplyAdd(Mem.Load256(ref row, 0), Vector256.Create(xi), c0);
        }
        Store(c0, ref y, ref bias, o, epi, alpha);
    }

    // Output o alone (the last units % lanes): the same FMA chain, one lane's worth.
    private static void Column(ref float wT, int k, int units, ref float x, ref float y, ref float bias, int o, Epilogue epi, float alpha, bool skipZeros)
    {
        float acc = 0f;
        for (int i = 0; i < k; i++)
        {
            float xi = Mem.Add(ref x, i);
            if (skipZeros && xi == 0f) continue;
            acc = MathF.FusedMultiplyAdd(Mem.Add(ref wT, (nint)i * units + o), xi, acc);
        }
        Epilogues.Apply(acc, ref Mem.Add(ref y, o), Epilogues.BiasOf(ref bias, o, epi), epi, alpha);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector512<float> acc, ref float y, ref float bias, int o, Epilogue epi, float alpha)
    {
        ref float at = ref Mem.Add(ref y, o);
        if (epi == Epilogue.Accumulate) (acc + Mem.Load512(ref at)).StoreAt(ref at);
        else Epilogues.Of(acc, epi >= Epilogue.Bias ? Mem.Load512(ref Mem.Add(ref bias, o)) : default, epi, alpha).StoreAt(ref at);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector256<float> acc, ref float y, ref float bias, int o, Epilogue epi, float alpha)
    {
        ref float at = ref Mem.Add(ref y, o);
        if (epi == Epilogue.Accumulate) (acc + Mem.Load256(ref at)).StoreAt(ref at);
        else Epilogues.Of(acc, epi >= Epilogue.Bias ? Mem.Load256(ref Mem.Add(ref bias, o)) : default, epi, alpha).StoreAt(ref at);
    }
}
