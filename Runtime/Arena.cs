using System.ComponentModel;
using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ModelGen;

/// <summary>
/// One block of native, 64-byte aligned, zeroed float memory that holds everything a model instance touches:
/// parameters, gradients, activations and scratch. Allocated once in the model's constructor; generated code
/// addresses it by offsets computed at build time (parameters) or from <c>maxBatch</c> (activations).
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed unsafe class Arena : IDisposable
{
    private float* _data;

    /// <summary>Allocates <paramref name="length"/> floats, zeroed.</summary>
    public Arena(long length)
    {
        if (length <= 0) throw new ArgumentOutOfRangeException(nameof(length), length, "arena length must be positive");
        Length = length;
        _data = (float*)NativeMemory.AlignedAlloc((nuint)(length * sizeof(float)), 64);
        NativeMemory.Clear(_data, (nuint)(length * sizeof(float)));
    }

    /// <summary>Number of floats.</summary>
    public long Length { get; }

    /// <summary>Bumped whenever parameters may have changed (a writable view was handed out, an update ran,
    /// running statistics moved): derived data such as BatchNorm folded into a convolution is rebuilt when it differs.</summary>
    public int Version { get; private set; }

    /// <summary>Marks the parameters as possibly changed.</summary>
    public void Touch() => Version++;

    /// <summary>A reference to the float at <paramref name="offset"/> (no bounds check: generated code owns the layout).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref float Ref(long offset)
    {
        ObjectDisposedException.ThrowIf(_data == null, this);
        return ref _data[offset];
    }

    /// <summary>A bounds-checked view of <paramref name="length"/> floats at <paramref name="offset"/>.</summary>
    public Span<float> Span(long offset, int length)
    {
        ObjectDisposedException.ThrowIf(_data == null, this);
        if (offset < 0 || length < 0 || offset + length > Length)
            throw new ArgumentOutOfRangeException(nameof(offset), $"[{offset}, {offset + length}) is outside the arena of {Length} floats");
        return new Span<float>(_data + offset, length);
    }

    /// <summary>Frees the memory.</summary>
    public void Dispose()
    {
        if (_data != null) { NativeMemory.AlignedFree(_data); _data = null; }
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees the memory if the owner forgot to.</summary>
    ~Arena()
    {
        if (_data != null) NativeMemory.AlignedFree(_data);
    }
}
