using System.Collections.Generic;
using System.Linq;
using ModelGen.Generator.Analysis;
using ModelGen.Generator.Diagnostics;
using ModelGen.Generator.Emit;
using ModelGen.Generator.Emit.CSharp;
using ModelGen.Generator.Emit.Ptx;
using ModelGen.Generator.Model;

namespace ModelGen.Generator.Layers;

internal sealed record DenseOptions(int Units, string? TiedTo = null) : LayerOptions;

/// <summary>
/// Dense: <c>y[o,b] = act(Σ_i W[o,i]·x[i,b] + bias[o])</c>, W in PyTorch's <c>[out, in]</c> layout.
/// Activations are feature-major panels <c>[features, ld]</c>, so the forward is <c>Yᵀ = W·Xᵀ</c> with the
/// batch in the vector lanes; ReLU / leaky ReLU and the bias are fused into the kernel's store. A layer that is the
/// network input's only reader computes <c>Y = X·Wᵀ</c> from the caller's rows in place at inference instead
/// (<see cref="ReadsInputInPlace"/>): no transposed copy of the input.
/// </summary>
internal sealed class Dense : LayerKind, ICSharpLayer, ICSharpDecodeStep, ICSharpPack, ICSharpInPlaceInput, IPtxLayer
{
    public static readonly Dense Instance = new();
    public override string Name => "Dense";
    public override bool FusesActivation => true;
    public override bool HasWeights => true;

    public override LayerOptions? Read(AttributeArgs a, LayerDiagnostics d) => new DenseOptions(a.Int(0, 0), a.NamedString("TiedTo"));

    public override LayerShape? Infer(LayerSpec s, IReadOnlyList<Shape> inputs, LayerDiagnostics d)
    {
        var o = (DenseOptions)s.Options;
        if (o.Units <= 0) { d.Report(Descriptors.NonPositiveSize, "units", o.Units); return null; }
        if (inputs[0].Rank > 2) { Fused.WrongInput(d, $"Dense({o.Units})", "a 1-D or a sequence [steps, features] (add [Flatten] or [GlobalAvgPool] before it)", inputs[0]); return null; }
        if (!Fused.CheckAlpha(s, d)) return null;
        // On a sequence [T, F] the layer is applied to every step (PyTorch's nn.Linear on the last dimension).
        bool seq = inputs[0].IsSequence;
        int steps = seq ? inputs[0][0] : 1;
        int inF = seq ? inputs[0][1] : inputs[0].Size;
        long weights = (long)inF * o.Units;
        if (weights > int.MaxValue / 4) { d.Invalid($"{inF}×{o.Units} = {weights} weights is more than one arena can address"); return null; }
        return new LayerShape(seq ? Shape.Of(steps, o.Units) : Shape.Of(o.Units), EquatableArray.From(new[]
        {
            new TensorSpec("weight", EquatableArray.From(new[] { o.Units, inF }), TensorRole.Weight, TensorInit.Weight, inF, o.Units) { TiedTo = o.TiedTo },
            new TensorSpec("bias", EquatableArray.From(new[] { o.Units }), TensorRole.Parameter, TensorInit.Zeros),
        }), 2 * weights * steps, o);
    }

    public override ReceptiveField ReceptiveField(LayerPlan layer, IReadOnlyList<ReceptiveField> inputs) => Analysis.ReceptiveField.Whole;

    public override string Describe(LayerPlan l) =>
        $"Dense({Units(l)}{(l.InShape.IsSequence ? ", every step" : "")}{(l.Tensor("weight").Role == TensorRole.Tied ? ", weight " + l.Tensor("weight").Name : "")})";

    public override IEnumerable<(string Key, double Value)> Hyperparameters(LayerPlan l) { yield return ("units", Units(l)); }

    /// <summary>Outputs per step; <see cref="In"/> inputs per step; <see cref="Steps"/> steps (1 on a vector).</summary>
    private static int Units(LayerPlan l) => ((DenseOptions)l.Options).Units;
    private static int In(LayerPlan l) => l.InShape.IsSequence ? l.InShape[1] : l.In;

