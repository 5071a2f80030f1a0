using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using ModelGen.Generator.Diagnostics;
using ModelGen.Generator.Analysis;
using ModelGen.Generator.Layers;
using ModelGen.Generator.Model;

namespace ModelGen.Generator.Parsing;

/// <summary>Attribute data of one <c>[Network]</c> class → <see cref="NetworkSpec"/> plus diagnostics.
/// Layers come from the members of the attributed declaration in source order: C# gives attribute
/// order no meaning, member order it does.</summary>
internal static class NetworkParser
{
    private const string Ns = "ModelGen.";

    public static ParseResult Parse(GeneratorAttributeSyntaxContext context, CancellationToken ct)
    {
        var type = (INamedTypeSymbol)context.TargetSymbol;
        var syntax = (ClassDeclarationSyntax)context.TargetNode;
        var diags = new List<DiagnosticInfo>();
        var classLoc = LocationInfo.From(syntax.Identifier.GetLocation());

        if (!syntax.Modifiers.Any(SyntaxKind.PartialKeyword))
        {
            diags.Add(DiagnosticInfo.Create(Descriptors.NotPartial, classLoc, type.Name));
            return new ParseResult(null, EquatableArray.From(diags));
        }
        if (type.ContainingType is not null)
            diags.Add(DiagnosticInfo.Create(Descriptors.UnsupportedClass, classLoc, type.Name, "is nested in another type; declare it at namespace level"));
        if (type.IsGenericType)
            diags.Add(DiagnosticInfo.Create(Descriptors.UnsupportedClass, classLoc, type.Name, "is generic; a network's shapes are fixed, so declare it without type parameters"));
        if (type.IsStatic || type.IsAbstract)
            diags.Add(DiagnosticInfo.Create(Descriptors.UnsupportedClass, classLoc, type.Name, "is static or abstract; the generator adds constructors, so it must be a plain class"));
        if (diags.Count > 0) return new ParseResult(null, EquatableArray.From(diags));

        var attr = context.Attributes[0];
        var input = ReadInputShape(attr);
        bool inferenceOnly = attr.NamedArguments.Any(a => a.Key == "InferenceOnly" && a.Value.Value is true);
        float l2 = 0f;
        var classL2 = type.GetAttributes().FirstOrDefault(IsL2);
        if (classL2 is not null)
        {
            l2 = ReadDouble(classL2, 0);
            if (!(l2 >= 0f) || float.IsInfinity(l2))
            {
                diags.Add(DiagnosticInfo.Create(Descriptors.InvalidArgument, classLoc, type.Name, $"L2 lambda must be a finite number ≥ 0, got {Fmt(l2)}"));
                l2 = 0f;
            }
        }

        var layers = new List<LayerSpec>();
        var members = new List<MemberStub>();
        LossSpec? loss = null;
        foreach (var member in syntax.Members)
        {
            ct.ThrowIfCancellationRequested();
            if (member is not PropertyDeclarationSyntax propSyntax) continue;
            if (context.SemanticModel.GetDeclaredSymbol(propSyntax, ct) is not IPropertySymbol prop) continue;
            var parsed = ParseMember(prop, propSyntax, diags, members);
            if (parsed.Layer is not null) layers.Add(parsed.Layer);
            if (parsed.Block is not null) layers.AddRange(TransformerBlock.Expand(parsed.Block, layers.Count == 0 ? "input" : layers[layers.Count - 1].Name));
            if (parsed.Loss is not null)
            {
                if (loss is null) loss = parsed.Loss;
                else diags.Add(DiagnosticInfo.Create(Descriptors.MultipleLosses, parsed.Loss.Location, type.Name, loss.Name, parsed.Loss.Name));
            }
        }

        // A block's layers take names of their own (PLn1 …): one that another member has is an error, not a silent merge.
        var declared = new HashSet<string>(members.Select(m => m.Name), StringComparer.Ordinal);
        foreach (var layer in layers)
            if (layer.Block is { } block && layer.Name != block && declared.Contains(layer.Name))
            {
                diags.Add(DiagnosticInfo.Create(Descriptors.InvalidArgument, layer.Location, layer.Name,
                    "a [TransformerBlock] names one of its layers so, and another member of the class has that name; rename one of them"));
                return new ParseResult(null, EquatableArray.From(diags));
            }

        // The class's other members that cannot overload (fields, properties, events, nested types), in every partial
        // declaration: one named like a generated member is MG0013, not a C# error inside the generated code.
        var own = new List<OwnMember>();
        foreach (var m in type.GetMembers())
        {
            if (m.IsImplicitlyDeclared || m is IMethodSymbol) continue;
            if (m is IPropertySymbol { Type: var t } && t.ToDisplayString() is "ModelGen.Layer" or "ModelGen.Loss") continue;
            if (m is not (IFieldSymbol or IPropertySymbol or IEventSymbol or INamedTypeSymbol)) continue;
            own.Add(new OwnMember(m.Name, LocationInfo.From(m.Locations.FirstOrDefault(l => l.IsInSource))));
        }

        string ns = type.ContainingNamespace is { IsGlobalNamespace: false } n ? n.ToDisplayString() : "";
        var spec = new NetworkSpec(ns, type.Name, EquatableArray.From(input), inferenceOnly, l2,
            EquatableArray.From(layers), loss, EquatableArray.From(members), classLoc, EquatableArray.From(own));
        return new ParseResult(spec, EquatableArray.From(diags));
    }

