using System.Collections.Generic;
using ModelGen.Generator.Analysis;
using ModelGen.Generator.Diagnostics;
using ModelGen.Generator.Emit;
using ModelGen.Generator.Emit.CSharp;
using ModelGen.Generator.Emit.Ptx;
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
internal abstract class WindowPool : LayerKind, ICSharpLayer, IPtxLayer
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

    /// <summary>A pooling that alone reads a convolution (or a BatchNorm folded into one) whose activation goes into the
    /// store is computed in that convolution's forward (inference; <c>FusePooling</c>): a direct convolution pools each sample's output image while
    /// it is in the cache (any window); a Winograd one stores the maximum or mean of each F(2×2, 3×3) output tile, which
    /// is exactly one window of a 2×2, stride-2 pool (that window only).</summary>
    public override bool FusesInto(LayerPlan store, LayerPlan producer, LayerPlan self) =>
        store.Kind is Conv2D && Fused.InEpilogue(producer.Activation)
        && (!Conv2D.IsWinograd(store) || Opt(self).Size == 2 && Opt(self).Stride == 2);

    /// <summary>The banner line of a pool that <see cref="FusesInto"/> its producer, else null.</summary>
    protected static string? FusedLine(LayerPlan l, NetworkPlan p)
    {
        if (p.Buffers.Layers.Count <= l.Index || p.Buffers.Layers[l.Index].FusedInto < 0) return null;
        var producer = p.Layers[p.Buffers.Layers[l.Index].FusedInto];
        int fold = p.Buffers.Layers[producer.Index].FoldInto;
        string who = fold >= 0 ? $"{producer.Name} with {p.Layers[fold].Name} folded in (FoldBatchNorm, FusePooling)" : $"{producer.Name} (FusePooling)";
        return Conv2D.IsWinograd(producer)
            ? $"inference: computed by the output transform of {who}: it writes this output instead of the one this layer reads"
            : $"inference: computed by {who}, from each sample's output while it is in the cache: it writes this output instead of the one this layer reads";
    }

    /// <summary>The convolution whose backward runs this pooling's backward, sample by sample, or null. A pooling that
    /// alone reads a convolution's output (training; any window) passes its gradient back inside that convolution's
    /// per-sample loop, just before the convolution reads it: one sample's dz (W2's Conv2: 130 KB) is then still in the
    /// cache for the activation's derivative, the bias sums and the input gradient, instead of the whole batch's (4 MB)
    /// going out to L3 and back (measured in the README, "The pooling's backward inside the convolution's"). Same calls,
    /// same order per sample: the same bits.</summary>
    public static LayerPlan? BackwardInto(NetworkPlan p, LayerPlan pool)
    {
        if (pool.Kind is not WindowPool || !p.Trainable || pool.InputIndex < 0 || p.Buffers.Layers.Count <= pool.Index) return null;
        var producer = p.Layers[pool.InputIndex];
        if (producer.Kind is not Conv2D) return null;
        int readers = 0;
        foreach (var l in p.Layers)
            foreach (int i in l.Inputs)
                if (i == producer.Index) readers++;
        return readers == 1 ? producer : null;   // another reader adds its share of dz (a GradientAdd after its backward): the pooling's store is not the whole of it
    }

    /// <summary>True when the max pooling <paramref name="pool"/>'s backward, run inside <paramref name="conv"/>'s, applies
    /// the convolution's ReLU derivative as well (<c>MaxBackward(…, relu: true)</c>: the same bits, one pass fewer).</summary>
    public static bool TakesRelu(LayerPlan pool, LayerPlan conv) => ((WindowPool)pool.Kind).Op == "Max" && conv.Activation == ActivationKind.Relu;

    /// <summary>The pooling whose backward <paramref name="conv"/>'s backward runs sample by sample (<see cref="BackwardInto"/>), or null.</summary>
    public static LayerPlan? BackwardPool(NetworkPlan p, LayerPlan conv)
    {
        foreach (var l in p.Layers)
            if (l.Kind is WindowPool && l.InputIndex == conv.Index && BackwardInto(p, l) == conv) return l;
        return null;
    }

    /// <summary>The backward of sample <c>b</c>: <c>dx = 0</c>, then each <c>dy</c> to its window's first maximum (or shared
    /// equally). The pooling's own part method's call, and the one its producer's backward makes (<see cref="BackwardInto"/>).</summary>
    /// <remarks>With <paramref name="relu"/> (a max pooling whose input is a ReLU's output, the call its producer makes)
    /// the gradient is the ReLU's too: dy goes to a window's maximum only when it is positive.</remarks>
    public static string BackwardCall(NetworkPlan p, LayerPlan pool, Width w, bool relu = false)
    {
        var b = p.Buffers.Layers[pool.Index];
        int inStride = pool.InShape[0] * Geometry.LdP(pool.InPixels), outStride = Geometry.ImageStride(pool.OutShape[0], pool.OutPixels);
        return ((WindowPool)pool.Kind).Op == "Max"
            ? $"MG.Pool.MaxBackward(ref ws.Ref({b.Input} + (long)b * {inStride}), ref ws.Ref({b.OutputGrad} + (long)b * {outStride}), {Geo(pool)}, ref ws.Ref({b.InputGrad} + (long)b * {inStride}), {w.Enum}{(relu ? ", relu: true" : "")});"
            : $"MG.Pool.AverageBackward(ref ws.Ref({b.OutputGrad} + (long)b * {outStride}), {Geo(pool)}, ref ws.Ref({b.InputGrad} + (long)b * {inStride}));";
    }

    /// <summary>The banner line of a pooling whose backward runs in its producer's (<see cref="BackwardInto"/>), else null.</summary>
    protected static string? BackwardLine(LayerPlan l, NetworkPlan p) =>
        BackwardInto(p, l) is { } conv ? $"training: the backward runs inside {conv.Name}'s, sample by sample (each sample's gradient still in the cache when {conv.Name} reads it)" : null;

    /// <summary>The pooling of one sample: <paramref name="src"/> holds this layer's input image, [C] planes
    /// <paramref name="ldIn"/> apart with rows <paramref name="rowStride"/> apart, <paramref name="dst"/> its output
    /// image. The forward's call, and the one a direct convolution that this layer fuses into makes on its own output.</summary>
    public static string Call(LayerPlan pool, string src, int rowStride, int ldIn, string dst, Width w)
    {
        var o = Opt(pool);
        string op = ((WindowPool)pool.Kind).Op;
        return $"MG.Pool.{op}(ref {src}, {pool.InShape[0]}, {pool.InShape[1]}, {rowStride}, {ldIn}, {o.Size}, {o.Stride}, {pool.OutShape[1]}, {pool.OutShape[2]}, {Geometry.LdP(pool.OutPixels)}, ref {dst}{(op == "Max" ? ", " + w.Enum : "")});";
    }

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
        {
            if (c.FusedInto is { } producer)
                cw.Line(c.Network.Buffers.Layers[producer.Index].FoldInto >= 0
                    ? $"if (!ws.Training && FoldBatchNorm && FusePooling) return;   // inference: {producer.Name}'s forward, with {c.Network.Layers[c.Network.Buffers.Layers[producer.Index].FoldInto].Name} folded in, wrote this output"
                    : $"if (!ws.Training && FusePooling) return;   // inference: {producer.Name}'s forward wrote this output");
            c.RunParts(cw, w, "Forward", CSharpLayer.ParallelUnits("ws.Batch", "ws.Batch", 16L * (inStride + outStride), bySample: true), "samples", chunked: true);
        }
        cw.Line();
        using (c.PartMethod(cw, w, "Forward"))
        {
            cw.Line("ThreadTeam.Split(ws.Batch, 1, part, parts, out int b0, out int b1);   // this part's samples");
            using (cw.Block("for (int b = b0; b < b1; b++)"))
                cw.Line(Call(l, $"ws.Ref({c.Input} + (long)b * {inStride})", l.InShape[2], Geometry.LdP(l.InPixels), $"ws.Ref({c.Output} + (long)b * {outStride})", w));
        }
    }

    public void Backward(CodeWriter cw, CSharpLayer c, Width w)
    {
        var l = c.Layer;
        int inStride = l.InShape[0] * Geometry.LdP(l.InPixels), outStride = Geometry.ImageStride(l.OutShape[0], l.OutPixels);
        var into = BackwardInto(c.Network, l);
        using (c.BackwardMethod(cw, w))
        {
            if (c.InputGrad is null) { cw.Line("// reads the network input: no gradient flows further down"); return; }
            if (into is not null) { cw.Line($"// {into.Name}'s backward runs this one, sample by sample ({GeneratedNames.PartMethod(into, "Backward", w.Name)})"); return; }
            using var guard = c.InputGradGuard(cw);
            c.RunParts(cw, w, "Backward", CSharpLayer.ParallelUnits("batch", "batch", 16L * (2 * inStride + outStride), bySample: true), "samples", chunked: true);
        }
        if (c.InputGrad is null || into is not null) return;
        cw.Line();
        using (c.PartMethod(cw, w, "Backward"))
        {
            cw.Line("ThreadTeam.Split(ws.Batch, 1, part, parts, out int b0, out int b1);   // this part's samples");
            using (cw.Block("for (int b = b0; b < b1; b++)"))
                cw.Line(BackwardCall(c.Network, l, w));
        }
    }

    // ── PTX: one thread per output element forward; one per input element backward, which visits the windows that
    //    contain its pixel (no atomics: the same sums for any launch) ──────────────────────────────────────────────

    /// <summary>The window's reduction of output (i, j) of plane <paramref name="plane"/> (the value, and for max pooling
    /// whether input (h, w) is its first maximum when <paramref name="h"/> is given).</summary>
    private string Window(PtxKernel k, LayerPlan l, string x, string plane, string i, string j, string? h, string? w, out string? isArgmax)
    {
        var o = Opt(l);
        int H = l.InShape[1], W = l.InShape[2];
        string r0 = k.R(), c0 = k.R(), best = k.F();
        k.Op($"mul.lo.s32 {r0}, {i}, {o.Stride}");
        k.Op($"mul.lo.s32 {c0}, {j}, {o.Stride}");
        isArgmax = null;
        string? bestH = null, bestW = null;
        if (Op == "Max") { bestH = k.R(); bestW = k.R(); }
        for (int u = 0; u < o.Size; u++)
            for (int v = 0; v < o.Size; v++)
            {
                string e = k.R();
                k.Op($"add.s32 {e}, {r0}, {u}");
                k.Op($"mad.lo.s32 {e}, {e}, {W}, {c0}");
                if (v > 0) k.Op($"add.s32 {e}, {e}, {v}");
                k.Op($"mad.lo.s32 {e}, {plane}, {H * W}, {e}");
                string val = k.LoadGlobal(k.Element(x, e));
                if (u == 0 && v == 0)
                {
                    k.Op($"mov.f32 {best}, {val}");
                    if (bestH is not null) { k.Op($"mov.u32 {bestH}, 0"); k.Op($"mov.u32 {bestW}, 0"); }
                    continue;
                }
                if (Op == "Max")
                {
                    string gt = k.P();
                    k.Op($"setp.gt.f32 {gt}, {val}, {best}");   // strictly greater: the first maximum in row-major order stays
                    k.Op(gt, $"mov.f32 {best}, {val}");
                    k.Op(gt, $"mov.u32 {bestH}, {u}");
                    k.Op(gt, $"mov.u32 {bestW}, {v}");
                }
                else k.Op($"add.f32 {best}, {best}, {val}");
            }
        if (Op != "Max") k.Op($"mul.f32 {best}, {best}, {PtxText.F(1f / (o.Size * o.Size))}");
        if (Op == "Max" && h is not null)
        {
            string ah = k.R(), aw = k.R(), p1 = k.P(), p2 = k.P();
            k.Op($"add.s32 {ah}, {r0}, {bestH}");
            k.Op($"add.s32 {aw}, {c0}, {bestW}");
            k.Op($"setp.eq.u32 {p1}, {ah}, {h}");
            k.Op($"setp.eq.u32 {p2}, {aw}, {w}");
            isArgmax = k.P();
            k.Op($"and.pred {isArgmax}, {p1}, {p2}");
        }
        return best;
    }

    public void Forward(PtxLayer c)
    {
        var l = c.Layer;
        int Ho = l.OutShape[1], Wo = l.OutShape[2];
        var kernel = PtxMath.PerElement(c.Name("Forward"), $"{l.Out} * n", new[] { "pX", "pY" }, new[] { c.Input, c.Output }, (k, a, idx) =>
        {
            var (t, j) = PtxMath.DivRem(k, idx, Wo);
            var (plane, i) = PtxMath.DivRem(k, t, Ho);
            k.StoreGlobal(k.Element(a[1], idx), Window(k, l, a[0], plane, i, j, null, null, out _));
        });
        kernel.Banner.Add($"{(Op == "Max" ? "max" : "mean")} over {Opt(l).Size}×{Opt(l).Size} windows, stride {Opt(l).Stride}: [n, {l.InShape[0]}, {l.InShape[1]}, {l.InShape[2]}] → [n, {l.OutShape[0]}, {Ho}, {Wo}], one thread per output");
        c.ForwardKernels.Add(kernel);
    }

    public void Backward(PtxLayer c)
    {
        var l = c.Layer;
        if (c.InputGrad is null) return;
        var o = Opt(l);
        int H = l.InShape[1], W = l.InShape[2], Ho = l.OutShape[1], Wo = l.OutShape[2];
        var kernel = PtxMath.PerElement(c.Name("Backward"), $"{l.In} * n", new[] { "pX", "pDY", "pDX" }, new[] { c.Input, c.OutputGrad, c.InputGrad }, (k, a, idx) =>
        {
            var (t, w) = PtxMath.DivRem(k, idx, W);
            var (plane, h) = PtxMath.DivRem(k, t, H);
            string sum = k.F();
            k.Op($"mov.f32 {sum}, {PtxMath.Zero}");
            // Output (i, j) covers (h, w) when h − u = i·s for a tap u in [0, size), 0 ≤ i < Ho (likewise w).
            for (int u = 0; u < o.Size; u++)
                for (int v = 0; v < o.Size; v++)
                {
                    string skip = k.NewLabel("window"), th = k.R(), tw = k.R(), p = k.P(), q = k.P();
                    k.Op($"sub.s32 {th}, {h}, {u}");
                    k.Op($"sub.s32 {tw}, {w}, {v}");
                    k.Op($"setp.lt.s32 {p}, {th}, 0");
                    k.Op($"setp.lt.s32 {q}, {tw}, 0");
                    k.Op($"or.pred {p}, {p}, {q}");
                    k.Op(p, $"bra {skip}");
                    var (i, ri) = PtxMath.DivRem(k, th, o.Stride);
                    var (j, rj) = PtxMath.DivRem(k, tw, o.Stride);
                    if (o.Stride > 1)
                    {
                        k.Op($"setp.ne.u32 {p}, {ri}, 0");
                        k.Op($"setp.ne.u32 {q}, {rj}, 0");
                        k.Op($"or.pred {p}, {p}, {q}");
                        k.Op(p, $"bra {skip}");
                    }
                    k.Op($"setp.ge.u32 {p}, {i}, {Ho}");
                    k.Op($"setp.ge.u32 {q}, {j}, {Wo}");
                    k.Op($"or.pred {p}, {p}, {q}");
                    k.Op(p, $"bra {skip}");
                    string e = k.R();
                    k.Op($"mad.lo.s32 {e}, {plane}, {Ho}, {i}");
                    k.Op($"mad.lo.s32 {e}, {e}, {Wo}, {j}");
                    string dy = k.LoadGlobal(k.Element(a[1], e));
                    if (Op == "Max")
                    {
                        Window(k, l, a[0], plane, i, j, h, w, out var isArgmax);
                        k.Op(isArgmax!, $"add.f32 {sum}, {sum}, {dy}");
                    }
                    else k.Op($"fma.rn.f32 {sum}, {dy}, {PtxText.F(1f / (o.Size * o.Size))}, {sum}");
                    k.Label(skip);
                }
            string dxa = k.Element(a[2], idx), r = k.F();
            k.Op($"add.f32 {r}, {sum}, {k.LoadGlobal(dxa)}");
            k.StoreGlobal(dxa, r);
        });
        kernel.Banner.Add(Op == "Max"
            ? "dx[h,w] += Σ dy[i,j] over the windows whose first maximum is (h,w); one thread per input pixel"
            : $"dx[h,w] += Σ dy[i,j] / {o.Size * o.Size} over the windows that contain (h,w); one thread per input pixel");
        kernel.OnlyForInputGradient = c.ReadsNetworkInput();
        c.BackwardKernels.Add(kernel);
    }
}
