using System.Collections.Generic;
using ModelGen.Generator.Analysis;
using ModelGen.Generator.Diagnostics;
using ModelGen.Generator.Emit;
using ModelGen.Generator.Emit.CSharp;
using ModelGen.Generator.Model;

namespace ModelGen.Generator.Layers;

/// <summary>
/// Conv2D as im2col + the register-blocked GEMM, per sample: <c>Y[o, p] = Σ_k W[o, k] · col[k, p]</c> with
/// <c>k = (c, u, v)</c> (PyTorch's <c>[out, in, kh, kw]</c> flattened) and p the output pixels in the vector lanes.
/// A 1×1, stride-1, unpadded convolution needs no im2col: the input image is already <c>col</c>.
/// Backward: <c>dW += dZ · colᵀ</c> (im2row), <c>dcol = Wᵀ · dZ</c> then col2im into dx.
/// </summary>
internal static class ConvLayer
{
    public static LayerPlan? Infer(LayerSpec s, int index, int[] input, string producer, ref int offset, List<DiagnosticInfo> diags, float networkL2)
    {
        if (input.Length != 3)
        {
            diags.Add(DiagnosticInfo.Create(Descriptors.ShapeMismatch, s.Location, s.Name, "Conv2D", "a [channels, height, width]", producer, string.Join(",", input)));
            return null;
        }
        foreach (var (what, v, min) in new[] { ("filters", s.Units, 1), ("kernel height", s.KH, 1), ("kernel width", s.KW, 1), ("stride", s.Stride, 1), ("padding", s.PadH + 1, 1) })
            if (v < min)
            {
                diags.Add(DiagnosticInfo.Create(Descriptors.NonPositiveSize, s.Location, s.Name, what, what == "padding" ? v - 1 : v));
                return null;
            }
        int padH = s.PadH, padW = s.PadW;
        if (s.Same)
        {
            if (s.KH % 2 == 0 || s.KW % 2 == 0)
            {
                diags.Add(DiagnosticInfo.Create(Descriptors.InvalidArgument, s.Location, s.Name, $"'Same' padding needs an odd kernel; {s.KH}x{s.KW} would pad one side more than the other"));
                return null;
            }
            padH = (s.KH - 1) / 2; padW = (s.KW - 1) / 2;
        }
        if (!ActivationLayer.CheckAlpha(s, diags)) return null;
        int c = input[0];
        int? ho = PoolLayer.OutputSize(s, "height", input[1], s.KH, s.Stride, padH, diags);
        int? wo = PoolLayer.OutputSize(s, "width", input[2], s.KW, s.Stride, padW, diags);
        if (ho is null || wo is null) return null;
        long weights = (long)s.Units * c * s.KH * s.KW;
        long outputs = (long)s.Units * ho.Value * wo.Value;
        if (weights > int.MaxValue / 4 || outputs > int.MaxValue / 4)
        {
            diags.Add(DiagnosticInfo.Create(Descriptors.InvalidArgument, s.Location, s.Name, "more weights or outputs than one arena can address"));
            return null;
        }
        int wOff = offset;
        offset = NetworkAnalyzer.RoundUp(offset + (int)weights);
        int bOff = offset;
        offset = NetworkAnalyzer.RoundUp(offset + s.Units);
        long flops = 2 * weights * ho.Value * wo.Value;
        return new LayerPlan(index, s.Name, s.Accessibility, LayerKind.Conv2D, s.Activation, s.Alpha, c * input[1] * input[2], (int)outputs,
            wOff, (int)weights, bOff, s.Units, flops, 0, L2: float.IsNaN(s.L2) ? networkL2 : s.L2,
            InShape: EquatableArray.From(input), OutShape: EquatableArray.From(new[] { s.Units, ho.Value, wo.Value }),
            KH: s.KH, KW: s.KW, Stride: s.Stride, PadH: padH, PadW: padW, HasBias: !s.NoBias);
    }

    private static int C(LayerPlan l) => l.InShape[0];
    private static int O(LayerPlan l) => l.OutShape[0];
    private static int K(LayerPlan l) => C(l) * l.KH * l.KW;
    public static bool IsPointwise(LayerPlan l) => l.KH == 1 && l.KW == 1 && l.Stride == 1 && l.PadH == 0 && l.PadW == 0;

