using System.Collections.Generic;
using ModelGen.Generator.Analysis;
using ModelGen.Generator.Emit;
using ModelGen.Generator.Emit.CSharp;
using ModelGen.Generator.Emit.Ptx;
using ModelGen.Generator.Model;

namespace ModelGen.Generator.Layers;

/// <summary>
/// A learned position embedding added to a sequence (GPT-2's <c>wpe</c>): <c>y[t] = x[t] + weight[t]</c>, parameter
/// <c>weight [T, F]</c>, N(0, 1) as <c>nn.Embedding</c>. Backward: <c>dx = dy</c>, <c>dweight[t] += Σ_b dy[t, b]</c>.
/// Runtime kernel: <c>Runtime/Kernels/Embedding.cs</c> (<c>AddPositions</c>).
/// </summary>
internal sealed class PositionEmbedding : LayerKind, ICSharpLayer, ICSharpDecodeStep, IPtxLayer
{
    public static readonly PositionEmbedding Instance = new();
    public override string Name => "PositionEmbedding";
    public override bool HasWeights => true;

    public override LayerOptions? Read(AttributeArgs a, LayerDiagnostics d) => NoOptions.Instance;

    public override LayerShape? Infer(LayerSpec s, IReadOnlyList<Shape> inputs, LayerDiagnostics d)
    {
        var x = inputs[0];
        if (!x.IsSequence) { Fused.WrongInput(d, "PositionEmbedding", "a sequence [steps, features] (an [Embedding]'s output)", x); return null; }
        return new LayerShape(x, EquatableArray.From(new[]
        {
            new TensorSpec("weight", EquatableArray.From(new[] { x[0], x[1] }), TensorRole.Weight, TensorInit.Normal, x[0], x[1]),
        }), x.Size, s.Options);
    }

    public override string Describe(LayerPlan l) => $"PositionEmbedding({l.InShape[0]}, {l.InShape[1]})";

    public override IEnumerable<string> Math(LayerPlan l, NetworkPlan p)
    {
        yield return "forward : y[t] = x[t] + W[t]".PadRight(64) + $"x,y:{l.OutShape} per sample, W:[{l.InShape[0]},{l.InShape[1]}]";
        yield return "backward: dx = dy;  dW[t] += Σ_b dy[t, b]";
        yield return $"params  : {Text.N0(l.ParameterCount)}";
    }

    public void Forward(CodeWriter cw, CSharpLayer c, Width w)
    {
        var l = c.Layer;
        using (c.ForwardMethod(cw, w))
            cw.Line($"MG.Embedding.AddPositions(ref ws.Ref({c.Input}), ref _arena.Ref({c.Tensor("weight")}), {l.InShape[0]}, {l.InShape[1]}, ld, ref ws.Ref({c.Output}), {w.Enum});");
    }

    public bool CanStep(LayerPlan l) => true;

    public void Step(CodeWriter cw, CSharpLayer c) =>
        cw.Line($"MG.Decode.Positions(ref ws.Ref({c.Input}), ref _arena.Ref({c.Tensor("weight")}), {c.Layer.InShape[1]}, {c.Layer.InShape[0]}, t, ref ws.Ref({c.Output}));");

    public void Backward(CodeWriter cw, CSharpLayer c, Width w)
    {
        var l = c.Layer;
        using (c.BackwardMethod(cw, w))
        {
            cw.Line($"MG.Embedding.PositionsBackward(ref ws.Ref({c.OutputGrad}), ref _arena.Ref(GradientBase + {c.Tensor("weight")}), {l.InShape[0]}, {l.InShape[1]}, ld, batch);   // dW[t] += Σ_b dy[t, b]");
            if (c.InputGrad is not null)
                using (c.InputGradGuard(cw))
                    cw.Line($"ws.Span({c.OutputGrad}, {c.Extent(true)}).CopyTo(ws.Span({c.InputGrad}, {c.Extent(false)}));   // dx = dy");
        }
    }

    // ── PTX: sample-major [batch, T, F]; W [T, F] ──────────────────────────────────────────────────────────────────────

    public void Forward(PtxLayer c)
    {
        int size = c.Layer.Out;
        var k = PtxMath.PerElement(c.Name("Forward"), $"{size} * n", new[] { "pX", "pW", "pY" }, new[] { c.Input, c.Tensor("weight"), c.Output }, (k, a, i) =>
        {
            string j = k.R(), y = k.F();
            k.Op($"rem.u32 {j}, {i}, {size}");
            k.Op($"add.f32 {y}, {k.LoadGlobal(k.Element(a[0], i))}, {k.LoadGlobal(k.Element(a[1], j))}");
            k.StoreGlobal(k.Element(a[2], i), y);
        });
        k.Banner.Add($"y[s, t, f] = x[s, t, f] + W[t, f] over [n, {c.Layer.InShape[0]}, {c.Layer.InShape[1]}]; one thread per element");
        c.ForwardKernels.Add(k);
    }

    public void Backward(PtxLayer c)
    {
        int size = c.Layer.Out;
        // dW[t, f] += Σ_s dy[s, t, f]: W is one row of T·F, so this is a column sum over the n samples, in order
        c.BackwardKernels.Add(PtxMath.ColumnSumsAdd(c.Name("Dweight"), "n", size, c.OutputGrad, c.Gradient("weight")));
        if (c.InputGrad is null) return;
        var dx = PtxMath.PerElement(c.Name("Dx"), $"{size} * n", new[] { "pDY", "pDX" }, new[] { c.OutputGrad, c.InputGrad }, (k, a, i) =>
        {
            string at = k.Element(a[1], i), r = k.F();
            k.Op($"add.f32 {r}, {k.LoadGlobal(k.Element(a[0], i))}, {k.LoadGlobal(at)}");
            k.StoreGlobal(at, r);
        });
        dx.Banner.Add($"dx += dy element-wise over [n, {size}]");
        dx.OnlyForInputGradient = c.ReadsNetworkInput();
        c.BackwardKernels.Add(dx);
    }
}
