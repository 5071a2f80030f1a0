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
    private void* _block;   // what the allocator returned (_data is _block rounded up to 64 bytes, or to 2 MB)
    private nuint _mapped;  // the length of _block when it is a mapping of its own (HugePages.Map), else 0
    private readonly string _owner;

    /// <summary>Allocates <paramref name="length"/> floats, zeroed, for <paramref name="owner"/> (the model's class
    /// name: an access after <see cref="Dispose"/> throws an <see cref="ObjectDisposedException"/> naming it).</summary>
    public Arena(long length, string owner = "ModelGen.Arena")
    {
        if (length <= 0) throw new ArgumentOutOfRangeException(nameof(length), length, "arena length must be positive");
        Length = length;
        _owner = owner;
        // Zeroed by the kernel, not by us: both paths below get fresh zero pages (a mapping of its own, or calloc's large
        // blocks), so memory that is never touched (the gradients of a model that only predicts) costs no page faults —
        // clearing it ourselves cost ~6 ms per 2 MB at start-up on a VM with slow faults.
        nuint bytes = (nuint)(length * sizeof(float));
        if (bytes >= HugePages.Threshold && HugePages.Map(bytes, out _block, out _mapped) is var data && data != null)
        {
            // A block of half an L2 or more on 2 MB pages where Linux lends them on request (transparent huge pages,
            // "madvise" or "always"): a mapping of its own (zero pages, as calloc's), 2 MB aligned and advised before
            // anything touches it. Streamed weights then take one TLB entry per 2 MB instead of one per 4 KB, and lie
            // physically contiguous, so a block up to the L2's size falls evenly on its sets (4 KB pages land where
            // they may, and the sets that get more than their ways miss on every pass). W1's batch-1 first layer
            // (803 KB of Wᵀ) 4.7–4.8 → 3.7 µs where 4 KB pages had landed unluckily; the NativeAOT MLP's spawn → first
            // inference → exit 13.7–13.9 → 9.4–9.5 ms (a fault per 2 MB, not per 4 KB).
            _data = data;
        }
        else
        {
            _block = NativeMemory.AllocZeroed(bytes + 64);
            _data = (float*)(((nint)_block + 63) & ~(nint)63);
        }
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

    private void Free()
    {
        if (_mapped != 0) HugePages.Unmap(_block, _mapped);
        else NativeMemory.Free(_block);
    }

    /// <summary>Frees the memory.</summary>
    public void Dispose()
    {
        if (_data != null)
        {
#if MODELGEN_CHECKED
            Kernels.Bounds.Remove((nint)_data, (nint)(_data + Length));
#endif
            Free();
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
            Free();
        }
    }
}

/// <summary>Blocks of their own on 2 MB pages: Linux's <c>mmap</c>, <c>madvise(…, MADV_HUGEPAGE)</c> and <c>munmap</c>,
/// looked up once in the C library (not found, or not Linux: <see cref="Available"/> is false and arenas take the
/// allocator's 4 KB pages). Function pointers from <c>NativeLibrary</c> rather than <c>LibraryImport</c>: the C library's
/// file name differs between glibc and musl, and a missing one must cost nothing rather than throw on first call. A mapping of its own keeps the advice off memory the allocator hands out later. Whether the
/// kernel grants 2 MB pages is its setting (<c>/sys/kernel/mm/transparent_hugepage/enabled</c>: <c>never</c> turns
/// them off for every process; the block is then an ordinary mapping).</summary>
internal static unsafe class HugePages
{
    /// <summary>The x86-64 huge page: 2 MB.</summary>
    public const nuint Size = 2 << 20;
    /// <summary>Blocks from 512 KB on are mapped and advised: a smaller one would hold up to 2 MB of memory for data
    /// that fits the L1 TLB's reach and a corner of the L2 anyway.</summary>
    public const nuint Threshold = 512 << 10;

    private const int ProtReadWrite = 0x3, MapPrivateAnonymous = 0x22, MadvHugePage = 14;   // Linux's mman.h
    private static readonly delegate* unmanaged<void*, nuint, int, int, int, nint, void*> s_mmap;
    private static readonly delegate* unmanaged<void*, nuint, int, int> s_madvise;
    private static readonly delegate* unmanaged<void*, nuint, int> s_munmap;

    static HugePages()
    {
        if (!OperatingSystem.IsLinux()) return;
        if (!NativeLibrary.TryLoad("libc.so.6", out var libc) && !NativeLibrary.TryLoad("libc", out libc)) return;
        if (!NativeLibrary.TryGetExport(libc, "mmap", out var mmap) || !NativeLibrary.TryGetExport(libc, "madvise", out var madvise)
            || !NativeLibrary.TryGetExport(libc, "munmap", out var munmap)) return;
        s_mmap = (delegate* unmanaged<void*, nuint, int, int, int, nint, void*>)mmap;
        s_madvise = (delegate* unmanaged<void*, nuint, int, int>)madvise;
        s_munmap = (delegate* unmanaged<void*, nuint, int>)munmap;
    }

    /// <summary>True where the three calls were found.</summary>
    public static bool Available => s_mmap != null;

    /// <summary>A zeroed mapping holding <paramref name="bytes"/> from a 2 MB boundary on, advised for huge pages: the
    /// aligned start, with the mapping (<paramref name="block"/>, <paramref name="length"/>) for <see cref="Unmap"/>;
    /// null (nothing mapped) where that cannot be had.</summary>
    public static float* Map(nuint bytes, out void* block, out nuint length)
    {
        block = null; length = 0;
        if (!Available) return null;
        nuint span = (bytes + Size - 1) & ~(Size - 1);
        void* p = s_mmap(null, span + Size, ProtReadWrite, MapPrivateAnonymous, -1, 0);
        if (p == null || (nint)p == -1) return null;   // MAP_FAILED
        block = p; length = span + Size;
        var start = (float*)(((nint)p + (nint)Size - 1) & ~((nint)Size - 1));
        s_madvise(start, span, MadvHugePage);   // a hint: where the kernel declines, 4 KB pages
        return start;
    }

    /// <summary>Unmaps what <see cref="Map"/> mapped.</summary>
    public static void Unmap(void* block, nuint length) => s_munmap(block, length);
}
