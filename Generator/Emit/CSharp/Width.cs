namespace ModelGen.Generator.Emit.CSharp;

/// <summary>One generated code path. The vector widths carry their register-tile shape:
/// <see cref="MR"/> rows × <see cref="NVMax"/> vectors of accumulators (6×4 zmm = 24, 6×2 ymm = 12 — inside
/// the 32 zmm / 16 ymm register files with room for the B loads and the broadcast).
/// <para>6×4 rather than 8×2 (both keep the FMA ports busy): 10 loads per 24 FMAs instead of 10 per 16, and one
/// row tile reads a B block once per 64 columns instead of 32. Measured on an Intel Xeon (AVX-512, two FMA ports),
/// calls interleaved with ONNX Runtime's: W1 batch 256 1.23 → 1.13 × its time, W2 batch 64 1.04 → 0.96 ×.</para></summary>
internal sealed class Width
{
    public static readonly Width V512 = new("V512", "AVX-512", "Vector512", 16, 6, 4);
    public static readonly Width V256 = new("V256", "AVX2", "Vector256", 8, 6, 2);
    public static readonly Width Scalar = new("Scalar", "scalar", "", 1, 1, 1);
    public static readonly Width[] All = { V512, V256, Scalar };

    private Width(string name, string isa, string vector, int lanes, int mr, int nvMax)
    {
        Name = name; Isa = isa; Vector = vector; Lanes = lanes; MR = mr; NVMax = nvMax;
    }

    /// <summary>Suffix of generated methods and the <c>SimdWidth</c> member.</summary>
    public string Name { get; }
    /// <summary>The path's name in generated comments: <c>AVX-512</c>, <c>AVX2</c>, <c>scalar</c>.</summary>
    public string Isa { get; }
    /// <summary><c>Vector512</c> / <c>Vector256</c>.</summary>
    public string Vector { get; }
    public int Lanes { get; }
    public int MR { get; }
    public int NVMax { get; }
    public bool IsScalar => Lanes == 1;
    /// <summary>Columns of a full tile.</summary>
    public int NR => Lanes * NVMax;
    public string Enum => "global::ModelGen.SimdWidth." + Name;
}
