using System.Collections.Generic;
using Microsoft.CodeAnalysis;
using ModelGen.Generator.Model;

namespace ModelGen.Generator.Analysis;

/// <summary>
/// The contract of a layer kind: everything the backend-neutral stages need to know about it. One sealed subclass
/// per kind lives in <c>Layers/&lt;Kind&gt;.cs</c>, registered in <c>Layers/LayerRegistry.cs</c>; the same class
/// implements each backend's interface (<c>Emit.CSharp.ICSharpLayer</c>), so a kind is one object and one file.
/// Kinds are stateless singletons: plans hold them by reference, which is also their equality.
/// </summary>
internal abstract class LayerKind
{
    /// <summary>The kind's name: its attribute without the suffix, and the runtime's <c>LayerType</c> member.</summary>
    public abstract string Name { get; }

    /// <summary>The attribute class (<c>Conv2DAttribute</c>); null for a kind made by an activation alone.</summary>
    public virtual string? AttributeName => Name + "Attribute";

    /// <summary>Whether an activation attribute on the same member fuses into this layer.</summary>
    public virtual bool FusesActivation => false;

    /// <summary>Whether the kind has weights that <c>[L2]</c> regularises.</summary>
    public virtual bool HasWeights => false;

    /// <summary>Whether training draws random numbers (from the model's seeded dropout generator).</summary>
    public virtual bool IsStochastic => false;

    /// <summary>Reads the attribute's arguments; null after reporting what is wrong.</summary>
    public abstract LayerOptions? Read(AttributeArgs args, LayerDiagnostics diags);

    /// <summary>Shape inference: the output shape, the parameter tensors and the FLOPs for the given input shapes
    /// (one per input: the main input first, then <see cref="LayerOptions.ExtraInputs"/>); null after reporting.</summary>
    public abstract LayerShape? Infer(LayerSpec spec, IReadOnlyList<Shape> inputs, LayerDiagnostics diags);

    /// <summary>Receptive field and jump (product of strides) of the output, from those of the inputs; −1 = the whole input.</summary>
    public virtual ReceptiveField ReceptiveField(LayerPlan layer, IReadOnlyList<ReceptiveField> inputs) => inputs[0];

    /// <summary>How the layer reads in summaries, e.g. <c>Conv2D(16, 5, pad 2)</c> (the activation is appended by the caller).</summary>
    public abstract string Describe(LayerPlan layer);

    /// <summary>Hyper-parameters for the runtime's <c>Layer.Options</c>, e.g. (<c>kernel_height</c>, 5).</summary>
    public virtual IEnumerable<(string Key, double Value)> Hyperparameters(LayerPlan layer) { yield break; }

    /// <summary>The banner under the layer's title: forward and backward math, shapes, counts, and the path the code takes.</summary>
    public abstract IEnumerable<string> Math(LayerPlan layer, NetworkPlan network);

    /// <summary>Scratch buffers the generated code of this layer needs.</summary>
    public virtual IEnumerable<ScratchRequest> Scratch(LayerPlan layer, NetworkPlan network) { yield break; }

    /// <summary>Names of class members the kind's generated code declares besides its methods and buffers
    /// (e.g. a convolution's offset tables), so that a layer named like one is MG0013.</summary>
    public virtual IEnumerable<string> Members(LayerPlan layer) { yield break; }

    /// <summary>True when this layer (<paramref name="self"/>) can be folded, for inference, into
    /// <paramref name="producer"/>, whose only reader it is (BatchNorm into the convolution before it).</summary>
    public virtual bool FoldsInto(LayerPlan producer, LayerPlan self) => false;

    /// <summary>True when this layer's (<paramref name="self"/>) inference output can be computed by the code of
    /// <paramref name="store"/>, the layer that writes the inference output of <paramref name="producer"/>, whose only
    /// reader this layer is: the producer itself, or the convolution a BatchNorm producer is folded into (a pooling by
    /// the convolution before it; the producer's activation is the one that output ends with).</summary>
    public virtual bool FusesInto(LayerPlan store, LayerPlan producer, LayerPlan self) => false;

