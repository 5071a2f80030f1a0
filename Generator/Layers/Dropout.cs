using System.Collections.Generic;
using ModelGen.Generator.Analysis;
using ModelGen.Generator.Emit;
using ModelGen.Generator.Emit.CSharp;
using ModelGen.Generator.Model;

namespace ModelGen.Generator.Layers;

internal sealed record DropoutOptions(float Rate) : LayerOptions;

/// <summary>Inverted dropout: <c>y = x ⊙ m</c>, <c>m = Bernoulli(1 − p) / (1 − p)</c> in training (mask kept for
/// backward), <c>y = x</c> in inference. The mask comes from the model's seeded dropout generator.</summary>
internal sealed class Dropout : LayerKind, ICSharpLayer, ICSharpDecodeStep
{
    public static readonly Dropout Instance = new();
    public override string Name => "Dropout";
    public override bool IsStochastic => true;
    public override bool ReadsMask => true;
    public override bool PassesMask(LayerPlan l) => true;

    public override LayerOptions? Read(AttributeArgs a, LayerDiagnostics d)
    {
        float rate = a.Float(0, float.NaN);
        if (rate >= 0f && rate < 1f) return new DropoutOptions(rate);
        d.Invalid($"Dropout rate must be in [0, 1), got {Text.Num(rate)}");
        return null;
    }

    public override LayerShape? Infer(LayerSpec s, IReadOnlyList<Shape> inputs, LayerDiagnostics d)
    {
        var x = inputs[0];
        if (x.Rank is < 1 or > 3) { Fused.WrongInput(d, "Dropout", "a vector, a sequence [steps, features] or an image [channels, height, width]", x); return null; }
        return new LayerShape(x, EquatableArray<TensorSpec>.Empty, x.Size, s.Options);
    }

    private static float Rate(LayerPlan l) => ((DropoutOptions)l.Options).Rate;

    public override string Describe(LayerPlan l) => $"Dropout({Text.Num(Rate(l))})";

    public override IEnumerable<(string Key, double Value)> Hyperparameters(LayerPlan l) { yield return ("rate", Rate(l)); }

    public override IEnumerable<string> Math(LayerPlan l, NetworkPlan p)
    {
        string keep = Text.Num(1f - Rate(l));
        yield return $"forward : training y = x ⊙ m, m = (u < {keep} ? 1/{keep} : 0), u ~ U[0,1) seeded; inference y = x".PadRight(64) + $"x,y,m:{l.OutShape} per sample";
        yield return "backward: dx = dy ⊙ m";
    }

    public override IEnumerable<ScratchRequest> Scratch(LayerPlan l, NetworkPlan p)
    {
        yield return new ScratchRequest("mask", BufferPlanner.OutputSize(l), ScratchScope.PerLayer, TrainingOnly: true, "the dropout mask of the last training forward");
    }

    public void Forward(CodeWriter cw, CSharpLayer c, Width w)
    {
        var l = c.Layer;
        using (c.ForwardMethod(cw, w))
        {
            string ext = c.Extent(true);
            if (!c.Network.Trainable)
            {
                cw.Line($"ws.Span({c.Input}, {ext}).CopyTo(ws.Span({c.Output}, {ext}));   // inference: the identity");
                return;
            }
            // Panels: rows = features, columns = the batch. Images: rows = (sample, channel), columns = pixels.
            string rows = l.ImageOut ? $"ws.Batch * {l.OutShape[0]}" : l.Out.ToString();
            string ldr = l.ImageOut ? Geometry.LdP(l.OutPixels).ToString() : "ld";
            string cols = l.ImageOut ? l.OutPixels.ToString() : "ws.Batch";
            using (cw.Block("if (ws.Training)"))
                cw.Line($"MG.Dropout.Forward(ws.Span({c.Input}, {ext}), ws.Span({c.Output}, {ext}), ws.Span({c.Scratch("mask")}, {ext}), {rows}, {ldr}, {cols}, {Text.Float(Rate(l))}, ref _dropoutRng);");
            using (cw.Block("else"))
                cw.Line($"ws.Span({c.Input}, {ext}).CopyTo(ws.Span({c.Output}, {ext}));");
        }
    }

    public bool CanStep(LayerPlan l) => l.OutShape.IsSequence;

    public void Step(CodeWriter cw, CSharpLayer c) =>
        cw.Line($"MG.Decode.Copy(ref ws.Ref({c.Input}), {c.Layer.OutShape[1]}, {c.Layer.OutShape[0]}, t, ref ws.Ref({c.Output}));   // inference: the identity");

    public void Backward(CodeWriter cw, CSharpLayer c, Width w)
    {
        using (c.BackwardMethod(cw, w))
        {
            if (c.InputGrad is null) { cw.Line("// reads the network input: no gradient flows further down"); return; }
            using var guard = c.InputGradGuard(cw);
            string ext = c.Extent(true);
            cw.Line($"MG.Elementwise.Multiply(ws.Span({c.OutputGrad}, {ext}), ws.Span({c.Scratch("mask")}, {ext}), ws.Span({c.InputGrad}, {ext}), {w.Enum});   // dx = dy ⊙ m");
        }
    }
}