    /// <summary>The row stride of the weight gradient's sample-major input <c>xs</c>: a row of a multiple of 1 KB gets a
    /// vector more, or every sample's row would start in the same few L1 sets and the product, reading a tile's 4 vectors
    /// from every row at each step, would evict its own lines (W2's 4096 inputs: rows 16 KB apart, all in one set;
    /// `--dense-w2` at batch 64, the backward 1.30–1.48 ms padded against 1.57–1.58 unpadded). The transposition that
    /// fills it copes with aliased rows itself (<c>Layout.Transpose</c>'s narrow strips).</summary>
    private static int XsStride(LayerPlan l) => !l.InShape.IsSequence && In(l) % 256 == 0 ? In(l) + 16 : In(l);
    private static string XsRows(LayerPlan l) => XsStride(l) == In(l) ? "" : $", rows {XsStride(l)} apart";
    private static int Steps(LayerPlan l) => l.InShape.IsSequence ? l.InShape[0] : 1;

    /// <summary>Batch 1 sweeps the rows of Wᵀ (<c>Gemm.Columns</c>, Wᵀ packed by <c>PackBatch1</c>) instead of streaming W
    /// (<c>Gemm.Gemv</c>) when the input comes out of a ReLU — directly, or through max-pooling, flattening or dropout —
    /// or is the network input (pixels, one-hot and count codes), so that some of it is likely exactly 0 and each zero
    /// input's row of Wᵀ is skipped (not read), on 64 outputs or more (four or more vectors of them held as the rows
    /// stream by). <c>Benchmarks --sparse-gemv</c>: W2's 4096 → 256 layer, whose 4 MB stream from L3, with 30 % of its
    /// inputs 0 (random weights and input) took 0.7× the GEMV's time. <c>Benchmarks --study-b1</c> (W1's 784 → 256, AMD
    /// EPYC, 2026-12-03): with no zero input at all 0.66–0.76× the GEMV's time (one stream of Wᵀ against eight rows of W
    /// and eight horizontal sums), on MNIST's digits (81 % of the pixels 0) 1.4 µs against 7.4.</summary>
    internal static bool SweepsColumns(LayerPlan l, NetworkPlan p) => !l.InShape.IsSequence && Units(l) >= 64 && (l.InputIndex < 0 || Rectified(l, p));

    private static bool Rectified(LayerPlan l, NetworkPlan p)
    {
        for (int i = l.InputIndex; i >= 0; i = p.Layers[i].InputIndex)
        {
            var q = p.Layers[i];
            if (q.Activation == ActivationKind.Relu) return true;
            if (q.Kind is not (MaxPool2D or Flatten or Dropout)) return false;   // these pass a ReLU's zeros on
        }
        return false;
    }

    /// <summary>The layer reads the network input — a plain vector, read by no other layer — in place at inference
    /// (<see cref="ICSharpInPlaceInput"/>): <c>Y = X·Wᵀ</c> from the caller's rows in tiles of 8 samples × 32 units (a
    /// last, odd 16-unit panel in tiles of 16 × 16), each tile transposed in registers into the output panel
    /// (<c>Gemm.RowsTile8x32V512</c>, <c>Gemm.RowsTileV512</c>; <c>Gemm.ScalarRows</c> at the scalar
    /// width), with <c>Wᵀ</c> packed in 16-unit panels once per parameter version. The input's transposition into a panel
    /// (a pass that writes as many bytes as the input has) is left to the training forward, which needs the panel for its
    /// gradients, and to AVX2 (<see cref="ReadsInPlaceAt"/>).
    /// <c>Benchmarks --study-rows</c> (W1's 784 → 256 at batch 256, alternated in one process): 0.92–0.94 × the time of
    /// the transposition and the panel product, every output the same bits; after a copy of the input 0.99–1.09 ×
    /// (Intel Xeon). On an AMD EPYC (family 26, 1 MB of L2 against the Xeon's 2 MB: W's panels and the input, 800 KB
    /// each, no longer fit together) the layer alone took 1.07–1.10 × the panel product's time — but the whole batch-256
    /// <c>Predict</c> with the transposition back (AVX-512 reading no input in place) was no faster (595–602 µs against
    /// 601–606; the transposition costs 22–30 µs there). Those were 16 × 16 tiles (17 loads per 16 FMAs); the 8 × 32
    /// tile (10 per 16) runs the layer at 0.92–0.94 × the transposition + panel product's time on that host (90 % of
    /// the FMA peak), so one path serves both.</summary>
    public bool ReadsInputInPlace(LayerPlan l, NetworkPlan p) =>
        l.InputIndex < 0 && !p.ImageInput && !l.InShape.IsSequence && p.Layers.Count(q => q.Inputs.Contains(-1)) == 1;

