using System.Collections.Generic;
using ModelGen.Generator.Analysis;
using ModelGen.Generator.Diagnostics;
using ModelGen.Generator.Emit;
using ModelGen.Generator.Emit.CSharp;
using ModelGen.Generator.Model;

namespace ModelGen.Generator.Layers;

internal sealed record LstmOptions(int Hidden, bool ReturnSequences) : LayerOptions;

/// <summary>
/// LSTM, PyTorch's <c>nn.LSTM</c> (one layer, one direction), on a sequence <c>[T, F]</c>. Sequences are feature-major
/// panels <c>[rows, T·ld]</c> (step t in columns <c>[t·ld, t·ld + n)</c>, the batch in the vector lanes), so every
/// product is a GEMM of the model's micro-kernels: the input projection of each step before the recurrence, the
/// recurrent product <c>W_hh·h_(t−1)</c> per step, and in backward the weight gradients as single GEMMs over all
/// <c>T·ld</c> columns. The gate nonlinearities and the state update are one element-wise pass per step
/// (<c>Runtime/Kernels/Recurrent.cs</c>). Backward is full backpropagation through time.
/// </summary>
internal sealed class Lstm : LayerKind, ICSharpLayer
{
    public static readonly Lstm Instance = new();
    public override string Name => "Lstm";
    public override bool HasWeights => true;

    public override LayerOptions? Read(AttributeArgs a, LayerDiagnostics d) => new LstmOptions(a.Int(0, 0), a.NamedBool("ReturnSequences", false));

    private static LstmOptions Opt(LayerPlan l) => (LstmOptions)l.Options;
    private static int T(LayerPlan l) => l.InShape[0];
    private static int F(LayerPlan l) => l.InShape[1];
    private static int H(LayerPlan l) => Opt(l).Hidden;

    public override LayerShape? Infer(LayerSpec s, IReadOnlyList<Shape> inputs, LayerDiagnostics d)
    {
        var o = (LstmOptions)s.Options;
        var x = inputs[0];
        if (o.Hidden <= 0) { d.Report(Descriptors.NonPositiveSize, "hidden", o.Hidden); return null; }
        if (x.Rank != 2) { Fused.WrongInput(d, $"Lstm({o.Hidden})", "a sequence [steps, features] (declare the network as [Network(steps, features)])", x); return null; }
        int t = x[0], f = x[1], h = o.Hidden, g = 4 * h;
        if ((long)g * (f + h) > int.MaxValue / 4) { d.Invalid($"Lstm({h}) on {f} features has more weights than one arena can address"); return null; }
        var tensors = EquatableArray.From(new[]
        {
            new TensorSpec("weight_ih_l0", EquatableArray.From(new[] { g, f }), TensorRole.Weight, TensorInit.XavierUniform, f, g),
            new TensorSpec("weight_hh_l0", EquatableArray.From(new[] { g, h }), TensorRole.Weight, TensorInit.XavierUniform, h, g),
            new TensorSpec("bias_ih_l0", EquatableArray.From(new[] { g }), TensorRole.Parameter, TensorInit.Zeros),
            new TensorSpec("bias_hh_l0", EquatableArray.From(new[] { g }), TensorRole.Parameter, TensorInit.Zeros),
        });
        long flops = (long)t * (2L * g * (f + h) + 10L * h);
        return new LayerShape(o.ReturnSequences ? Shape.Of(t, h) : Shape.Of(h), tensors, flops, o);
    }

    public override ReceptiveField ReceptiveField(LayerPlan l, IReadOnlyList<ReceptiveField> inputs) => Analysis.ReceptiveField.Whole;

    public override string Describe(LayerPlan l) => $"Lstm({H(l)}{(Opt(l).ReturnSequences ? ", sequences" : "")})";

    public override IEnumerable<(string Key, double Value)> Hyperparameters(LayerPlan l)
    {
        yield return ("hidden", H(l));
        yield return ("return_sequences", Opt(l).ReturnSequences ? 1 : 0);
    }

