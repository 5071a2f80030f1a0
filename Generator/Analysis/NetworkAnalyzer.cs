using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using ModelGen.Generator.Diagnostics;
using ModelGen.Generator.Layers;
using ModelGen.Generator.Model;

namespace ModelGen.Generator.Analysis;

/// <summary>Shape inference and layout: <see cref="NetworkSpec"/> → <see cref="NetworkPlan"/> plus diagnostics.
/// Never throws: an unexpected failure becomes MG0099 naming the layer.</summary>
internal static class NetworkAnalyzer
{
    /// <summary>Parameter tensors start on 64-byte boundaries.</summary>
    public const int Align = 16;

    /// <summary>Called with each layer name before it is analysed. Tests set it to prove that an internal
    /// failure becomes diagnostic MG0099 naming the layer instead of crashing the compiler.</summary>
    internal static System.Action<string>? BeforeLayer;

    public static AnalysisResult Analyze(ParseResult parsed, CancellationToken ct)
    {
        var diags = new List<DiagnosticInfo>(parsed.Diagnostics);
        var spec = parsed.Spec;
        if (spec is null) return new AnalysisResult(null, EquatableArray.From(diags));
        string current = "(input)";
        try
        {
            var plan = Build(spec, diags, ref current, ct);
            bool failed = diags.Any(d => Descriptors.ById[d.Id].DefaultSeverity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error);
            return new AnalysisResult(failed ? null : plan, EquatableArray.From(diags));
        }
        catch (OperationCanceledException) { throw; }
        catch (Exception e)
        {
            diags.Add(DiagnosticInfo.Create(Descriptors.InternalError, spec.Location, spec.ClassName, current, e.GetType().Name + ": " + e.Message));
            return new AnalysisResult(null, EquatableArray.From(diags));
        }
    }

    private static NetworkPlan? Build(NetworkSpec spec, List<DiagnosticInfo> diags, ref string current, CancellationToken ct)
    {
        var input = spec.InputShape;
        if (input.Count == 0 || input.Any(d => d <= 0))
        {
            diags.Add(DiagnosticInfo.Create(Descriptors.InvalidInputShape, spec.Location, spec.ClassName, string.Join(", ", input)));
            return null;
        }
        if (spec.Layers.Count == 0)
        {
            diags.Add(DiagnosticInfo.Create(Descriptors.NoLayers, spec.Location, spec.ClassName));
            return null;
        }
        if (!spec.InferenceOnly && spec.Loss is null)
            diags.Add(DiagnosticInfo.Create(Descriptors.MissingLoss, spec.Location, spec.ClassName));
        if (spec.InferenceOnly && spec.Loss is not null)
            diags.Add(DiagnosticInfo.Create(Descriptors.LossIgnored, spec.Loss.Location, spec.ClassName, spec.Loss.Name));

        var names = new Dictionary<string, int>();
        for (int i = 0; i < spec.Layers.Count; i++) names[spec.Layers[i].Name] = i;
        int offset = 0;
        long flops = 0;
        var layers = new List<LayerPlan>();
        var rfs = new List<(int Rf, int Jump)>();
        bool ok = true;
        foreach (var layer in spec.Layers)
        {
            ct.ThrowIfCancellationRequested();
            current = layer.Name;
            BeforeLayer?.Invoke(layer.Name);
            int self = layers.Count;
            int inputIndex = layer.InputName is null ? self - 1 : Resolve(layer, layer.InputName, names, self, diags);
            int addIndex = layer.Kind == LayerKind.Add ? Resolve(layer, layer.AddName ?? "", names, self, diags) : -1;
            if (inputIndex < -1 || (layer.Kind == LayerKind.Add && addIndex < 0)) { ok = false; break; }
            var shape = inputIndex < 0 ? input.ToArray() : layers[inputIndex].OutShape.ToArray();
            string producer = inputIndex < 0 ? "(input)" : layers[inputIndex].Name;
            LayerPlan? plan;
            if (layer.Kind == LayerKind.Add)
            {
                var other = layers[addIndex].OutShape.ToArray();
                if (!other.SequenceEqual(shape))
                {
                    diags.Add(DiagnosticInfo.Create(Descriptors.ShapeMismatch, layer.Location, layer.Name, $"Add({layers[addIndex].Name})",
                        $"its two inputs to have one shape; '{layers[addIndex].Name}' is [{string.Join(",", other)}]", producer, string.Join(",", shape)));
                    ok = false; break;
                }
                int f = shape.Aggregate(1, (a, b) => a * b);
                var sh = EquatableArray.From(shape);
                plan = new LayerPlan(self, layer.Name, layer.Accessibility, LayerKind.Add, ActivationKind.None, 0f, f, f, 0, 0, 0, 0, f, 0, InShape: sh, OutShape: sh);
            }
            else plan = LayerTable.Infer(layer, self, shape, producer, ref offset, diags, spec.L2);
            if (plan is null) { ok = false; break; }
            var (rf, jump) = inputIndex < 0 ? (1, 1) : rfs[inputIndex];
            if (plan.Kind is LayerKind.Conv2D or LayerKind.MaxPool2D or LayerKind.AvgPool2D)
            {
                rf = rf < 0 ? rf : rf + (plan.KH - 1) * jump;
                jump *= plan.Stride;
            }
            else if (plan.Kind is LayerKind.Dense or LayerKind.GlobalAvgPool or LayerKind.Flatten)
                rf = -1;   // sees the whole input
            else if (plan.Kind == LayerKind.Add)
            {
                int skip = rfs[addIndex].Rf;   // the wider of the two paths
                rf = rf < 0 || skip < 0 ? -1 : System.Math.Max(rf, skip);
            }
            rfs.Add((rf, jump));
            plan = plan with { ReceptiveField = rf, InputIndex = inputIndex, AddIndex = addIndex };
            layers.Add(plan);
            flops += plan.Flops;
        }
        if (!ok) return null;
        current = spec.Loss?.Name ?? "(loss)";
        if (spec.Loss is not null && !spec.InferenceOnly) CheckLoss(spec.Loss, layers[layers.Count - 1], diags);

        int paramCount = layers.Sum(l => l.ParameterCount);
        int inputSize = input.Aggregate(1, (a, b) => a * b);
        return new NetworkPlan(spec.Namespace, spec.ClassName, input, inputSize, layers[layers.Count - 1].Out,
            EquatableArray.From(layers), paramCount, RoundUp(offset), flops, spec.Loss, !spec.InferenceOnly);
    }

