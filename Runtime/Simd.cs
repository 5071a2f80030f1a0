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

    /// <summary>Columns computed per step for a batch of a network whose every layer works on whole sequences (a
    /// Transformer): the batch rounded up to 8 when the <c>steps·n</c> columns of a sequence panel are then a whole
    /// number of 16-column blocks (what the matrix products need), else to 16 as <see cref="PanelWidth"/>. A batch of 8
    /// over 128 steps computes 8 columns per step, not 16.</summary>
    public static int SequencePanelWidth(int batch, int steps)
    {
        int n = (batch + 7) & ~7;
        return (long)n * steps % 16 == 0 ? n : PanelWidth(batch);
    }

    /// <summary>The per-step stride of such a network's panels for <paramref name="n"/> columns: <c>n + 1</c> when the
    /// sequence rows (<c>steps·ld</c> floats) stay whole 16-column blocks, else n. A row of a sequence panel spans every
    /// step, so with 128 steps and n = 16 it is 8 KB: every row of a column would fall in the same L1 sets (a kernel
    /// walking down a column evicts its own data); an odd stride spreads them over 8× more sets. Measured on the
    /// attention kernel: ~25 % faster forward at T = 127 than at T = 128 for the same work.</summary>
    public static int SequenceStride(int n, int steps) => n >= 8 && (long)(n + 1) * steps % 16 == 0 ? n + 1 : n;

    /// <summary>Row stride of a panel of <paramref name="columns"/> columns: an <b>odd</b> multiple of 16 floats.
    /// A stride of an even multiple (e.g. 256 floats = 1 KB) maps successive rows to a few L1 sets, so a
    /// kernel walking down a panel evicts its own data; an odd multiple of 64 bytes cycles through all 64 sets.</summary>
    public static int PanelStride(int columns) => columns <= 1 ? columns : ((columns >> 4) & 1) == 1 ? columns : columns + 16;
}
