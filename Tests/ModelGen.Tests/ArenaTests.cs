using System;
using System.IO;
using System.Linq;
using Xunit;

namespace ModelGen.Tests;

/// <summary>
/// The arena's memory: zeroed, aligned, and — from <see cref="HugePages.Threshold"/> on, on Linux — 2 MB aligned and
/// advised for transparent huge pages (what the kernel then does with the advice is its setting).
/// </summary>
public class ArenaTests
{
    /// <summary>The <c>VmFlags</c> line of the mapping of <c>/proc/self/smaps</c> that holds <paramref name="address"/>.</summary>
    private static string VmFlagsOf(nint address)
    {
        bool inside = false;
        foreach (var line in File.ReadLines("/proc/self/smaps"))
        {
            int dash = line.IndexOf('-');
            int space = line.IndexOf(' ');
            if (dash > 0 && space > dash && line.Take(dash).All(Uri.IsHexDigit))
            {
                ulong from = Convert.ToUInt64(line[..dash], 16), to = Convert.ToUInt64(line[(dash + 1)..space], 16);
                inside = (ulong)address >= from && (ulong)address < to;
            }
            else if (inside && line.StartsWith("VmFlags:", StringComparison.Ordinal))
                return line;
        }
        throw new InvalidOperationException($"no mapping holds 0x{address:x}");
    }

    [Theory]
    [InlineData(16)]                       // a tiny arena
    [InlineData(131_071)]                  // just under 512 KB
    [InlineData(131_072)]                  // 512 KB: advised
    [InlineData(600_001)]                  // an odd length over 2 MB: the last 2 MB page partly used
    public void Arenas_are_zeroed_aligned_and_whole(long length)
    {
        using var arena = new Arena(length, "Probe");
        var (start, end) = arena.Range;
        Assert.Equal(length * sizeof(float), end - start);
        bool advised = (nuint)(length * sizeof(float)) >= HugePages.Threshold && HugePages.Available;
        Assert.Equal(0, start % (advised ? (nint)HugePages.Size : 64));
        // Zeroed and writable from the first float to the last.
        for (long i = 0; i < length; i += 997) Assert.Equal(0f, arena.Ref(i));
        Assert.Equal(0f, arena.Ref(length - 1));
        arena.Ref(0) = 1f; arena.Ref(length - 1) = 2f;
        Assert.Equal(1f, arena.Ref(0)); Assert.Equal(2f, arena.Ref(length - 1));
    }

    [Fact]
    public void Large_arenas_are_advised_for_huge_pages_on_linux()
    {
        Assert.Equal(OperatingSystem.IsLinux(), HugePages.Available);   // glibc's mmap, madvise and munmap are found wherever the tests run on Linux
        if (!OperatingSystem.IsLinux()) return;
        using var large = new Arena(1 << 20, "Large");   // 4 MB
        using var small = new Arena(1 << 16, "Small");   // 256 KB
        large.Ref(0) = 1f; small.Ref(0) = 1f;
        // "hg": the mapping carries MADV_HUGEPAGE (smaps' VmFlags); the small block's mapping does not.
        Assert.Contains(" hg", VmFlagsOf(large.Range.Start));
        Assert.Contains(" hg", VmFlagsOf(large.Range.End - 4));
        Assert.DoesNotContain(" hg", VmFlagsOf(small.Range.Start));
    }
}