    public override IEnumerable<string> Math(LayerPlan l, NetworkPlan p)
    {
        int t = T(l), f = F(l), h = H(l);
        yield return $"forward : for t = 0…{t - 1}: [i f g o] = [σ σ tanh σ](W_ih·x_t + b_ih + W_hh·h_(t−1) + b_hh)   (PyTorch's gate order; h_(−1) = c_(−1) = 0)";
        yield return $"          c_t = f⊙c_(t−1) + i⊙g,  h_t = o⊙tanh(c_t)      x:[{t},{f}] W_ih:[{4 * h},{f}] W_hh:[{4 * h},{h}] y:{l.OutShape}"
            + (Opt(l).ReturnSequences ? " (every h_t)" : " (h_last)");
        yield return $"          sequences as panels [rows, {t}·ld]: the input projection W_ih·X per step before the recurrence, then W_hh·h_(t−1) per step (GEMMs, batch in the lanes)";
        yield return "backward: through time, t = T−1…0: dc = dc_(t+1) + dh⊙o⊙(1 − tanh²c_t); dG = [dc⊙g⊙i(1−i), dc⊙c_(t−1)⊙f(1−f), dc⊙i⊙(1−g²), dh⊙tanh c_t⊙o(1−o)];";
        yield return "          dc_(t−1) = dc⊙f,  dh_(t−1) = W_hhᵀ·dG_t (+ dy_(t−1));  then dW_ih += dG·Xᵀ, dW_hh += dG_(1…)·H_(…T−2)ᵀ, db_ih = db_hh += Σ dG (GEMMs over all steps)";
        if (l.InputIndex >= 0 || p.Trainable) yield return "          dx_t = W_ihᵀ·dG_t";
        if (l.L2 > 0f) yield return Fused.L2Line(l);
        yield return $"params  : {Text.N0(l.ParameterCount)} (weight_ih_l0 {Text.N0(4 * h * f)} + weight_hh_l0 {Text.N0(4 * h * h)} + 2 × bias {Text.N0(4 * h)})   FLOPs/sample: {Text.N0(l.Flops)}";
    }

    public override IEnumerable<ScratchRequest> Scratch(LayerPlan l, NetworkPlan p)
    {
        int t = T(l), h = H(l);
        yield return new ScratchRequest("gates", BufferSize.Panel(4L * t * h), ScratchScope.PerLayer, false, "gates of every step [4H, T·ld] (activations; in backward, d loss / d pre-activation)");
        yield return new ScratchRequest("cells", BufferSize.Panel((long)t * h), ScratchScope.PerLayer, false, "cell states of every step [H, T·ld]");
        if (!Opt(l).ReturnSequences)
            yield return new ScratchRequest("states", BufferSize.Panel((long)t * h), ScratchScope.PerLayer, false, "hidden states of every step [H, T·ld]");
        yield return new ScratchRequest("bsum", BufferSize.Floats(4L * h), ScratchScope.PerLayer, false, "b_ih + b_hh");
        yield return new ScratchRequest("dh", BufferSize.Panel(h), ScratchScope.Shared, true, "d loss / d h of the current step [H, ld]");
        yield return new ScratchRequest("dc", BufferSize.Panel(h), ScratchScope.Shared, true, "d loss / d c of the current step [H, ld]");
        yield return new ScratchRequest("xs", BufferSize.Panel((long)t * F(l)), ScratchScope.Shared, true, "the input transposed to [T·ld, F] (and a dense layer's to [batch, in])");
        yield return new ScratchRequest("hs", BufferSize.Panel((long)t * h), ScratchScope.Shared, true, "the hidden states transposed to [T·ld, H]");
    }

    /// <summary>The buffer holding every step's hidden state: the output itself with ReturnSequences.</summary>
    private static string States(CSharpLayer c) => Opt(c.Layer).ReturnSequences ? c.Output : c.Scratch("states");