    /// <summary>Stride-1 convolutions read shifted rows of a padded image through an offset table instead of an
    /// im2col copy (an "indirect" GEMM); the output comes out "wide" (row stride Wp) and is compacted.</summary>
    public static bool IsIndirect(LayerPlan l) => l.Kind == LayerKind.Conv2D && l.Stride == 1 && !IsPointwise(l);
    public static int Hp(LayerPlan l) => l.InShape[1] + 2 * l.PadH;
    public static int Wp(LayerPlan l) => l.InShape[2] + 2 * l.PadW;
    public static int LdWide(LayerPlan l) => Geometry.LdP(l.OutShape[1] * Wp(l));
    /// <summary>The input gradient of a stride-1 convolution is itself a stride-1 convolution of dZ (padded by
    /// KH−1−PH, KW−1−PW) with the flipped, transposed weights — run indirect too, no dcol and no col2im.</summary>
    public static bool IndirectBackward(LayerPlan l) => IsIndirect(l) && l.PadH <= l.KH - 1 && l.PadW <= l.KW - 1;
    public static int Hq(LayerPlan l) => l.InShape[1] + l.KH - 1;
    public static int Wq(LayerPlan l) => l.InShape[2] + l.KW - 1;
    public static int LdWideX(LayerPlan l) => Geometry.LdP(l.InShape[1] * Wq(l));
    /// <summary>Floats of the padded dZ, the wide dX and the flipped weights (indirect backward).</summary>
    public static (long DzPad, long DxWide, long WFlip) BackwardScratch(LayerPlan l) =>
        IndirectBackward(l) ? ((long)O(l) * Hq(l) * Wq(l) + LdWideX(l), (long)C(l) * LdWideX(l), (long)l.WeightCount) : (0, 0, 0);

    /// <summary>Floats of the padded image and of the wide output (indirect convolutions).</summary>
    public static (long Pad, long Wide) IndirectScratch(LayerPlan l) =>
        IsIndirect(l) ? ((long)C(l) * Hp(l) * Wp(l) + LdWide(l), (long)O(l) * LdWide(l)) : (0, 0);

    /// <summary>Floats of scratch this layer needs: col <c>[K, ldPout]</c>; for training dZᵀ <c>[P, O]</c> and dWᵀ <c>[K, O]</c>.</summary>
    public static (long Col, long DzT, long DwT) Scratch(LayerPlan l) =>
        (IsPointwise(l) ? 0 : (long)K(l) * Geometry.LdP(l.OutPixels), (long)l.OutPixels * O(l), (long)K(l) * O(l));

    public static IEnumerable<string> Math(LayerPlan l)
    {
        string z = $"Σ_(c,u,v) W[o,c,u,v]·x[c, i·{l.Stride}+u−{l.PadH}, j·{l.Stride}+v−{l.PadW}] + bias[o]";
        yield return $"forward : y[o,i,j] = {LayerTable.ActivationMath(l.Activation, l.Alpha, z)}";
        yield return $"          x:{LayerPlan.ShapeText(l.InShape)} W:[{O(l)},{C(l)},{l.KH},{l.KW}] y:{LayerPlan.ShapeText(l.OutShape)}   out = (in + 2P − F)/S + 1"
            + (IsPointwise(l) ? "   (1×1: a plain GEMM, no im2col)"
               : IsIndirect(l) ? $"   as GEMM: Y[{O(l)},{l.OutPixels}] = W[{O(l)},{K(l)}]·X̃, X̃'s rows shifted rows of the padded image (no im2col)"
               : $"   as GEMM: Y[{O(l)},{l.OutPixels}] = W[{O(l)},{K(l)}]·col[{K(l)},{l.OutPixels}]");
        yield return $"backward: {LayerTable.DerivativeMath(l.Activation, l.Alpha)}; dbias[o] += Σ_(b,i,j) dz; dW += dZ·colᵀ; dx = col2im(Wᵀ·dZ)";
        if (l.L2 > 0f)
            yield return $"L2      : loss += {LayerTable.Float(l.L2).TrimEnd('f')}·Σ W²;  dW += {LayerTable.Float(2 * l.L2).TrimEnd('f')}·W   (weights only, not bias)";
        yield return $"params  : {l.ParameterCount:N0} (W {l.WeightCount:N0}" + (l.HasBias ? $" + bias {l.BiasCount:N0})" : ", no bias)") + $"   FLOPs/sample: {l.Flops:N0}   receptive field: {l.ReceptiveField}";
    }

