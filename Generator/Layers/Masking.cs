using System.Collections.Generic;
using ModelGen.Generator.Analysis;
using ModelGen.Generator.Emit;
using ModelGen.Generator.Emit.CSharp;
using ModelGen.Generator.Emit.Ptx;
using ModelGen.Generator.Model;

namespace ModelGen.Generator.Layers;

internal sealed record MaskingOptions(float Value) : LayerOptions;

/// <summary>
/// Keras's <c>Masking(mask_value)</c> on a sequence <c>[T, F]</c>: a step whose features all equal the value is padding —
/// <c>y_t = 0</c> and <c>mask[t] = 0</c> — else <c>y_t = x_t</c>, <c>mask[t] = 1</c>. The mask panel <c>[T, ld]</c> is what
/// the recurrent layers above read (as an embedding's with MaskZero). Backward: <c>dx = dy ⊙ mask</c>.
/// Runtime kernel: <c>Runtime/Kernels/Recurrent.cs</c> (<c>MaskSteps</c>).
/// </summary>
internal sealed class Masking : LayerKind, ICSharpLayer, IPtxLayer, IPtxScratch
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

    // ── PTX: sample-major [batch, T, F]; one thread per step; the mask [batch, T] the recurrent layers above read ──────

    public IEnumerable<(string Name, int PerSample, int Fixed)> Scratch(LayerPlan l) { yield return ("mask", l.InShape[0], 0); }

    public void Forward(PtxLayer c)
    {
        var l = c.Layer;
        int F = l.InShape[1];
        string value = PtxText.F(Value(l));
        var k = PtxMath.PerElement(c.Name("Forward"), $"{l.InShape[0]} * n", new[] { "pX", "pY", "pMask" }, new[] { c.Input, c.Output, c.Scratch("mask") }, (k, a, row) =>
        {
            string first = k.R(), any = k.R(), real = k.P(), m = k.F();
            k.Op($"mul.lo.s32 {first}, {row}, {F}");
            string xa = k.Element(a[0], first), ya = k.Element(a[1], first);
            k.Op($"mov.u32 {any}, 0");
            k.For(PtxText.I(F), f =>
            {
                string same = k.P(), differs = k.R();
                k.Op($"setp.eq.f32 {same}, {k.LoadGlobal(k.Element(xa, f))}, {value}");   // false for NaN: a NaN step is data, as in C#
                k.Op($"selp.u32 {differs}, 0, 1, {same}");
                k.Op($"or.b32 {any}, {any}, {differs}");
            });
            k.Op($"setp.ne.u32 {real}, {any}, 0");
            k.Op($"selp.f32 {m}, {PtxMath.One}, {PtxMath.Zero}, {real}");
            k.StoreGlobal(k.Element(a[2], row), m);
            k.For(PtxText.I(F), f =>
            {
                string y = k.F();
                k.Op($"selp.f32 {y}, {k.LoadGlobal(k.Element(xa, f))}, {PtxMath.Zero}, {real}");
                k.StoreGlobal(k.Element(ya, f), y);
            });
        });
        k.Banner.Add($"mask[s, t] = (x[s, t, f] ≠ {Text.Num(Value(l))} for some f of {F}); y[s, t] = mask ? x[s, t] : 0; one thread per step");
        c.ForwardKernels.Add(k);
    }

    public void Backward(PtxLayer c)
    {
        if (c.InputGrad is null) return;
        var l = c.Layer;
        int F = l.InShape[1];
        var dx = PtxMath.PerElement(c.Name("Dx"), $"{l.Out} * n", new[] { "pDY", "pMask", "pDX" }, new[] { c.OutputGrad, c.Scratch("mask"), c.InputGrad }, (k, a, i) =>
        {
            string row = k.R(), real = k.P(), g = k.F(), r = k.F();
            k.Op($"div.u32 {row}, {i}, {F}");
            k.Op($"setp.ne.f32 {real}, {k.LoadGlobal(k.Element(a[1], row))}, {PtxMath.Zero}");
            k.Op($"selp.f32 {g}, {k.LoadGlobal(k.Element(a[0], i))}, {PtxMath.Zero}, {real}");
            string at = k.Element(a[2], i);
            k.Op($"add.f32 {r}, {g}, {k.LoadGlobal(at)}");
            k.StoreGlobal(at, r);
        });
        dx.Banner.Add($"dx += mask ? dy : 0 over [n, {l.InShape[0]}, {F}]; one thread per element");
        dx.OnlyForInputGradient = c.ReadsNetworkInput();
        c.BackwardKernels.Add(dx);
    }
}
