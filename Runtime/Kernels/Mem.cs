using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ModelGen.Kernels;

/// <summary>
/// Every raw memory access of the kernels and the generated code: <c>Unsafe.Add</c>, vector loads and stores. In a
/// normal build these are those calls, inlined (the same machine code). In the checked build (<c>-c Checked</c>, the
/// constant <c>MODELGEN_CHECKED</c>) each access is checked against the named regions of the live arenas and tables
/// (a layer's output, a tensor, an offset table): stepping outside the region the reference started in throws an
/// <see cref="IndexOutOfRangeException"/> naming the region, instead of corrupting memory or killing the process.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Mem
{
    /// <summary>True in the checked build.</summary>
#if MODELGEN_CHECKED
    public static bool IsChecked => true;
#else
    public static bool IsChecked => false;
#endif

    /// <summary><c>Unsafe.Add(ref source, elementOffset)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ref T Add<T>(ref T source, int elementOffset)
    {
#if MODELGEN_CHECKED
        Bounds.Check(ref source, elementOffset, 1);
#endif
        return ref Unsafe.Add(ref source, elementOffset);
    }

    /// <summary><c>Unsafe.Add(ref source, elementOffset)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ref T Add<T>(ref T source, nint elementOffset)
    {
#if MODELGEN_CHECKED
        Bounds.Check(ref source, elementOffset, 1);
#endif
        return ref Unsafe.Add(ref source, elementOffset);
    }

    /// <summary>Copies <paramref name="count"/> floats from <paramref name="source"/> to <paramref name="destination"/> (not overlapping).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Copy(ref float source, ref float destination, int count)
    {
#if MODELGEN_CHECKED
        Bounds.Check(ref source, 0, count);
        Bounds.Check(ref destination, 0, count);
#endif
        Unsafe.CopyBlockUnaligned(ref Unsafe.As<float, byte>(ref destination), ref Unsafe.As<float, byte>(ref source), (uint)count * sizeof(float));
    }

    /// <summary><c>Vector512.LoadUnsafe(ref source)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Load512<T>(ref T source)
    {
#if MODELGEN_CHECKED
        Bounds.Check(ref source, 0, Vector512<T>.Count);
#endif
        return Vector512.LoadUnsafe(ref source);
    }

    /// <summary><c>Vector512.LoadUnsafe(ref source, elementOffset)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Load512<T>(ref T source, nuint elementOffset)
    {
#if MODELGEN_CHECKED
        Bounds.Check(ref source, (nint)elementOffset, Vector512<T>.Count);
#endif
        return Vector512.LoadUnsafe(ref source, elementOffset);
    }

    /// <summary><c>Vector256.LoadUnsafe(ref source)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Load256<T>(ref T source)
    {
#if MODELGEN_CHECKED
        Bounds.Check(ref source, 0, Vector256<T>.Count);
#endif
        return Vector256.LoadUnsafe(ref source);
    }

    /// <summary><c>Vector256.LoadUnsafe(ref source, elementOffset)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Load256<T>(ref T source, nuint elementOffset)
    {
#if MODELGEN_CHECKED
        Bounds.Check(ref source, (nint)elementOffset, Vector256<T>.Count);
#endif
        return Vector256.LoadUnsafe(ref source, elementOffset);
    }

    /// <summary><c>value.StoreUnsafe(ref destination)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreAt<T>(this Vector512<T> value, ref T destination)
    {
#if MODELGEN_CHECKED
        Bounds.Check(ref destination, 0, Vector512<T>.Count);
#endif
        value.StoreUnsafe(ref destination);
    }

    /// <summary><c>value.StoreUnsafe(ref destination, elementOffset)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreAt<T>(this Vector512<T> value, ref T destination, nuint elementOffset)
    {
#if MODELGEN_CHECKED
        Bounds.Check(ref destination, (nint)elementOffset, Vector512<T>.Count);
#endif
        value.StoreUnsafe(ref destination, elementOffset);
    }

    /// <summary><c>value.StoreUnsafe(ref destination)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreAt<T>(this Vector256<T> value, ref T destination)
    {
#if MODELGEN_CHECKED
        Bounds.Check(ref destination, 0, Vector256<T>.Count);
#endif
        value.StoreUnsafe(ref destination);
    }

    /// <summary><c>value.StoreUnsafe(ref destination, elementOffset)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreAt<T>(this Vector256<T> value, ref T destination, nuint elementOffset)
    {
#if MODELGEN_CHECKED
        Bounds.Check(ref destination, (nint)elementOffset, Vector256<T>.Count);
#endif
        value.StoreUnsafe(ref destination, elementOffset);
    }

    /// <summary><c>Vector128.LoadUnsafe(ref source, elementOffset)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Load128<T>(ref T source, nuint elementOffset = 0)
    {
#if MODELGEN_CHECKED
        Bounds.Check(ref source, (nint)elementOffset, Vector128<T>.Count);
#endif
        return Vector128.LoadUnsafe(ref source, elementOffset);
    }

    /// <summary><c>value.StoreUnsafe(ref destination, elementOffset)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreAt<T>(this Vector128<T> value, ref T destination, nuint elementOffset = 0)
    {
#if MODELGEN_CHECKED
        Bounds.Check(ref destination, (nint)elementOffset, Vector128<T>.Count);
#endif
        value.StoreUnsafe(ref destination, elementOffset);
    }
}