    /// <summary>Units per panel of <c>Wᵀ</c> for the in-place path: one AVX-512 vector.</summary>
    private const int Panel = 16;

    /// <summary>Widths whose inference reads the input in place: AVX-512 and scalar. AVX2 transposes it into a panel as
    /// the training forward does: its 8 × 8 tile (9 loads per 8 FMAs; 8 × 16 would need 19 of its 16 registers) ran
    /// 1.03–1.05 × the transposition + panel product's time (<c>Benchmarks --study-rows</c>, Intel Xeon, 2026-12-03).</summary>
    public bool ReadsInPlaceAt(Width w) => w.IsScalar || w.Lanes == Panel;

    public IEnumerable<PackedFor> PackWhen(LayerPlan l, NetworkPlan p)
    {
        if (ReadsInputInPlace(l, p)) yield return PackedFor.InferenceBatches;
        if (SweepsColumns(l, p)) yield return PackedFor.Batch1;
    }

    public void Pack(CodeWriter cw, CSharpLayer c, PackedFor when)
    {
        var l = c.Layer;
        int k = In(l), u = Units(l);
        if (when == PackedFor.InferenceBatches)   // the in-place batch path: panels; else batch 1: Wᵀ
        {
            cw.Line($"MG.Layout.TransposePanels(ref _arena.Ref({c.Tensor("weight")}), {u}, {k}, {Panel}, ref ws.Ref({c.Scratch("wp")}), _width);   // {l.Name}: Wᵀ in {(u + Panel - 1) / Panel} panels [{k}, {Panel}]");
            return;
        }
        cw.Line($"MG.Layout.Transpose(ref _arena.Ref({c.Tensor("weight")}), {u}, {k}, {k}, ref ws.Ref({c.Scratch("wT")}), {u});   // {l.Name}: Wᵀ [{k}, {u}]");
        cw.Line($"ws.Ref({c.Scratch("wT")} + {k * u}) = MG.Numerics.AllFinite(_arena.Span({c.Tensor("weight")}, {k * u})) ? 1f : 0f;   // {l.Name}: 1 when zero inputs may be skipped (0·∞ is NaN)");
    }

    /// <summary>On a sequence panel <c>[F, T·ld]</c> every step's columns (and the padding columns between them) are one
    /// wide panel: the layer is the same GEMMs over <c>T·ld</c> columns.</summary>
    private static void Widen(CodeWriter cw, LayerPlan l, bool backward)
    {
        if (!l.InShape.IsSequence) return;
        cw.Line($"ld *= {Steps(l)}; n = ld;{(backward ? " batch = ld;" : "")}   // every step at once: the {Steps(l)} steps' columns as one panel [rows, {Steps(l)}·ld]");
    }

    public override IEnumerable<string> Math(LayerPlan l, NetworkPlan p)
    {
        string z = "Σ_i W[o,i]·x[i,b] + bias[o]";
        string cols = l.InShape.IsSequence ? $"{Steps(l)}·B" : "B";
        yield return $"forward : y[o,b] = {Fused.Math(l.Activation, l.Alpha, z)}".PadRight(64) + $"x:[{In(l)},{cols}] W:[{Units(l)},{In(l)}] bias:[{Units(l)}] y:[{Units(l)},{cols}]";
        if (l.InShape.IsSequence) yield return $"          on every one of the {Steps(l)} steps: b runs over the columns of all steps at once";
        if (ReadsInputInPlace(l, p))
        {
            yield return "          inference, batch > 1, AVX-512 and scalar: Y = X·Wᵀ from the caller's rows in place, in tiles of 8 samples ×";
            yield return "          32 units (two 16-unit panels of Wᵀ; a last, odd panel 16 × 16) transposed in registers into Y's rows";
        }
        yield return "          " + (ReadsInputInPlace(l, p) ? "otherwise " : "") + "as GEMM Yᵀ = W·Xᵀ with the batch in the vector lanes " + (SweepsColumns(l, p)
            ? $"(batch 1: the rows of Wᵀ swept, those of zero inputs skipped — the input {(l.InputIndex < 0 ? "is the network's" : "comes out of a ReLU")})"
            : "(batch 1: GEMV streaming W once)")
            + (Fused.InEpilogue(l.Activation) ? "; bias and activation fused into the store" : "; bias fused into the store, then the activation");
        yield return $"backward: {Fused.Derivative(l.Activation, l.Alpha)}; dbias[o] += Σ_b dz[o,b]";
        yield return $"          dW[o,i] += Σ_b dz[o,b]·x[i,b]   (dW = dZ·X, X sample-major)   dx[i,b] = Σ_o W[o,i]·dz[o,b]   (dXᵀ = Wᵀ·dZᵀ)";
        if (l.L2 > 0f) yield return Fused.L2Line(l);
        yield return $"params  : {Text.N0(l.ParameterCount)} (W {Text.N0(In(l) * Units(l))} + bias {Text.N0(Units(l))})   FLOPs/sample: {Text.N0(l.Flops)}";
    }