    private static int[] ReadInputShape(AttributeData attr)
    {
        if (attr.ConstructorArguments.Length == 0) return Array.Empty<int>();
        var arg = attr.ConstructorArguments[0];
        if (arg.Kind == TypedConstantKind.Array)
            return arg.Values.IsDefault ? Array.Empty<int>() : arg.Values.Select(v => v.Value is int i ? i : 0).ToArray();
        return arg.Value is int single ? new[] { single } : Array.Empty<int>();
    }

    private readonly record struct Member(LayerSpec? Layer, LossSpec? Loss, BlockSpec? Block = null);

    private static Member ParseMember(IPropertySymbol prop, PropertyDeclarationSyntax syntax, List<DiagnosticInfo> diags, List<MemberStub> members)
    {
        var loc = LocationInfo.From(syntax.Identifier.GetLocation());
        string typeName = prop.Type.ToDisplayString();
        bool isLayerType = typeName == "ModelGen.Layer";
        bool isLossType = typeName == "ModelGen.Loss";

        var layerAttrs = new List<AttributeData>();
        var activationAttrs = new List<AttributeData>();
        var lossAttrs = new List<AttributeData>();
        AttributeData? l2Attr = null;
        foreach (var a in prop.GetAttributes())
        {
            if (IsL2(a)) { l2Attr = a; continue; }
            switch (BaseKind(a.AttributeClass))
            {
                case "LayerAttribute": layerAttrs.Add(a); break;
                case "ActivationAttribute": activationAttrs.Add(a); break;
                case "LossAttribute": lossAttrs.Add(a); break;
            }
        }
        bool hasAny = layerAttrs.Count + activationAttrs.Count + lossAttrs.Count > 0 || l2Attr is not null;
        if (!hasAny && !isLayerType && !isLossType) return default; // an ordinary member of the class

        string name = prop.Name;
        bool wellFormed = prop.IsPartialDefinition && !prop.IsStatic && prop.SetMethod is null && prop.GetMethod is not null;
        // Whatever its attributes say, a well-formed partial member gets a body (a stub when the network has errors).
        if (wellFormed && (isLayerType || isLossType)) members.Add(new MemberStub(name, Accessibility(prop), isLossType));

        if (lossAttrs.Count > 0)
        {
            if (layerAttrs.Count + activationAttrs.Count > 0 || l2Attr is not null)
            {
                diags.Add(DiagnosticInfo.Create(Descriptors.ConflictingAttributes, loc, name,
                    "a loss cannot also be a layer, an activation or a regulariser (" + Names(layerAttrs.Concat(activationAttrs).Concat(lossAttrs)) + (l2Attr is null ? "" : ", [L2]") + ")"));
                return default;
            }
            if (lossAttrs.Count > 1)
            {
                diags.Add(DiagnosticInfo.Create(Descriptors.ConflictingAttributes, loc, name, "more than one loss (" + Names(lossAttrs) + ")"));
                return default;
            }
            if (!wellFormed || !isLossType)
            {
                diags.Add(DiagnosticInfo.Create(Descriptors.InvalidMember, loc, name, "Loss"));
                return default;
            }
            var la = lossAttrs[0];
            var (kind, param) = la.AttributeClass!.Name switch
            {
                "SoftmaxCrossEntropyAttribute" => (LossKind.SoftmaxCrossEntropy, 0f),
                "MseAttribute" => (LossKind.Mse, 0f),
                "MaeAttribute" => (LossKind.Mae, 0f),
                "HuberAttribute" => (LossKind.Huber, la.ConstructorArguments.Length > 0 ? ReadDouble(la, 0) : 1f),
                "QuantileAttribute" => (LossKind.Quantile, ReadDouble(la, 0)),
                "BinaryCrossEntropyAttribute" => (LossKind.BinaryCrossEntropy, 0f),
                "HingeAttribute" => (LossKind.Hinge, 0f),
                "MultiClassHingeAttribute" => (LossKind.MultiClassHinge, 0f),
                _ => (LossKind.None, 0f),
            };
            if (kind == LossKind.Huber && !(param > 0f && !float.IsInfinity(param)))
            {
                diags.Add(DiagnosticInfo.Create(Descriptors.InvalidArgument, loc, name, $"Huber delta must be a finite number > 0, got {Fmt(param)}"));
                return default;
            }
            if (kind == LossKind.Quantile && !(param > 0f && param < 1f))
            {
                diags.Add(DiagnosticInfo.Create(Descriptors.InvalidArgument, loc, name, $"Quantile tau must be in (0, 1), got {Fmt(param)}"));
                return default;
            }
            return new Member(null, new LossSpec(name, Accessibility(prop), kind, param, loc));
        }

        if (isLossType)
        {
            diags.Add(DiagnosticInfo.Create(Descriptors.MissingLayerAttribute, loc, name, "Loss", "loss", "[SoftmaxCrossEntropy] or [Mse]"));
            return default;
        }
        if (!wellFormed || !isLayerType)
        {
            diags.Add(DiagnosticInfo.Create(Descriptors.InvalidMember, loc, name, "Layer"));
            return default;
        }
        if (layerAttrs.Count > 1)
        {
            diags.Add(DiagnosticInfo.Create(Descriptors.ConflictingAttributes, loc, name, "more than one layer kind (" + Names(layerAttrs) + ")"));
            return default;
        }
        if (activationAttrs.Count > 1)
        {
            diags.Add(DiagnosticInfo.Create(Descriptors.ConflictingAttributes, loc, name, "more than one activation (" + Names(activationAttrs) + ")"));
            return default;
        }
        if (layerAttrs.Count == 0 && activationAttrs.Count == 0)
        {
            diags.Add(DiagnosticInfo.Create(Descriptors.MissingLayerAttribute, loc, name, "Layer", "layer", "[Dense(128)] or [Relu]"));
            return default;
        }

        if (layerAttrs.Count == 1 && layerAttrs[0].AttributeClass!.Name == TransformerBlock.AttributeName)
        {
            if (activationAttrs.Count > 0)
            {
                diags.Add(DiagnosticInfo.Create(Descriptors.ConflictingAttributes, loc, name, "[TransformerBlock] takes no activation (its MLP has its GELU)"));
                return default;
            }
            float blockL2 = l2Attr is null ? float.NaN : ReadDouble(l2Attr, 0);
            if (l2Attr is not null && (!(blockL2 >= 0f) || float.IsInfinity(blockL2)))
            {
                diags.Add(DiagnosticInfo.Create(Descriptors.InvalidArgument, loc, name, $"L2 lambda must be a finite number ≥ 0, got {Fmt(blockL2)}"));
                return default;
            }
            string? blockInput = layerAttrs[0].NamedArguments.FirstOrDefault(a => a.Key == "Input").Value.Value as string;
            var block = TransformerBlock.Read(new AttributeArgs(layerAttrs[0]), name, Accessibility(prop), blockL2, blockInput, new LayerDiagnostics(diags, name, loc));
            return block is null ? default : new Member(null, null, block);
        }
        LayerKind? layerKind = layerAttrs.Count == 0 ? LayerRegistry.StandaloneActivation : LayerRegistry.ByAttribute(layerAttrs[0].AttributeClass!.Name);
        if (layerKind is null)
        {
            diags.Add(DiagnosticInfo.Create(Descriptors.InvalidArgument, loc, name,
                "layer kind [" + new AttributeArgs(layerAttrs[0]).Short + "] is not supported by this version of ModelGen"));
            return default;
        }
        var (act, alpha) = activationAttrs.Count == 1 ? ReadActivation(activationAttrs[0]) : (ActivationKind.None, 0f);
        if (layerAttrs.Count == 1 && act != ActivationKind.None && !layerKind.FusesActivation)
        {
            diags.Add(DiagnosticInfo.Create(Descriptors.ConflictingAttributes, loc, name,
                $"[{layerKind.Name}] takes no activation; declare the activation as a layer of its own before or after it"));
            return default;
        }
        float l2 = float.NaN; // NaN: the network's λ
        if (l2Attr is not null)
        {
            l2 = ReadDouble(l2Attr, 0);
            if (!(l2 >= 0f) || float.IsInfinity(l2))
            {
                diags.Add(DiagnosticInfo.Create(Descriptors.InvalidArgument, loc, name, $"L2 lambda must be a finite number ≥ 0, got {Fmt(l2)}"));
                return default;
            }
            if (!layerKind.HasWeights)
            {
                diags.Add(DiagnosticInfo.Create(Descriptors.InvalidArgument, loc, name, "[L2] applies to a layer with weights (such as [Dense]); this layer has none"));
                return default;
            }
        }
        var ld = new LayerDiagnostics(diags, name, loc);
        LayerOptions? options = layerAttrs.Count == 0 ? NoOptions.Instance : layerKind.Read(new AttributeArgs(layerAttrs[0]), ld);
        if (options is null) return default;
        string? inputName = layerAttrs.Count == 0 ? null : layerAttrs[0].NamedArguments.FirstOrDefault(a => a.Key == "Input").Value.Value as string;
        return new Member(new LayerSpec(name, Accessibility(prop), layerKind, options, act, alpha, l2, inputName, loc), null);
    }

