using System.Collections.Generic;
using System.Linq;
using ModelGen.Generator.Model;

namespace ModelGen.Generator.Analysis;

/// <summary>A parameter tensor placed in the arena: PyTorch's full name, the constant that holds its offset, its role.</summary>
internal sealed record TensorPlan(
    string Name,          // Conv1.weight
    string Local,         // weight
    string Const,         // Conv1_Weight
    EquatableArray<int> Shape,
    int Offset,
    int Length,
    TensorRole Role,
    TensorInit Init,
    int FanIn,
    int FanOut,
    float L2,
    bool Sparse = false)
{
    public bool Trainable => Role is TensorRole.Weight or TensorRole.Parameter;
    public bool Saved => Role is not (TensorRole.Hidden or TensorRole.Tied);
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}

/// <summary>One layer after shape inference. Plain data, no source locations.</summary>
internal sealed record LayerPlan(
    int Index,
    string Name,
    string Accessibility,
    LayerKind Kind,
    LayerOptions Options,
    ActivationKind Activation,
    float Alpha,
    float L2,
    Shape InShape,
    Shape OutShape,
    EquatableArray<int> Inputs,   // producer of each input, −1 for the network input; [0] is the main input
    EquatableArray<TensorPlan> Tensors,
    long Flops,
    int ReceptiveField,
    string? Block = null)   // the [TransformerBlock] member this layer is a part of (its own name for the block's output)
{
    public int In => InShape.Size;
    public int Out => OutShape.Size;
    public int InputIndex => Inputs[0];
    public bool ImageIn => InShape.IsImage;
    public bool ImageOut => OutShape.IsImage;
    public int InPixels => ImageIn ? InShape[1] * InShape[2] : 1;
    public int OutPixels => ImageOut ? OutShape[1] * OutShape[2] : 1;
    public int ParameterCount => Tensors.Where(t => t.Trainable).Sum(t => t.Length);
    public bool HasParameters => Tensors.Count > 0;

    /// <summary>The tensor with local name <paramref name="local"/> (<c>weight</c>, <c>bias</c>, …).</summary>
    public TensorPlan Tensor(string local) => Tensors.First(t => t.Local == local);
    public TensorPlan? TryTensor(string local) => Tensors.FirstOrDefault(t => t.Local == local);

    /// <summary>How the layer reads in summaries and banners, e.g. <c>Dense(256), Relu, L2(0.001)</c>.</summary>
    public string Description
    {
        get
        {
            string d = Kind.Describe(this);
            if (Activation != ActivationKind.None && Kind.FusesActivation) d += ", " + ActivationName;
            if (L2 > 0f) d += $", L2({Text.Num(L2)})";
            return d;
        }
    }

    public string ActivationName => Activation == ActivationKind.LeakyRelu ? "LeakyRelu(" + Text.Num(Alpha) + ")" : Activation.ToString();
}

/// <summary>The loss as the emitter needs it (no source location).</summary>
internal sealed record LossPlan(string Name, string Accessibility, LossKind Kind, float Param)
{
    public bool TakesLabels => Kind is LossKind.SoftmaxCrossEntropy or LossKind.MultiClassHinge;
}

/// <summary>A network ready to emit: every shape known, every tensor and buffer placed and named.</summary>
internal sealed record NetworkPlan(
    string Namespace,
    string ClassName,
    Shape InputShape,
    EquatableArray<LayerPlan> Layers,
    int ParameterRegion,
    LossPlan? Loss,
    bool Trainable)
{
    /// <summary>Buffers, gradient routes and fold pairs; set once by <see cref="BufferPlanner"/>.</summary>
    public BufferPlan Buffers { get; init; } = BufferPlan.Empty;

    public int InputSize => InputShape.Size;
    public int OutputSize => Layers[Layers.Count - 1].Out;
    public int ParameterCount => Layers.Sum(l => l.ParameterCount);
    public long Flops => Layers.Sum(l => l.Flops);
    public LossKind LossKind => Trainable && Loss is not null ? Loss.Kind : LossKind.None;
    public bool ImageInput => InputShape.IsImage;
    /// <summary>The network's tensors, each once (a tied tensor is its owner's).</summary>
    public IEnumerable<TensorPlan> Tensors => Layers.SelectMany(l => l.Tensors).Where(t => t.Role != TensorRole.Tied);
    public string FullName => (Namespace.Length > 0 ? Namespace + "." : "") + ClassName;

    /// <summary>The tables updated row by row (<see cref="TensorPlan.Sparse"/>), in declaration order: index k is
    /// <c>_sparseTables[k]</c> in the generated code.</summary>
    public IReadOnlyList<TensorPlan> SparseTensors => Tensors.Where(t => t.Sparse).ToList();

    /// <summary>The layer whose mask of padded steps applies to <paramref name="layer"/>'s main input (an embedding with
    /// <c>MaskZero</c>, reached through the layers that pass masks on), or −1 when the input is not masked.</summary>
    public int MaskSource(LayerPlan layer)
    {
        for (int i = layer.InputIndex; i >= 0; i = Layers[i].InputIndex)
        {
            var p = Layers[i];
            if (p.Kind.MasksOutput(p)) return i;
            if (!p.Kind.PassesMask(p)) return -1;
        }
        return -1;
    }
}

/// <summary>What a declaration with errors still gets: its partial members, with bodies that say so.</summary>
internal sealed record NetworkStub(string Namespace, string ClassName, EquatableArray<MemberStub> Members);

/// <summary>The analysis step's output: a plan when the network is valid (else a stub), and diagnostics.</summary>
internal sealed record AnalysisResult(NetworkPlan? Plan, NetworkStub? Stub, EquatableArray<DiagnosticInfo> Diagnostics);

/// <summary>Invariant formatting for everything the generator writes: generated code and messages never depend on the
/// compiler's culture (a German machine would otherwise print 200.960 for 200,960 and 0,5 for 0.5).</summary>
internal static class Text
{
    private static readonly System.Globalization.CultureInfo Inv = System.Globalization.CultureInfo.InvariantCulture;
    public static string Num(float f) => f.ToString("R", Inv);
    public static string Num(double d) => d.ToString("R", Inv);
    public static string Num(long n) => n.ToString(Inv);
    /// <summary>Thousands separated: <c>200,960</c>.</summary>
    public static string N0(long n) => n.ToString("N0", Inv);
    /// <summary>A C# float literal with the exact value: <c>0.1f</c>.</summary>
    public static string Float(float f) => f.ToString("R", Inv) + "f";
    public static string Dims(IEnumerable<int> dims) => "[" + string.Join(", ", dims) + "]";
}