    private static string Geo(LayerPlan l) =>
        $"{C(l)}, {l.InShape[1]}, {l.InShape[2]}, {Geometry.LdP(l.InPixels)}, {l.KH}, {l.KW}, {l.Stride}, {l.PadH}, {l.PadW}, {l.OutShape[1]}, {l.OutShape[2]}";

    /// <summary>Can BatchNorm <paramref name="bn"/> (reading this conv) be folded in: its activation must fuse into the store.</summary>
    public static bool CanFold(LayerPlan conv, LayerPlan bn) =>
        conv.Kind == LayerKind.Conv2D && bn.Kind == LayerKind.BatchNorm2D && bn.InputIndex == conv.Index
        && conv.Activation == ActivationKind.None && bn.Activation is ActivationKind.None or ActivationKind.Relu or ActivationKind.LeakyRelu;

    public static void EmitForward(CodeWriter cw, LayerContext c, Width w)
    {
        var l = c.Layer;
        cw.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
        using (cw.Block($"private void {l.Name}_Forward_{w.Name}(int n, int ld)"))
        {
            if (c.FoldInto is { } bn)
            {
                using (cw.Block("if (!_training && FoldBatchNorm)"))
                {
                    cw.Line($"// inference: {bn.Name} folded in (W' = s·W, b' = s·(b − mean) + β, s = γ/√(var + ε)), writing {bn.Name}'s output");
                    Body(cw, c, w, $"_fold{l.Index}", $"_fold{l.Index} + {O(l) * K(l)}", "_y" + bn.Index, LayerTable.FusedEpilogue(bn.Activation), bn.Alpha);
                }
                using (cw.Block("else"))
                    Body(cw, c, w, $"{l.Name}_Weight", $"{l.Name}_Bias", c.Output, LayerTable.FusedEpilogue(l.Activation), l.Alpha);
            }
            else Body(cw, c, w, $"{l.Name}_Weight", $"{l.Name}_Bias", c.Output, LayerTable.FusedEpilogue(l.Activation), l.Alpha);
            if (l.Activation is ActivationKind.Sigmoid or ActivationKind.Tanh)
                cw.Line($"MG.Activations.Forward({LayerTable.RuntimeActivation(l.Activation)}, 0f, _arena.Span({c.Output}, {Geometry.Extent(l, true)}), _arena.Span({c.Output}, {Geometry.Extent(l, true)}), {w.Enum});");
        }
    }

