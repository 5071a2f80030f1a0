using System.Collections.Generic;
using ModelGen.Generator.Analysis;
using ModelGen.Generator.Emit;
using ModelGen.Generator.Emit.CSharp;
using ModelGen.Generator.Model;

namespace ModelGen.Generator.Layers;

internal sealed record BatchNormOptions(float Momentum, float Epsilon) : LayerOptions;

/// <summary>
/// BatchNorm2D: per-channel normalisation with batch statistics in training (running averages updated) and the
/// running averages in inference; γ (<c>weight</c>) and β (<c>bias</c>) are trained, <c>running_mean</c> and
/// <c>running_var</c> are saved buffers. An activation may be fused after it. For inference it folds into a
/// convolution that it is the only reader of.
/// </summary>
internal sealed class BatchNorm2D : LayerKind, ICSharpLayer, ICSharpFold
{
    public static readonly BatchNorm2D Instance = new();
    public override string Name => "BatchNorm2D";
    public override bool FusesActivation => true;

    public override LayerOptions? Read(AttributeArgs a, LayerDiagnostics d)
    {
        float momentum = a.Float(0, 0.1f), eps = a.Float(1, 1e-5f);
        if (momentum > 0f && momentum <= 1f && eps > 0f) return new BatchNormOptions(momentum, eps);
        d.Invalid($"BatchNorm2D needs 0 < momentum ≤ 1 and epsilon > 0, got {Text.Num(momentum)} and {Text.Num(eps)}");
        return null;
    }

    public override LayerShape? Infer(LayerSpec s, IReadOnlyList<Shape> inputs, LayerDiagnostics d)
    {
        var x = inputs[0];
        if (x.Rank != 3) { Fused.WrongInput(d, Name, "a [channels, height, width]", x); return null; }
        if (!Fused.CheckAlpha(s, d)) return null;
        var c = EquatableArray.From(new[] { x[0] });
        return new LayerShape(x, EquatableArray.From(new[]
        {
            new TensorSpec("weight", c, TensorRole.Parameter, TensorInit.Ones),
            new TensorSpec("bias", c, TensorRole.Parameter, TensorInit.Zeros),
            new TensorSpec("running_mean", c, TensorRole.Buffer, TensorInit.Zeros),
            new TensorSpec("running_var", c, TensorRole.Buffer, TensorInit.Ones),
        }), 4L * x.Size, s.Options);
    }

    private static BatchNormOptions Opt(LayerPlan l) => (BatchNormOptions)l.Options;

    public override string Describe(LayerPlan l) => Name;

    public override IEnumerable<(string Key, double Value)> Hyperparameters(LayerPlan l)
    {
        yield return ("momentum", Opt(l).Momentum);
        yield return ("epsilon", Opt(l).Epsilon);
    }

    /// <summary>Folds into a convolution whose output it alone reads, when its activation can go into the GEMM's store.</summary>
    public override bool FoldsInto(LayerPlan producer, LayerPlan self) =>
        producer.Kind is Conv2D && producer.Activation == ActivationKind.None && Fused.InEpilogue(self.Activation);

    public override IEnumerable<string> Math(LayerPlan l, NetworkPlan p)
    {
        var o = Opt(l);
        yield return $"forward : training y = {Fused.Math(l.Activation, l.Alpha, "γ[c]·(x − μ_B[c])/√(σ²_B[c] + ε) + β[c]")}, μ_B, σ²_B over (batch, pixels);";
        yield return $"          running r ← (1 − {Text.Num(o.Momentum)})·r + {Text.Num(o.Momentum)}·stat (unbiased var); inference uses r.   ε = {Text.Num(o.Epsilon)}   x,y:{l.OutShape}";
        yield return $"backward: dβ = Σ dy; dγ = Σ dy·x̂; dx = γ/(N·√(σ²+ε))·(N·dy − dβ − x̂·dγ), N = batch·{l.OutPixels}";
    }

    public override IEnumerable<ScratchRequest> Scratch(LayerPlan l, NetworkPlan p)
    {
        yield return new ScratchRequest("stats", BufferSize.Floats(2L * l.OutShape[0]), ScratchScope.PerLayer, TrainingOnly: true, "the batch's mean and 1/σ per channel");
    }

