using System.Collections.Generic;
using ModelGen.Generator.Analysis;
using ModelGen.Generator.Diagnostics;
using ModelGen.Generator.Emit;
using ModelGen.Generator.Emit.CSharp;
using ModelGen.Generator.Model;

namespace ModelGen.Generator.Layers;

internal sealed record PoolOptions(int Size, int Stride) : LayerOptions;

/// <summary>Output sizes of windowed layers, shared by convolutions and pooling.</summary>
internal static class Pooling
{
    /// <summary><c>(H + 2P − F)/S + 1</c>, with MG0017 when it is below 1 and MG0018 (info) when the stride leaves rows uncovered.</summary>
    public static int? OutputSize(LayerDiagnostics d, string dim, int size, int kernel, int stride, int pad)
    {
        int span = size + 2 * pad - kernel;
        if (span < 0)
        {
            d.Report(Descriptors.OutputTooSmall, dim, size, pad, kernel, stride, (int)System.Math.Floor((double)span / stride) + 1);
            return null;
        }
        if (span % stride != 0) d.Report(Descriptors.RowsDropped, size, pad, kernel, span, stride, dim, span % stride);
        return span / stride + 1;
    }
}

/// <summary>Max and average pooling over <c>size × size</c> windows: images in, images out, no parameters.
/// The two kinds differ only in the reduction (<see cref="MaxPool2D"/>, <see cref="AvgPool2D"/>).</summary>
internal abstract class WindowPool : LayerKind, ICSharpLayer
{
    /// <summary><c>Max</c> or <c>Average</c>: the runtime's <c>MG.Pool</c> methods.</summary>
    protected abstract string Op { get; }

    public override LayerOptions? Read(AttributeArgs a, LayerDiagnostics d)
    {
        int size = a.Int(0, 2), stride = a.Int(1, 0);
        return new PoolOptions(size, stride == 0 ? size : stride);
    }

    public override LayerShape? Infer(LayerSpec s, IReadOnlyList<Shape> inputs, LayerDiagnostics d)
    {
        var o = (PoolOptions)s.Options;
        var x = inputs[0];
        if (x.Rank != 3) { Fused.WrongInput(d, Name, "a [channels, height, width]", x); return null; }
        if (o.Size < 1 || o.Stride < 1) { d.Report(Descriptors.NonPositiveSize, o.Size < 1 ? "pool size" : "stride", o.Size < 1 ? o.Size : o.Stride); return null; }
        int? ho = Pooling.OutputSize(d, "height", x[1], o.Size, o.Stride, 0);
        int? wo = Pooling.OutputSize(d, "width", x[2], o.Size, o.Stride, 0);
        if (ho is null || wo is null) return null;
        return new LayerShape(Shape.Of(x[0], ho.Value, wo.Value), EquatableArray<TensorSpec>.Empty, (long)x[0] * ho.Value * wo.Value * o.Size * o.Size, o);
    }

    protected static PoolOptions Opt(LayerPlan l) => (PoolOptions)l.Options;

    public override ReceptiveField ReceptiveField(LayerPlan l, IReadOnlyList<ReceptiveField> inputs)
        => inputs[0].Through(Opt(l).Size, Opt(l).Stride);

    public override string Describe(LayerPlan l) => $"{Name}({Opt(l).Size}" + (Opt(l).Stride != Opt(l).Size ? $", stride {Opt(l).Stride}" : "") + ")";

    public override IEnumerable<(string Key, double Value)> Hyperparameters(LayerPlan l)
    {
        yield return ("size", Opt(l).Size);
        yield return ("stride", Opt(l).Stride);
    }

    protected static string Geo(LayerPlan l) =>
        $"{l.InShape[0]}, {l.InShape[1]}, {l.InShape[2]}, {Geometry.LdP(l.InPixels)}, {Opt(l).Size}, {Opt(l).Stride}, {l.OutShape[1]}, {l.OutShape[2]}, {Geometry.LdP(l.OutPixels)}";

    public void Forward(CodeWriter cw, CSharpLayer c, Width w)
    {
        var l = c.Layer;
        int inStride = l.InShape[0] * Geometry.LdP(l.InPixels), outStride = Geometry.ImageStride(l.OutShape[0], l.OutPixels);
        using (c.ForwardMethod(cw, w))
            c.RunParts(cw, w, "Forward", CSharpLayer.ParallelUnits("ws.Batch", "ws.Batch", 16L * (inStride + outStride), bySample: true), "samples");
        cw.Line();
        using (c.PartMethod(cw, w, "Forward"))
        {
            cw.Line("ThreadTeam.Split(ws.Batch, 1, part, parts, out int b0, out int b1);   // this part's samples");
            using (cw.Block("for (int b = b0; b < b1; b++)"))
                cw.Line($"MG.Pool.{Op}(ref ws.Ref({c.Input} + (long)b * {inStride}), {Geo(l)}, ref ws.Ref({c.Output} + (long)b * {outStride}){(Op == "Max" ? ", " + w.Enum : "")});");
        }
    }

    public void Backward(CodeWriter cw, CSharpLayer c, Width w)
    {
        var l = c.Layer;
        int inStride = l.InShape[0] * Geometry.LdP(l.InPixels), outStride = Geometry.ImageStride(l.OutShape[0], l.OutPixels);
        using (c.BackwardMethod(cw, w))
        {
            if (c.InputGrad is null) { cw.Line("// reads the network input: no gradient flows further down"); return; }
            using var guard = c.InputGradGuard(cw);
            c.RunParts(cw, w, "Backward", CSharpLayer.ParallelUnits("batch", "batch", 16L * (2 * inStride + outStride), bySample: true), "samples");
        }
        if (c.InputGrad is null) return;
        cw.Line();
        using (c.PartMethod(cw, w, "Backward"))
        {
            cw.Line("ThreadTeam.Split(ws.Batch, 1, part, parts, out int b0, out int b1);   // this part's samples");
            using (cw.Block("for (int b = b0; b < b1; b++)"))
                cw.Line(Op == "Max"
                    ? $"MG.Pool.MaxBackward(ref ws.Ref({c.Input} + (long)b * {inStride}), ref ws.Ref({c.OutputGrad} + (long)b * {outStride}), {Geo(l)}, ref ws.Ref({c.InputGrad} + (long)b * {inStride}), {w.Enum});"
                    : $"MG.Pool.AverageBackward(ref ws.Ref({c.OutputGrad} + (long)b * {outStride}), {Geo(l)}, ref ws.Ref({c.InputGrad} + (long)b * {inStride}));");
        }
    }
}
