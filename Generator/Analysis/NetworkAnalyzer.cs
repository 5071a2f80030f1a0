using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using ModelGen.Generator.Diagnostics;
using ModelGen.Generator.Model;

namespace ModelGen.Generator.Analysis;

/// <summary>Shape inference and layout: <see cref="NetworkSpec"/> → <see cref="NetworkPlan"/> plus diagnostics.
/// Every kind-specific decision is the kind's (<see cref="LayerKind"/>); this class only walks the graph, places the
/// parameter tensors, and plans the buffers once. Never throws: an unexpected failure becomes MG0099 naming the layer.</summary>
internal static class NetworkAnalyzer
{
    /// <summary>Parameter tensors start on 64-byte boundaries.</summary>
    public const int Align = 16;

    /// <summary>Called with each layer name before it is analysed. Tests set it to prove that an internal
    /// failure becomes diagnostic MG0099 naming the layer instead of crashing the compiler. Per thread, so that a
    /// test injecting a failure cannot reach generator runs of tests running beside it (it once did).</summary>
    [ThreadStatic] internal static Action<string>? BeforeLayer;

    public static AnalysisResult Analyze(ParseResult parsed, CancellationToken ct)
    {
        var diags = new List<DiagnosticInfo>(parsed.Diagnostics);
        var spec = parsed.Spec;
        if (spec is null) return new AnalysisResult(null, null, EquatableArray.From(diags));
        string current = "(input)";
        NetworkPlan? plan = null;
        try
        {
            plan = Build(spec, diags, ref current, ct);
        }
        catch (OperationCanceledException) { throw; }
        catch (Exception e)
        {
            diags.Add(DiagnosticInfo.Create(Descriptors.InternalError, spec.Location, spec.ClassName, current, e.GetType().Name + ": " + e.Message));
            plan = null;
        }
        bool failed = plan is null || diags.Any(d => Descriptors.ById[d.Id].DefaultSeverity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error);
        return failed
            ? new AnalysisResult(null, new NetworkStub(spec.Namespace, spec.ClassName, spec.Members), EquatableArray.From(diags))
            : new AnalysisResult(plan, null, EquatableArray.From(diags));
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
            // A network whose members were all rejected has been told why already.
            if (!diags.Any(d => Descriptors.ById[d.Id].DefaultSeverity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error))
                diags.Add(DiagnosticInfo.Create(Descriptors.NoLayers, spec.Location, spec.ClassName));
            return null;
        }
        if (!spec.InferenceOnly && spec.Loss is null)
            diags.Add(DiagnosticInfo.Create(Descriptors.MissingLoss, spec.Location, spec.ClassName));
        if (spec.InferenceOnly && spec.Loss is not null)
            diags.Add(DiagnosticInfo.Create(Descriptors.LossIgnored, spec.Loss.Location, spec.ClassName, spec.Loss.Name));

