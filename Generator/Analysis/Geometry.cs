namespace ModelGen.Generator.Analysis;

/// <summary>How activations are laid out, as the generated code and the runtime agree: flat activations are
/// feature-major panels <c>[features, ld]</c> (the batch in the vector lanes); images are <c>[batch][C][ldP]</c>.</summary>
internal static class Geometry
{
    /// <summary>Row stride of a pixel row of <paramref name="pixels"/> floats: rounded up to 16, then to an odd
    /// multiple of 16 (as <c>Simd.PanelStride</c>), so channel rows do not alias in L1.</summary>
    public static int LdP(int pixels)
    {
        int w = (pixels + 15) & ~15;
        return ((w >> 4) & 1) == 1 ? w : w + 16;
    }

    /// <summary>Floats per sample of an image buffer <c>[C][ldP]</c>.</summary>
    public static int ImageStride(int channels, int pixels) => channels * LdP(pixels);
}
