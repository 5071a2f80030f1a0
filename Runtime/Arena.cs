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
    private void* _block;   // what the allocator returned (_data is _block rounded up to 64 bytes)
    private readonly string _owner;

    /// <summary>Allocates <paramref name="length"/> floats, zeroed, for <paramref name="owner"/> (the model's class
    /// name: an access after <see cref="Dispose"/> throws an <see cref="ObjectDisposedException"/> naming it).</summary>
    public Arena(long length, string owner = "ModelGen.Arena")
    {
        if (length <= 0) throw new ArgumentOutOfRangeException(nameof(length), length, "arena length must be positive");
        Length = length;
        _owner = owner;
        // Zeroed by the allocator (calloc): large blocks come straight from the OS as zero pages, so memory that is never
        // touched (the gradients of a model that only predicts) costs no page faults — clearing it ourselves cost
        // ~6 ms per 2 MB at start-up on a VM with slow faults.
        _block = NativeMemory.AllocZeroed((nuint)(length * sizeof(float) + 64));
        _data = (float*)(((nint)_block + 63) & ~(nint)63);
#if MODELGEN_CHECKED
        Kernels.Bounds.Add((nint)_data, (nint)(_data + length), owner + " memory");
#endif
    }

    /// <summary>Number of floats.</summary>
    public long Length { get; }

    /// <summary>Bumped whenever parameters may have changed (a writable view was handed out, an update ran,
    /// running statistics moved): derived data such as BatchNorm folded into a convolution is rebuilt when it differs.</summary>
    public int Version { get; private set; }

    /// <summary>Marks the parameters as possibly changed.</summary>
    public void Touch() => Version++;

    /// <summary>The address range [start, end) of the memory, for the checked build's bounds checks.</summary>
    internal (nint Start, nint End) Range => ((nint)_data, (nint)(_data + Length));

    /// <summary>A reference to the float at <paramref name="offset"/> (no bounds check but in the checked build: generated code owns the layout).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref float Ref(long offset)
    {
        if (_data == null) ThrowDisposed();
#if MODELGEN_CHECKED
        if ((ulong)offset >= (ulong)Length) throw new IndexOutOfRangeException($"offset {offset} is outside the {Length} floats of {_owner}'s memory");
#endif
        return ref _data[offset];
    }

    /// <summary>Names <paramref name="length"/> floats at <paramref name="offset"/> for the checked build's bounds checks
    /// (a no-op in other builds): an access from a reference into it must stay inside it.</summary>
    public void Describe(long offset, long length, string name)
    {
        if (offset < 0 || length < 0 || offset + length > Length)
            throw new ArgumentOutOfRangeException(nameof(offset), $"[{offset}, {offset + length}) is outside the arena of {Length} floats");
#if MODELGEN_CHECKED
        if (_data == null) ThrowDisposed();
        Kernels.Bounds.Add((nint)(_data + offset), (nint)(_data + offset + length), _owner + "." + name);
#endif
    }

    /// <summary>Names every tensor (and, when <paramref name="gradientBase"/> is positive, its gradient) for the checked build.</summary>
    public void Describe(System.Collections.Generic.IReadOnlyList<TensorInfo> tensors, long gradientBase)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        foreach (var t in tensors)
        {
            Describe(t.Offset, t.Length, t.Name);
            if (gradientBase > 0) Describe(gradientBase + t.Offset, t.Length, "d " + t.Name);
        }
    }

    /// <summary>A bounds-checked view of <paramref name="length"/> floats at <paramref name="offset"/>.</summary>
    public Span<float> Span(long offset, int length)
    {
        if (_data == null) ThrowDisposed();
        if (offset < 0 || length < 0 || offset + length > Length)
            throw new ArgumentOutOfRangeException(nameof(offset), $"[{offset}, {offset + length}) is outside the arena of {Length} floats");
        return new Span<float>(_data + offset, length);
    }

    private void ThrowDisposed() => throw new ObjectDisposedException(_owner, $"this {_owner} has been disposed");

    /// <summary>Frees the memory.</summary>
    public void Dispose()
    {
        if (_data != null)
        {
#if MODELGEN_CHECKED
            Kernels.Bounds.Remove((nint)_data, (nint)(_data + Length));
#endif
            NativeMemory.Free(_block);
            _data = null;
            _block = null;
        }
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees the memory if the owner forgot to.</summary>
    ~Arena()
    {
        if (_data != null)
        {
#if MODELGEN_CHECKED
            Kernels.Bounds.Remove((nint)_data, (nint)(_data + Length));
#endif
            NativeMemory.Free(_block);
        }
    }
}
