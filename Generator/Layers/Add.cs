using System.Collections.Generic;
using ModelGen.Generator.Analysis;
using ModelGen.Generator.Diagnostics;
using ModelGen.Generator.Emit;
using ModelGen.Generator.Emit.CSharp;
using ModelGen.Generator.Emit.Ptx;
using ModelGen.Generator.Model;

namespace ModelGen.Generator.Layers;

internal sealed record AddOptions(string From) : LayerOptions
{
    public override EquatableArray<string> ExtraInputs => EquatableArray.From(new[] { From });
}

/// <summary>Residual add <c>y = x + s</c>, s the output of an earlier layer. Backward: <c>dx = dy</c> and
/// <c>ds = dy</c>; where a tensor feeds several layers the plan sums the contributions (see <see cref="BufferPlanner"/>).</summary>
internal sealed class Add : LayerKind, ICSharpLayer, ICSharpDecodeStep, IPtxLayer
{
    public static readonly Add Instance = new();
    public override string Name => "Add";

    public override LayerOptions? Read(AttributeArgs a, LayerDiagnostics d) => new AddOptions(a.String(0) ?? "");

    public override LayerShape? Infer(LayerSpec s, IReadOnlyList<Shape> inputs, LayerDiagnostics d)
    {
        var from = ((AddOptions)s.Options).From;
        if (!inputs[1].Dims.Equals(inputs[0].Dims))
        {
            d.Report(Descriptors.ShapeMismatch, $"Add({from})", $"its two inputs to have one shape; '{from}' is [{string.Join(",", inputs[1].Dims)}]", d.Producer, string.Join(",", inputs[0].Dims));
            return null;
        }
        return new LayerShape(inputs[0], EquatableArray<TensorSpec>.Empty, inputs[0].Size, s.Options);
    }

    /// <summary>The wider of the two paths.</summary>
    public override ReceptiveField ReceptiveField(LayerPlan l, IReadOnlyList<ReceptiveField> inputs) =>
        inputs[0].Size < 0 || inputs[1].Size < 0 ? new ReceptiveField(-1, inputs[0].Jump) : new ReceptiveField(System.Math.Max(inputs[0].Size, inputs[1].Size), inputs[0].Jump);

    public override string Describe(LayerPlan l) => "Add";

    public override IEnumerable<string> Math(LayerPlan l, NetworkPlan p)
    {
        string skip = l.Inputs[1] < 0 ? "input" : p.Layers[l.Inputs[1]].Name;
        yield return $"forward : y = x + {skip}".PadRight(64) + $"x,{skip},y:{l.OutShape} per sample";
        yield return $"backward: dx = dy;  d{skip} += dy   (a tensor used twice sums its gradients)";
    }

    public void Forward(CodeWriter cw, CSharpLayer c, Width w)
    {
        string ext = c.Extent(true);
        using (c.ForwardMethod(cw, w))
            cw.Line($"MG.Sum.Add(ws.Span({c.InputOf(0)}, {ext}), ws.Span({c.InputOf(1)}, {ext}), ws.Span({c.Output}, {ext}), {w.Enum});");
    }

    public bool CanStep(LayerPlan l) => l.OutShape.IsSequence;

    public void Step(CodeWriter cw, CSharpLayer c) =>
        cw.Line($"MG.Decode.Add(ref ws.Ref({c.InputOf(0)}), ref ws.Ref({c.InputOf(1)}), {c.Layer.OutShape[1]}, {c.Layer.OutShape[0]}, t, ref ws.Ref({c.Output}));");

    public void Backward(CodeWriter cw, CSharpLayer c, Width w)
    {
        string ext = c.Extent(true);
        using (c.BackwardMethod(cw, w))
            for (int slot = 0; slot < 2; slot++)
                if (c.InputGradOf(slot) is { } target)
                    using (c.InputGradGuard(cw, slot))
                        cw.Line($"ws.Span({c.OutputGrad}, {ext}).CopyTo(ws.Span({target}, {ext}));");
    }

    // ── PTX ────────────────────────────────────────────────────────────────────────────────────────────────────

    public void Forward(PtxLayer c)
    {
        var l = c.Layer;
        var k = PtxMath.PerElement(c.Name("Forward"), $"{l.Out} * n", new[] { "pX", "pS", "pY" }, new[] { c.InputOf(0), c.InputOf(1), c.Output }, (k, a, i) =>
        {
            string y = k.F();
            k.Op($"add.f32 {y}, {k.LoadGlobal(k.Element(a[0], i))}, {k.LoadGlobal(k.Element(a[1], i))}");
            k.StoreGlobal(k.Element(a[2], i), y);
        });
        k.Banner.Add($"y = x + s element-wise over [n, {l.Out}]");
        c.ForwardKernels.Add(k);
    }

    public void Backward(PtxLayer c)
    {
        var l = c.Layer;
        for (int slot = 0; slot < 2; slot++)
        {
            if (c.InputGradOf(slot) is not { } target) continue;
            var k = PtxMath.PerElement(c.Name(slot == 0 ? "Dx" : "Ds"), $"{l.Out} * n", new[] { "pDY", "pDX" }, new[] { c.OutputGrad, target }, (k, a, i) =>
            {
                string dxa = k.Element(a[1], i), r = k.F();
                k.Op($"add.f32 {r}, {k.LoadGlobal(k.Element(a[0], i))}, {k.LoadGlobal(dxa)}");
                k.StoreGlobal(dxa, r);
            });
            k.Banner.Add($"d{(slot == 0 ? "x" : "s")} += dy element-wise over [n, {l.Out}]");
            k.OnlyForInputGradient = c.ReadsNetworkInput(slot);
            c.BackwardKernels.Add(k);
        }
    }
}
