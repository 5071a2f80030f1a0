using System.Collections.Generic;
using ModelGen.Generator.Analysis;
using ModelGen.Generator.Diagnostics;
using ModelGen.Generator.Emit;
using ModelGen.Generator.Emit.CSharp;
using ModelGen.Generator.Model;

namespace ModelGen.Generator.Layers;

/// <summary>MaxPool2D, AvgPool2D, GlobalAvgPool and Flatten: no parameters; images in, images or flat panels out.</summary>
internal static class PoolLayer
{
    /// <summary><c>(H + 2P − F)/S + 1</c>, with MG0017 when it is below 1 and MG0018 (info) when the stride leaves rows uncovered.</summary>
    public static int? OutputSize(LayerSpec s, string dim, int size, int kernel, int stride, int pad, List<DiagnosticInfo> diags)
    {
        int span = size + 2 * pad - kernel;
        int o = span < 0 ? -1 : span / stride + 1;
        if (span < 0)
        {
            diags.Add(DiagnosticInfo.Create(Descriptors.OutputTooSmall, s.Location, s.Name, dim, size, pad, kernel, stride, (int)System.Math.Floor((double)span / stride) + 1));
            return null;
        }
        if (span % stride != 0)
            diags.Add(DiagnosticInfo.Create(Descriptors.RowsDropped, s.Location, s.Name, size, pad, kernel, span, stride, dim, span % stride));
        return o;
    }

    public static LayerPlan? Infer(LayerSpec s, int index, int[] input, string producer, List<DiagnosticInfo> diags)
    {
        if (input.Length != 3)
        {
            diags.Add(DiagnosticInfo.Create(Descriptors.ShapeMismatch, s.Location, s.Name, s.Kind.ToString(), "a [channels, height, width]", producer, string.Join(",", input)));
            return null;
        }
        int c = input[0], h = input[1], w = input[2];
        var inShape = EquatableArray.From(input);
        switch (s.Kind)
        {
            case LayerKind.Flatten:
                return new LayerPlan(index, s.Name, s.Accessibility, s.Kind, ActivationKind.None, 0f, c * h * w, c * h * w, 0, 0, 0, 0, 0, 0,
                    InShape: inShape, OutShape: EquatableArray.From(new[] { c * h * w }));
            case LayerKind.GlobalAvgPool:
                return new LayerPlan(index, s.Name, s.Accessibility, s.Kind, ActivationKind.None, 0f, c * h * w, c, 0, 0, 0, 0, (long)c * h * w, 0,
                    InShape: inShape, OutShape: EquatableArray.From(new[] { c }), KH: h, KW: w, Stride: 1);
            default:
                if (s.KH < 1 || s.Stride < 1)
                {
                    diags.Add(DiagnosticInfo.Create(Descriptors.NonPositiveSize, s.Location, s.Name, s.KH < 1 ? "pool size" : "stride", s.KH < 1 ? s.KH : s.Stride));
                    return null;
                }
                int? ho = OutputSize(s, "height", h, s.KH, s.Stride, 0, diags);
                int? wo = OutputSize(s, "width", w, s.KW, s.Stride, 0, diags);
                if (ho is null || wo is null) return null;
                return new LayerPlan(index, s.Name, s.Accessibility, s.Kind, ActivationKind.None, 0f, c * h * w, c * ho.Value * wo.Value, 0, 0, 0, 0,
                    (long)c * ho.Value * wo.Value * s.KH * s.KW, 0,
                    InShape: inShape, OutShape: EquatableArray.From(new[] { c, ho.Value, wo.Value }), KH: s.KH, KW: s.KW, Stride: s.Stride);
        }
    }