        var names = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < spec.Layers.Count; i++) names[spec.Layers[i].Name] = i;
        int offset = 0;
        var layers = new List<LayerPlan>();
        var rfs = new List<ReceptiveField>();
        var masked = new List<bool>();   // per layer: its output carries a mask of padded steps
        var inputShape = new Shape(input);
        for (int self = 0; self < spec.Layers.Count; self++)
        {
            var layer = spec.Layers[self];
            ct.ThrowIfCancellationRequested();
            current = layer.Name;
            BeforeLayer?.Invoke(layer.Name);
            var ld = new LayerDiagnostics(diags, layer.Name, layer.Location);

            // Inputs: the main one (declared before, or Input = nameof(...)), then the kind's extra ones.
            var inputs = new List<int> { layer.InputName is null ? self - 1 : Resolve(layer, layer.InputName, names, self, diags) };
            foreach (var extra in layer.Options.ExtraInputs) inputs.Add(Resolve(layer, extra, names, self, diags));
            if (inputs.Any(i => i < -1)) return null;
            var shapes = inputs.Select(i => i < 0 ? inputShape : layers[i].OutShape).ToArray();

            ld.Producer = inputs[0] < 0 ? "(input)" : layers[inputs[0]].Name;
            // Masks of padded steps flow from an embedding with MaskZero through the layers that pass them on; a layer
            // that would read one without honouring it is an error (Keras: "layer does not support masking").
            for (int slot = 0; slot < inputs.Count; slot++)
                if (inputs[slot] >= 0 && masked[inputs[slot]] && (slot > 0 || !layer.Kind.ReadsMask))
                {
                    diags.Add(DiagnosticInfo.Create(Descriptors.MaskNotRead, layer.Location, layer.Name, layers[inputs[slot]].Name, layer.Kind.Name));
                    return null;
                }
            var shape = layer.Kind.Infer(layer, shapes, ld);
            if (shape is null) return null;
            float l2 = layer.Kind.HasWeights ? (float.IsNaN(layer.L2) ? spec.L2 : layer.L2) : 0f;
            if (l2 > 0f && shape.Tensors.Any(t => t.Sparse && t.Role == TensorRole.Weight))
            {
                // A penalty on every row would touch the whole table each step, which is what a sparse table avoids; the
                // class-wide [L2] passes it by, an [L2] on the layer itself is an error.
                if (!float.IsNaN(layer.L2))
                {
                    ld.Invalid("[L2] on a sparse table would touch every row each step: declare it with Sparse = false, or use AdamW's weight decay (applied to the rows a batch uses)");
                    return null;
                }
                l2 = 0f;
            }
            var tensors = new List<TensorPlan>();
            foreach (var t in shape.Tensors)
            {
                if (t.TiedTo is { } owner)
                {
                    int at = Resolve(layer, owner, names, self, diags);
                    if (at < -1) return null;
                    var shared = at < 0 ? null : layers[at].Tensors.FirstOrDefault(x => x.Local == t.Name);
                    if (shared is null) { ld.Invalid($"TiedTo '{owner}': that layer has no '{t.Name}' to share"); return null; }
                    if (!shared.Shape.Equals(t.Shape))
                    {
                        ld.Invalid($"TiedTo '{owner}': its {t.Name} is {shared.ShapeText}, this layer's would be [{string.Join(", ", t.Shape)}]; tie an Embedding(units, inputs) to a Dense(units) reading inputs features");
                        return null;
                    }
                    if (shared.Sparse) { ld.Invalid($"TiedTo '{owner}': a tied table is updated whole by this layer each step; declare '{owner}' with Sparse = false"); return null; }
                    tensors.Add(shared with { Role = TensorRole.Tied, L2 = 0f });
                    continue;
                }
                var init = t.Init == TensorInit.Weight ? WeightInit(spec, self) : t.Init;
                tensors.Add(new TensorPlan(layer.Name + "." + t.Name, t.Name, layer.Name + "_" + Pascal(t.Name), t.Shape, offset, t.Length, t.Role, init,
                    t.FanIn, t.FanOut, t.Role == TensorRole.Weight ? l2 : 0f, t.Sparse));
                if ((long)offset + t.Length > int.MaxValue / 4)
                {
                    ld.Invalid($"the parameters up to {layer.Name}.{t.Name} need more floats than one arena can address");
                    return null;
                }
                offset = RoundUp(offset + t.Length);
            }
            var plan = new LayerPlan(self, layer.Name, layer.Accessibility, layer.Kind, shape.Options, layer.Activation, layer.Alpha, l2,
                shapes[0], shape.Output, EquatableArray.From(inputs.ToArray()), EquatableArray.From(tensors.ToArray()), shape.Flops, 0, layer.Block);
            masked.Add(layer.Kind.MasksOutput(plan) || (inputs[0] >= 0 && masked[inputs[0]] && layer.Kind.PassesMask(plan)));
            var rf = layer.Kind.ReceptiveField(plan, inputs.Select(i => i < 0 ? ReceptiveField.Pixel : rfs[i]).ToArray());
            rfs.Add(rf);
            layers.Add(plan with { ReceptiveField = rf.Size });
        }
        current = spec.Loss?.Name ?? "(loss)";
        if (spec.Loss is not null && !spec.InferenceOnly) CheckLoss(spec.Loss, layers[layers.Count - 1], diags);

        var loss = spec.Loss is null ? null : new LossPlan(spec.Loss.Name, spec.Loss.Accessibility, spec.Loss.Kind, spec.Loss.Param);
        var network = new NetworkPlan(spec.Namespace, spec.ClassName, inputShape, EquatableArray.From(layers.ToArray()), RoundUp(offset), loss, !spec.InferenceOnly);
        current = "(buffers)";
        // A fixed name (e.g. Input, whose buffers would be _inputOut/_inputGrad) must be reported before planning.
        if (spec.Layers.Any(l => GeneratedNames.Fixed.Contains(l.Name)))
        {
            CheckNames(spec, network, diags);
            return null;
        }
        network = network with { Buffers = BufferPlanner.Plan(network) };
        CheckNames(spec, network, diags);
        return network;
    }

    /// <summary>He-normal before ReLU / leaky ReLU (fused, or a standalone one right after), Xavier-uniform otherwise.</summary>
    private static TensorInit WeightInit(NetworkSpec spec, int index)
    {
        var layer = spec.Layers[index];
        if (layer.Activation is ActivationKind.Relu or ActivationKind.LeakyRelu) return TensorInit.HeNormal;
        var next = index + 1 < spec.Layers.Count ? spec.Layers[index + 1] : null;
        bool nextRelu = layer.Activation == ActivationKind.None && next is not null && next.Kind.AttributeName is null
            && next.Activation is ActivationKind.Relu or ActivationKind.LeakyRelu;
        return nextRelu ? TensorInit.HeNormal : TensorInit.XavierUniform;
    }

    /// <summary>MG0013: a layer, loss or other (non-method) member of the class whose name equals a member the generated class declares.</summary>
    private static void CheckNames(NetworkSpec spec, NetworkPlan plan, List<DiagnosticInfo> diags)
    {
        var generated = GeneratedNames.Of(plan);
        foreach (var layer in spec.Layers)
            if (generated.Contains(layer.Name) || GeneratedNames.IsKernelName(layer.Name))
                diags.Add(DiagnosticInfo.Create(Descriptors.ReservedName, layer.Location, layer.Name));
        if (spec.Loss is not null && generated.Contains(spec.Loss.Name))
            diags.Add(DiagnosticInfo.Create(Descriptors.ReservedName, spec.Loss.Location, spec.Loss.Name));
        foreach (var member in spec.OwnMembers)
            if (generated.Contains(member.Name))
                diags.Add(DiagnosticInfo.Create(Descriptors.ReservedName, member.Location, member.Name));
    }

    private static void CheckLoss(LossSpec loss, LayerPlan last, List<DiagnosticInfo> diags)
    {
        string? problem = loss.Kind switch
        {
            _ when last.ImageOut => $"a loss needs one value per output; the output is an image {last.OutShape}: add [Flatten] or [GlobalAvgPool] and a [Dense] layer",
            LossKind.SoftmaxCrossEntropy when last.OutShape.IsSequence && last.Activation == ActivationKind.Softmax =>
                "SoftmaxCrossEntropy applies softmax to the logits itself; remove [Softmax] from the last layer",
            LossKind.SoftmaxCrossEntropy when last.OutShape.IsSequence && last.OutShape[1] < 2 =>
                "SoftmaxCrossEntropy at every step needs at least 2 classes per step",
            LossKind.SoftmaxCrossEntropy when last.OutShape.IsSequence => null,   // one label per step
            _ when last.OutShape.IsSequence => $"{loss.Kind} needs one vector per sample; the output is a sequence {last.OutShape} (only SoftmaxCrossEntropy takes one label per step): end with a recurrent layer's last state (no ReturnSequences) and a [Dense] layer",
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
            diags.Add(DiagnosticInfo.Create(Descriptors.LossDoesNotFit, loss.Location, loss.Name, loss.Kind, last.Name, string.Join(",", last.OutShape.Dims), problem));
    }

    public static int RoundUp(int n) => (n + Align - 1) / Align * Align;

    /// <summary><c>running_mean</c> → <c>RunningMean</c>.</summary>
    private static string Pascal(string s) => string.Concat(s.Split('_').Select(BufferPlanner.Pascal));

    /// <summary>The name that means the network input in <c>Input = ...</c> and <c>[Add(...)]</c> (<c>LayerAttribute.NetworkInput</c>).</summary>
    public const string NetworkInput = "input";

    /// <summary>Index of the layer named <paramref name="target"/> (−1 for <see cref="NetworkInput"/>), which must come before <paramref name="self"/>; else MG0019 and −2.</summary>
    private static int Resolve(LayerSpec layer, string target, Dictionary<string, int> names, int self, List<DiagnosticInfo> diags)
    {
        if (target == NetworkInput) return -1;
        string? problem = !names.TryGetValue(target, out int i) ? "which is not a layer of this network"
            : i == self ? "itself; a layer reads earlier layers only"
            : i > self ? "which is declared later; a layer reads earlier layers only (declaration order is the graph's order)"
            : null;
        if (problem is null) return i;
        diags.Add(DiagnosticInfo.Create(Descriptors.UnknownLayer, layer.Location, layer.Name, target, problem));
        return -2;
    }
}
