using System.Collections.Generic;
using ModelGen.Generator.Analysis;
using ModelGen.Generator.Emit;
using ModelGen.Generator.Emit.CSharp;
using ModelGen.Generator.Emit.Ptx;
using ModelGen.Generator.Model;

namespace ModelGen.Generator.Layers;

/// <summary>Global average pooling: <c>[C, H, W] → [C]</c>, the mean of each channel (image in, panel out).</summary>
internal sealed class GlobalAvgPool : LayerKind, ICSharpLayer, IPtxLayer
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

    // ── PTX ────────────────────────────────────────────────────────────────────────────────────────────────────

    public void Forward(PtxLayer c)
    {
        var l = c.Layer;
        int hw = l.InPixels;
        var k = PtxMath.PerElement(c.Name("Forward"), $"{l.Out} * n", new[] { "pX", "pY" }, new[] { c.Input, c.Output }, (k, a, plane) =>
        {
            string first = k.R(), sum = k.F();
            k.Op($"mul.lo.s32 {first}, {plane}, {hw}");
            string x = k.Element(a[0], first);
            k.Op($"mov.f32 {sum}, {PtxMath.Zero}");
            k.For(PtxText.I(hw), _ =>
            {
                k.Op($"add.f32 {sum}, {sum}, {k.LoadGlobal(x)}");
                k.Op($"add.s64 {x}, {x}, 4");
            });
            k.Op($"mul.f32 {sum}, {sum}, {PtxText.F(1f / hw)}");
            k.StoreGlobal(k.Element(a[1], plane), sum);
        });
        k.Banner.Add($"y[b, c] = mean of x[b, c, :, :] over {hw} pixels, one thread per (b, c)");
        c.ForwardKernels.Add(k);
    }

    public void Backward(PtxLayer c)
    {
        var l = c.Layer;
        if (c.InputGrad is null) return;
        int hw = l.InPixels;
        var k = PtxMath.PerElement(c.Name("Backward"), $"{l.In} * n", new[] { "pDY", "pDX" }, new[] { c.OutputGrad, c.InputGrad }, (k, a, idx) =>
        {
            var (plane, _) = PtxMath.DivRem(k, idx, hw);
            string dxa = k.Element(a[1], idx), r = k.F();
            k.Op($"fma.rn.f32 {r}, {k.LoadGlobal(k.Element(a[0], plane))}, {PtxText.F(1f / hw)}, {k.LoadGlobal(dxa)}");
            k.StoreGlobal(dxa, r);
        });
        k.Banner.Add($"dx[b, c, h, w] += dy[b, c] / {hw}, one thread per input element");
        k.OnlyForInputGradient = c.ReadsNetworkInput();
        c.BackwardKernels.Add(k);
    }
}