    /// <summary>W' = s·W, b' = s·(b − mean) + β, s = γ/√(var + ε), into the convolution's <c>folded</c> scratch.</summary>
    public void Fold(CodeWriter cw, CSharpLayer conv, CSharpLayer c)
    {
        var w = conv.Layer.Tensor("weight");
        int o = conv.Layer.OutShape[0], k = w.Length / o;
        string folded = conv.Scratch("folded");
        cw.Line($"MG.BatchNorm.Fold(ref _arena.Ref({w.Const}), ref _arena.Ref({conv.Tensor("bias")}), {o}, {k}, ref _arena.Ref({c.Tensor("weight")}), ref _arena.Ref({c.Tensor("bias")}), " +
            $"ref _arena.Ref({c.Tensor("running_mean")}), ref _arena.Ref({c.Tensor("running_var")}), {Text.Float(Opt(c.Layer).Epsilon)}, ref ws.Ref({folded}), ref ws.Ref({folded} + {w.Length}));");
    }

    private static string Args(CSharpLayer c)
    {
        var l = c.Layer;
        return $"{l.OutShape[0]}, {l.OutPixels}, {Geometry.LdP(l.OutPixels)}, ref _arena.Ref({c.Tensor("weight")}), ref _arena.Ref({c.Tensor("bias")}), ref _arena.Ref({c.Tensor("running_mean")}), ref _arena.Ref({c.Tensor("running_var")})";
    }

    public void Forward(CodeWriter cw, CSharpLayer c, Width w)
    {
        var l = c.Layer;
        var o = Opt(l);
        string ext = c.Extent(true);
        using (c.ForwardMethod(cw, w))
        {
            if (c.Network.Trainable)
            {
                using (cw.Block("if (ws.Training)"))
                    cw.Line($"MG.BatchNorm.ForwardTraining(ref ws.Ref({c.Input}), ws.Batch, {Args(c)}, {Text.Float(o.Momentum)}, {Text.Float(o.Epsilon)}, ref ws.Ref({c.Scratch("stats")}), ref ws.Ref({c.Output}));");
                using (cw.Block(c.Folded ? "else if (!FoldBatchNorm)" : "else"))
                    cw.Line($"MG.BatchNorm.ForwardInference(ref ws.Ref({c.Input}), ws.Batch, {Args(c)}, {Text.Float(o.Epsilon)}, ref ws.Ref({c.Output}));");
            }
            else
            {
                string inference = $"MG.BatchNorm.ForwardInference(ref ws.Ref({c.Input}), ws.Batch, {Args(c)}, {Text.Float(o.Epsilon)}, ref ws.Ref({c.Output}));";
                if (!c.Folded) cw.Line(inference);
                else using (cw.Block("if (!FoldBatchNorm)")) cw.Line(inference);
            }
            if (c.Folded) cw.Line("else return;   // folded into the convolution before it, which wrote this output (activation included)");
            if (l.Activation != ActivationKind.None)
                cw.Line($"MG.Activations.Forward({Fused.Runtime(l.Activation)}, {Text.Float(l.Alpha)}, ws.Span({c.Output}, {ext}), ws.Span({c.Output}, {ext}), {w.Enum});");
        }
    }

    public void Backward(CodeWriter cw, CSharpLayer c, Width w)
    {
        var l = c.Layer;
        string ext = c.Extent(true);
        using (c.BackwardMethod(cw, w))
        {
            if (l.Activation != ActivationKind.None)
                cw.Line($"MG.Activations.Backward({Fused.Runtime(l.Activation)}, {Text.Float(l.Alpha)}, ws.Span({c.OutputGrad}, {ext}), ws.Span({c.Output}, {ext}), ws.Span({c.OutputGrad}, {ext}), {w.Enum});");
            string dx = c.InputGrad is null ? "Unsafe.NullRef<float>()" : $"ws.Ref({c.InputGrad})";
            cw.Line($"MG.BatchNorm.Backward(ref ws.Ref({c.Input}), ref ws.Ref({c.OutputGrad}), batch, {l.OutShape[0]}, {l.OutPixels}, {Geometry.LdP(l.OutPixels)}, ref _arena.Ref({c.Tensor("weight")}), ref ws.Ref({c.Scratch("stats")}), " +
                $"ref _arena.Ref(GradientBase + {c.Tensor("weight")}), ref _arena.Ref(GradientBase + {c.Tensor("bias")}), ref {dx}, {(c.InputGrad is null ? "false" : c.InputGradCondition())});");
        }
    }
}