    /// <summary>The weight gradient needs the input sample-major; the network input is kept that way already.</summary>
    public override IEnumerable<ScratchRequest> Scratch(LayerPlan l, NetworkPlan p)
    {
        if (l.InputIndex >= 0 || p.ImageInput || l.InShape.IsSequence)
            yield return new ScratchRequest("xs", BufferSize.Panel(l.InShape.IsSequence ? l.In : XsStride(l)), ScratchScope.Shared, TrainingOnly: true, "a dense layer's input transposed to [batch, in] (rows padded off multiples of 1 KB)");
        if (ReadsInputInPlace(l, p))
        {
            int panels = (Units(l) + Panel - 1) / Panel;
            yield return new ScratchRequest("wp", BufferSize.Floats((long)In(l) * panels * Panel), ScratchScope.PerLayer, TrainingOnly: false,
                $"inference in place: Wᵀ in {panels} panels of {Panel} units [{In(l)}, {Panel}] (PackRows)");
            yield return new ScratchRequest("inputTail", BufferSize.Floats((long)Panel * In(l)), ScratchScope.Shared, TrainingOnly: false,
                $"inference in place: the input's last, partial {Panel} samples, zero-padded [{Panel}, {In(l)}]");
        }
        if (SweepsColumns(l, p))
            yield return new ScratchRequest("wT", BufferSize.Floats((long)In(l) * Units(l) + 1), ScratchScope.PerLayer, TrainingOnly: false,
                $"batch 1: W transposed [{In(l)}, {Units(l)}], then 1 when every weight is finite (PackBatch1)");
    }

    private static void Locals(CodeWriter cw, CSharpLayer c, bool inPlace = false)
    {
        var l = c.Layer;
        cw.Line($"ref float w = ref _arena.Ref({c.Tensor("weight")});   // [{Units(l)}, {In(l)}]");
        cw.Line($"ref float bias = ref _arena.Ref({c.Tensor("bias")});   // [{Units(l)}]");
        cw.Line(inPlace ? $"ref float x = ref ws.Input;   // [{In(l)}]: the caller's input, read in place" : $"ref float x = ref ws.Ref({c.Input});   // [{In(l)}, ld]");
        cw.Line($"ref float y = ref ws.Ref({c.Output});   // [{Units(l)}, ld]");
    }