    /// <summary>Scratch the producer's code needs beyond <see cref="Scratch"/> when <paramref name="fused"/> is fused
    /// into it (a direct convolution's one-sample output image, pooled while it is in the cache).</summary>
    public virtual IEnumerable<ScratchRequest> FusedScratch(LayerPlan producer, LayerPlan fused) { yield break; }

    /// <summary>Floats the producer's folded copy holds beyond its folded tensors (a Winograd convolution's transformed
    /// filters, rebuilt with the fold).</summary>
    public virtual long FoldedExtra(LayerPlan producer) => 0;

    /// <summary>True when the layer's output carries a mask of padded steps (an embedding with <c>MaskZero</c>).</summary>
    public virtual bool MasksOutput(LayerPlan layer) => false;

    /// <summary>True when the layer reads a masked sequence correctly (recurrent layers, dropout); any other reader of
    /// one is MG0020.</summary>
    public virtual bool ReadsMask => false;

    /// <summary>True when the layer's output is masked wherever its main input is (a recurrent layer's every-step
    /// output, dropout).</summary>
    public virtual bool PassesMask(LayerPlan layer) => false;

    /// <summary>True when each step of the output reads the earlier steps of the input (causal attention): that input
    /// panel is the KV cache of incremental decoding, so no activation memory is shared in such a network.</summary>
    public virtual bool ReadsEarlierSteps => false;

    /// <summary>True when the kind's kernels put the samples of one step in the vector lanes in whole 16-column blocks
    /// (recurrent layers, masks of padded steps): the network's panels then keep the batch rounded up to 16.</summary>
    public virtual bool NeedsSixteenColumns => false;

    public override string ToString() => Name;
}

/// <summary>A kind's options as read from its attribute: an equatable record per kind.</summary>
internal abstract record LayerOptions
{
    /// <summary>Names of earlier layers read besides the main input (a residual add's second operand).</summary>
    public virtual EquatableArray<string> ExtraInputs => EquatableArray<string>.Empty;
}

/// <summary>Options of a kind that has none.</summary>
internal sealed record NoOptions : LayerOptions
{
    public static readonly NoOptions Instance = new();
}

/// <summary>A shape of one sample: <c>[features]</c> or <c>[channels, height, width]</c>.</summary>
internal readonly record struct Shape(EquatableArray<int> Dims)
{
    public int Rank => Dims.Count;
    public int this[int i] => Dims[i];
    public int Size { get { int s = 1; foreach (int d in Dims) s *= d; return s; } }
    public bool IsImage => Dims.Count == 3;
    /// <summary>A sequence <c>[steps, features]</c>, held as a panel <c>[features, steps·ld]</c>.</summary>
    public bool IsSequence => Dims.Count == 2;
    public static Shape Of(params int[] dims) => new(EquatableArray.From(dims));
    public override string ToString() => "[" + string.Join(",", Dims) + "]";
}

/// <summary>What shape inference gives for one layer.</summary>
internal sealed record LayerShape(Shape Output, EquatableArray<TensorSpec> Tensors, long Flops, LayerOptions Options);

/// <summary>How a parameter tensor is used: trained and saved, saved only, or kept in the arena only.</summary>
internal enum TensorRole
{
    /// <summary>Trained, counted, saved, regularised by L2, subject to weight decay.</summary>
    Weight,
    /// <summary>Trained, counted, saved; never regularised or decayed (biases, BatchNorm's γ and β).</summary>
    Parameter,
    /// <summary>Saved but neither trained nor counted (BatchNorm's running statistics).</summary>
    Buffer,
    /// <summary>In the arena only: neither counted, saved nor trained (the zero bias of <c>Bias = false</c>).</summary>
    Hidden,
    /// <summary>Another layer's tensor, shared (weight tying): that layer counts, saves, initialises and trains it; this
    /// layer reads it and adds its gradient to the same place.</summary>
    Tied,
}

