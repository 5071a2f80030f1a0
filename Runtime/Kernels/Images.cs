using System.ComponentModel;
using System.Runtime.CompilerServices;

namespace ModelGen.Kernels;

/// <summary>Moves images <c>[batch][C][ldP]</c> to and from the user's samples and flat panels.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Images
{
    /// <summary>Row-major samples <c>[batch, C·P]</c> → images (padding pixels 0).</summary>
    public static void FromSamples(System.ReadOnlySpan<float> src, int batch, int c, int pixels, int ldP, ref float dst)
    {
        if (src.Length < batch * c * pixels) throw new System.ArgumentException($"input holds {src.Length} floats, expected {batch}×{c}×{pixels}");
        for (int b = 0; b < batch; b++)
            for (int ci = 0; ci < c; ci++)
            {
                ref float d = ref Mem.Add(ref dst, ((nint)b * c + ci) * ldP);
                var s = src.Slice((b * c + ci) * pixels, pixels);
                for (int q = 0; q < pixels; q++) Mem.Add(ref d, q) = s[q];
                for (int q = pixels; q < ldP; q++) Mem.Add(ref d, q) = 0f;
            }
    }

    /// <summary>Images → row-major samples <c>[batch, C·P]</c>.</summary>
    public static void ToSamples(ref float src, int batch, int c, int pixels, int ldP, System.Span<float> dst)
    {
        for (int b = 0; b < batch; b++)
            for (int ci = 0; ci < c; ci++)
            {
                ref float s = ref Mem.Add(ref src, ((nint)b * c + ci) * ldP);
                var d = dst.Slice((b * c + ci) * pixels, pixels);
                for (int q = 0; q < pixels; q++) d[q] = Mem.Add(ref s, q);
            }
    }

    /// <summary>Flatten: images → panel <c>y[(c·P + p)·ld + b]</c> (PyTorch's flatten order), by 8×8 transposes per channel.</summary>
    public static void ToPanel(ref float x, int batch, int c, int pixels, int ldP, ref float y, int ld)
    {
        for (int ci = 0; ci < c; ci++)
            Layout.Transpose(ref Mem.Add(ref x, (nint)ci * ldP), batch, pixels, (nint)c * ldP, ref Mem.Add(ref y, (nint)ci * pixels * ld), ld);
    }

    /// <summary>Flatten's backward: panel → images.</summary>
    public static void FromPanel(ref float dy, int ld, int batch, int c, int pixels, int ldP, ref float dx)
    {
        for (int ci = 0; ci < c; ci++)
            Layout.Transpose(ref Mem.Add(ref dy, (nint)ci * pixels * ld), pixels, batch, ld, ref Mem.Add(ref dx, (nint)ci * ldP), (nint)c * ldP);
    }
}