    public void Forward(CodeWriter cw, CSharpLayer c, Width w)
    {
        var l = c.Layer;
        string alpha = Text.Float(l.Alpha), epi = Fused.Epilogue(l.Activation);
        bool inPlace = ReadsInputInPlace(l, c.Network), tiles = inPlace && ReadsInPlaceAt(w);
        using (c.ForwardMethod(cw, w))
        {
            if (l.InShape.IsSequence)
                using (cw.Block("if (n == 1)   // batch 1: the panels are [rows, T], the steps their columns"))
                {
                    Locals(cw, c);
                    c.Gemm.Emit(cw, w, new GemmCall("w", In(l).ToString(), "1", "x", Steps(l).ToString(), "y", Steps(l).ToString(), In(l).ToString(), Units(l), Steps(l), "bias", epi, alpha));
                }
            else if (!w.IsScalar && SweepsColumns(l, c.Network))
                using (cw.Block("if (n == 1)"))
                {
                    cw.Line($"ref float wT = ref ws.Ref({c.Scratch("wT")});   // Wᵀ [{In(l)}, {Units(l)}] (PackBatch1)");
                    cw.Line($"ref float bias = ref _arena.Ref({c.Tensor("bias")});   // [{Units(l)}]");
                    cw.Line(inPlace ? $"ref float x = ref ws.Input;   // [{In(l)}]: the caller's input, read in place" : $"ref float x = ref ws.Ref({c.Input});   // [{In(l)}] (ld = 1)");
                    cw.Line($"ref float y = ref ws.Ref({c.Output});   // [{Units(l)}]");
                    cw.Line($"bool skip = ws.Ref({c.Scratch("wT")} + {In(l) * Units(l)}) != 0f;   // every weight finite: a zero input adds exactly nothing");
                    cw.Line($"MG.Gemm.Columns{w.Name}(ref wT, {In(l)}, {Units(l)}, ref x, ref y, ref bias, {epi}, {alpha}, skip);   // batch 1: the rows of Wᵀ of the nonzero inputs (zero inputs skipped)");
                }
            else if (!w.IsScalar)
                using (cw.Block("if (n == 1)"))
                {
                    Locals(cw, c, inPlace);
                    cw.Line($"MG.Gemm.Gemv{w.Name}(ref w, {In(l)}, ref x, ref y, {Units(l)}, ref bias, {epi}, {alpha});   // batch 1: stream W once");
                }
            if (tiles)
                using (cw.Block($"{(w.IsScalar ? "if" : "else if")} (!ws.Training)   // inference: X's rows read in place, no transposed copy"))
                {
                    if (!w.IsScalar)
                        cw.Line($"MG.Layout.RowsTail(ref ws.Input, ws.Batch, {In(l)}, {Panel}, ws.Span({c.Scratch("inputTail")}, {Panel * In(l)}));   // the last, partial {Panel} samples zero-padded (none when the batch is whole groups)");
                    int chunk = InPlaceChunk(w);
                    c.RunParts(cw, w, "ForwardInPlace", CSharpLayer.ParallelUnits($"{(Units(l) + chunk - 1) / chunk}", "n", 2L * In(l) * Units(l)), $"{chunk}-unit blocks of Y [{Units(l)}, n]");
                }
            using (cw.Block(w.IsScalar && !l.InShape.IsSequence && !tiles ? "" : "else"))
                c.RunParts(cw, w, "Forward", CSharpLayer.ParallelUnits($"{(Units(l) + w.MR - 1) / w.MR}", "n", 2L * In(l) * Units(l) * Steps(l)), $"row blocks of Y [{Units(l)}, n]");
            Widen(cw, l, backward: false);
            if (l.Activation is ActivationKind.Sigmoid or ActivationKind.Tanh)
                cw.Line($"MG.Activations.Forward({Fused.Runtime(l.Activation)}, 0f, ws.Span({c.Output}, {Units(l)} * ld), ws.Span({c.Output}, {Units(l)} * ld), {w.Enum});");
            else if (l.Activation == ActivationKind.Softmax)
                cw.Line($"MG.Softmax.Forward(ref ws.Ref({c.Output}), ref ws.Ref({c.Output}), {Units(l)}, ld, n);");
        }
        cw.Line();
        using (c.PartMethod(cw, w, "Forward"))
        {
            cw.Line("int n = ws.N, ld = ws.Ld;");
            Widen(cw, l, backward: false);
            cw.Line($"ThreadTeam.Split({Units(l)}, {w.MR}, part, parts, out int r0, out int r1);   // this part's rows (whole {w.MR}-row tiles)");
            cw.Line("if (r0 == r1) return;");
            Locals(cw, c);
            c.Gemm.Emit(cw, w, new GemmCall("w", In(l).ToString(), "1", "x", "ld", "y", "ld", In(l).ToString(), Units(l), null, "bias", epi, alpha) { RowRange = ("r0", "r1") });
        }
        if (tiles)
        {
            cw.Line();
            ForwardInPlacePart(cw, c, w, epi, alpha);
        }
    }

    /// <summary>Units per part of the in-place product: a pair of panels (the 8 × 32 tile) at AVX-512, a panel at the scalar width.</summary>
    private static int InPlaceChunk(Width w) => w.IsScalar ? Panel : 2 * Panel;

