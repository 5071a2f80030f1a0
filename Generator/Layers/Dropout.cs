using System.Collections.Generic;
using ModelGen.Generator.Analysis;
using ModelGen.Generator.Emit;
using ModelGen.Generator.Emit.CSharp;
using ModelGen.Generator.Emit.Ptx;
using ModelGen.Generator.Model;

namespace ModelGen.Generator.Layers;

internal sealed record DropoutOptions(float Rate) : LayerOptions;

/// <summary>Inverted dropout: <c>y = x ⊙ m</c>, <c>m = Bernoulli(1 − p) / (1 − p)</c> in training (mask kept for
/// backward), <c>y = x</c> in inference. The mask comes from the model's seeded dropout generator.</summary>
internal sealed class Dropout : LayerKind, ICSharpLayer, ICSharpDecodeStep, IPtxLayer, IPtxScratch
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

    // ── PTX: the mask is drawn on the host from the model's dropout generator, in the C# path's order (so a twin and
    //    its model drop the same units), uploaded, and applied element-wise ──────────────────────────────────────

    public IEnumerable<(string Name, int PerSample, int Fixed)> Scratch(LayerPlan l) { yield return ("mask", l.Out, 0); }

    public void Forward(PtxLayer c)
    {
        var l = c.Layer;
        if (c.Network.Trainable)
        {
            var k = PtxMath.PerElement(c.Name("Forward"), $"{l.Out} * n", new[] { "pX", "pM", "pY" }, new[] { c.Input, c.Scratch("mask"), c.Output }, (k, a, i) =>
            {
                string y = k.F();
                k.Op($"mul.f32 {y}, {k.LoadGlobal(k.Element(a[0], i))}, {k.LoadGlobal(k.Element(a[1], i))}");
                k.StoreGlobal(k.Element(a[2], i), y);
            });
            k.Banner.Add($"training: y = x ⊙ m, m = 1/{Text.Num(1f - Rate(l))} or 0, drawn on the host (the C# path's order) and uploaded");
            bool seq = l.OutShape.IsSequence;
            string steps = seq ? l.OutShape[0].ToString() : "1", features = seq ? l.OutShape[1].ToString() : l.Out.ToString();
            k.HostBefore.Add($"var mask = _m.HostScratch(n * {l.Out});");
            k.HostBefore.Add("var rng = _host.TrainingRandom;");
            k.HostBefore.Add($"global::ModelGen.Cuda.CudaModel.DropoutMask(ref rng, {Text.Float(Rate(l))}, n, {steps}, {features}, {(l.ImageOut ? "true" : "false")}, mask);");
            k.HostBefore.Add("_host.TrainingRandom = rng;");
            k.HostBefore.Add($"_m.Upload(mask, {c.Scratch("mask")});");
            k.Condition = "training";
            c.ForwardKernels.Add(k);
        }
        var copy = PtxMath.PerElement(c.Name("Identity"), $"{l.Out} * n", new[] { "pX", "pY" }, new[] { c.Input, c.Output }, (k, a, i) =>
            k.StoreGlobal(k.Element(a[1], i), k.LoadGlobal(k.Element(a[0], i))));
        copy.Banner.Add("inference: y = x");
        if (c.Network.Trainable) copy.Condition = "!training";
        c.ForwardKernels.Add(copy);
    }

    public void Backward(PtxLayer c)
    {
        var l = c.Layer;
        if (c.InputGrad is null) return;
        var k = PtxMath.PerElement(c.Name("Backward"), $"{l.Out} * n", new[] { "pDY", "pM", "pDX" }, new[] { c.OutputGrad, c.Scratch("mask"), c.InputGrad }, (k, a, i) =>
        {
            string dxa = k.Element(a[2], i), r = k.F();
            k.Op($"fma.rn.f32 {r}, {k.LoadGlobal(k.Element(a[0], i))}, {k.LoadGlobal(k.Element(a[1], i))}, {k.LoadGlobal(dxa)}");
            k.StoreGlobal(dxa, r);
        });
        k.Banner.Add("dx += dy ⊙ m");
        k.OnlyForInputGradient = c.ReadsNetworkInput();
        c.BackwardKernels.Add(k);
    }
}