    private static void Body(CodeWriter cw, LayerContext c, Width w, string weights, string bias, string output, string epi, float alpha)
    {
        var l = c.Layer;
        int ldIn = Geometry.LdP(l.InPixels), ldOut = Geometry.LdP(l.OutPixels);
        cw.Line($"ref float w = ref _arena.Ref({weights});   // [{O(l)}, {K(l)}] = [{O(l)}, {C(l)}·{l.KH}·{l.KW}]");
        cw.Line($"ref float bias = ref _arena.Ref({bias});");
        if (IsIndirect(l))
        {
            int ldWide = LdWide(l);
            cw.Line($"ref float xpad = ref _arena.Ref(_xpad);   // [{C(l)}, {Hp(l)}·{Wp(l)}] zero-padded input");
            cw.Line($"ref float wide = ref _arena.Ref(_wide);   // [{O(l)}, {ldWide}]: output pixel (i, j) at column i·{Wp(l)} + j");
            cw.Line($"ref int offs = ref _offs{l.Index}[0];   // row of step k = (c,u,v): c·{Hp(l) * Wp(l)} + u·{Wp(l)} + v");
            using (cw.Block("for (int b = 0; b < _batch; b++)"))
            {
                cw.Line($"ref float x = ref _arena.Ref({c.Input} + (long)b * {C(l) * ldIn});   // [{C(l)}, {ldIn}] one sample");
                cw.Line($"ref float y = ref _arena.Ref({output} + (long)b * {O(l) * ldOut});   // [{O(l)}, {ldOut}]");
                cw.Line($"MG.Im2Col.Pad(ref x, {C(l)}, {l.InShape[1]}, {l.InShape[2]}, {ldIn}, {l.PadH}, {l.PadW}, ref xpad, {ldWide});");
                c.Gemm.Emit(cw, w, new GemmCall("w", K(l).ToString(), "1", "xpad", "0", "wide", ldWide.ToString(), K(l).ToString(), O(l), ldWide, "bias", epi, LayerTable.Float(alpha)) { BOffsets = "offs" });
                cw.Line($"MG.Im2Col.Compact(ref wide, {O(l)}, {l.OutShape[1]}, {Wp(l)}, {l.OutShape[2]}, {ldWide}, ref y, {ldOut});");
            }
            return;
        }
        if (!IsPointwise(l)) cw.Line($"ref float col = ref _arena.Ref(_col);   // [{K(l)}, {ldOut}]");
        using (cw.Block("for (int b = 0; b < _batch; b++)"))
        {
            cw.Line($"ref float x = ref _arena.Ref({c.Input} + (long)b * {C(l) * ldIn});   // [{C(l)}, {ldIn}] one sample");
            cw.Line($"ref float y = ref _arena.Ref({output} + (long)b * {O(l) * ldOut});   // [{O(l)}, {ldOut}]");
            string bName = "x";
            if (!IsPointwise(l)) { cw.Line($"MG.Im2Col.Columns(ref x, {Geo(l)}, ref col, {ldOut});"); bName = "col"; }
            c.Gemm.Emit(cw, w, new GemmCall("w", K(l).ToString(), "1", bName, ldOut.ToString(), "y", ldOut.ToString(), K(l).ToString(), O(l), ldOut, "bias", epi, LayerTable.Float(alpha)));
        }
    }