    /// <summary>Part of the in-place inference product: this part's units of Y — pairs of 16-unit panels in tiles of 8
    /// samples × 32 units, a last, odd panel in tiles of 16 × 16 — for every group of samples.</summary>
    private static void ForwardInPlacePart(CodeWriter cw, CSharpLayer c, Width w, string epi, string alpha)
    {
        var l = c.Layer;
        int k = In(l), u = Units(l), chunk = InPlaceChunk(w), panels = (u + Panel - 1) / Panel;
        using (c.PartMethod(cw, w, "ForwardInPlace"))
        {
            cw.Line("int n = ws.N, ld = ws.Ld, batch = ws.Batch;");
            cw.Line($"ThreadTeam.Split({u}, {chunk}, part, parts, out int u0, out int u1);   // this part's units (whole {chunk}-unit blocks)");
            cw.Line("if (u0 == u1) return;");
            cw.Line($"ref float x = ref ws.Input;   // [batch, {k}]: the caller's input, read in place");
            cw.Line($"ref float y = ref ws.Ref({c.Output});   // [{u}, ld]");
            cw.Line($"ref float bias = ref _arena.Ref({c.Tensor("bias")});   // [{u}]");
            if (w.IsScalar)
            {
                cw.Line($"ref float w = ref _arena.Ref({c.Tensor("weight")});   // [{u}, {k}], read as it is");
                cw.Line($"MG.Gemm.ScalarRows(ref w, {k}, ref x, batch, n, u0, u1, ref y, ld, ref bias, {epi}, {alpha});   // y[o,s] = Σ_i W[o,i]·x[s,i]: the samples from batch on as zeros");
                return;
            }
            cw.Line($"ref float wp = ref ws.Ref({c.Scratch("wp")});   // Wᵀ in {Panel}-unit panels: panel q holds Wᵀ[i, {Panel}q + j] at q·{k * Panel} + i·{Panel} + j (PackRows)");
            cw.Line($"ref float tail = ref ws.Ref({c.Scratch("inputTail")});   // the last, partial {Panel} samples, zero-padded (RowsTail)");
            cw.Line($"int full = batch & ~{Panel - 1};   // samples in whole groups of {Panel}, read in place");
            cw.Line("int o = u0;");
            if (panels >= 2)
                using (cw.Block($"for (; o + {Panel} < u1; o += {2 * Panel})   // units o … o + {2 * Panel - 1}: two panels"))
                using (cw.Block("for (int s = 0; s < n; s += 8)   // samples s … s + 7: a tile, transposed into 8 columns of 32 rows of Y"))
                {
                    cw.Line($"ref float xs = ref s < full ? ref MG.Mem.Add(ref x, s * {k}) : ref MG.Mem.Add(ref tail, (s - full) * {k});");
                    var pair = new[]
                    {
                        ("ref float", "x", "ref xs"), ("ref float", "b", $"ref MG.Mem.Add(ref wp, o * {k})"), ("ref float", "y", "ref MG.Mem.Add(ref y, o * ld + s)"),
                        ("nint", "ld", "ld"), ("ref float", "bias", "ref MG.Mem.Add(ref bias, o)"), ("int", "units", $"global::System.Math.Min({2 * Panel}, {u} - o)"),
                    };
                    c.SpecializedCall(cw, "RowsTile8", pair, $"MG.Gemm.RowsTile8x32V512(ref x, {k}, ref b, {k * Panel}, {k}, ref y, ld, ref bias, units, {epi}, {alpha})",
                        $"8 samples × {2 * Panel} units over the {k} inputs, the rows {k} and the panels {k * Panel} floats apart as constants");
                }
            if (panels % 2 == 0) return;
            if (panels >= 2) cw.Line($"if (o == u1) return;   // the last, odd panel (units {Panel * (panels - 1)} …) is the last part's");
            using (cw.Block($"for (int s = 0; s < n; s += {Panel})   // samples s … s + {Panel - 1}: the odd panel's tile, transposed into its {u - Panel * (panels - 1)} rows of Y"))
            {
                cw.Line($"ref float xs = ref s < full ? ref MG.Mem.Add(ref x, s * {k}) : ref MG.Mem.Add(ref tail, (s - full) * {k});");
                var vars = new[]
                {
                    ("ref float", "x", "ref xs"), ("ref float", "b", $"ref MG.Mem.Add(ref wp, o * {k})"), ("ref float", "y", "ref MG.Mem.Add(ref y, o * ld + s)"),
                    ("nint", "ld", "ld"), ("ref float", "bias", "ref MG.Mem.Add(ref bias, o)"), ("int", "units", $"{u - Panel * (panels - 1)}"),
                };
                string call = $"MG.Gemm.RowsTileV512(ref x, {k}, ref b, {k}, ref y, ld, ref bias, units, {epi}, {alpha})";
                c.SpecializedCall(cw, "RowsTile", vars, call, $"{Panel} samples × {Panel} units over the {k} inputs, the rows {k} floats apart as constants");
            }
        }
    }

    public bool CanStep(LayerPlan l) => l.InShape.IsSequence;

