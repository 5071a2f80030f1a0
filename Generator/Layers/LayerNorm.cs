using System.Collections.Generic;
using ModelGen.Generator.Analysis;
using ModelGen.Generator.Emit;
using ModelGen.Generator.Emit.CSharp;
using ModelGen.Generator.Model;

namespace ModelGen.Generator.Layers;

internal sealed record LayerNormOptions(float Epsilon) : LayerOptions;

/// <summary>
/// PyTorch's <c>nn.LayerNorm(F)</c> over the last dimension of a vector <c>[F]</c> or of each step of a sequence
/// <c>[T, F]</c>: <c>y = (x − μ)·r·γ + β</c>, <c>r = 1/√(var + ε)</c>; parameters <c>weight</c> (γ) and <c>bias</c> (β),
/// <c>[F]</c>. The columns of the panel (<c>T·ld</c>) run in the vector lanes. Runtime kernel:
/// <c>Runtime/Kernels/LayerNorm.cs</c>.
/// </summary>
internal sealed class LayerNorm : LayerKind, ICSharpLayer, ICSharpDecodeStep
{
    public static readonly LayerNorm Instance = new();
    public override string Name => "LayerNorm";

    public override LayerOptions? Read(AttributeArgs a, LayerDiagnostics d)
    {
        float eps = a.Float(0, 1e-5f);
        if (eps > 0f && !float.IsInfinity(eps)) return new LayerNormOptions(eps);
        d.Invalid($"LayerNorm needs epsilon > 0, got {Text.Num(eps)}");
        return null;
    }

    private static int Features(LayerPlan l) => l.InShape.IsSequence ? l.InShape[1] : l.In;
    private static int Steps(LayerPlan l) => l.InShape.IsSequence ? l.InShape[0] : 1;
    private static float Eps(LayerPlan l) => ((LayerNormOptions)l.Options).Epsilon;

    public override LayerShape? Infer(LayerSpec s, IReadOnlyList<Shape> inputs, LayerDiagnostics d)
    {
        var x = inputs[0];
        if (x.IsImage) { Fused.WrongInput(d, "LayerNorm", "a vector [features] or a sequence [steps, features] (for images use [BatchNorm2D])", x); return null; }
        int f = x.IsSequence ? x[1] : x.Size;
        var shape = EquatableArray.From(new[] { f });
        return new LayerShape(x, EquatableArray.From(new[]
        {
            new TensorSpec("weight", shape, TensorRole.Parameter, TensorInit.Ones),
            new TensorSpec("bias", shape, TensorRole.Parameter, TensorInit.Zeros),
        }), 8L * x.Size, s.Options);
    }

    public override string Describe(LayerPlan l) => $"LayerNorm({Features(l)})";

    public override IEnumerable<(string Key, double Value)> Hyperparameters(LayerPlan l) { yield return ("epsilon", Eps(l)); }

    public override IEnumerable<string> Math(LayerPlan l, NetworkPlan p)
    {
        string cols = l.InShape.IsSequence ? $"{Steps(l)}·B" : "B";
        yield return $"forward : y = (x − μ)·r·γ + β,  μ = mean_f x,  r = 1/√(var_f x + {Text.Num(Eps(l))})".PadRight(64) + $"x,y:[{Features(l)},{cols}] γ,β:[{Features(l)}]";
        yield return $"          per column (each sample{(l.InShape.IsSequence ? "'s step" : "")}), the columns in the vector lanes; μ, r kept for backward";
        yield return "backward: dγ += Σ dy·x̂,  dβ += Σ dy,  dx = r·(g − mean_f g − x̂·mean_f(g·x̂)),  g = dy·γ,  x̂ = (x − μ)·r";
    }

    public override IEnumerable<ScratchRequest> Scratch(LayerPlan l, NetworkPlan p)
    {
        yield return new ScratchRequest("stats", BufferSize.Panel(2L * Steps(l)), ScratchScope.PerLayer, false, "μ and r per column [2, T·ld]");
    }

    public void Forward(CodeWriter cw, CSharpLayer c, Width w)
    {
        var l = c.Layer;
        using (c.ForwardMethod(cw, w))
            cw.Line($"MG.LayerNorm.Forward(ref ws.Ref({c.Input}), {Features(l)}, {Steps(l)} * ld, ref _arena.Ref({c.Tensor("weight")}), ref _arena.Ref({c.Tensor("bias")}), " +
                    $"{Text.Float(Eps(l))}, ref ws.Ref({c.Output}), ref ws.Ref({c.Scratch("stats")}), {w.Enum});");
    }

    public bool CanStep(LayerPlan l) => l.InShape.IsSequence;

    public void Step(CodeWriter cw, CSharpLayer c) =>
        cw.Line($"MG.Decode.LayerNorm(ref ws.Ref({c.Input}), {Features(c.Layer)}, {Steps(c.Layer)}, t, ref _arena.Ref({c.Tensor("weight")}), ref _arena.Ref({c.Tensor("bias")}), {Text.Float(Eps(c.Layer))}, ref ws.Ref({c.Output}));");

    public void Backward(CodeWriter cw, CSharpLayer c, Width w)
    {
        var l = c.Layer;
        using (c.BackwardMethod(cw, w))
        {
            string dx = c.InputGrad is null ? "ref Unsafe.NullRef<float>()"
                : c.ReadsNetworkInput() ? $"ref ws.InputGradient ? ref ws.Ref({c.InputGrad}) : ref Unsafe.NullRef<float>()"
                : $"ref ws.Ref({c.InputGrad})";
            cw.Line($"MG.LayerNorm.Backward(ref ws.Ref({c.OutputGrad}), ref ws.Ref({c.Input}), {Features(l)}, {Steps(l)}, ld, batch, ref _arena.Ref({c.Tensor("weight")}), ref ws.Ref({c.Scratch("stats")}),");
            cw.Line($"    ref _arena.Ref(GradientBase + {c.Tensor("weight")}), ref _arena.Ref(GradientBase + {c.Tensor("bias")}), {dx}, {w.Enum});   // dγ, dβ added; dx stored");
        }
    }
}
