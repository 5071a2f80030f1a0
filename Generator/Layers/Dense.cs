using System.Collections.Generic;
using ModelGen.Generator.Analysis;
using ModelGen.Generator.Diagnostics;
using ModelGen.Generator.Emit;
using ModelGen.Generator.Emit.CSharp;
using ModelGen.Generator.Model;

namespace ModelGen.Generator.Layers;

internal sealed record DenseOptions(int Units) : LayerOptions;

/// <summary>
/// Dense: <c>y[o,b] = act(Σ_i W[o,i]·x[i,b] + bias[o])</c>, W in PyTorch's <c>[out, in]</c> layout.
/// Activations are feature-major panels <c>[features, ld]</c>, so the forward is <c>Yᵀ = W·Xᵀ</c> with the
/// batch in the vector lanes; ReLU / leaky ReLU and the bias are fused into the kernel's store.
/// </summary>
internal sealed class Dense : LayerKind, ICSharpLayer
{
    public static readonly Dense Instance = new();
    public override string Name => "Dense";
    public override bool FusesActivation => true;
    public override bool HasWeights => true;

    public override LayerOptions? Read(AttributeArgs a, LayerDiagnostics d) => new DenseOptions(a.Int(0, 0));

    public override LayerShape? Infer(LayerSpec s, IReadOnlyList<Shape> inputs, LayerDiagnostics d)
    {
        var o = (DenseOptions)s.Options;
        if (o.Units <= 0) { d.Report(Descriptors.NonPositiveSize, "units", o.Units); return null; }
        if (inputs[0].Rank != 1) { Fused.WrongInput(d, $"Dense({o.Units})", "a 1-D (add [Flatten] or [GlobalAvgPool] before it)", inputs[0]); return null; }
        if (!Fused.CheckAlpha(s, d)) return null;
        int inF = inputs[0].Size;
        long weights = (long)inF * o.Units;
        if (weights > int.MaxValue / 4) { d.Invalid($"{inF}×{o.Units} = {weights} weights is more than one arena can address"); return null; }
        return new LayerShape(Shape.Of(o.Units), EquatableArray.From(new[]
        {
            new TensorSpec("weight", EquatableArray.From(new[] { o.Units, inF }), TensorRole.Weight, TensorInit.Weight, inF, o.Units),
            new TensorSpec("bias", EquatableArray.From(new[] { o.Units }), TensorRole.Parameter, TensorInit.Zeros),
        }), 2 * weights, o);
    }

    public override ReceptiveField ReceptiveField(LayerPlan layer, IReadOnlyList<ReceptiveField> inputs) => Analysis.ReceptiveField.Whole;

    public override string Describe(LayerPlan l) => $"Dense({l.Out})";

    public override IEnumerable<(string Key, double Value)> Hyperparameters(LayerPlan l) { yield return ("units", l.Out); }

    public override IEnumerable<string> Math(LayerPlan l, NetworkPlan p)
    {
        string z = "Σ_i W[o,i]·x[i,b] + bias[o]";
        yield return $"forward : y[o,b] = {Fused.Math(l.Activation, l.Alpha, z)}".PadRight(64) + $"x:[{l.In},B] W:[{l.Out},{l.In}] bias:[{l.Out}] y:[{l.Out},B]";
        yield return "          as GEMM Yᵀ = W·Xᵀ with the batch in the vector lanes (batch 1: GEMV streaming W once)"
            + (Fused.InEpilogue(l.Activation) ? "; bias and activation fused into the store" : "; bias fused into the store, then the activation");
        yield return $"backward: {Fused.Derivative(l.Activation, l.Alpha)}; dbias[o] += Σ_b dz[o,b]";
        yield return $"          dW[o,i] += Σ_b dz[o,b]·x[i,b]   (dW = dZ·X, X sample-major)   dx[i,b] = Σ_o W[o,i]·dz[o,b]   (dXᵀ = Wᵀ·dZᵀ)";
        if (l.L2 > 0f) yield return Fused.L2Line(l);
        yield return $"params  : {Text.N0(l.ParameterCount)} (W {Text.N0(l.In * l.Out)} + bias {Text.N0(l.Out)})   FLOPs/sample: {Text.N0(l.Flops)}";
    }

    /// <summary>The weight gradient needs the input sample-major; the network input is kept that way already.</summary>
    public override IEnumerable<ScratchRequest> Scratch(LayerPlan l, NetworkPlan p)
    {
        if (l.InputIndex >= 0 || p.ImageInput)
            yield return new ScratchRequest("xs", BufferSize.Panel(l.In), ScratchScope.Shared, TrainingOnly: true, "a dense layer's input transposed to [batch, in]");
    }

    private static void Locals(CodeWriter cw, CSharpLayer c)
    {
        var l = c.Layer;
        cw.Line($"ref float w = ref _arena.Ref({c.Tensor("weight")});   // [{l.Out}, {l.In}]");
        cw.Line($"ref float bias = ref _arena.Ref({c.Tensor("bias")});   // [{l.Out}]");
        cw.Line($"ref float x = ref ws.Ref({c.Input});   // [{l.In}, ld]");
        cw.Line($"ref float y = ref ws.Ref({c.Output});   // [{l.Out}, ld]");
    }