    private static (ActivationKind, float) ReadActivation(AttributeData a) => a.AttributeClass!.Name switch
    {
        "ReluAttribute" => (ActivationKind.Relu, 0f),
        "LeakyReluAttribute" => (ActivationKind.LeakyRelu,
            a.ConstructorArguments.Length > 0 && a.ConstructorArguments[0].Value is float f ? f : 0.01f),
        "SigmoidAttribute" => (ActivationKind.Sigmoid, 0f),
        "TanhAttribute" => (ActivationKind.Tanh, 0f),
        "SoftmaxAttribute" => (ActivationKind.Softmax, 0f),
        _ => (ActivationKind.None, 0f),
    };

    /// <summary>"LayerAttribute" / "ActivationAttribute" / "LossAttribute" when the attribute derives from
    /// ModelGen's base of that name, else null.</summary>
    private static string? BaseKind(INamedTypeSymbol? cls)
    {
        for (var t = cls?.BaseType; t is not null; t = t.BaseType)
        {
            string full = t.ToDisplayString();
            if (full is Ns + "LayerAttribute" or Ns + "ActivationAttribute" or Ns + "LossAttribute") return t.Name;
        }
        return null;
    }

    private static bool IsL2(AttributeData a) => a.AttributeClass?.ToDisplayString() == Ns + "L2Attribute";