    public void Forward(CodeWriter cw, CSharpLayer c, Width w)
    {
        var l = c.Layer;
        int t = T(l), f = F(l), h = H(l), g = 4 * h;
        using (c.ForwardMethod(cw, w))
        {
            cw.Line($"nint row = (nint){t} * ld;   // row stride of a sequence panel");
            cw.Line($"ref float wih = ref _arena.Ref({c.Tensor("weight_ih_l0")});   // [{g}, {f}]");
            cw.Line($"ref float whh = ref _arena.Ref({c.Tensor("weight_hh_l0")});   // [{g}, {h}]");
            cw.Line($"ref float bsum = ref ws.Ref({c.Scratch("bsum")});   // b_ih + b_hh");
            cw.Line($"MG.Sum.Add(_arena.Span({c.Tensor("bias_ih_l0")}, {g}), _arena.Span({c.Tensor("bias_hh_l0")}, {g}), ws.Span({c.Scratch("bsum")}, {g}), {w.Enum});");
            cw.Line($"ref float x = ref ws.Ref({c.Input});   // [{f}, {t}·ld]");
            cw.Line($"ref float gates = ref ws.Ref({c.Scratch("gates")});   // [{g}, {t}·ld]");
            cw.Line($"ref float cells = ref ws.Ref({c.Scratch("cells")});   // [{h}, {t}·ld]");
            cw.Line($"ref float hs = ref ws.Ref({States(c)});   // [{h}, {t}·ld]");
            using (cw.Block($"for (int t = 0; t < {t}; t++)"))
            {
                cw.Line("ref float xt = ref MG.Mem.Add(ref x, (nint)t * ld);");
                cw.Line("ref float gt = ref MG.Mem.Add(ref gates, (nint)t * ld);");
                cw.Line("// G_t = W_ih·x_t + b_ih + b_hh");
                c.Gemm.Emit(cw, w, new GemmCall("wih", f.ToString(), "1", "xt", "row", "gt", "row", f.ToString(), g, null, "bsum", "MG.Epilogue.Bias", "0f"));
                using (cw.Block("if (t > 0)"))
                {
                    cw.Line("ref float hp = ref MG.Mem.Add(ref hs, (nint)(t - 1) * ld);");
                    cw.Line("// G_t += W_hh·h_(t−1)");
                    c.Gemm.Emit(cw, w, new GemmCall("whh", h.ToString(), "1", "hp", "row", "gt", "row", h.ToString(), g, null, null, "MG.Epilogue.Accumulate", "0f"));
                }
                cw.Line($"MG.Recurrent.LstmForward(ref gt, row, ref MG.Mem.Add(ref cells, (nint)(t == 0 ? 0 : t - 1) * ld), ref MG.Mem.Add(ref cells, (nint)t * ld), ref MG.Mem.Add(ref hs, (nint)t * ld), row, {h}, n, t == 0, {w.Enum});");
            }
            if (!Opt(l).ReturnSequences)
                using (cw.Block($"for (int r = 0; r < {h}; r++)   // the output: h of the last step"))
                    cw.Line($"ws.Span({States(c)} + r * row + {t - 1} * (nint)ld, n).CopyTo(ws.Span({c.Output} + (long)r * ld, n));");
        }
    }

