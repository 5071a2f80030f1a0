using System.Collections.Generic;
using ModelGen.Generator.Analysis;
using ModelGen.Generator.Emit;
using ModelGen.Generator.Emit.CSharp;
using ModelGen.Generator.Model;

namespace ModelGen.Generator.Layers;

/// <summary>Global average pooling: <c>[C, H, W] → [C]</c>, the mean of each channel (image in, panel out).</summary>
internal sealed class GlobalAvgPool : LayerKind, ICSharpLayer
{
    public static readonly GlobalAvgPool Instance = new();
    public override string Name => "GlobalAvgPool";

    public override LayerOptions? Read(AttributeArgs a, LayerDiagnostics d) => NoOptions.Instance;

    public override LayerShape? Infer(LayerSpec s, IReadOnlyList<Shape> inputs, LayerDiagnostics d)
    {
        var x = inputs[0];
        if (x.Rank != 3) { Fused.WrongInput(d, Name, "a [channels, height, width]", x); return null; }
        return new LayerShape(Shape.Of(x[0]), EquatableArray<TensorSpec>.Empty, x.Size, s.Options);
    }

    public override ReceptiveField ReceptiveField(LayerPlan l, IReadOnlyList<ReceptiveField> inputs) => Analysis.ReceptiveField.Whole;

    public override string Describe(LayerPlan l) => Name;

    public override IEnumerable<string> Math(LayerPlan l, NetworkPlan p)
    {
        yield return $"forward : y[c] = (1/{l.InPixels}) Σ_(i,j) x[c,i,j]".PadRight(64) + $"x:{l.InShape} y:{l.OutShape}";
        yield return $"backward: dx[c,i,j] = dy[c] / {l.InPixels}";
    }

    public void Forward(CodeWriter cw, CSharpLayer c, Width w)
    {
        var l = c.Layer;
        using (c.ForwardMethod(cw, w))
            cw.Line($"MG.Pool.GlobalAverage(ref ws.Ref({c.Input}), ws.Batch, {l.InShape[0]}, {l.InPixels}, {Geometry.LdP(l.InPixels)}, ref ws.Ref({c.Output}), ld);");
    }

    public void Backward(CodeWriter cw, CSharpLayer c, Width w)
    {
        var l = c.Layer;
        using (c.BackwardMethod(cw, w))
        {
            if (c.InputGrad is null) { cw.Line("// reads the network input: no gradient flows further down"); return; }
            using var guard = c.InputGradGuard(cw);
            cw.Line($"MG.Pool.GlobalAverageBackward(ref ws.Ref({c.OutputGrad}), ld, batch, {l.InShape[0]}, {l.InPixels}, {Geometry.LdP(l.InPixels)}, ref ws.Ref({c.InputGrad}));");
        }
    }
}