    public static void EmitBackward(CodeWriter cw, LayerContext c, Width w)
    {
        var l = c.Layer;
        int ldIn = Geometry.LdP(l.InPixels), ldOut = Geometry.LdP(l.OutPixels), k = K(l), p = l.OutPixels, o = O(l);
        cw.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
        using (cw.Block($"private void {l.Name}_Backward_{w.Name}(int batch, int n, int ld)"))
        {
            cw.Line($"ref float w = ref _arena.Ref({l.Name}_Weight);");
            cw.Line($"ref float dw = ref _arena.Ref(GradientBase + {l.Name}_Weight);");
            cw.Line($"ref float db = ref _arena.Ref(GradientBase + {l.Name}_Bias);");
            cw.Line($"ref float dzT = ref _arena.Ref(_dzT);   // [{p}, {o}]");
            cw.Line($"ref float dwT = ref _arena.Ref(_dwT);   // [{k}, {o}]: dWᵀ summed over the batch, added to dW at the end");
            cw.Line($"_arena.Span(_dwT, {k * o}).Clear();");
            if (!IsPointwise(l)) cw.Line($"ref float col = ref _arena.Ref(_col);   // [{k}, {ldOut}]: col, then dcol");
            bool flip = IndirectBackward(l) && c.InputGrad is not null;
            if (flip)
            {
                cw.Line($"ref float wflip = ref _arena.Ref(_wflip);   // [{C(l)}, {o}·{l.KH}·{l.KW}]: W flipped and transposed");
                cw.Line($"ref float dzpad = ref _arena.Ref(_dzpad);   // [{o}, {Hq(l)}·{Wq(l)}]: dz padded by {l.KH - 1 - l.PadH}, {l.KW - 1 - l.PadW}");
                cw.Line($"ref float dxwide = ref _arena.Ref(_dxwide);   // [{C(l)}, {LdWideX(l)}]");
                cw.Line($"ref int doffs = ref _doffs{l.Index}[0];");
                cw.Line($"MG.Im2Col.FlipTranspose(ref w, {o}, {C(l)}, {l.KH}, {l.KW}, ref wflip);");
            }
            if (l.Activation != ActivationKind.None)
                cw.Line($"MG.Activations.Backward({LayerTable.RuntimeActivation(l.Activation)}, {LayerTable.Float(l.Alpha)}, _arena.Span({c.OutputGrad}, {Geometry.Extent(l, true)}), _arena.Span({c.Output}, {Geometry.Extent(l, true)}), _arena.Span({c.OutputGrad}, {Geometry.Extent(l, true)}), {w.Enum});");
            using (cw.Block("for (int b = 0; b < batch; b++)"))
            {
                cw.Line($"ref float x = ref _arena.Ref({c.Input} + (long)b * {C(l) * ldIn});");
                cw.Line($"ref float dy = ref _arena.Ref({c.OutputGrad} + (long)b * {o * ldOut});   // dz, [{o}, {ldOut}]");
                if (l.HasBias) cw.Line($"MG.Reductions.AddRowSums(ref dy, {o}, {ldOut}, {p}, ref db, {w.Enum});   // dbias[o] += Σ_p dz[o,p]");
                string a = "x", ars = ldIn.ToString();
                if (!IsPointwise(l)) { cw.Line($"MG.Im2Col.Columns(ref x, {Geo(l)}, ref col, {ldOut});"); a = "col"; ars = ldOut.ToString(); }
                cw.Line($"MG.Layout.Transpose(ref dy, {o}, {p}, {ldOut}, ref dzT, {o});   // dzᵀ, [{p}, {o}]");
                cw.Line("// dWᵀ[k,o] += Σ_p col[k,p]·dzᵀ[p,o]   (the filters, a multiple of 16, fill the vector lanes)");
                c.Gemm.Emit(cw, w, new GemmCall(a, ars, "1", "dzT", o.ToString(), "dwT", o.ToString(), p.ToString(), k, o, null, "MG.Epilogue.Accumulate", "0f"));
                if (c.InputGrad is not null)
                {
                    cw.Line($"ref float dx = ref _arena.Ref({c.InputGrad} + (long)b * {C(l) * ldIn});   // [{C(l)}, {ldIn}]");
                    if (IsPointwise(l))
                    {
                        cw.Line("// dx[c,p] = Σ_o W[o,c]·dz[o,p]");
                        c.Gemm.Emit(cw, w, new GemmCall("w", "1", k.ToString(), "dy", ldOut.ToString(), "dx", ldIn.ToString(), o.ToString(), k, ldOut, null, "MG.Epilogue.Store", "0f"));
                    }
                    else if (flip)
                    {
                        cw.Line("// dx = stride-1 convolution of dz (padded) with the flipped, transposed weights: an indirect GEMM, then compaction");
                        cw.Line($"MG.Im2Col.Pad(ref dy, {o}, {l.OutShape[1]}, {l.OutShape[2]}, {ldOut}, {l.KH - 1 - l.PadH}, {l.KW - 1 - l.PadW}, ref dzpad, {LdWideX(l)});");
                        c.Gemm.Emit(cw, w, new GemmCall("wflip", k.ToString(), "1", "dzpad", "0", "dxwide", LdWideX(l).ToString(), k.ToString(), C(l), LdWideX(l), null, "MG.Epilogue.Store", "0f") { BOffsets = "doffs" });
                        cw.Line($"MG.Im2Col.Compact(ref dxwide, {C(l)}, {l.InShape[1]}, {Wq(l)}, {l.InShape[2]}, {LdWideX(l)}, ref dx, {ldIn});");
                    }
                    else
                    {
                        cw.Line("// dcol[k,p] = Σ_o W[o,k]·dz[o,p], then col2im adds each column back to the pixels it came from");
                        c.Gemm.Emit(cw, w, new GemmCall("w", "1", k.ToString(), "dy", ldOut.ToString(), "col", ldOut.ToString(), o.ToString(), k, ldOut, null, "MG.Epilogue.Store", "0f"));
                        cw.Line($"MG.Im2Col.ToImage(ref col, {ldOut}, {Geo(l)}, ref dx);   // dx = col2im(dcol)");
                    }
                }
            }
            cw.Line($"MG.Layout.AddTransposed(ref dwT, {k}, {o}, ref dw);   // dW[o,k] += dWᵀ[k,o]");
        }
    }
}
