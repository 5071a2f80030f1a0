using System;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace ModelGen.Generator.Model;

// Plain data shared by every stage: strings, numbers, enums, equatable arrays. Never an ISymbol or SyntaxNode.

internal enum ActivationKind { None, Relu, LeakyRelu, Sigmoid, Tanh, Softmax }

internal enum LossKind { None, SoftmaxCrossEntropy, Mse, Mae, Huber, Quantile, BinaryCrossEntropy, Hinge, MultiClassHinge }

/// <summary>A source location as data; turned back into a <see cref="Location"/> only when reported.
/// Specs carry it (diagnostics need it); plans never do, so that moving a declaration re-emits nothing.</summary>
internal sealed record LocationInfo(string FilePath, TextSpan Span, LinePositionSpan LineSpan)
{
    public Location ToLocation() => Location.Create(FilePath, Span, LineSpan);

    public static LocationInfo? From(Location? location) =>
        location is null || location.SourceTree is null
            ? null
            : new LocationInfo(location.SourceTree.FilePath, location.SourceSpan, location.GetLineSpan().Span);
}

/// <summary>One diagnostic as data: the descriptor's id, where, and the message arguments (formatted invariantly).</summary>
internal sealed record DiagnosticInfo(string Id, LocationInfo? Location, EquatableArray<string> Args)
{
    public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, LocationInfo? location, params object[] args) =>
        new(descriptor.Id, location, EquatableArray.From(Array.ConvertAll(args, a => Convert.ToString(a, System.Globalization.CultureInfo.InvariantCulture) ?? "")));
}

/// <summary>The loss member, as declared; <c>Param</c> is Huber's δ or the quantile's τ.</summary>
internal sealed record LossSpec(string Name, string Accessibility, LossKind Kind, float Param, LocationInfo? Location)
{
    /// <summary>Losses whose targets are integer class labels; the others take float targets.</summary>
    public bool TakesLabels => Kind is LossKind.SoftmaxCrossEntropy or LossKind.MultiClassHinge;
}

/// <summary>A <c>partial Layer</c> / <c>partial Loss</c> property the class declares, kept even when its attributes are
/// wrong: a declaration with errors still gets these bodies, so the user sees ModelGen's errors and not one CS9248 per member.</summary>
internal sealed record MemberStub(string Name, string Accessibility, bool IsLoss);

/// <summary>Another member the user's class declares (a field, property, event or nested type — not a method, which may
/// overload a generated one): its name must not be one the generated class declares (MG0013).</summary>
internal sealed record OwnMember(string Name, LocationInfo? Location);
