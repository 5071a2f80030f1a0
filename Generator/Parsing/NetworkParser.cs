using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using ModelGen.Generator.Diagnostics;
using ModelGen.Generator.Model;

namespace ModelGen.Generator.Parsing;

/// <summary>Attribute data of one <c>[Network]</c> class → <see cref="NetworkSpec"/> plus diagnostics.
/// Layers come from the members of the attributed declaration in source order: C# gives attribute
/// order no meaning, member order it does.</summary>
internal static class NetworkParser
{
    private const string Ns = "ModelGen.";

    /// <summary>Names the generated code uses on the network class; a layer may not take one.</summary>
    internal static readonly HashSet<string> ReservedNames = new(StringComparer.Ordinal)
    {
        "InputSize", "OutputSize", "ParameterCount", "MaxBatch", "Width", "Summary", "Tensors", "Parameters",
        "Gradients", "Layers", "Forward", "Predict", "GetOutput", "Backward", "ComputeLoss", "ZeroGrad", "Step",
        "Dispose", "LossKind", "Batch", "FindNonFinite", "SeedDropout", "MG", "Unsafe", "Arena", "Layer", "Span", "ReadOnlySpan",
        "Vector512", "Vector256", "MethodImpl", "MethodImplOptions", "TensorInfo", "Optimizer", "OptimizerState", "Rng", "Epilogue",
    };

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
        LossSpec? loss = null;
        foreach (var member in syntax.Members)
        {
            ct.ThrowIfCancellationRequested();
            if (member is not PropertyDeclarationSyntax propSyntax) continue;
            if (context.SemanticModel.GetDeclaredSymbol(propSyntax, ct) is not IPropertySymbol prop) continue;
            var parsed = ParseMember(prop, propSyntax, diags);
            if (parsed.Layer is not null) layers.Add(parsed.Layer);
            if (parsed.Loss is not null)
            {
                if (loss is null) loss = parsed.Loss;
                else diags.Add(DiagnosticInfo.Create(Descriptors.MultipleLosses, parsed.Loss.Location, type.Name, loss.Name, parsed.Loss.Name));
            }
        }

        string ns = type.ContainingNamespace is { IsGlobalNamespace: false } n ? n.ToDisplayString() : "";
        var spec = new NetworkSpec(ns, type.Name, EquatableArray.From(input), inferenceOnly, l2,
            EquatableArray.From(layers), loss, classLoc);
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

    private readonly record struct Member(LayerSpec? Layer, LossSpec? Loss);

    private static Member ParseMember(IPropertySymbol prop, PropertyDeclarationSyntax syntax, List<DiagnosticInfo> diags)
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
        if (ReservedNames.Contains(name))
        {
            diags.Add(DiagnosticInfo.Create(Descriptors.ReservedName, loc, name));
            return default;
        }

        bool wellFormed = prop.IsPartialDefinition && !prop.IsStatic && prop.SetMethod is null && prop.GetMethod is not null;
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

        var (act, alpha) = activationAttrs.Count == 1 ? ReadActivation(activationAttrs[0]) : (ActivationKind.None, 0f);
        float l2 = float.NaN; // NaN: the network's λ
        if (l2Attr is not null)
        {
            l2 = ReadDouble(l2Attr, 0);
            if (!(l2 >= 0f) || float.IsInfinity(l2))
            {
                diags.Add(DiagnosticInfo.Create(Descriptors.InvalidArgument, loc, name, $"L2 lambda must be a finite number ≥ 0, got {Fmt(l2)}"));
                return default;
            }
            bool hasWeights = layerAttrs.Count == 1 && layerAttrs[0].AttributeClass!.Name is "DenseAttribute" or "Conv2DAttribute";
            if (!hasWeights)
            {
                diags.Add(DiagnosticInfo.Create(Descriptors.InvalidArgument, loc, name, "[L2] applies to a layer with weights (such as [Dense]); this layer has none"));
                return default;
            }
        }
        if (layerAttrs.Count == 0)
            return new Member(new LayerSpec(name, Accessibility(prop), LayerKind.Activation, 0, act, alpha, 0f, l2, loc), null);

