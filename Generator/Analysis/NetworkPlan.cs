using ModelGen.Generator.Model;

namespace ModelGen.Generator.Analysis;

/// <summary>One layer after shape inference: sizes, parameter places and counts. Plain data.</summary>
internal sealed record LayerPlan(
    int Index,
    string Name,
    string Accessibility,
    LayerKind Kind,
    ActivationKind Activation,
    float Alpha,
    int In,
    int Out,
    int WeightOffset,
    int WeightCount,
    int BiasOffset,
    int BiasCount,
    long Flops,
    int ReceptiveField,
    float Rate = 0f,
    float L2 = 0f,
    EquatableArray<int> InShape = default,
    EquatableArray<int> OutShape = default,
    int KH = 0,
    int KW = 0,
    int Stride = 1,
    int PadH = 0,
    int PadW = 0,
    int InputIndex = -1,
    int AddIndex = -1,
    float Epsilon = 0f,
    int BufferOffset = 0,
    bool HasBias = true)
{
    /// <summary>BatchNorm's running mean and variance live right after its bias, as non-trainable buffers.</summary>
    public int BufferCount => Kind == LayerKind.BatchNorm2D ? 2 * BiasCount : 0;
    /// <summary>Input is an image <c>[C, H, W]</c>, held sample-major as <c>[batch][C][ldP]</c>.</summary>
    public bool ImageIn => InShape.Count == 3;
    /// <summary>Output is an image.</summary>
    public bool ImageOut => OutShape.Count == 3;
    /// <summary>Pixels per channel of the output (1 for flat outputs).</summary>
    public int OutPixels => ImageOut ? OutShape[1] * OutShape[2] : 1;
    /// <summary>Pixels per channel of the input.</summary>
    public int InPixels => ImageIn ? InShape[1] * InShape[2] : 1;
    public static string ShapeText(EquatableArray<int> s) => "[" + string.Join(",", s) + "]";

    /// <summary>Trainable parameters. A bias-less layer keeps a zero bias in the arena (the kernels add it) but
    /// neither counts, saves nor trains it.</summary>
    public int ParameterCount => WeightCount + (HasBias ? BiasCount : 0);
    public bool HasParameters => WeightCount + BiasCount > 0;

    /// <summary>How the layer reads in summaries and banners, e.g. <c>Dense(256), Relu</c>.</summary>
    public string Description => Kind switch
    {
        LayerKind.Dense => $"Dense({Out})" + Suffix,
        LayerKind.Conv2D => $"Conv2D({OutShape[0]}, {(KH == KW ? KH.ToString() : KH + "x" + KW)}" + (Stride != 1 ? $", stride {Stride}" : "")
            + (PadH != 0 || PadW != 0 ? $", pad {(PadH == PadW ? PadH.ToString() : PadH + "x" + PadW)}" : "") + (HasBias ? "" : ", no bias") + ")" + Suffix,
        LayerKind.MaxPool2D => $"MaxPool2D({KH}" + (Stride != KH ? $", stride {Stride}" : "") + ")",
        LayerKind.AvgPool2D => $"AvgPool2D({KH}" + (Stride != KH ? $", stride {Stride}" : "") + ")",
        LayerKind.GlobalAvgPool => "GlobalAvgPool",
        LayerKind.Flatten => "Flatten",
        LayerKind.Dropout => $"Dropout({F(Rate)})",
        LayerKind.Add => "Add",
        LayerKind.BatchNorm2D => "BatchNorm2D" + (Activation == ActivationKind.None ? "" : ", " + ActivationName),
        _ => ActivationName,
    };

    private string Suffix => (Activation == ActivationKind.None ? "" : ", " + ActivationName) + (L2 > 0f ? $", L2({F(L2)})" : "");

    private static string F(float f) => f.ToString("R", System.Globalization.CultureInfo.InvariantCulture);

    public string ActivationName => Activation == ActivationKind.LeakyRelu
        ? "LeakyRelu(" + Alpha.ToString("R", System.Globalization.CultureInfo.InvariantCulture) + ")"
        : Activation.ToString();
}

/// <summary>A network ready to emit: every shape known, every offset fixed.</summary>
internal sealed record NetworkPlan(
    string Namespace,
    string ClassName,
    EquatableArray<int> InputShape,
    int InputSize,
    int OutputSize,
    EquatableArray<LayerPlan> Layers,
    int ParameterCount,
    int ParameterRegion,
    long Flops,
    LossSpec? Loss,
    bool Trainable)
{
    public LossKind LossKind => Trainable && Loss is not null ? Loss.Kind : LossKind.None;
    /// <summary>Widest input of a dense layer (the sample-major scratch of its weight gradient).</summary>
    public int MaxDenseInput
    {
        get
        {
            int m = 1;
            foreach (var l in Layers) if (l.Kind == LayerKind.Dense && l.In > m) m = l.In;
            return m;
        }
    }

    /// <summary>The network input is an image <c>[C, H, W]</c>.</summary>
    public bool ImageInput => InputShape.Count == 3;
}

/// <summary>The analysis step's output: a plan when the network is valid, and diagnostics.</summary>
internal sealed record AnalysisResult(NetworkPlan? Plan, EquatableArray<DiagnosticInfo> Diagnostics);