internal enum TensorInit { Zeros, Ones, Weight, HeNormal, XavierUniform, Normal }

/// <summary>A parameter tensor a kind declares: PyTorch's name suffix (<c>weight</c>) and layout.</summary>
/// <paramref name="Sparse"/>: a table whose rows a batch touches one by one (an embedding): its gradient is cleared and
/// its update applied only in the rows used (<c>SparseRows</c> at run time).
internal sealed record TensorSpec(string Name, EquatableArray<int> Shape, TensorRole Role, TensorInit Init, int FanIn = 0, int FanOut = 0, bool Sparse = false)
{
    /// <summary>The earlier layer whose tensor of the same name this one is (weight tying), or null.</summary>
    public string? TiedTo { get; init; }

    public int Length { get { int s = 1; foreach (int d in Shape) s *= d; return s; } }
}

/// <summary>Receptive field (−1: the whole input) and jump of an output.</summary>
internal readonly record struct ReceptiveField(int Size, int Jump)
{
    public static readonly ReceptiveField Pixel = new(1, 1);
    public static readonly ReceptiveField Whole = new(-1, 1);

    /// <summary>Through a window of <paramref name="kernel"/> taps moved by <paramref name="stride"/>:
    /// <c>r' = r + (k − 1)·j</c>, <c>j' = j·s</c> (the whole input stays the whole input).</summary>
    public ReceptiveField Through(int kernel, int stride) => new(Size < 0 ? Size : Size + (kernel - 1) * Jump, Jump * stride);
}

/// <summary>Where scratch lives: one buffer shared by every layer that asks for the name (sized for the largest),
/// or one buffer per layer.</summary>
internal enum ScratchScope { Shared, PerLayer }

/// <summary>A scratch buffer a layer's code needs: <c>Size</c> floats, wanted in training only or always.</summary>
internal sealed record ScratchRequest(string Name, BufferSize Size, ScratchScope Scope, bool TrainingOnly, string Comment);

/// <summary>A buffer size in floats: <c>Const + PerLd·ldMax + PerSample·maxBatch</c> (ldMax: the widest panel stride).</summary>
internal readonly record struct BufferSize(long Const, long PerLd, long PerSample)
{
    public static BufferSize Floats(long n) => new(n, 0, 0);
    public static BufferSize Panel(long features) => new(0, features, 0);
    public static BufferSize Images(long perSample) => new(0, 0, perSample);
    public bool IsZero => Const == 0 && PerLd == 0 && PerSample == 0;

    /// <summary>The size as a C# expression over <c>ldMax</c> and <c>maxBatch</c>.</summary>
    public string Expression()
    {
        var parts = new List<string>();
        if (PerLd != 0) parts.Add(PerLd == 1 ? "ldMax" : $"{PerLd} * ldMax");
        if (PerSample != 0) parts.Add($"maxBatch * {PerSample}L");
        if (Const != 0 || parts.Count == 0) parts.Add(Const.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return string.Join(" + ", parts);
    }
}

/// <summary>Collects one layer's diagnostics, at the layer's location.</summary>
internal sealed class LayerDiagnostics
{
    private readonly List<DiagnosticInfo> _list;

    public LayerDiagnostics(List<DiagnosticInfo> list, string layer, LocationInfo? location) { _list = list; Layer = layer; Location = location; }

    public string Layer { get; }
    public LocationInfo? Location { get; }
    /// <summary>The name of the layer that produces the main input (<c>(input)</c> for the network input).</summary>
    public string Producer { get; set; } = "(input)";

    /// <summary>Reports <paramref name="d"/> with the layer's name as its first argument.</summary>
    public void Report(DiagnosticDescriptor d, params object[] args)
    {
        var all = new object[args.Length + 1];
        all[0] = Layer;
        args.CopyTo(all, 1);
        _list.Add(DiagnosticInfo.Create(d, Location, all));
    }

    /// <summary>MG0008 with the layer's name and <paramref name="message"/>.</summary>
    public void Invalid(string message) => Report(Diagnostics.Descriptors.InvalidArgument, message);
}
