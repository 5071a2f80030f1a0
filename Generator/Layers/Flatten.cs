using System.Collections.Generic;
using ModelGen.Generator.Analysis;
using ModelGen.Generator.Emit;
using ModelGen.Generator.Emit.CSharp;
using ModelGen.Generator.Emit.Ptx;
using ModelGen.Generator.Model;

namespace ModelGen.Generator.Layers;

/// <summary>Flatten: <c>[C, H, W] → [C·H·W]</c> in PyTorch's order (channel, row, column); image in, panel out.</summary>
/// On the GPU activations are sample-major <c>[batch, C, H, W]</c> already: the output is the input's buffer (no kernel).
internal sealed class Flatten : LayerKind, ICSharpLayer, IPtxLayer, IPtxAlias
{
    public static readonly Flatten Instance = new();
    public override string Name => "Flatten";

    public override LayerOptions? Read(AttributeArgs a, LayerDiagnostics d) => NoOptions.Instance;

    public override LayerShape? Infer(LayerSpec s, IReadOnlyList<Shape> inputs, LayerDiagnostics d)
    {
        var x = inputs[0];
        if (x.Rank != 3) { Fused.WrongInput(d, Name, "a [channels, height, width]", x); return null; }
        return new LayerShape(Shape.Of(x.Size), EquatableArray<TensorSpec>.Empty, 0, s.Options);
    }

    public override ReceptiveField ReceptiveField(LayerPlan l, IReadOnlyList<ReceptiveField> inputs) => Analysis.ReceptiveField.Whole;

    public override string Describe(LayerPlan l) => Name;

    public override IEnumerable<string> Math(LayerPlan l, NetworkPlan p)
    {
        yield return "forward : y[(c·H + i)·W + j] = x[c,i,j]   (PyTorch's flatten order)".PadRight(64) + $"x:{l.InShape} y:{l.OutShape}";
        yield return "backward: dx[c,i,j] = dy[(c·H + i)·W + j]";
    }

    public void Forward(CodeWriter cw, CSharpLayer c, Width w)
    {
        var l = c.Layer;
        using (c.ForwardMethod(cw, w))
            cw.Line($"MG.Images.ToPanel(ref ws.Ref({c.Input}), ws.Batch, {l.InShape[0]}, {l.InPixels}, {Geometry.LdP(l.InPixels)}, ref ws.Ref({c.Output}), ld);");
    }

    public void Backward(CodeWriter cw, CSharpLayer c, Width w)
    {
        var l = c.Layer;
        using (c.BackwardMethod(cw, w))
        {
            if (c.InputGrad is null) { cw.Line("// reads the network input: no gradient flows further down"); return; }
            using var guard = c.InputGradGuard(cw);
            cw.Line($"MG.Images.FromPanel(ref ws.Ref({c.OutputGrad}), ld, batch, {l.InShape[0]}, {l.InPixels}, {Geometry.LdP(l.InPixels)}, ref ws.Ref({c.InputGrad}));");
        }
    }

    // ── PTX: nothing to do; the output and its gradient are the input's buffers (IPtxAlias) ──
    void IPtxLayer.Forward(PtxLayer c) { }
    void IPtxLayer.Backward(PtxLayer c) { }
}