        var layerAttr = layerAttrs[0];
        string? inputName = layerAttr.NamedArguments.FirstOrDefault(a => a.Key == "Input").Value.Value as string;
        var member = ParseLayer(prop, name, loc, layerAttr, act, alpha, l2, diags);
        return member.Layer is null ? member : new Member(member.Layer with { InputName = inputName }, null);
    }

    private static Member ParseLayer(IPropertySymbol prop, string name, LocationInfo? loc, AttributeData layerAttr, ActivationKind act, float alpha, float l2, List<DiagnosticInfo> diags)
    {
        switch (layerAttr.AttributeClass!.Name)
        {
            case "BatchNorm2DAttribute":
            {
                float momentum = layerAttr.ConstructorArguments.Length > 0 ? ReadDouble(layerAttr, 0) : 0.1f;
                float eps = layerAttr.ConstructorArguments.Length > 1 ? ReadDouble(layerAttr, 1) : 1e-5f;
                if (!(momentum > 0f && momentum <= 1f) || !(eps > 0f))
                {
                    diags.Add(DiagnosticInfo.Create(Descriptors.InvalidArgument, loc, name, $"BatchNorm2D needs 0 < momentum ≤ 1 and epsilon > 0, got {Fmt(momentum)} and {Fmt(eps)}"));
                    return default;
                }
                // Rate carries the momentum; Alpha stays the fused activation's slope.
                return new Member(new LayerSpec(name, Accessibility(prop), LayerKind.BatchNorm2D, 0, act, alpha, momentum, float.NaN, loc, Epsilon: eps), null);
            }
            case "AddAttribute":
            {
                if (act != ActivationKind.None)
                {
                    diags.Add(DiagnosticInfo.Create(Descriptors.ConflictingAttributes, loc, name, "[Add] takes no activation; declare it as a layer of its own after the add"));
                    return default;
                }
                string from = layerAttr.ConstructorArguments.Length > 0 && layerAttr.ConstructorArguments[0].Value is string f ? f : "";
                return new Member(new LayerSpec(name, Accessibility(prop), LayerKind.Add, 0, act, 0f, 0f, l2, loc, AddName: from), null);
            }
            case "DenseAttribute":
                int units = layerAttr.ConstructorArguments.Length > 0 && layerAttr.ConstructorArguments[0].Value is int u ? u : 0;
                return new Member(new LayerSpec(name, Accessibility(prop), LayerKind.Dense, units, act, alpha, 0f, l2, loc), null);
            case "Conv2DAttribute":
            {
                int Ctor(int i, int dflt) => layerAttr.ConstructorArguments.Length > i && layerAttr.ConstructorArguments[i].Value is int v ? v : dflt;
                int Named(string n) => layerAttr.NamedArguments.FirstOrDefault(a => a.Key == n).Value.Value is int v ? v : 0;
                bool same = layerAttr.NamedArguments.Any(a => a.Key == "Same" && a.Value.Value is true);
                bool noBias = layerAttr.NamedArguments.Any(a => a.Key == "Bias" && a.Value.Value is false);
                int k = Ctor(1, 0), kh = Named("KernelHeight"), kw = Named("KernelWidth");
                kh = kh != 0 ? kh : k; kw = kw != 0 ? kw : k;
                int pad = Ctor(3, 0);
                return new Member(new LayerSpec(name, Accessibility(prop), LayerKind.Conv2D, Ctor(0, 0), act, alpha, 0f, l2, loc,
                    KH: kh, KW: kw, Stride: Ctor(2, 1), PadH: pad, PadW: pad, Same: same, NoBias: noBias), null);
            }
            case "MaxPool2DAttribute":
            case "AvgPool2DAttribute":
            case "GlobalAvgPoolAttribute":
            case "FlattenAttribute":
            {
                var kind = layerAttr.AttributeClass!.Name switch
                {
                    "MaxPool2DAttribute" => LayerKind.MaxPool2D,
                    "AvgPool2DAttribute" => LayerKind.AvgPool2D,
                    "GlobalAvgPoolAttribute" => LayerKind.GlobalAvgPool,
                    _ => LayerKind.Flatten,
                };
                if (act != ActivationKind.None)
                {
                    diags.Add(DiagnosticInfo.Create(Descriptors.ConflictingAttributes, loc, name, $"[{Short(layerAttr)}] takes no activation; put it on the layer before or after"));
                    return default;
                }
                int size = layerAttr.ConstructorArguments.Length > 0 && layerAttr.ConstructorArguments[0].Value is int sz ? sz : 2;
                int stride = layerAttr.ConstructorArguments.Length > 1 && layerAttr.ConstructorArguments[1].Value is int st ? st : 0;
                if (kind is LayerKind.MaxPool2D or LayerKind.AvgPool2D && stride == 0) stride = size;
                return new Member(new LayerSpec(name, Accessibility(prop), kind, 0, act, 0f, 0f, l2, loc, KH: size, KW: size, Stride: stride), null);
            }
            case "DropoutAttribute":
                if (act != ActivationKind.None)
                {
                    diags.Add(DiagnosticInfo.Create(Descriptors.ConflictingAttributes, loc, name, "[Dropout] takes no activation; declare the activation on the layer before it"));
                    return default;
                }
                float rate = ReadDouble(layerAttr, 0);
                if (!(rate >= 0f && rate < 1f))
                {
                    diags.Add(DiagnosticInfo.Create(Descriptors.InvalidArgument, loc, name, $"Dropout rate must be in [0, 1), got {Fmt(rate)}"));
                    return default;
                }
                return new Member(new LayerSpec(name, Accessibility(prop), LayerKind.Dropout, 0, act, 0f, rate, l2, loc), null);
            default:
                diags.Add(DiagnosticInfo.Create(Descriptors.InvalidArgument, loc, name,
                    "layer kind [" + Short(layerAttr) + "] is not supported by this version of ModelGen"));
                return default;
        }
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