    public void Forward(CodeWriter cw, CSharpLayer c, Width w)
    {
        var l = c.Layer;
        string alpha = Text.Float(l.Alpha), epi = Fused.Epilogue(l.Activation);
        using (c.ForwardMethod(cw, w))
        {
            if (!w.IsScalar)
                using (cw.Block("if (n == 1)"))
                {
                    Locals(cw, c);
                    cw.Line($"MG.Gemm.Gemv{w.Name}(ref w, {l.In}, ref x, ref y, {l.Out}, ref bias, {epi}, {alpha});   // batch 1: stream W once");
                }
            using (cw.Block(w.IsScalar ? "" : "else"))
                c.RunParts(cw, w, "Forward", CSharpLayer.ParallelUnits($"{(l.Out + w.MR - 1) / w.MR}", "n", 2L * l.In * l.Out), $"row blocks of Y [{l.Out}, n]");
            if (l.Activation is ActivationKind.Sigmoid or ActivationKind.Tanh)
                cw.Line($"MG.Activations.Forward({Fused.Runtime(l.Activation)}, 0f, ws.Span({c.Output}, {l.Out} * ld), ws.Span({c.Output}, {l.Out} * ld), {w.Enum});");
            else if (l.Activation == ActivationKind.Softmax)
                cw.Line($"MG.Softmax.Forward(ref ws.Ref({c.Output}), ref ws.Ref({c.Output}), {l.Out}, ld, n);");
        }
        cw.Line();
        using (c.PartMethod(cw, w, "Forward"))
        {
            cw.Line("int n = ws.N, ld = ws.Ld;");
            cw.Line($"ThreadTeam.Split({l.Out}, {w.MR}, part, parts, out int r0, out int r1);   // this part's rows (whole {w.MR}-row tiles)");
            cw.Line("if (r0 == r1) return;");
            Locals(cw, c);
            c.Gemm.Emit(cw, w, new GemmCall("w", l.In.ToString(), "1", "x", "ld", "y", "ld", l.In.ToString(), l.Out, null, "bias", epi, alpha) { RowRange = ("r0", "r1") });
        }
    }

    public void Backward(CodeWriter cw, CSharpLayer c, Width w)
    {
        var l = c.Layer;
        using (c.BackwardMethod(cw, w))
        {
            cw.Line($"ref float y = ref ws.Ref({c.Output});   // [{l.Out}, ld]");
            cw.Line($"ref float dy = ref ws.Ref({c.OutputGrad});   // [{l.Out}, ld], becomes dz in place");
            if (l.Activation == ActivationKind.Softmax)
                cw.Line($"MG.Softmax.Backward(ref dy, ref y, ref dy, {l.Out}, ld, n);");
            else if (l.Activation != ActivationKind.None)
                cw.Line($"MG.Activations.Backward({Fused.Runtime(l.Activation)}, {Text.Float(l.Alpha)}, ws.Span({c.OutputGrad}, {l.Out} * ld), ws.Span({c.Output}, {l.Out} * ld), ws.Span({c.OutputGrad}, {l.Out} * ld), {w.Enum});");
            cw.Line($"MG.Reductions.AddRowSums(ref dy, {l.Out}, ld, batch, ref _arena.Ref(GradientBase + {c.Tensor("bias")}), {w.Enum});   // dbias[o] += Σ_b dz[o,b]");
            if (c.Buffers.SampleMajorInput.Length == 0)
                cw.Line($"MG.Layout.ToSampleMajor(ref ws.Ref({c.Input}), {l.In}, ld, batch, ws.Span({c.Scratch("xs")}, batch * {l.In}));   // x as [batch, {l.In}]");
            int units = System.Math.Max((l.Out + w.MR - 1) / w.MR, (l.In + w.MR - 1) / w.MR);
            c.RunParts(cw, w, "Backward", CSharpLayer.ParallelUnits(units.ToString(), "batch", 4L * l.In * l.Out), $"row blocks of dW [{l.Out}, {l.In}] and of dx [{l.In}, batch]");
        }
        cw.Line();
        using (c.PartMethod(cw, w, "Backward"))
        {
            cw.Line("int batch = ws.Batch, n = ws.N, ld = ws.Ld;");
            cw.Line($"ref float w = ref _arena.Ref({c.Tensor("weight")});   // [{l.Out}, {l.In}]");
            cw.Line($"ref float dw = ref _arena.Ref(GradientBase + {c.Tensor("weight")});");
            cw.Line($"ref float dy = ref ws.Ref({c.OutputGrad});   // dz, [{l.Out}, ld]");
            cw.Line(c.Buffers.SampleMajorInput.Length > 0
                ? $"ref float xs = ref ws.Ref({c.Buffers.SampleMajorInput});   // the input as given, [batch, {l.In}]"
                : $"ref float xs = ref ws.Ref({c.Scratch("xs")});   // x as [batch, {l.In}]");
            cw.Line($"ThreadTeam.Split({l.Out}, {w.MR}, part, parts, out int r0, out int r1);   // this part's rows of dW");
            cw.Line($"// dW[o,i] += Σ_b dz[o,b]·xs[b,i]");
            using (cw.Block("if (r0 < r1)"))
                c.Gemm.Emit(cw, w, new GemmCall("dy", "ld", "1", "xs", l.In.ToString(), "dw", l.In.ToString(), "batch", l.Out, l.In, null, "MG.Epilogue.Accumulate", "0f") { RowRange = ("r0", "r1") });
            if (c.InputGrad is not null)
            using (c.InputGradGuard(cw))
            {
                cw.Line($"ref float dx = ref ws.Ref({c.InputGrad});   // [{l.In}, ld]");
                cw.Line($"ThreadTeam.Split({l.In}, {w.MR}, part, parts, out int i0, out int i1);   // this part's rows of dx");
                cw.Line($"// dx[i,b] = Σ_o W[o,i]·dz[o,b]   (A = Wᵀ: row stride 1, reduction stride {l.In})");
                using (cw.Block("if (i0 < i1)"))
                    c.Gemm.Emit(cw, w, new GemmCall("w", "1", l.In.ToString(), "dy", "ld", "dx", "ld", l.Out.ToString(), l.In, null, null, "MG.Epilogue.Store", "0f") { RowRange = ("i0", "i1") });
            }
        }
    }
}