    private static void CheckLoss(LossSpec loss, LayerPlan last, List<DiagnosticInfo> diags)
    {
        string? problem = loss.Kind switch
        {
            _ when last.ImageOut => $"a loss needs one value per output; the output is an image {LayerPlan.ShapeText(last.OutShape)}: add [Flatten] or [GlobalAvgPool] and a [Dense] layer",
            LossKind.SoftmaxCrossEntropy when last.Activation == ActivationKind.Softmax =>
                "SoftmaxCrossEntropy applies softmax to the logits itself; remove [Softmax] from the last layer",
            LossKind.SoftmaxCrossEntropy or LossKind.MultiClassHinge when last.Out < 2 =>
                $"{loss.Kind} needs at least 2 classes; for one output use [BinaryCrossEntropy], [Hinge] or a regression loss",
            LossKind.BinaryCrossEntropy when last.Out != 1 =>
                "BinaryCrossEntropy takes one logit per sample; for several classes use [SoftmaxCrossEntropy]",
            LossKind.BinaryCrossEntropy when last.Activation == ActivationKind.Sigmoid =>
                "BinaryCrossEntropy applies the sigmoid to the logit itself (the stable form); remove [Sigmoid] from the last layer",
            LossKind.Hinge when last.Out != 1 =>
                "Hinge takes one score per sample with labels ±1; for several classes use [MultiClassHinge]",
            LossKind.MultiClassHinge or LossKind.Hinge when last.Activation is ActivationKind.Softmax or ActivationKind.Sigmoid =>
                $"{loss.Kind} works on raw scores; remove [{last.Activation}] from the last layer",
            LossKind.None => "this loss kind is not supported by this version of ModelGen",
            _ => null,
        };
        if (problem is not null)
            diags.Add(DiagnosticInfo.Create(Descriptors.LossDoesNotFit, loss.Location, loss.Name, loss.Kind, last.Name, string.Join(",", last.OutShape), problem));
    }

    public static int RoundUp(int n) => (n + Align - 1) / Align * Align;

    /// <summary>Index of the layer named <paramref name="target"/>, which must come before <paramref name="self"/>; else MG0019 and −2.</summary>
    private static int Resolve(LayerSpec layer, string target, Dictionary<string, int> names, int self, List<DiagnosticInfo> diags)
    {
        string? problem = !names.TryGetValue(target, out int i) ? "which is not a layer of this network"
            : i == self ? "itself; a layer reads earlier layers only"
            : i > self ? "which is declared later; a layer reads earlier layers only (declaration order is the graph's order)"
            : null;
        if (problem is null) return i;
        diags.Add(DiagnosticInfo.Create(Descriptors.UnknownLayer, layer.Location, layer.Name, target, problem));
        return -2;
    }
}
