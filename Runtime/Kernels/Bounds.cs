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

    // Callers' spans named for the duration of one call (Workspace.WithInput): a fixed table of pairs, so that naming
    // one allocates nothing — a checked build's Predict stays allocation-free, as the normal build's is.
    private static readonly nint[] s_callStart = new nint[64], s_callEnd = new nint[64];

    /// <summary>Names the bytes [start, end) as the caller's input until <see cref="RemoveCall"/>, unless they overlap a
    /// region (a caller's span that lies in an arena keeps that arena's region) or the table is full. Returns the slot, or −1.</summary>
    public static int AddCall(nint start, nint end)
    {
        if (end <= start) return -1;
        lock (s_lock)
        {
            foreach (var r in s_regions)
                if (r.Start < end && r.End > start) return -1;
            for (int i = 0; i < s_callStart.Length; i++)
                if (s_callEnd[i] == 0) { s_callStart[i] = start; s_callEnd[i] = end; return i; }
            return -1;
        }
    }

    /// <summary>Forgets the caller's span named in <paramref name="slot"/> (−1: none was).</summary>
    public static void RemoveCall(int slot)
    {
        if (slot < 0) return;
        lock (s_lock) { s_callStart[slot] = 0; s_callEnd[slot] = 0; }
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
        if (home is null)
        {
            CheckCall(at, offset, count, Unsafe.SizeOf<T>());
            return;
        }
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

    /// <summary>As <see cref="Check{T}"/> for a reference into a caller's span named by <see cref="AddCall"/> (one outside
    /// every region and span is not checked).</summary>
    private static void CheckCall(nint at, nint offset, int count, nint size)
    {
        // Concurrent calls may pin overlapping spans of one array (different batches of the same data): the access is in
        // bounds when some span that holds the reference holds all of it.
        nint first = at + offset * size, end = first + count * size, start = 0, stop = 0;
        lock (s_lock)
            for (int i = 0; i < s_callStart.Length; i++)
                if (s_callEnd[i] != 0 && at >= s_callStart[i] && at < s_callEnd[i])
                {
                    if (first >= s_callStart[i] && end <= s_callEnd[i]) return;
                    if (s_callEnd[i] - s_callStart[i] > stop - start) { start = s_callStart[i]; stop = s_callEnd[i]; }
                }
        if (stop != 0)
        {
            long index = (at - start) / size + offset, length = (stop - start) / size;
            throw new IndexOutOfRangeException(count == 1
                ? $"index {index} is outside the caller's input ({length} elements)"
                : $"elements [{index}, {index + count}) are outside the caller's input ({length} elements)");
        }
    }
}