    public static IEnumerable<string> Math(LayerPlan l)
    {
        string shapes = $"x:{LayerPlan.ShapeText(l.InShape)} y:{LayerPlan.ShapeText(l.OutShape)}";
        switch (l.Kind)
        {
            case LayerKind.MaxPool2D:
                yield return $"forward : y[c,i,j] = max_(u,v < {l.KH}) x[c, i·{l.Stride}+u, j·{l.Stride}+v]".PadRight(64) + shapes;
                yield return "backward: dx[argmax] += dy   (the gradient goes to the maximum only; ties: the first in row-major order)";
                break;
            case LayerKind.AvgPool2D:
                yield return $"forward : y[c,i,j] = (1/{l.KH * l.KW}) Σ_(u,v < {l.KH}) x[c, i·{l.Stride}+u, j·{l.Stride}+v]".PadRight(64) + shapes;
                yield return $"backward: dx[c, i·{l.Stride}+u, j·{l.Stride}+v] += dy[c,i,j] / {l.KH * l.KW}";
                break;
            case LayerKind.GlobalAvgPool:
                yield return $"forward : y[c] = (1/{l.InPixels}) Σ_(i,j) x[c,i,j]".PadRight(64) + shapes;
                yield return $"backward: dx[c,i,j] = dy[c] / {l.InPixels}";
                break;
            default:
                yield return $"forward : y[(c·H + i)·W + j] = x[c,i,j]   (PyTorch's flatten order)".PadRight(64) + shapes;
                yield return "backward: dx[c,i,j] = dy[(c·H + i)·W + j]";
                break;
        }
        if (l.Kind is LayerKind.MaxPool2D or LayerKind.AvgPool2D) yield return $"receptive field: {l.ReceptiveField}";
    }

    private static string Geo(LayerPlan l) =>
        $"{l.InShape[0]}, {l.InShape[1]}, {l.InShape[2]}, {Geometry.LdP(l.InPixels)}, {l.KH}, {l.Stride}, {l.OutShape[1]}, {l.OutShape[2]}, {Geometry.LdP(l.OutPixels)}";

    public static void EmitForward(CodeWriter cw, LayerContext c, Width w)
    {
        var l = c.Layer;
        int cin = l.InShape[0], ldIn = Geometry.LdP(l.InPixels);
        cw.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
        using (cw.Block($"private void {l.Name}_Forward_{w.Name}(int n, int ld)"))
        {
            switch (l.Kind)
            {
                case LayerKind.Flatten:
                    cw.Line($"MG.Images.ToPanel(ref _arena.Ref({c.Input}), _batch, {cin}, {l.InPixels}, {ldIn}, ref _arena.Ref({c.Output}), ld);");
                    break;
                case LayerKind.GlobalAvgPool:
                    cw.Line($"MG.Pool.GlobalAverage(ref _arena.Ref({c.Input}), _batch, {cin}, {l.InPixels}, {ldIn}, ref _arena.Ref({c.Output}), ld);");
                    break;
                default:
                    int so = Geometry.ImageStride(l.OutShape[0], l.OutPixels);
                    using (cw.Block("for (int b = 0; b < _batch; b++)"))
                        cw.Line($"MG.Pool.{(l.Kind == LayerKind.MaxPool2D ? "Max" : "Average")}(ref _arena.Ref({c.Input} + (long)b * {cin * ldIn}), {Geo(l)}, ref _arena.Ref({c.Output} + (long)b * {so}));");
                    break;
            }
        }
    }

    public static void EmitBackward(CodeWriter cw, LayerContext c, Width w)
    {
        var l = c.Layer;
        int cin = l.InShape[0], ldIn = Geometry.LdP(l.InPixels);
        cw.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
        using (cw.Block($"private void {l.Name}_Backward_{w.Name}(int batch, int n, int ld)"))
        {
            if (c.InputGrad is null) { cw.Line("// first layer: no gradient flows further down"); return; }
            switch (l.Kind)
            {
                case LayerKind.Flatten:
                    cw.Line($"MG.Images.FromPanel(ref _arena.Ref({c.OutputGrad}), ld, batch, {cin}, {l.InPixels}, {ldIn}, ref _arena.Ref({c.InputGrad}));");
                    break;
                case LayerKind.GlobalAvgPool:
                    cw.Line($"MG.Pool.GlobalAverageBackward(ref _arena.Ref({c.OutputGrad}), ld, batch, {cin}, {l.InPixels}, {ldIn}, ref _arena.Ref({c.InputGrad}));");
                    break;
                default:
                    int so = Geometry.ImageStride(l.OutShape[0], l.OutPixels);
                    using (cw.Block("for (int b = 0; b < batch; b++)"))
                        cw.Line(l.Kind == LayerKind.MaxPool2D
                            ? $"MG.Pool.MaxBackward(ref _arena.Ref({c.Input} + (long)b * {cin * ldIn}), ref _arena.Ref({c.OutputGrad} + (long)b * {so}), {Geo(l)}, ref _arena.Ref({c.InputGrad} + (long)b * {cin * ldIn}));"
                            : $"MG.Pool.AverageBackward(ref _arena.Ref({c.OutputGrad} + (long)b * {so}), {Geo(l)}, ref _arena.Ref({c.InputGrad} + (long)b * {cin * ldIn}));");
                    break;
            }
        }
    }
}