    public void Step(CodeWriter cw, CSharpLayer c)
    {
        var l = c.Layer;
        bool softmax = l.Activation == ActivationKind.Softmax;
        cw.Line($"MG.Decode.Dense(ref _arena.Ref({c.Tensor("weight")}), {In(l)}, {Units(l)}, ref _arena.Ref({c.Tensor("bias")}), ref ws.Ref({c.Input}), {Steps(l)}, t, ref ws.Ref({c.Output}), " +
                $"{(softmax ? "MG.Activation.Identity" : Fused.Runtime(l.Activation))}, {Text.Float(l.Alpha)}, width);");
        if (softmax) cw.Line($"MG.Softmax.Forward(ref ws.Ref({c.Output} + t), ref ws.Ref({c.Output} + t), {Units(l)}, {Steps(l)}, 1);");
    }

    public void Backward(CodeWriter cw, CSharpLayer c, Width w)
    {
        var l = c.Layer;
        using (c.BackwardMethod(cw, w))
        {
            Widen(cw, l, backward: true);
            cw.Line($"ref float y = ref ws.Ref({c.Output});   // [{Units(l)}, ld]");
            cw.Line($"ref float dy = ref ws.Ref({c.OutputGrad});   // [{Units(l)}, ld], becomes dz in place");
            if (l.Activation == ActivationKind.Softmax)
                cw.Line($"MG.Softmax.Backward(ref dy, ref y, ref dy, {Units(l)}, ld, n);");
            else if (l.Activation != ActivationKind.None)
                cw.Line($"MG.Activations.Backward({Fused.Runtime(l.Activation)}, {Text.Float(l.Alpha)}, ws.Span({c.OutputGrad}, {Units(l)} * ld), ws.Span({c.Output}, {Units(l)} * ld), ws.Span({c.OutputGrad}, {Units(l)} * ld), {w.Enum});");
            cw.Line($"MG.Reductions.AddRowSums(ref dy, {Units(l)}, ld, batch, ref _arena.Ref(GradientBase + {c.Tensor("bias")}), {w.Enum});   // dbias[o] += Σ_b dz[o,b]");
            if (c.Buffers.SampleMajorInput.Length == 0)
            {
                int stride = XsStride(l);
                string padded = stride == In(l) ? "" : $", {stride}";
                cw.Line($"MG.Layout.ToSampleMajor(ref ws.Ref({c.Input}), {In(l)}, ld, batch, ws.Span({c.Scratch("xs")}, batch * {stride}){padded});   // x as [batch, {In(l)}]{XsRows(l)}");
            }
            int units = System.Math.Max((Units(l) + w.MR - 1) / w.MR, (In(l) + w.MR - 1) / w.MR);
            c.RunParts(cw, w, "Backward", CSharpLayer.ParallelUnits(units.ToString(), "batch", 4L * In(l) * Units(l)), $"row blocks of dW [{Units(l)}, {In(l)}] and of dx [{In(l)}, batch]");
        }
        cw.Line();
        using (c.PartMethod(cw, w, "Backward"))
        {
            cw.Line("int batch = ws.Batch, n = ws.N, ld = ws.Ld;");
            Widen(cw, l, backward: true);
            cw.Line($"ref float w = ref _arena.Ref({c.Tensor("weight")});   // [{Units(l)}, {In(l)}]");
            cw.Line($"ref float dw = ref _arena.Ref(GradientBase + {c.Tensor("weight")});");
            cw.Line($"ref float dy = ref ws.Ref({c.OutputGrad});   // dz, [{Units(l)}, ld]");
            cw.Line(c.Buffers.SampleMajorInput.Length > 0
                ? $"ref float xs = ref ws.Ref({c.Buffers.SampleMajorInput});   // the input as given, [batch, {In(l)}]"
                : $"ref float xs = ref ws.Ref({c.Scratch("xs")});   // x as [batch, {In(l)}]{XsRows(l)}");
            cw.Line($"ThreadTeam.Split({Units(l)}, {w.MR}, part, parts, out int r0, out int r1);   // this part's rows of dW");
            cw.Line($"// dW[o,i] += Σ_b dz[o,b]·xs[b,i]");
            using (cw.Block("if (r0 < r1)"))
                c.Gemm.Emit(cw, w, new GemmCall("dy", "ld", "1", "xs", (c.Buffers.SampleMajorInput.Length > 0 ? In(l) : XsStride(l)).ToString(), "dw", In(l).ToString(), "batch", Units(l), In(l), null, "MG.Epilogue.Accumulate", "0f") { RowRange = ("r0", "r1") });
            if (c.InputGrad is not null)
            using (c.InputGradGuard(cw))
            {
                cw.Line($"ref float dx = ref ws.Ref({c.InputGrad});   // [{In(l)}, ld]");
                cw.Line($"ThreadTeam.Split({In(l)}, {w.MR}, part, parts, out int i0, out int i1);   // this part's rows of dx");
                cw.Line($"// dx[i,b] = Σ_o W[o,i]·dz[o,b]   (A = Wᵀ: row stride 1, reduction stride {In(l)})");
                using (cw.Block("if (i0 < i1)"))
                    c.Gemm.Emit(cw, w, new GemmCall("w", "1", In(l).ToString(), "dy", "ld", "dx", "ld", Units(l).ToString(), In(l), null, null, "MG.Epilogue.Store", "0f") { RowRange = ("i0", "i1") });
            }
        }
    }