    private static float ReadDouble(AttributeData a, int index) =>
        a.ConstructorArguments.Length > index && a.ConstructorArguments[index].Value is { } v
            ? (float)System.Convert.ToDouble(v, System.Globalization.CultureInfo.InvariantCulture) : float.NaN;

    private static string Fmt(float f) => f.ToString("R", System.Globalization.CultureInfo.InvariantCulture);

    private static string Short(AttributeData a)
    {
        string n = a.AttributeClass?.Name ?? "?";
        return n.EndsWith("Attribute", StringComparison.Ordinal) ? n.Substring(0, n.Length - "Attribute".Length) : n;
    }

    private static string Names(IEnumerable<AttributeData> attrs) => string.Join(", ", attrs.Select(a => "[" + Short(a) + "]"));

    private static string Accessibility(IPropertySymbol p) => p.DeclaredAccessibility switch
    {
        Microsoft.CodeAnalysis.Accessibility.Public => "public",
        Microsoft.CodeAnalysis.Accessibility.Internal => "internal",
        Microsoft.CodeAnalysis.Accessibility.Protected => "protected",
        Microsoft.CodeAnalysis.Accessibility.ProtectedOrInternal => "protected internal",
        Microsoft.CodeAnalysis.Accessibility.ProtectedAndInternal => "private protected",
        _ => "private",
    };
}
