using System.ComponentModel;
using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ModelGen.Kernels;

/// <summary>Finiteness checks for NaN/∞ detection.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Numerics
{
    /// <summary>True when no element is NaN or ±∞.</summary>
    public static bool AllFinite(ReadOnlySpan<float> x)
    {
        foreach (float v in x) if (!float.IsFinite(v)) return false;
        return true;
    }

    /// <summary>True when no element of the first <paramref name="cols"/> columns of a panel is NaN or ±∞.</summary>
    public static bool AllFinite(ref float panel, int rows, int ld, int cols)
    {
        for (int r = 0; r < rows; r++)
            for (int b = 0; b < cols; b++)
                if (!float.IsFinite(Mem.Add(ref panel, (nint)r * ld + b))) return false;
        return true;
    }
}
