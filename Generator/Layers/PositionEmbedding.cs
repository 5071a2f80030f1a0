using System.Collections.Generic;
using ModelGen.Generator.Analysis;
using ModelGen.Generator.Emit;
using ModelGen.Generator.Emit.CSharp;
using ModelGen.Generator.Model;

namespace ModelGen.Generator.Layers;

/// <summary>
/// A learned position embedding added to a sequence (GPT-2's <c>wpe</c>): <c>y[t] = x[t] + weight[t]</c>, parameter
/// <c>weight [T, F]</c>, N(0, 1) as <c>nn.Embedding</c>. Backward: <c>dx = dy</c>, <c>dweight[t] += Σ_b dy[t, b]</c>.
/// Runtime kernel: <c>Runtime/Kernels/Embedding.cs</c> (<c>AddPositions</c>).
/// </summary>
internal sealed class PositionEmbedding : LayerKind, ICSharpLayer, ICSharpDecodeStep
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
}
