using System.Collections.Generic;
using ModelGen.Generator.Analysis;
using ModelGen.Generator.Emit;
using ModelGen.Generator.Emit.CSharp;
using ModelGen.Generator.Emit.Ptx;
using ModelGen.Generator.Model;

namespace ModelGen.Generator.Layers;

/// <summary>A standalone activation layer — a member with only <c>[Relu]</c>, <c>[Tanh]</c>… —:
/// <c>y = f(x)</c> element-wise (softmax: per sample), no parameters.</summary>
internal sealed class Activation : LayerKind, ICSharpLayer, ICSharpDecodeStep, IPtxLayer
{
    public static readonly Activation Instance = new();
    public override string Name => "Activation";
    /// <summary>Made by an activation attribute alone, not by a layer attribute.</summary>
    public override string? AttributeName => null;

    public override LayerOptions? Read(AttributeArgs a, LayerDiagnostics d) => NoOptions.Instance;

    public override LayerShape? Infer(LayerSpec s, IReadOnlyList<Shape> inputs, LayerDiagnostics d)
    {
        if (!Fused.CheckAlpha(s, d)) return null;
        var x = inputs[0];
        if (x.Rank != 1 && (x.Rank != 3 || s.Activation == ActivationKind.Softmax))
        {
            Fused.WrongInput(d, s.Activation.ToString(), s.Activation == ActivationKind.Softmax ? "a 1-D (add [Flatten] first)" : "a 1-D or [channels, height, width]", x);
            return null;
        }
        long flops = s.Activation is ActivationKind.Relu or ActivationKind.LeakyRelu ? x.Size : 4L * x.Size;
        return new LayerShape(x, EquatableArray<TensorSpec>.Empty, flops, s.Options);
    }

    public override string Describe(LayerPlan l) => l.ActivationName;

    public override IEnumerable<(string Key, double Value)> Hyperparameters(LayerPlan l)
    {
        if (l.Activation == ActivationKind.LeakyRelu) yield return ("alpha", l.Alpha);
    }

    public override IEnumerable<string> Math(LayerPlan l, NetworkPlan p)
    {
        yield return $"forward : y = {Fused.Math(l.Activation, l.Alpha, "x")}".PadRight(64) + $"x,y:{l.OutShape} per sample";
        yield return $"backward: {Fused.Derivative(l.Activation, l.Alpha).Replace("dz", "dx")}";
    }

    public void Forward(CodeWriter cw, CSharpLayer c, Width w)
    {
        var l = c.Layer;
        using (c.ForwardMethod(cw, w))
        {
            if (l.Activation == ActivationKind.Softmax)
                cw.Line($"MG.Softmax.Forward(ref ws.Ref({c.Input}), ref ws.Ref({c.Output}), {l.Out}, ld, n);");
            else
                cw.Line($"MG.Activations.Forward({Fused.Runtime(l.Activation)}, {Text.Float(l.Alpha)}, ws.Span({c.Input}, {c.Extent(false)}), ws.Span({c.Output}, {c.Extent(true)}), {w.Enum});");
        }
    }

    public bool CanStep(LayerPlan l) => l.OutShape.IsSequence;

    public void Step(CodeWriter cw, CSharpLayer c)
    {
        var l = c.Layer;
        cw.Line(l.Activation == ActivationKind.Softmax
            ? $"MG.Softmax.Forward(ref ws.Ref({c.Input} + t), ref ws.Ref({c.Output} + t), {l.OutShape[1]}, {l.OutShape[0]}, 1);"
            : $"MG.Decode.Activate({Fused.Runtime(l.Activation)}, {Text.Float(l.Alpha)}, ref ws.Ref({c.Input}), {l.OutShape[1]}, {l.OutShape[0]}, t, ref ws.Ref({c.Output}));");
    }

    public void Backward(CodeWriter cw, CSharpLayer c, Width w)
    {
        var l = c.Layer;
        using (c.BackwardMethod(cw, w))
        {
            if (c.InputGrad is null) { cw.Line("// reads the network input: no gradient flows further down"); return; }
            using var guard = c.InputGradGuard(cw);
            if (l.Activation == ActivationKind.Softmax)
                cw.Line($"MG.Softmax.Backward(ref ws.Ref({c.OutputGrad}), ref ws.Ref({c.Output}), ref ws.Ref({c.InputGrad}), {l.Out}, ld, n);");
            else
                cw.Line($"MG.Activations.Backward({Fused.Runtime(l.Activation)}, {Text.Float(l.Alpha)}, ws.Span({c.OutputGrad}, {c.Extent(true)}), ws.Span({c.Output}, {c.Extent(true)}), ws.Span({c.InputGrad}, {c.Extent(false)}), {w.Enum});");
        }
    }

    // ── PTX ────────────────────────────────────────────────────────────────────────────────────────────────────
    // Element-wise: one thread per element of [batch, size]. Softmax: one thread per row of the last dimension.

    private static int Row(LayerPlan l) => l.OutShape[l.OutShape.Rank - 1];

    public void Forward(PtxLayer c)
    {
        var l = c.Layer;
        if (l.Activation == ActivationKind.Softmax)
        {
            c.ForwardKernels.Add(PtxMath.SoftmaxRows(c.Name("Forward"), $"{l.Out / Row(l)} * n", Row(l), c.Input, c.Output));
            return;
        }
        var k = PtxMath.PerElement(c.Name("Forward"), $"{l.Out} * n", new[] { "pX", "pY" }, new[] { c.Input, c.Output }, (k, g, i) =>
            k.StoreGlobal(k.Element(g[1], i), PtxMath.Activate(k, l.Activation, l.Alpha, k.LoadGlobal(k.Element(g[0], i)))));
        k.Banner.Add($"y = {Fused.Math(l.Activation, l.Alpha, "x")} element-wise over [n, {l.Out}]");
        c.ForwardKernels.Add(k);
    }

    public void Backward(PtxLayer c)
    {
        var l = c.Layer;
        if (c.InputGrad is null) return;
        PtxKernel k;
        if (l.Activation == ActivationKind.Softmax)
            k = PtxMath.SoftmaxRowsBackward(c.Name("Backward"), $"{l.Out / Row(l)} * n", Row(l), c.Output, c.OutputGrad, c.InputGrad, accumulate: true);
        else
        {
            k = PtxMath.PerElement(c.Name("Backward"), $"{l.Out} * n", new[] { "pY", "pDY", "pDX" }, new[] { c.Output, c.OutputGrad, c.InputGrad }, (k, g, i) =>
            {
                string dz = PtxMath.Derivative(k, l.Activation, l.Alpha, k.LoadGlobal(k.Element(g[0], i)), k.LoadGlobal(k.Element(g[1], i)));
                string dxa = k.Element(g[2], i), sum = k.F();
                k.Op($"add.f32 {sum}, {dz}, {k.LoadGlobal(dxa)}");
                k.StoreGlobal(dxa, sum);
            });
            k.Banner.Add($"dx += {Fused.Derivative(l.Activation, l.Alpha).Replace("dz = ", "")} element-wise over [n, {l.Out}]");
        }
        k.OnlyForInputGradient = c.ReadsNetworkInput();
        c.BackwardKernels.Add(k);
    }
}
