using ModelGen.Generator.Analysis;

namespace ModelGen.Generator.Layers;

/// <summary>How activations are laid out, as the generated code and the runtime agree.</summary>
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

    /// <summary>The element count of a layer's input or output buffer as a C# expression: panels <c>F·ld</c>,
    /// images <c>_batch·C·ldP</c>.</summary>
    public static string Extent(LayerPlan l, bool output)
    {
        bool image = output ? l.ImageOut : l.ImageIn;
        var shape = output ? l.OutShape : l.InShape;
        return image ? $"_batch * {ImageStride(shape[0], shape[1] * shape[2])}" : $"{(output ? l.Out : l.In)} * ld";
    }
}
