using System.Collections.Generic;
using ModelGen.Generator.Analysis;
using ModelGen.Generator.Diagnostics;
using ModelGen.Generator.Emit;
using ModelGen.Generator.Emit.CSharp;
using ModelGen.Generator.Model;

namespace ModelGen.Generator.Layers;

/// <summary>A standalone activation layer: <c>y = f(x)</c> element-wise (softmax: per sample), no parameters.</summary>
internal static class ActivationLayer
{
    public static LayerPlan? Infer(LayerSpec s, int index, int[] input, string producer, List<DiagnosticInfo> diags)
    {
        if (!CheckAlpha(s, diags)) return null;
        if (input.Length != 1 && (input.Length != 3 || s.Activation == ActivationKind.Softmax))
        {
            diags.Add(DiagnosticInfo.Create(Descriptors.ShapeMismatch, s.Location, s.Name, s.Activation.ToString(),
                s.Activation == ActivationKind.Softmax ? "a 1-D (add [Flatten] first)" : "a 1-D or [channels, height, width]", producer, string.Join(",", input)));
            return null;
        }
        int f = 1;
        foreach (int d in input) f *= d;
        long flops = s.Activation is ActivationKind.Relu or ActivationKind.LeakyRelu ? f : 4L * f;
        var shape = EquatableArray.From(input);
        return new LayerPlan(index, s.Name, s.Accessibility, LayerKind.Activation, s.Activation, s.Alpha, f, f, 0, 0, 0, 0, flops, 1, InShape: shape, OutShape: shape);
    }

    /// <summary>Leaky ReLU's slope must be a number in [0, 1).</summary>
    public static bool CheckAlpha(LayerSpec s, List<DiagnosticInfo> diags)
    {
        if (s.Activation != ActivationKind.LeakyRelu) return true;
        if (!(s.Alpha >= 0f && s.Alpha < 1f))
        {
            diags.Add(DiagnosticInfo.Create(Descriptors.InvalidArgument, s.Location, s.Name,
                $"LeakyRelu alpha must be in [0, 1), got {s.Alpha.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}"));
            return false;
        }
        return true;
    }

    public static IEnumerable<string> Math(LayerPlan l)
    {
        yield return $"forward : y = {LayerTable.ActivationMath(l.Activation, l.Alpha, "x")}".PadRight(64) + $"x,y:{LayerPlan.ShapeText(l.OutShape)} per sample";
        yield return $"backward: {LayerTable.DerivativeMath(l.Activation, l.Alpha).Replace("dz", "dx")}";
    }

    public static void EmitForward(CodeWriter cw, LayerContext c, Width w)
    {
        var l = c.Layer;
        cw.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
        using (cw.Block($"private void {l.Name}_Forward_{w.Name}(int n, int ld)"))
        {
            if (l.Activation == ActivationKind.Softmax)
                cw.Line($"MG.Softmax.Forward(ref _arena.Ref({c.Input}), ref _arena.Ref({c.Output}), {l.Out}, ld, n);");
            else
                cw.Line($"MG.Activations.Forward({LayerTable.RuntimeActivation(l.Activation)}, {LayerTable.Float(l.Alpha)}, _arena.Span({c.Input}, {Geometry.Extent(l, false)}), _arena.Span({c.Output}, {Geometry.Extent(l, true)}), {w.Enum});");
        }
    }

    public static void EmitBackward(CodeWriter cw, LayerContext c, Width w)
    {
        var l = c.Layer;
        cw.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
        using (cw.Block($"private void {l.Name}_Backward_{w.Name}(int batch, int n, int ld)"))
        {
            if (c.InputGrad is null) { cw.Line("// first layer: no gradient flows further down"); return; }
            if (l.Activation == ActivationKind.Softmax)
                cw.Line($"MG.Softmax.Backward(ref _arena.Ref({c.OutputGrad}), ref _arena.Ref({c.Output}), ref _arena.Ref({c.InputGrad}), {l.Out}, ld, n);");
            else
                cw.Line($"MG.Activations.Backward({LayerTable.RuntimeActivation(l.Activation)}, {LayerTable.Float(l.Alpha)}, _arena.Span({c.OutputGrad}, {Geometry.Extent(l, true)}), _arena.Span({c.Output}, {Geometry.Extent(l, true)}), _arena.Span({c.InputGrad}, {Geometry.Extent(l, false)}), {w.Enum});");
        }
    }
}
