using System;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace ModelGen.Generator.Model;

// The parsed declaration: plain data only (strings, numbers, enums, equatable arrays) so that the
// incremental pipeline can cache it. Never an ISymbol, SyntaxNode or Location in here.

internal enum LayerKind { Dense, Activation, Dropout, Conv2D, MaxPool2D, AvgPool2D, GlobalAvgPool, Flatten, Add, BatchNorm2D }

internal enum ActivationKind { None, Relu, LeakyRelu, Sigmoid, Tanh, Softmax }

internal enum LossKind { None, SoftmaxCrossEntropy, Mse, Mae, Huber, Quantile, BinaryCrossEntropy, Hinge, MultiClassHinge }

/// <summary>A source location as data; turned back into a <see cref="Location"/> only when reported.</summary>
internal sealed record LocationInfo(string FilePath, TextSpan Span, LinePositionSpan LineSpan)
{
    public Location ToLocation() => Location.Create(FilePath, Span, LineSpan);

    public static LocationInfo? From(Location? location) =>
        location is null || location.SourceTree is null
            ? null
            : new LocationInfo(location.SourceTree.FilePath, location.SourceSpan, location.GetLineSpan().Span);
}

/// <summary>One diagnostic as data: the descriptor's id, where, and the message arguments.</summary>
internal sealed record DiagnosticInfo(string Id, LocationInfo? Location, EquatableArray<string> Args)
{
    public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, LocationInfo? location, params object[] args) =>
        new(descriptor.Id, location, EquatableArray.From(Array.ConvertAll(args, a => Convert.ToString(a, System.Globalization.CultureInfo.InvariantCulture) ?? "")));
}

/// <summary>One layer member, as declared.</summary>
internal sealed record LayerSpec(
    string Name,
    string Accessibility,
    LayerKind Kind,
    int Units,
    ActivationKind Activation,
    float Alpha,
    float Rate,
    float L2,
    LocationInfo? Location,
    int KH = 0,
    int KW = 0,
    int Stride = 1,
    int PadH = 0,
    int PadW = 0,
    bool Same = false,
    string? InputName = null,
    string? AddName = null,
    float Epsilon = 0f,
    bool NoBias = false);

/// <summary>The loss member, as declared; <c>Param</c> is Huber's δ or the quantile's τ.</summary>
internal sealed record LossSpec(string Name, string Accessibility, LossKind Kind, float Param, LocationInfo? Location)
{
    /// <summary>Losses whose targets are integer class labels; the others take float targets.</summary>
    public bool TakesLabels => Kind is LossKind.SoftmaxCrossEntropy or LossKind.MultiClassHinge;
}

/// <summary>One <c>[Network]</c> class, as declared.</summary>
internal sealed record NetworkSpec(
    string Namespace,
    string ClassName,
    EquatableArray<int> InputShape,
    bool InferenceOnly,
    float L2,
    EquatableArray<LayerSpec> Layers,
    LossSpec? Loss,
    LocationInfo? Location);

/// <summary>What the parser hands on: a spec when the declaration could be read, and its diagnostics.</summary>
internal sealed record ParseResult(NetworkSpec? Spec, EquatableArray<DiagnosticInfo> Diagnostics);