    // ── PTX ────────────────────────────────────────────────────────────────────────────────────────────────────
    // Sample-major on the GPU: X [rows, in], Y [rows, units] with rows = n (or T·n on a sequence, every step at once).

    /// <summary>The GEMM row count: the batch, or T times it on a sequence (<see cref="GemmSpec"/>'s negative dims).</summary>
    private static int Rows(LayerPlan l) => -Steps(l);

    public void Forward(PtxLayer c)
    {
        var l = c.Layer;
        bool softmax = l.Activation == ActivationKind.Softmax;
        var g = new GemmSpec(Rows(l), Units(l), In(l), TransA: false, In(l), TransB: true, In(l), Units(l))
        { Bias = GemmBias.PerColumn, Activation = softmax ? ActivationKind.None : l.Activation, Alpha = l.Alpha };
        var k = PtxGemm.Kernel(c.Name("Forward"), g, c.Input, c.Tensor("weight"), c.Output, c.Tensor("bias"));
        k.Banner.Insert(0, $"Y[{PtxGemm.Count(Rows(l)).Replace(" * ", "·")}, {Units(l)}] = {Fused.Math(softmax ? ActivationKind.None : l.Activation, l.Alpha, "X·Wᵀ + bias")}   (W [{Units(l)}, {In(l)}], PyTorch's layout)");
        c.ForwardKernels.Add(k);
        if (softmax) c.ForwardKernels.Add(PtxMath.SoftmaxRows(c.Name("Softmax"), PtxGemm.Count(Rows(l)), Units(l), c.Output, c.Output));
    }

    public void Backward(PtxLayer c)
    {
        var l = c.Layer;
        string rows = PtxGemm.Count(Rows(l));
        if (l.Activation == ActivationKind.Softmax)
            c.BackwardKernels.Add(PtxMath.SoftmaxRowsBackward(c.Name("Dz"), rows, Units(l), c.Output, c.OutputGrad, c.OutputGrad, accumulate: false));
        else c.ActivationGradient($"{Units(l)} * {rows}", $"[{rows}, {Units(l)}]");
        c.BackwardKernels.Add(PtxMath.ColumnSumsAdd(c.Name("Dbias"), rows, Units(l), c.OutputGrad, c.Gradient("bias")));
        var dw = PtxGemm.Kernel(c.Name("Dweight"), new GemmSpec(Units(l), In(l), Rows(l), TransA: true, Units(l), TransB: false, In(l), In(l)) { Accumulate = true },
            c.OutputGrad, c.Input, c.Gradient("weight"), null);
        dw.Banner.Insert(0, $"dW[{Units(l)}, {In(l)}] += dZᵀ·X   (dZ [{rows}, {Units(l)}], X [{rows}, {In(l)}])");
        c.BackwardKernels.Add(dw);
        if (c.InputGrad is null) return;
        var dx = PtxGemm.Kernel(c.Name("Dx"), new GemmSpec(Rows(l), In(l), Units(l), TransA: false, Units(l), TransB: false, In(l), In(l)) { Accumulate = true },
            c.OutputGrad, c.Tensor("weight"), c.InputGrad, null);
        dx.Banner.Insert(0, $"dX[{rows}, {In(l)}] += dZ·W");
        dx.OnlyForInputGradient = c.ReadsNetworkInput();
        c.BackwardKernels.Add(dx);
    }
}
