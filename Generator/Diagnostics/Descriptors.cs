using System.Collections.Generic;
using Microsoft.CodeAnalysis;

namespace ModelGen.Generator.Diagnostics;

/// <summary>Every rule the generator reports. Ids are stable: tests trigger each one.</summary>
internal static class Descriptors
{
    private const string Category = "ModelGen";

    private static DiagnosticDescriptor Error(string id, string title, string message) =>
        new(id, title, message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    private static DiagnosticDescriptor Warning(string id, string title, string message) =>
        new(id, title, message, Category, DiagnosticSeverity.Warning, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor NotPartial = Error("MG0001",
        "Network class must be partial",
        "Network class '{0}' must be declared 'partial' so that ModelGen can add the generated code");

    public static readonly DiagnosticDescriptor UnsupportedClass = Error("MG0002",
        "Unsupported network class",
        "Network class '{0}' {1}");

    public static readonly DiagnosticDescriptor InvalidInputShape = Error("MG0003",
        "Invalid input shape",
        "Network '{0}' needs an input shape of one or more positive sizes, e.g. [Network(784)]; got [{1}]");

    public static readonly DiagnosticDescriptor InvalidMember = Error("MG0004",
        "Invalid layer or loss member",
        "Member '{0}' must be a non-static 'partial' property of type {1} with only a getter, e.g. 'public partial {1} {0} {{ get; }}'");

    public static readonly DiagnosticDescriptor MissingLayerAttribute = Error("MG0005",
        "Layer member without a layer attribute",
        "Member '{0}' is a {1} but has no {2} attribute, e.g. {3}");

    public static readonly DiagnosticDescriptor ConflictingAttributes = Error("MG0006",
        "Conflicting attributes",
        "Member '{0}' has conflicting attributes: {1}");

    public static readonly DiagnosticDescriptor NonPositiveSize = Error("MG0007",
        "Size must be positive",
        "Layer '{0}': {1} must be positive, got {2}");

    public static readonly DiagnosticDescriptor InvalidArgument = Error("MG0008",
        "Invalid argument",
        "'{0}': {1}");

    public static readonly DiagnosticDescriptor NoLayers = Error("MG0009",
        "Network without layers",
        "Network '{0}' declares no layers; add members such as '[Dense(10)] public partial Layer Logits {{ get; }}'");

    public static readonly DiagnosticDescriptor MissingLoss = Error("MG0010",
        "Trainable network without a loss",
        "Network '{0}' declares no loss, so it cannot be trained; add e.g. '[SoftmaxCrossEntropy] public partial Loss Loss {{ get; }}', or set InferenceOnly = true on [Network]");

    public static readonly DiagnosticDescriptor MultipleLosses = Error("MG0011",
        "More than one loss",
        "Network '{0}' declares more than one loss ('{1}' and '{2}'); a network has one training loss");

    public static readonly DiagnosticDescriptor LossDoesNotFit = Error("MG0012",
        "Loss does not fit the output",
        "Loss '{0}' ({1}) does not fit the output of layer '{2}' [{3}]: {4}");

    public static readonly DiagnosticDescriptor ReservedName = Error("MG0013",
        "Member name collides with a generated member",
        "Member name '{0}' collides with a member that ModelGen generates for the network; rename it");

    public static readonly DiagnosticDescriptor ShapeMismatch = Error("MG0014",
        "Shape mismatch",
        "Layer '{0}' ({1}) needs {2} input, but its input '{3}' has shape [{4}]");

    public static readonly DiagnosticDescriptor LossIgnored = Warning("MG0015",
        "Loss on an inference-only network",
        "Network '{0}' is InferenceOnly, so its loss '{1}' is ignored");

    public static readonly DiagnosticDescriptor AotWithoutInstructionSet = Warning("MG0016",
        "NativeAOT without an instruction set",
        "PublishAot is on but IlcInstructionSet is not set: NativeAOT then targets x86-64-v2 and ModelGen's Vector256/Vector512 kernels run in software (several times slower). Add <IlcInstructionSet>x86-64-v3</IlcInstructionSet> (AVX2), x86-64-v4 (AVX-512) or native to the project file.");

    public static readonly DiagnosticDescriptor OutputTooSmall = Error("MG0017",
        "Output size below 1",
        "Layer '{0}': output {1} (H + 2P − F)/S + 1 = ({2} + 2·{3} − {4})/{5} + 1 = {6} is below 1; use a smaller kernel or stride, or more padding");

    public static readonly DiagnosticDescriptor RowsDropped = new("MG0018",
        "Rows dropped by the stride",
        "Layer '{0}': (H + 2P − F) = ({1} + 2·{2} − {3}) = {4} is not divisible by the stride {5} along the {6}: the last {7} row(s)/column(s) of the padded input are never covered",
        "ModelGen", DiagnosticSeverity.Info, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor UnknownLayer = Error("MG0019",
        "Unknown or later layer name",
        "Layer '{0}' refers to '{1}', {2}");

    public static readonly DiagnosticDescriptor MaskNotRead = Error("MG0020",
        "Layer cannot read a masked sequence",
        "Layer '{0}' reads '{1}', whose padded steps are masked (an [Embedding] with MaskZero), but a {2} layer would treat the padding as data: put a recurrent layer ([Lstm], [Gru], [Rnn]) or [Dropout] first, or remove MaskZero");

    public static readonly DiagnosticDescriptor InternalError = Error("MG0099",
        "ModelGen internal error",
        "ModelGen failed on network '{0}' at layer '{1}': {2}. Please report this with the declaration.");

    /// <summary>All descriptors by id, so that <see cref="Model.DiagnosticInfo"/> can stay plain data.</summary>
    public static readonly IReadOnlyDictionary<string, DiagnosticDescriptor> ById = BuildIndex();

    private static Dictionary<string, DiagnosticDescriptor> BuildIndex()
    {
        var all = new[]
        {
            NotPartial, UnsupportedClass, InvalidInputShape, InvalidMember, MissingLayerAttribute,
            ConflictingAttributes, NonPositiveSize, InvalidArgument, NoLayers, MissingLoss, MultipleLosses,
            LossDoesNotFit, ReservedName, ShapeMismatch, LossIgnored, AotWithoutInstructionSet, OutputTooSmall, RowsDropped, UnknownLayer, MaskNotRead, InternalError,
        };
        var map = new Dictionary<string, DiagnosticDescriptor>();
        foreach (var d in all) map.Add(d.Id, d);
        return map;
    }
}
