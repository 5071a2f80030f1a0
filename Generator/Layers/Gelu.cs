using System.Collections.Generic;
using ModelGen.Generator.Analysis;
using ModelGen.Generator.Emit;
using ModelGen.Generator.Emit.CSharp;
using ModelGen.Generator.Model;

namespace ModelGen.Generator.Layers;

internal sealed record GeluOptions(bool Tanh) : LayerOptions;

/// <summary>GELU, <c>y = x·Φ(x)</c>, exact or in GPT-2's tanh form (PyTorch's <c>approximate</c>); element-wise, no
/// parameters, any input shape. Runtime kernel: <c>Runtime/Kernels/Gelu.cs</c>.</summary>
internal sealed class Gelu : LayerKind, ICSharpLayer, ICSharpDecodeStep
{
    public static readonly Gelu Instance = new();
    public override string Name => "Gelu";

    public override LayerOptions? Read(AttributeArgs a, LayerDiagnostics d)
    {
        string approximate = a.String(0) ?? "none";
        if (approximate is "none" or "tanh") return new GeluOptions(approximate == "tanh");
        d.Invalid($"Gelu approximate must be \"none\" or \"tanh\" (PyTorch's names), got \"{approximate}\"");
        return null;
    }

    public override LayerShape? Infer(LayerSpec s, IReadOnlyList<Shape> inputs, LayerDiagnostics d) =>
        new(inputs[0], EquatableArray<TensorSpec>.Empty, 8L * inputs[0].Size, s.Options);

    private static bool Tanh(LayerPlan l) => ((GeluOptions)l.Options).Tanh;

    public override string Describe(LayerPlan l) => Tanh(l) ? "Gelu(tanh)" : "Gelu";

    public override IEnumerable<(string Key, double Value)> Hyperparameters(LayerPlan l) { yield return ("tanh", Tanh(l) ? 1 : 0); }

    public override IEnumerable<string> Math(LayerPlan l, NetworkPlan p)
    {
        if (Tanh(l))
        {
            yield return "forward : y = ½x(1 + tanh u),  u = √(2/π)(x + 0.044715x³)".PadRight(64) + $"x,y:{l.OutShape} per sample";
            yield return "backward: dx = dy ⊙ (½(1 + tanh u) + ½x(1 − tanh²u)·√(2/π)(1 + 0.134145x²))   (reads x)";
        }
        else
        {
            yield return "forward : y = x·Φ(x) = ½x(1 + erf(x/√2))".PadRight(64) + $"x,y:{l.OutShape} per sample";
            yield return "backward: dx = dy ⊙ (Φ(x) + x·φ(x)),  φ(x) = e^(−x²/2)/√(2π)   (reads x)";
        }
    }

    public void Forward(CodeWriter cw, CSharpLayer c, Width w)
    {
        using (c.ForwardMethod(cw, w))
            cw.Line($"MG.Gelu.Forward(tanh: {(Tanh(c.Layer) ? "true" : "false")}, ws.Span({c.Input}, {c.Extent(false)}), ws.Span({c.Output}, {c.Extent(true)}), {w.Enum});");
    }

    public bool CanStep(LayerPlan l) => l.OutShape.IsSequence;

    public void Step(CodeWriter cw, CSharpLayer c) =>
        cw.Line($"MG.Decode.Gelu({(Tanh(c.Layer) ? "true" : "false")}, ref ws.Ref({c.Input}), {c.Layer.OutShape[1]}, {c.Layer.OutShape[0]}, t, ref ws.Ref({c.Output}));");

    public void Backward(CodeWriter cw, CSharpLayer c, Width w)
    {
        using (c.BackwardMethod(cw, w))
        {
            if (c.InputGrad is null) { cw.Line("// reads the network input: no gradient flows further down"); return; }
            using var guard = c.InputGradGuard(cw);
            cw.Line($"MG.Gelu.Backward(tanh: {(Tanh(c.Layer) ? "true" : "false")}, ws.Span({c.OutputGrad}, {c.Extent(true)}), ws.Span({c.Input}, {c.Extent(false)}), ws.Span({c.InputGrad}, {c.Extent(false)}), {w.Enum});");
        }
    }
}
