using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ModelGen.Kernels;

/// <summary>The epilogue per width; inlined into the generated micro-kernels.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Epilogues
{
    /// <summary>Bias of row <paramref name="row"/>, or 0 when the epilogue adds none (bias may be a null ref then).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float BiasOf(ref float bias, int row, Epilogue epi) => epi >= Epilogue.Bias ? Mem.Add(ref bias, row) : 0f;

    /// <summary>Applies <paramref name="epi"/> to one accumulator and stores it at <paramref name="dst"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Apply(Vector512<float> acc, ref float dst, float bias, Epilogue epi, float alpha)
    {
        if (epi == Epilogue.Accumulate) (acc + Mem.Load512(ref dst)).StoreAt(ref dst);
        else Of(acc, bias, epi, alpha).StoreAt(ref dst);
    }

    /// <summary>Applies <paramref name="epi"/> to one accumulator and stores it at <paramref name="dst"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Apply(Vector256<float> acc, ref float dst, float bias, Epilogue epi, float alpha)
    {
        if (epi == Epilogue.Accumulate) (acc + Mem.Load256(ref dst)).StoreAt(ref dst);
        else Of(acc, bias, epi, alpha).StoreAt(ref dst);
    }

    /// <summary>Applies <paramref name="epi"/> to one scalar and stores it at <paramref name="dst"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Apply(float acc, ref float dst, float bias, Epilogue epi, float alpha)
    {
        if (epi == Epilogue.Accumulate) dst += acc;
        else dst = Of(acc, bias, epi, alpha);
    }

    /// <summary>The stored value of a storing epilogue (every one but <see cref="Epilogue.Accumulate"/>).
    /// vmaxps returns its second operand when either is NaN: zero first, so a NaN propagates (NaN detection relies on it).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Of(Vector512<float> acc, float bias, Epilogue epi, float alpha)
    {
        if (epi == Epilogue.Store) return acc;
        var z = acc + Vector512.Create(bias);
        return epi switch
        {
            Epilogue.Bias => z,
            Epilogue.BiasRelu => Vector512.MaxNative(Vector512<float>.Zero, z),
            _ => Vector512.ConditionalSelect(Vector512.GreaterThan(z, Vector512<float>.Zero), z, z * alpha),
        };
    }

    /// <summary>The stored value of a storing epilogue, each lane with its own bias (lanes that are outputs: the batch-1
    /// column sweep). The same operations as the broadcast form, so a lane gets the bits a tile's row gets.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Of(Vector512<float> acc, Vector512<float> bias, Epilogue epi, float alpha)
    {
        if (epi == Epilogue.Store) return acc;
        var z = acc + bias;
        return epi switch
        {
            Epilogue.Bias => z,
            Epilogue.BiasRelu => Vector512.MaxNative(Vector512<float>.Zero, z),
            _ => Vector512.ConditionalSelect(Vector512.GreaterThan(z, Vector512<float>.Zero), z, z * alpha),
        };
    }

    /// <summary>The stored value of a storing epilogue.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Of(Vector256<float> acc, float bias, Epilogue epi, float alpha) => Of(acc, Vector256.Create(bias), epi, alpha);

    /// <summary>The stored value of a storing epilogue, each lane with its own bias (lanes that are rows: the batch-1 GEMV).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Of(Vector256<float> acc, Vector256<float> bias, Epilogue epi, float alpha)
    {
        if (epi == Epilogue.Store) return acc;
        var z = acc + bias;
        return epi switch
        {
            Epilogue.Bias => z,
            Epilogue.BiasRelu => Vector256.MaxNative(Vector256<float>.Zero, z),
            _ => Vector256.ConditionalSelect(Vector256.GreaterThan(z, Vector256<float>.Zero), z, z * alpha),
        };
    }

    /// <summary>As the 256-bit form, four lanes (the AVX2 batch-1 GEMV's four rows).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Of(Vector128<float> acc, Vector128<float> bias, Epilogue epi, float alpha)
    {
        if (epi == Epilogue.Store) return acc;
        var z = acc + bias;
        return epi switch
        {
            Epilogue.Bias => z,
            Epilogue.BiasRelu => Vector128.MaxNative(Vector128<float>.Zero, z),
            _ => Vector128.ConditionalSelect(Vector128.GreaterThan(z, Vector128<float>.Zero), z, z * alpha),
        };
    }

    /// <summary>The stored value of a storing epilogue.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Of(float acc, float bias, Epilogue epi, float alpha)
    {
        if (epi == Epilogue.Store) return acc;
        float z = acc + bias;
        return epi switch
        {
            Epilogue.Bias => z,
            Epilogue.BiasRelu => System.MathF.Max(z, 0f),
            _ => z > 0f ? z : z * alpha,
        };
    }
}
