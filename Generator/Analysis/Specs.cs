using ModelGen.Generator.Model;

namespace ModelGen.Generator.Analysis;

/// <summary>One layer member, as declared: its kind, the kind's options, the fused activation and where it reads.</summary>
internal sealed record LayerSpec(
    string Name,
    string Accessibility,
    LayerKind Kind,
    LayerOptions Options,
    ActivationKind Activation,
    float Alpha,
    float L2,            // NaN: the network's λ
    string? InputName,   // null: the layer declared before
    LocationInfo? Location,
    string? Block = null);   // the [TransformerBlock] member that added it; such a layer has a member only when it is the block's output

/// <summary>One <c>[Network]</c> class, as declared.</summary>
internal sealed record NetworkSpec(
    string Namespace,
    string ClassName,
    EquatableArray<int> InputShape,
    bool InferenceOnly,
    float L2,
    EquatableArray<LayerSpec> Layers,
    LossSpec? Loss,
    EquatableArray<MemberStub> Members,
    LocationInfo? Location,
    EquatableArray<OwnMember> OwnMembers);

/// <summary>What the parser hands on: a spec when the declaration could be read, and its diagnostics.</summary>
internal sealed record ParseResult(NetworkSpec? Spec, EquatableArray<DiagnosticInfo> Diagnostics);
