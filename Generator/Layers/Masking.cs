using System.Collections.Generic;
using ModelGen.Generator.Analysis;
using ModelGen.Generator.Emit;
using ModelGen.Generator.Emit.CSharp;
using ModelGen.Generator.Model;

namespace ModelGen.Generator.Layers;

internal sealed record MaskingOptions(float Value) : LayerOptions;

/// <summary>
/// Keras's <c>Masking(mask_value)</c> on a sequence <c>[T, F]</c>: a step whose features all equal the value is padding —
/// <c>y_t = 0</c> and <c>mask[t] = 0</c> — else <c>y_t = x_t</c>, <c>mask[t] = 1</c>. The mask panel <c>[T, ld]</c> is what
/// the recurrent layers above read (as an embedding's with MaskZero). Backward: <c>dx = dy ⊙ mask</c>.
/// Runtime kernel: <c>Runtime/Kernels/Recurrent.cs</c> (<c>MaskSteps</c>).
/// </summary>
internal sealed class Masking : LayerKind, ICSharpLayer
{
    public static readonly Masking Instance = new();
    public override bool NeedsSixteenColumns => true;
    public override string Name => "Masking";

    public override LayerOptions? Read(AttributeArgs a, LayerDiagnostics d)
    {
        float value = a.Float(0, 0f);
        if (!float.IsNaN(value)) return new MaskingOptions(value);
        d.Invalid("the Masking value cannot be NaN (no feature ever equals it)");
        return null;
    }

    public override LayerShape? Infer(LayerSpec s, IReadOnlyList<Shape> inputs, LayerDiagnostics d)
    {
        var x = inputs[0];
        if (!x.IsSequence) { Fused.WrongInput(d, "Masking", "a sequence [steps, features] (declare the network as [Network(steps, features)])", x); return null; }
        return new LayerShape(x, EquatableArray<TensorSpec>.Empty, x.Size, s.Options);
    }

    private static float Value(LayerPlan l) => ((MaskingOptions)l.Options).Value;

    public override bool MasksOutput(LayerPlan l) => true;

    public override string Describe(LayerPlan l) => $"Masking({Text.Num(Value(l))})";

    public override IEnumerable<(string Key, double Value)> Hyperparameters(LayerPlan l) { yield return ("value", Value(l)); }

    public override IEnumerable<string> Math(LayerPlan l, NetworkPlan p)
    {
        yield return $"forward : mask[t] = (x_t[f] ≠ {Text.Num(Value(l))} for some f);  y_t = mask[t]·x_t".PadRight(64) + $"x,y:{l.OutShape} per sample, mask:[{l.InShape[0]}]";
        yield return "          the recurrent layers above carry their state through the steps with mask 0";
        yield return "backward: dx = dy ⊙ mask";
    }

    public override IEnumerable<ScratchRequest> Scratch(LayerPlan l, NetworkPlan p)
    {
        yield return new ScratchRequest("mask", BufferSize.Panel(l.InShape[0]), ScratchScope.PerLayer, false, "1 for a step with data, 0 for padding [T, ld]");
    }

    public void Forward(CodeWriter cw, CSharpLayer c, Width w)
    {
        var l = c.Layer;
        using (c.ForwardMethod(cw, w))
            cw.Line($"MG.Recurrent.MaskSteps(ref ws.Ref({c.Input}), {l.InShape[1]}, {l.InShape[0]}, ld, n, {Text.Float(Value(l))}, ref ws.Ref({c.Output}), ref ws.Ref({c.Scratch("mask")}));");
    }

    public void Backward(CodeWriter cw, CSharpLayer c, Width w)
    {
        var l = c.Layer;
        using (c.BackwardMethod(cw, w))
        {
            if (c.InputGrad is null) { cw.Line("// reads the network input: no gradient flows further down"); return; }
            using var guard = c.InputGradGuard(cw);
            cw.Line($"MG.Recurrent.Masked(ref ws.Ref({c.OutputGrad}), ref ws.Ref({c.InputGrad}), (nint){l.InShape[0]} * ld, {l.InShape[1]}, ref ws.Ref({c.Scratch("mask")}), {l.InShape[0]} * ld);   // dx = dy ⊙ mask");
        }
    }
}
