using System;
using System.Runtime.CompilerServices;

namespace ModelGen.Kernels;

/// <summary>
/// The checked build's map of named memory regions (arena buffers and tensors, offset tables). <see cref="Mem"/> asks
/// it whether an access stays inside the region its reference started in. Regions are added when an arena or a table
/// is made and removed when it is freed; a reference outside every region (a span of the caller's) is not checked.
/// Compiled into every build; only the checked build calls it.
/// </summary>
internal static unsafe class Bounds
{
    private sealed record Region(nint Start, nint End, string Name);

    private static Region[] s_regions = Array.Empty<Region>();   // sorted by Start, not overlapping; replaced, never mutated
    private static readonly object s_lock = new();

    /// <summary>Names the bytes [start, end); a region it overlaps (memory freed and reused) is replaced.</summary>
    public static void Add(nint start, nint end, string name)
    {
        if (end <= start) return;
        lock (s_lock)
        {
            var kept = Array.FindAll(s_regions, r => r.End <= start || r.Start >= end);
            var all = new Region[kept.Length + 1];
            kept.CopyTo(all, 0);
            all[^1] = new Region(start, end, name);
            Array.Sort(all, (a, b) => a.Start.CompareTo(b.Start));
            s_regions = all;
        }
    }

    /// <summary>Names the bytes [start, end) unless they overlap a region already (a caller's span that is itself inside an
    /// arena keeps that arena's region); true when added.</summary>
    public static bool TryAdd(nint start, nint end, string name)
    {
        if (end <= start) return false;
        lock (s_lock)
        {
            if (Array.Exists(s_regions, r => r.Start < end && r.End > start)) return false;
            var all = new Region[s_regions.Length + 1];
            s_regions.CopyTo(all, 0);
            all[^1] = new Region(start, end, name);
            Array.Sort(all, (a, b) => a.Start.CompareTo(b.Start));
            s_regions = all;
            return true;
        }
    }

    /// <summary>Forgets every region inside [start, end) (the memory is being freed).</summary>
    public static void Remove(nint start, nint end)
    {
        lock (s_lock) s_regions = Array.FindAll(s_regions, r => r.End <= start || r.Start >= end);
    }

    /// <summary>Throws unless <paramref name="count"/> elements at <paramref name="offset"/> from <paramref name="source"/>
    /// lie in the region <paramref name="source"/> lies in.</summary>
    public static void Check<T>(ref T source, nint offset, int count)
    {
        nint at = (nint)Unsafe.AsPointer(ref source);
        var regions = s_regions;
        int lo = 0, hi = regions.Length - 1;
        Region? home = null;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            var r = regions[mid];
            if (at < r.Start) hi = mid - 1;
            else if (at >= r.End) lo = mid + 1;
            else { home = r; break; }
        }
        if (home is null) return;
        nint size = Unsafe.SizeOf<T>();
        nint first = at + offset * size, end = first + count * size;
        if (first < home.Start || end > home.End)
        {
            long index = (at - home.Start) / size + offset, length = (home.End - home.Start) / size;
            throw new IndexOutOfRangeException(count == 1
                ? $"index {index} is outside {home.Name} ({length} elements)"
                : $"elements [{index}, {index + count}) are outside {home.Name} ({length} elements)");
        }
    }
}
