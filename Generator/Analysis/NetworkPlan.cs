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
    float L2 = 0f)
{
    public int ParameterCount => WeightCount + BiasCount;
    public bool HasParameters => WeightCount + BiasCount > 0;

    /// <summary>How the layer reads in summaries and banners, e.g. <c>Dense(256), Relu</c>.</summary>
    public string Description => Kind switch
    {
        LayerKind.Dense => $"Dense({Out})" + (Activation == ActivationKind.None ? "" : ", " + ActivationName) + (L2 > 0f ? $", L2({F(L2)})" : ""),
        LayerKind.Dropout => $"Dropout({F(Rate)})",
        _ => ActivationName,
    };

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
    public int MaxFeatures
    {
        get
        {
            int m = InputSize;
            foreach (var l in Layers) if (l.Out > m) m = l.Out;
            return m;
        }
    }
}

/// <summary>The analysis step's output: a plan when the network is valid, and diagnostics.</summary>
internal sealed record AnalysisResult(NetworkPlan? Plan, EquatableArray<DiagnosticInfo> Diagnostics);
