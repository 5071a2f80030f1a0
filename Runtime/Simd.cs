using System;
using System.Runtime.Intrinsics;

namespace ModelGen;

/// <summary>What this machine (or, under NativeAOT, the compiled instruction set) accelerates.</summary>
public static class Simd
{
    /// <summary>The widest accelerated width.</summary>
    public static SimdWidth Best =>
        Vector512.IsHardwareAccelerated ? SimdWidth.V512 :
        Vector256.IsHardwareAccelerated ? SimdWidth.V256 : SimdWidth.Scalar;

    /// <summary>True when <paramref name="width"/> runs in hardware here.</summary>
    public static bool IsSupported(SimdWidth width) => width switch
    {
        SimdWidth.Scalar => true,
        SimdWidth.V256 => Vector256.IsHardwareAccelerated,
        SimdWidth.V512 => Vector512.IsHardwareAccelerated,
        _ => false,
    };

    /// <summary>Throws when <paramref name="width"/> is not accelerated here.</summary>
    /// <exception cref="System.PlatformNotSupportedException">This machine does not accelerate <paramref name="width"/>.</exception>
    public static SimdWidth Validate(SimdWidth width)
    {
        if (!IsSupported(width))
            throw new PlatformNotSupportedException($"SIMD width {width} is not hardware-accelerated on this machine (best: {Best}). Under NativeAOT, set <IlcInstructionSet> in the project file.");
        return width;
    }

    /// <summary>Rounds a batch up to the 16-column panels the batched kernels work on.</summary>
    public static int PanelWidth(int batch) => (batch + 15) & ~15;

    /// <summary>Row stride of a panel of <paramref name="columns"/> columns: an <b>odd</b> multiple of 16 floats.
    /// A stride of an even multiple (e.g. 256 floats = 1 KB) maps successive rows to a few L1 sets, so a
    /// kernel walking down a panel evicts its own data; an odd multiple of 64 bytes cycles through all 64 sets.</summary>
    public static int PanelStride(int columns) => columns <= 1 ? columns : ((columns >> 4) & 1) == 1 ? columns : columns + 16;
}
