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
        switch (epi)
        {
            case Epilogue.Store: acc.StoreAt(ref dst); break;
            case Epilogue.Accumulate: (acc + Mem.Load512(ref dst)).StoreAt(ref dst); break;
            case Epilogue.Bias: (acc + Vector512.Create(bias)).StoreAt(ref dst); break;
            // vmaxps returns its second operand when either is NaN: zero first, so a NaN propagates (NaN detection relies on it).
            case Epilogue.BiasRelu: Vector512.MaxNative(Vector512<float>.Zero, acc + Vector512.Create(bias)).StoreAt(ref dst); break;
            default:
                var z = acc + Vector512.Create(bias);
                Vector512.ConditionalSelect(Vector512.GreaterThan(z, Vector512<float>.Zero), z, z * alpha).StoreAt(ref dst);
                break;
        }
    }

    /// <summary>Applies <paramref name="epi"/> to one accumulator and stores it at <paramref name="dst"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Apply(Vector256<float> acc, ref float dst, float bias, Epilogue epi, float alpha)
    {
        switch (epi)
        {
            case Epilogue.Store: acc.StoreAt(ref dst); break;
            case Epilogue.Accumulate: (acc + Mem.Load256(ref dst)).StoreAt(ref dst); break;
            case Epilogue.Bias: (acc + Vector256.Create(bias)).StoreAt(ref dst); break;
            case Epilogue.BiasRelu: Vector256.MaxNative(Vector256<float>.Zero, acc + Vector256.Create(bias)).StoreAt(ref dst); break;
            default:
                var z = acc + Vector256.Create(bias);
                Vector256.ConditionalSelect(Vector256.GreaterThan(z, Vector256<float>.Zero), z, z * alpha).StoreAt(ref dst);
                break;
        }
    }

    /// <summary>Applies <paramref name="epi"/> to one scalar and stores it at <paramref name="dst"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Apply(float acc, ref float dst, float bias, Epilogue epi, float alpha)
    {
        switch (epi)
        {
            case Epilogue.Store: dst = acc; break;
            case Epilogue.Accumulate: dst += acc; break;
            case Epilogue.Bias: dst = acc + bias; break;
            case Epilogue.BiasRelu: dst = System.MathF.Max(acc + bias, 0f); break;
            default: float z = acc + bias; dst = z > 0f ? z : z * alpha; break;
        }
    }
}