    public void Backward(CodeWriter cw, CSharpLayer c, Width w)
    {
        var l = c.Layer;
        int t = T(l), f = F(l), h = H(l), g = 4 * h;
        bool seq = Opt(l).ReturnSequences;
        using (c.BackwardMethod(cw, w))
        {
            cw.Line($"nint row = (nint){t} * ld;   // row stride of a sequence panel");
            cw.Line($"ref float wih = ref _arena.Ref({c.Tensor("weight_ih_l0")});   // [{g}, {f}]");
            cw.Line($"ref float whh = ref _arena.Ref({c.Tensor("weight_hh_l0")});   // [{g}, {h}]");
            cw.Line($"ref float gates = ref ws.Ref({c.Scratch("gates")});   // [{g}, {t}·ld]: the gates, turned into dG step by step");
            cw.Line($"ref float cells = ref ws.Ref({c.Scratch("cells")});");
            cw.Line($"ref float hs = ref ws.Ref({States(c)});");
            cw.Line($"ref float dh = ref ws.Ref({c.Scratch("dh")});   // [{h}, ld]");
            cw.Line($"ref float dc = ref ws.Ref({c.Scratch("dc")});   // [{h}, ld]");
            cw.Line($"ws.Span({c.Scratch("dc")}, {h} * ld).Clear();");
            using (cw.Block($"for (int r = 0; r < {h}; r++)   // dh of the last step: the output gradient"))
                cw.Line(seq ? $"ws.Span({c.OutputGrad} + r * row + {t - 1} * (nint)ld, ld).CopyTo(ws.Span({c.Scratch("dh")} + (long)r * ld, ld));"
                            : $"ws.Span({c.OutputGrad} + (long)r * ld, ld).CopyTo(ws.Span({c.Scratch("dh")} + (long)r * ld, ld));");
            using (cw.Block($"for (int t = {t - 1}; t >= 0; t--)"))
            {
                cw.Line("ref float gt = ref MG.Mem.Add(ref gates, (nint)t * ld);");
                cw.Line($"MG.Recurrent.LstmBackward(ref gt, row, ref MG.Mem.Add(ref cells, (nint)(t == 0 ? 0 : t - 1) * ld), ref MG.Mem.Add(ref cells, (nint)t * ld), row, ref dh, ref dc, ld, {h}, n, batch, t == 0, {w.Enum});");
                cw.Line("if (t == 0) break;");
                cw.Line($"// dh_(t−1) = W_hhᵀ·dG_t   (A = W_hhᵀ: row stride 1, reduction stride {h})");
                c.Gemm.Emit(cw, w, new GemmCall("whh", "1", h.ToString(), "gt", "row", "dh", "ld", g.ToString(), h, null, null, "MG.Epilogue.Store", "0f"));
                if (seq)
                    using (cw.Block($"for (int r = 0; r < {h}; r++)   // + the output gradient of step t − 1"))
                        cw.Line($"MG.Sum.Add(ws.Span({c.Scratch("dh")} + (long)r * ld, n), ws.Span({c.OutputGrad} + r * row + (t - 1) * (nint)ld, n), ws.Span({c.Scratch("dh")} + (long)r * ld, n), {w.Enum});");
            }
            cw.Line($"// Parameter gradients over all {t} steps at once (dG is zero in the padding columns).");
            cw.Line($"MG.Reductions.AddRowSums(ref gates, {g}, (int)row, (int)row, ref _arena.Ref(GradientBase + {c.Tensor("bias_ih_l0")}), {w.Enum});   // db_ih += Σ dG");
            cw.Line($"MG.Reductions.AddRowSums(ref gates, {g}, (int)row, (int)row, ref _arena.Ref(GradientBase + {c.Tensor("bias_hh_l0")}), {w.Enum});   // db_hh += Σ dG");
            cw.Line($"MG.Layout.ToSampleMajor(ref ws.Ref({c.Input}), {f}, (int)row, (int)row, ws.Span({c.Scratch("xs")}, (int)row * {f}));   // X as [T·ld, {f}]");
            cw.Line($"MG.Layout.ToSampleMajor(ref hs, {h}, (int)row, (int)row, ws.Span({c.Scratch("hs")}, (int)row * {h}));   // H as [T·ld, {h}]");
            cw.Line($"ref float xs = ref ws.Ref({c.Scratch("xs")});");
            cw.Line($"ref float hts = ref ws.Ref({c.Scratch("hs")});");
            cw.Line($"ref float dwih = ref _arena.Ref(GradientBase + {c.Tensor("weight_ih_l0")});");
            cw.Line($"ref float dwhh = ref _arena.Ref(GradientBase + {c.Tensor("weight_hh_l0")});");
            cw.Line("// dW_ih[g,f] += Σ_(t,b) dG[g, t·ld+b]·x[f, t·ld+b]");
            c.Gemm.Emit(cw, w, new GemmCall("gates", "row", "1", "xs", f.ToString(), "dwih", f.ToString(), "(int)row", g, f, null, "MG.Epilogue.Accumulate", "0f"));
            cw.Line("// dW_hh[g,j] += Σ_(t≥1,b) dG[g, t·ld+b]·h[j, (t−1)·ld+b]");
            cw.Line("ref float gates1 = ref MG.Mem.Add(ref gates, ld);");
            c.Gemm.Emit(cw, w, new GemmCall("gates1", "row", "1", "hts", h.ToString(), "dwhh", h.ToString(), $"(int)row - ld", g, h, null, "MG.Epilogue.Accumulate", "0f"));
            if (c.InputGrad is not null)
                using (c.InputGradGuard(cw))
                {
                    cw.Line($"ref float dx = ref ws.Ref({c.InputGrad});   // [{f}, {t}·ld]");
                    using (cw.Block($"for (int t = 0; t < {t}; t++)"))
                    {
                        cw.Line("ref float gt = ref MG.Mem.Add(ref gates, (nint)t * ld);");
                        cw.Line("ref float dxt = ref MG.Mem.Add(ref dx, (nint)t * ld);");
                        cw.Line($"// dx_t = W_ihᵀ·dG_t   (A = W_ihᵀ: row stride 1, reduction stride {f})");
                        c.Gemm.Emit(cw, w, new GemmCall("wih", "1", f.ToString(), "gt", "row", "dxt", "row", g.ToString(), f, null, null, "MG.Epilogue.Store", "0f"));
                    }
                }
        }
    }
}
