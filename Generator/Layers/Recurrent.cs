using System.Collections.Generic;
using ModelGen.Generator.Analysis;
using ModelGen.Generator.Diagnostics;
using ModelGen.Generator.Emit;
using ModelGen.Generator.Emit.CSharp;
using ModelGen.Generator.Model;

namespace ModelGen.Generator.Layers;

/// <summary>A recurrent layer's options: hidden size, every step's state or the last, ReLU instead of tanh (Rnn only).</summary>
internal sealed record RecurrentOptions(int Hidden, bool ReturnSequences, bool Relu, bool Bidirectional = false) : LayerOptions;

/// <summary>
/// What LSTM, GRU and the Elman RNN share, as PyTorch defines them (one layer, one direction, zero initial state):
/// a sequence input <c>[T, F]</c> held as a feature-major panel <c>[F, T·ld]</c> (step t in columns <c>[t·ld, t·ld + n)</c>,
/// the batch in the vector lanes), parameters <c>weight_ih_l0 [G·H, F]</c>, <c>weight_hh_l0 [G·H, H]</c>,
/// <c>bias_ih_l0</c>, <c>bias_hh_l0</c> (G gates in PyTorch's order), and the shape of the code: per step the input
/// projection and the recurrent product as GEMMs of the model's micro-kernels, then one element-wise cell pass
/// (<c>Runtime/Kernels/Recurrent.cs</c>); backward through time step by step, then the weight and bias gradients as
/// single GEMMs and sums over all <c>T·ld</c> columns (the cells zero the padding columns' gradients). A kind supplies
/// its gates, its cell calls and its banner. The PTX is in <c>Recurrent.Ptx.cs</c>.
/// </summary>
internal abstract partial class RecurrentLayer : LayerKind, ICSharpLayer, ICSharpPack, ICSharpPanelPack, ICSharpStateful
{
    public override bool NeedsSixteenColumns => true;

    public override bool HasWeights => true;
    public override bool ReadsMask => true;
    public override bool PassesMask(LayerPlan l) => Opt(l).ReturnSequences;

    /// <summary>Gates stacked in the weights (4 LSTM, 3 GRU, 1 RNN).</summary>
    protected abstract int Gates { get; }

    /// <summary>GRU keeps <c>W_hh·h + b_hh</c> apart from <c>W_ih·x + b_ih</c> (its n gate multiplies it by r); LSTM and
    /// RNN add both biases once and accumulate the recurrent product onto the input projection.</summary>
    protected virtual bool SeparateHidden => false;

    public override LayerOptions? Read(AttributeArgs a, LayerDiagnostics d) =>
        new RecurrentOptions(a.Int(0, 0), a.NamedBool("ReturnSequences", false), false, a.NamedBool("Bidirectional", false));

    protected static RecurrentOptions Opt(LayerPlan l) => (RecurrentOptions)l.Options;
    protected static int T(LayerPlan l) => l.InShape[0];
    protected static int F(LayerPlan l) => l.InShape[1];
    protected static int H(LayerPlan l) => Opt(l).Hidden;

    public override LayerShape? Infer(LayerSpec s, IReadOnlyList<Shape> inputs, LayerDiagnostics d)
    {
        var o = (RecurrentOptions)s.Options;
        var x = inputs[0];
        if (o.Hidden <= 0) { d.Report(Descriptors.NonPositiveSize, "hidden", o.Hidden); return null; }
        if (x.Rank != 2) { Fused.WrongInput(d, $"{Name}({o.Hidden})", "a sequence [steps, features] (declare the network as [Network(steps, features)])", x); return null; }
        int t = x[0], f = x[1], h = o.Hidden, g = Gates * h;
        if ((long)g * (f + h) > int.MaxValue / 4) { d.Invalid($"{Name}({h}) on {f} features has more weights than one arena can address"); return null; }
        int dirs = o.Bidirectional ? 2 : 1;
        var specs = new List<TensorSpec>();
        foreach (var suffix in o.Bidirectional ? new[] { "", "_reverse" } : new[] { "" })
        {
            specs.Add(new TensorSpec("weight_ih_l0" + suffix, EquatableArray.From(new[] { g, f }), TensorRole.Weight, TensorInit.XavierUniform, f, g));
            specs.Add(new TensorSpec("weight_hh_l0" + suffix, EquatableArray.From(new[] { g, h }), TensorRole.Weight, TensorInit.XavierUniform, h, g));
            specs.Add(new TensorSpec("bias_ih_l0" + suffix, EquatableArray.From(new[] { g }), TensorRole.Parameter, TensorInit.Zeros));
            specs.Add(new TensorSpec("bias_hh_l0" + suffix, EquatableArray.From(new[] { g }), TensorRole.Parameter, TensorInit.Zeros));
        }
        long flops = dirs * (long)t * (2L * g * (f + h) + 10L * h);
        return new LayerShape(o.ReturnSequences ? Shape.Of(t, dirs * h) : Shape.Of(dirs * h), EquatableArray.From(specs.ToArray()), flops, o);
    }

    public override ReceptiveField ReceptiveField(LayerPlan l, IReadOnlyList<ReceptiveField> inputs) => Analysis.ReceptiveField.Whole;

    public override string Describe(LayerPlan l) =>
        $"{Name}({H(l)}{(Opt(l).Relu ? ", relu" : "")}{(Opt(l).Bidirectional ? ", bidirectional" : "")}{(Opt(l).ReturnSequences ? ", sequences" : "")})";

    /// <summary>The directions the layer runs: forward, and with Bidirectional the reverse one.</summary>
    private static IEnumerable<bool> Directions(LayerPlan l) => Opt(l).Bidirectional ? new[] { false, true } : new[] { false };

    public override IEnumerable<(string Key, double Value)> Hyperparameters(LayerPlan l)
    {
        yield return ("hidden", H(l));
        yield return ("return_sequences", Opt(l).ReturnSequences ? 1 : 0);
        if (Opt(l).Relu) yield return ("relu", 1);
        if (Opt(l).Bidirectional) yield return ("bidirectional", 1);
    }

    /// <summary>The banner's lines for the cell: forward and backward equations.</summary>
    protected abstract IEnumerable<string> CellMath(LayerPlan l);

    public override IEnumerable<string> Math(LayerPlan l, NetworkPlan p)
    {
        int t = T(l), f = F(l), h = H(l), g = Gates * h;
        foreach (var line in CellMath(l)) yield return line;
        if (Opt(l).Bidirectional)
            yield return $"          bidirectional: the same recurrence with the _reverse parameters over the steps {T(l) - 1}…0; y = [forward, reverse]" +
                (Opt(l).ReturnSequences ? " at every step" : " (each direction's last state)");
        yield return $"          x:[{t},{f}] W_ih:[{g},{f}] W_hh:[{g},{h}] y:{l.OutShape}" + (Opt(l).ReturnSequences ? " (every h_t)" : " (h of the last step)");
        yield return $"          sequences as panels [rows, {t}·ld]: per step the input projection W_ih·x_t and the recurrent product W_hh·h_(t−1) (GEMMs, batch in the lanes), then the cell";
        yield return "          backward through time, t = T−1…0; then dW_ih += dGᵢ·Xᵀ, dW_hh += dGₕ(steps 1…)·H(steps …T−2)ᵀ, db += Σ dG: GEMMs and sums over all steps at once;"
            + " dx_t = W_ihᵀ·dGᵢ_t";
        if (l.L2 > 0f) yield return Fused.L2Line(l);
        yield return $"params  : {Text.N0(l.ParameterCount)} (weight_ih_l0 {Text.N0(g * f)} + weight_hh_l0 {Text.N0(g * h)} + 2 × bias {Text.N0(g)})   FLOPs/sample: {Text.N0(l.Flops)}";
    }

    /// <summary>Scratch beyond the shared set (LSTM's cell states).</summary>
    protected virtual IEnumerable<ScratchRequest> CellScratch(LayerPlan l) { yield break; }

    public override IEnumerable<ScratchRequest> Scratch(LayerPlan l, NetworkPlan p)
    {
        int t = T(l), h = H(l), g = Gates * h;
        bool masked = p.MaskSource(l) >= 0;
        foreach (bool reverse in Directions(l))
        {
            string sfx = reverse ? "_reverse" : "", of = reverse ? " (reverse direction)" : "";
            yield return new ScratchRequest("gates" + sfx, BufferSize.Panel((long)t * g), ScratchScope.PerLayer, false,
                $"gates of every step [{g}, T·ld] (activations; in backward, d loss / d pre-activation){of}");
            if (SeparateHidden)
                yield return new ScratchRequest("hgates" + sfx, BufferSize.Panel((long)t * g), ScratchScope.PerLayer, false, $"W_hh·h + b_hh of every step [{g}, T·ld] (in backward, its gradient){of}");
            if (!Opt(l).ReturnSequences || masked || reverse)
                yield return new ScratchRequest("states" + sfx, BufferSize.Panel((long)t * h), ScratchScope.PerLayer, false, $"hidden states of every step [H, T·ld]{of}");
            if (!SeparateHidden)
                yield return new ScratchRequest("bsum" + sfx, BufferSize.Floats(g), ScratchScope.PerLayer, false, $"b_ih + b_hh{of}");
            foreach (var s in CellScratch(l))
                if (!reverse) yield return s;
                else if (s.Scope == ScratchScope.PerLayer) yield return s with { Name = s.Name + sfx, Comment = s.Comment + of };
            yield return new ScratchRequest("wihT" + sfx, BufferSize.Floats((long)F(l) * g), ScratchScope.PerLayer, false, $"batch 1: W_ih transposed [F, {g}] (packed once per parameter version){of}");
            yield return new ScratchRequest("whhT" + sfx, BufferSize.Floats((long)h * g), ScratchScope.PerLayer, false, $"batch 1: W_hh transposed [H, {g}] (packed once per parameter version){of}");
            yield return new ScratchRequest("whhP" + sfx, BufferSize.Floats((long)h * g), ScratchScope.PerLayer, false, $"batch panels: W_hh in {PanelRows}-row panels (packed once per parameter version){of}");
            yield return new ScratchRequest("whhTP" + sfx, BufferSize.Floats((long)h * g), ScratchScope.PerLayer, false, $"batch panels: W_hhᵀ in {PanelRows}-row panels (packed once per parameter version){of}");
            yield return new ScratchRequest("h1" + sfx, BufferSize.Floats((long)t * h), ScratchScope.PerLayer, false, $"batch 1: the hidden states step by step [T, H]{of}");
            yield return new ScratchRequest("h0" + sfx, BufferSize.Panel(h), ScratchScope.PerLayer, false, reverse ? "the initial state h_(−1) [H, ld] (reverse direction: zero)" : "the initial state h_(−1) [H, ld] (Stateful: the last call's final state)");
            if (!reverse)
            {
                yield return new ScratchRequest("carried", BufferSize.Images(h), ScratchScope.PerLayer, false, "Stateful: the final state per sample index [maxBatch, H], the next call's h_(−1)");
                foreach (var s in StateScratch(l)) yield return s;
            }
            else
                foreach (var s in StateScratch(l))
                    if (!s.Name.StartsWith("carried", System.StringComparison.Ordinal)) yield return s with { Name = s.Name + sfx, Comment = s.Comment + of };
        }
        if (Opt(l).Bidirectional)
        {
            yield return new ScratchRequest("xrev", BufferSize.Panel((long)t * F(l)), ScratchScope.PerLayer, false, "the input in reverse step order [F, T·ld], the reverse direction's input");
            if (masked) yield return new ScratchRequest("mrev", BufferSize.Panel(t), ScratchScope.PerLayer, false, "the padding mask in reverse step order [T, ld]");
            if (Opt(l).ReturnSequences) yield return new ScratchRequest("dyrev", BufferSize.Panel((long)t * h), ScratchScope.Shared, true, "the reverse direction's output gradient in its step order [H, T·ld]");
            yield return new ScratchRequest("dxrev", BufferSize.Panel((long)t * F(l)), ScratchScope.Shared, true, "the reverse direction's d loss / d input in its step order [F, T·ld]");
        }
        if (masked)
            foreach (var s in MaskScratch(l)) yield return s;
        yield return new ScratchRequest("dh", BufferSize.Panel(h), ScratchScope.Shared, true, "d loss / d h of the current step [H, ld]");
        yield return new ScratchRequest("xs", BufferSize.Panel((long)t * F(l)), ScratchScope.Shared, true, "the input transposed to [T·ld, F] (and a dense layer's to [batch, in])");
        yield return new ScratchRequest("hs", BufferSize.Panel((long)t * h), ScratchScope.Shared, true, "the hidden states transposed to [T·ld, H]");
    }

    /// <summary>The buffer holding every step's hidden state: the output itself with ReturnSequences (unless masked
    /// steps make the output differ from the state: zeros there, the state carried).</summary>
    protected static string States(RecurrentDir c) => Opt(c.Layer).ReturnSequences && Mask(c) is null && !c.Reverse ? c.C.Output : c.Scratch("states");

    /// <summary>The mask panel <c>[T, ld]</c> of the embedding below (1 token, 0 padding), or null when the input is not masked.</summary>
    protected static string? Mask(RecurrentDir c)
    {
        int src = c.Network.MaskSource(c.Layer);
        return src < 0 ? null : c.Reverse ? c.C.Scratch("mrev") : c.Network.Buffers.Layers[src].ScratchField("mask");
    }

    /// <summary>More state carried between Stateful calls (LSTM's cell state).</summary>
    protected virtual IEnumerable<ScratchRequest> StateScratch(LayerPlan l) { yield break; }

    /// <summary>The previous step's state locals of the cell (LSTM adds <c>cp</c>, its cell state), beside <c>hp</c> and <c>ldp</c>.</summary>
    protected virtual void PrevLocals(CodeWriter cw, RecurrentDir c, bool batch1) { }

    /// <summary>Statements that load the initial state from the carried one (<c>batch1</c>: sample 0 into the vectors).</summary>
    protected virtual void LoadCells(CodeWriter cw, RecurrentDir c, bool batch1) { }

    /// <summary>Statements that store the final state into the carried one.</summary>
    protected virtual void SaveCells(CodeWriter cw, RecurrentDir c, bool batch1) { }

    public string? NoStreaming(LayerPlan l) =>
        Opt(l).Bidirectional ? $"{l.Name} is bidirectional: its reverse direction reads each call's sequence from the end, so it cannot carry a state from call to call" : null;

    public void ResetState(CodeWriter cw, CSharpLayer c)
    {
        cw.Line($"_main.Span({c.Scratch("carried")}, _maxBatch * {H(c.Layer)}).Clear();   // {c.Layer.Name}: h");
        ResetCells(cw, c);
    }

    /// <summary>Whether the layer has a cell state besides h (LSTM).</summary>
    protected virtual bool HasCell => false;

    public void CopyState(CodeWriter cw, CSharpLayer c, bool set)
    {
        CheckStateSpans(cw, c.Layer, h: true);
        cw.Line(set ? $"h.CopyTo(_main.Span({c.Scratch("carried")}, h.Length));" : $"_main.Span({c.Scratch("carried")}, h.Length).CopyTo(h);");
        CheckStateSpans(cw, c.Layer, h: false);
        if (HasCell) cw.Line(set ? $"cell.CopyTo(_main.Span({c.Scratch("carriedc")}, cell.Length));" : $"_main.Span({c.Scratch("carriedc")}, cell.Length).CopyTo(cell);");
    }

    public void CheckStateSpans(CodeWriter cw, LayerPlan l, bool h)
    {
        int hidden = H(l);
        string name = l.Name;
        if (h)
        {
            cw.Line($"if (h.Length % {hidden} != 0 || h.Length / {hidden} > _maxBatch)");
            cw.Line($"    throw new ArgumentException($\"{name}'s state is [samples, {hidden}] for at most {{_maxBatch}} samples; h holds {{h.Length}} floats\", nameof(h));");
        }
        else if (HasCell)
        {
            cw.Line("if (cell.Length != h.Length)");
            cw.Line($"    throw new ArgumentException($\"{name} is an LSTM: its cell state is as long as h ({{h.Length}} floats); cell holds {{cell.Length}}\", nameof(cell));");
        }
        else
        {
            cw.Line("if (cell.Length != 0)");
            cw.Line($"    throw new ArgumentException(\"{name} ({Name}) has no cell state: pass an empty span\", nameof(cell));");
        }
    }

    /// <summary>Clears more carried state (LSTM's c).</summary>
    protected virtual void ResetCells(CodeWriter cw, CSharpLayer c) { }

    /// <summary>Scratch for masked steps: the state gradients that skip a padded step (LSTM adds its cell's).</summary>
    protected virtual IEnumerable<ScratchRequest> MaskScratch(LayerPlan l)
    {
        yield return new ScratchRequest("dhpass", BufferSize.Panel(H(l)), ScratchScope.Shared, true, "d loss / d h passing a padded step [H, ld]");
    }

    /// <summary>Carries the cell state through padded columns (LSTM); the hidden state is carried by the base.</summary>
    protected virtual void CarryCells(CodeWriter cw, RecurrentDir c) { }

    /// <summary>The same for the batch-1 path (states <c>[T, H]</c>, step <c>t</c> padded).</summary>
    protected virtual void CarryCells1(CodeWriter cw, RecurrentDir c) { }

    /// <summary>Moves the cell-state gradient of padded columns aside before the cell's backward (LSTM), or back after.</summary>
    protected virtual void SplitCells(CodeWriter cw, RecurrentDir c, bool merge) { }

    /// <summary>The cell's forward call for step <c>t</c> (locals: <c>gt</c>, <c>ht</c> for GRU, <c>hs</c>, <c>row</c>, <c>ld</c>, <c>n</c>).</summary>
    protected abstract void CellForward(CodeWriter cw, RecurrentDir c, Width w);

    /// <summary>The cell's backward call for step <c>t</c> (locals as forward, plus <c>dh</c>, <c>batch</c>).</summary>
    protected abstract void CellBackward(CodeWriter cw, RecurrentDir c, Width w);

    /// <summary>The cell's forward call for step <c>t</c> of the batch-1 path, where a step's gates are contiguous
    /// (<c>gt</c>, and <c>ht</c> for GRU: <c>[G·H]</c>) and the states are vectors (<c>h1</c> <c>[T, H]</c>): the same
    /// kernel with one "row" per gate and the hidden units in the vector lanes.</summary>
    protected abstract void CellForward1(CodeWriter cw, RecurrentDir c, Width w);

    public IEnumerable<PackedFor> PackWhen(LayerPlan layer, NetworkPlan network) => new[] { PackedFor.Batch1 };

    /// <summary>The rows of <c>W_hh</c> (forward) and of <c>W_hhᵀ</c> (backward) per panel of the per-step products: with
    /// the batch in one vector (16 samples at AVX-512), a tile of 12 rows keeps 12 FMA chains going where the usual 6
    /// leave the FMA units waiting on their latency; the panels let it read a step's 12 weights from one address
    /// (<c>Benchmarks --tiles-w3</c>: 79–88 % of the peak, against 45–57 % for the 6-row tiles over W_hh as it is).</summary>
    internal const int PanelRows = 12;

    public bool PacksPanels(LayerPlan layer) => true;

    public void PackPanels(CodeWriter cw, CSharpLayer layer)
    {
        foreach (bool reverse in Directions(layer.Layer))
        {
            var c = new RecurrentDir(layer, reverse);
            int h = H(c.Layer), g = Gates * h;
            cw.Line($"MG.Layout.PackPanels(ref _arena.Ref({c.Tensor("weight_hh_l0")}), {g}, {h}, {h}, 1, {PanelRows}, ref ws.Ref({c.Scratch("whhP")}), _width);   // {c.Name}: W_hh [{g}, {h}] in {PanelRows}-row panels");
            cw.Line($"MG.Layout.PackPanels(ref _arena.Ref({c.Tensor("weight_hh_l0")}), {h}, {g}, 1, {h}, {PanelRows}, ref ws.Ref({c.Scratch("whhTP")}), _width);   // {c.Name}: W_hhᵀ [{h}, {g}] in {PanelRows}-row panels");
        }
    }

    public void Pack(CodeWriter cw, CSharpLayer layer, PackedFor when)
    {
        foreach (bool reverse in Directions(layer.Layer)) Pack(cw, new RecurrentDir(layer, reverse));
    }

    private static void Pack(CodeWriter cw, RecurrentDir c)
    {
        var l = c.Layer;
        int gates = ((RecurrentLayer)l.Kind).Gates;
        int f = F(l), h = H(l), g = gates * h;
        cw.Line($"MG.Layout.Transpose(ref _arena.Ref({c.Tensor("weight_ih_l0")}), {g}, {f}, {f}, ref ws.Ref({c.Scratch("wihT")}), {g});   // {c.Name}: W_ihᵀ [{f}, {g}]");
        cw.Line($"MG.Layout.Transpose(ref _arena.Ref({c.Tensor("weight_hh_l0")}), {g}, {h}, {h}, ref ws.Ref({c.Scratch("whhT")}), {g});   // {c.Name}: W_hhᵀ [{h}, {g}]");
    }

    /// <summary>Batch 1: step-major, the gates of a step contiguous and in the vector lanes. The input projection of
    /// all steps is one GEMM <c>G[T, G·H] = Xᵀ·W_ihᵀ</c>, the recurrent product per step a row vector times
    /// <c>W_hhᵀ</c>; the weights are transposed once per parameter version (<c>PackBatch1</c>).</summary>
    private void ForwardBatch1(CodeWriter cw, RecurrentDir c, Width w)
    {
        var l = c.Layer;
        int t = T(l), f = F(l), h = H(l), g = Gates * h;
        cw.Line("// Batch 1: step-major [T, G·H], the gates in the vector lanes (the weights were transposed by PackBatch1).");
        cw.Line($"ref float xb = ref ws.Ref({c.Input});   // [{f}, {t}] (ld = 1)");
        cw.Line($"ref float wihT = ref ws.Ref({c.Scratch("wihT")});   // [{f}, {g}]");
        cw.Line($"ref float whhT = ref ws.Ref({c.Scratch("whhT")});   // [{h}, {g}]");
        cw.Line($"ref float g1 = ref ws.Ref({c.Scratch("gates")});   // [{t}, {g}]");
        cw.Line($"ref float h1 = ref ws.Ref({c.Scratch("h1")});   // [{t}, {h}]");
        using (cw.Block($"for (int t = 0; t < {t}; t++)   // every step starts from its bias"))
            cw.Line(SeparateHidden
                ? $"_arena.Span({c.Tensor("bias_ih_l0")}, {g}).CopyTo(ws.Span({c.Scratch("gates")} + (long)t * {g}, {g}));"
                : $"ws.Span({c.Scratch("bsum")}, {g}).CopyTo(ws.Span({c.Scratch("gates")} + (long)t * {g}, {g}));");
        cw.Line($"// G[t, :] += Σ_f x[f, t]·W_ihᵀ[f, :], all {t} steps in one GEMM");
        c.Gemm.Emit(cw, w, new GemmCall("xb", "1", t.ToString(), "wihT", g.ToString(), "g1", g.ToString(), f.ToString(), t, g, null, "MG.Epilogue.Accumulate", "0f"));
        if (SeparateHidden) cw.Line($"ref float gh1 = ref ws.Ref({c.Scratch("hgates")});   // [{t}, {g}]");
        cw.Line($"ref float h0v = ref ws.Ref({c.Scratch("h0")});   // h_(−1) [{h}]");
        if (c.Carries)
            using (cw.Block("if (ws.Carried)   // Stateful: sample 0's state from the last call"))
            {
                cw.Line($"ws.Span({c.Scratch("carried")}, {h}).CopyTo(ws.Span({c.Scratch("h0")}, {h}));");
                LoadCells(cw, c, batch1: true);
            }
        using (cw.Block($"for (int t = 0; t < {t}; t++)"))
        {
            cw.Line($"ref float gt = ref MG.Mem.Add(ref g1, t * {g});");
            cw.Line(c.Carries ? "bool first = t == 0 && !ws.Carried;   // h_(−1) = 0" : "bool first = t == 0;   // h_(−1) = 0");
            cw.Line($"ref float hp = ref t == 0 ? ref h0v : ref MG.Mem.Add(ref h1, (t - 1) * {h});   // h_(t−1)");
            PrevLocals(cw, c, batch1: true);
            string acc = "gt";
            if (SeparateHidden)
            {
                cw.Line($"ref float ht = ref MG.Mem.Add(ref gh1, t * {g});");
                cw.Line($"_arena.Span({c.Tensor("bias_hh_l0")}, {g}).CopyTo(ws.Span({c.Scratch("hgates")} + (long)t * {g}, {g}));   // Gₕ = b_hh + …");
                acc = "ht";
            }
            using (cw.Block("if (!first)"))
            {
                cw.Line($"// {acc}[:] += Σ_j h_(t−1)[j]·W_hhᵀ[j, :]");
                c.Gemm.Emit(cw, w, new GemmCall("hp", "0", "1", "whhT", g.ToString(), acc, g.ToString(), h.ToString(), 1, g, null, "MG.Epilogue.Accumulate", "0f"));
            }
            CellForward1(cw, c, w);
            if (Mask(c) is { } mask1)
                using (cw.Block($"if (ws.Ref({mask1} + (long)t * ld) == 0f)   // a padded step: the state stays as it was"))
                {
                    cw.Line($"if (first) ws.Span({c.Scratch("h1")}, {h}).Clear();");
                    cw.Line($"else MG.Mem.Copy(ref hp, ref MG.Mem.Add(ref h1, t * {h}), {h});");
                    CarryCells1(cw, c);
                }
        }
        if (c.Carries)
            using (cw.Block("if (ws.Carried)   // Stateful: the final state, for the next call"))
            {
                cw.Line($"ws.Span({c.Scratch("h1")} + {(t - 1) * h}, {h}).CopyTo(ws.Span({c.Scratch("carried")}, {h}));");
                SaveCells(cw, c, batch1: true);
            }
        string? outMask = Mask(c.Reverse ? new RecurrentDir(c.C, false) : c);
        if (Opt(l).ReturnSequences && c.Reverse)
        {
            cw.Line($"MG.Layout.Transpose(ref h1, {t}, {h}, {h}, ref ws.Ref({c.Scratch("states")}), {t});   // [{h}, {t}] in reverse step order");
            cw.Line($"MG.Layout.ReverseSteps(ref ws.Ref({c.Scratch("states")}), {h}, {t}, 1, ref ws.Ref({c.Output} + {h * t}));   // the output's rows {h}…{2 * h - 1}");
            if (outMask is not null)
                cw.Line($"MG.Recurrent.Masked(ref ws.Ref({c.Output} + {h * t}), ref ws.Ref({c.Output} + {h * t}), {t}, {h}, ref ws.Ref({outMask}), {t});   // zeros at padded steps");
        }
        else if (Opt(l).ReturnSequences)
        {
            cw.Line($"MG.Layout.Transpose(ref h1, {t}, {h}, {h}, ref ws.Ref({c.Output}), {t});   // the output [{h}, {t}]");
            if (outMask is not null)
                cw.Line($"MG.Recurrent.Masked(ref ws.Ref({c.Output}), ref ws.Ref({c.Output}), {t}, {h}, ref ws.Ref({outMask}), {t});   // zeros at padded steps");
        }
        else
            cw.Line($"ws.Span({c.Scratch("h1")} + {(t - 1) * h}, {h}).CopyTo(ws.Span({c.Output}{(c.Reverse ? $" + {h}" : "")}, {h}));   // the output{(c.Reverse ? $"'s rows {h}…{2 * h - 1}" : "")}: h of the last step");
    }

    /// <summary>Statements before the backward loop (LSTM clears its dc).</summary>
    protected virtual void BeforeBackward(CodeWriter cw, RecurrentDir c) { }

    public void Forward(CodeWriter cw, CSharpLayer layer, Width w)
    {
        var l = layer.Layer;
        int t = T(l), f = F(l), g = Gates * H(l);
        bool bi = Opt(l).Bidirectional;
        var dirs = new List<RecurrentDir>();
        foreach (bool reverse in Directions(l)) dirs.Add(new RecurrentDir(layer, reverse));
        using (layer.ForwardMethod(cw, w))
        {
            foreach (var c in dirs)
                if (!SeparateHidden)
                    cw.Line($"MG.Sum.Add(_arena.Span({c.Tensor("bias_ih_l0")}, {g}), _arena.Span({c.Tensor("bias_hh_l0")}, {g}), ws.Span({c.Scratch("bsum")}, {g}), {w.Enum});   // b_ih + b_hh{(c.Reverse ? " (reverse)" : "")}");
            if (bi)
            {
                cw.Line($"MG.Layout.ReverseSteps(ref ws.Ref({layer.Input}), {f}, {t}, ld, ref ws.Ref({layer.Scratch("xrev")}));   // the reverse direction reads the steps last to first");
                if (Mask(dirs[0]) is { } mask)
                    cw.Line($"MG.Layout.ReverseSteps(ref ws.Ref({mask}), 1, {t}, ld, ref ws.Ref({layer.Scratch("mrev")}));   // and their padding likewise");
            }
            using (cw.Block("if (n == 1)"))
            {
                foreach (var c in dirs)
                    using (bi ? cw.Block($"// {c.Name}") : null)
                        ForwardBatch1(cw, c, w);
                cw.Line("return;");
            }
            foreach (var c in dirs)
                using (bi ? cw.Block($"// {c.Name}") : null)
                    ForwardBody(cw, c, w);
        }
    }

    /// <summary>One direction over the batch: feature-major panels, the batch in the vector lanes.</summary>
    private void ForwardBody(CodeWriter cw, RecurrentDir c, Width w)
    {
        var l = c.Layer;
        int t = T(l), f = F(l), h = H(l), g = Gates * h;
        cw.Line($"nint row = (nint){t} * ld;   // row stride of a sequence panel");
        cw.Line($"ref float wih = ref _arena.Ref({c.Tensor("weight_ih_l0")});   // [{g}, {f}]");
        cw.Line($"ref float whh = ref _arena.Ref({c.Tensor("weight_hh_l0")});   // [{g}, {h}]");
        if (!w.IsScalar) cw.Line($"ref float whhP = ref ws.Ref({c.Scratch("whhP")});   // W_hh in {PanelRows}-row panels (PackPanels)");
        if (SeparateHidden)
        {
            cw.Line($"ref float bih = ref _arena.Ref({c.Tensor("bias_ih_l0")});");
            cw.Line($"ref float bhh = ref _arena.Ref({c.Tensor("bias_hh_l0")});");
        }
        else
            cw.Line($"ref float bih = ref ws.Ref({c.Scratch("bsum")});   // b_ih + b_hh");
        cw.Line($"ref float x = ref ws.Ref({c.Input});   // [{f}, {t}·ld]");
        cw.Line($"ref float gates = ref ws.Ref({c.Scratch("gates")});   // [{g}, {t}·ld]");
        if (SeparateHidden) cw.Line($"ref float hgates = ref ws.Ref({c.Scratch("hgates")});   // [{g}, {t}·ld]");
        cw.Line($"ref float hs = ref ws.Ref({States(c)});   // [{h}, {t}·ld]");
        cw.Line($"ref float h0 = ref ws.Ref({c.Scratch("h0")});   // h_(−1) [{h}, ld]");
        if (c.Carries)
            using (cw.Block("if (ws.Carried)   // Stateful: each sample's state from the last call"))
            {
                cw.Line($"MG.Layout.ToFeatureMajor(ws.Span({c.Scratch("carried")}, ws.Batch * {h}), ws.Batch, {h}, ref h0, ld);");
                LoadCells(cw, c, batch1: false);
            }
        cw.Line(SeparateHidden ? $"// Gᵢ = W_ih·X + b_ih for all {t} steps in one GEMM: the steps' columns (and the padding between them) as one panel"
                               : $"// G = W_ih·X + b_ih + b_hh for all {t} steps in one GEMM: the steps' columns (and the padding between them) as one panel");
        cw.Line("int nStep = n; n = (int)row;");
        c.Gemm.Emit(cw, w, new GemmCall("wih", f.ToString(), "1", "x", "row", "gates", "row", f.ToString(), g, null, "bih", "MG.Epilogue.Bias", "0f"));
        cw.Line("n = nStep;");
        using (cw.Block($"for (int t = 0; t < {t}; t++)"))
        {
            cw.Line("ref float gt = ref MG.Mem.Add(ref gates, (nint)t * ld);");
            cw.Line(c.Carries ? "bool first = t == 0 && !ws.Carried;   // h_(−1) = 0" : "bool first = t == 0;   // h_(−1) = 0");
            cw.Line("ref float hp = ref t == 0 ? ref h0 : ref MG.Mem.Add(ref hs, (nint)(t - 1) * ld);   // h_(t−1)");
            cw.Line("nint ldp = t == 0 ? ld : row;                                                  // its row stride");
            PrevLocals(cw, c, batch1: false);
            if (SeparateHidden)
            {
                cw.Line("ref float ht = ref MG.Mem.Add(ref hgates, (nint)t * ld);");
                using (cw.Block("if (first)   // h_(−1) = 0: Gₕ_0 = b_hh"))
                using (cw.Block($"for (int r = 0; r < {g}; r++)"))
                    cw.Line($"ws.Span({c.Scratch("hgates")} + r * row, n).Fill(MG.Mem.Add(ref bhh, r));");
                using (cw.Block("else"))
                {
                    cw.Line("// Gₕ_t = W_hh·h_(t−1) + b_hh");
                    c.Gemm.Emit(cw, w, new GemmCall("whh", h.ToString(), "1", "hp", "ldp", "ht", "row", h.ToString(), g, null, "bhh", "MG.Epilogue.Bias", "0f") { Panels = ("whhP", PanelRows, h) });
                }
            }
            else
                using (cw.Block("if (!first)"))
                {
                    cw.Line("// G_t += W_hh·h_(t−1)");
                    c.Gemm.Emit(cw, w, new GemmCall("whh", h.ToString(), "1", "hp", "ldp", "gt", "row", h.ToString(), g, null, null, "MG.Epilogue.Accumulate", "0f") { Panels = ("whhP", PanelRows, h) });
                }
            CellForward(cw, c, w);
            if (Mask(c) is { } maskf)
            {
                cw.Line($"ref float mt = ref ws.Ref({maskf} + (long)t * ld);   // 1 token, 0 padding");
                cw.Line("MG.Recurrent.Carry(ref MG.Mem.Add(ref hs, (nint)t * ld), row, ref hp, ldp, " + h + ", ref mt, n, first);   // padded: h_t = h_(t−1)");
                CarryCells(cw, c);
            }
        }
        if (c.Carries)
            using (cw.Block("if (ws.Carried)   // Stateful: the final states, for the next call"))
            {
                cw.Line($"MG.Layout.ToSampleMajor(ref MG.Mem.Add(ref hs, (nint){t - 1} * ld), {h}, (int)row, ws.Batch, ws.Span({c.Scratch("carried")}, ws.Batch * {h}));");
                SaveCells(cw, c, batch1: false);
            }
        string? outMask = Mask(c.Reverse ? new RecurrentDir(c.C, false) : c);   // the padding in the output's own step order
        if (Opt(l).ReturnSequences && c.Reverse)
        {
            cw.Line($"MG.Layout.ReverseSteps(ref hs, {h}, {t}, ld, ref ws.Ref({c.Output} + {h} * row));   // the output's rows {h}…{2 * h - 1}: every h_t back in step order");
            if (outMask is not null)
                cw.Line($"MG.Recurrent.Masked(ref ws.Ref({c.Output} + {h} * row), ref ws.Ref({c.Output} + {h} * row), row, {h}, ref ws.Ref({outMask}), (int)row);   // zeros at padded steps");
        }
        else if (Opt(l).ReturnSequences && outMask is not null)
            cw.Line($"MG.Recurrent.Masked(ref hs, ref ws.Ref({c.Output}), row, {h}, ref ws.Ref({outMask}), (int)row);   // the output: every h_t, zeros at padded steps");
        if (!Opt(l).ReturnSequences)
            using (cw.Block($"for (int r = 0; r < {h}; r++)   // the output{(c.Reverse ? $"'s rows {h}…{2 * h - 1}" : "")}: h of the last step"))
                cw.Line($"ws.Span({States(c)} + r * row + {t - 1} * (nint)ld, n).CopyTo(ws.Span({c.Output} + (long){(c.Reverse ? $"({h} + r)" : "r")} * ld, n));");
    }

    public void Backward(CodeWriter cw, CSharpLayer layer, Width w)
    {
        var l = layer.Layer;
        bool bi = Opt(l).Bidirectional;
        using (layer.BackwardMethod(cw, w))
        {
            foreach (bool reverse in Directions(l))
                using (bi ? cw.Block($"// {(reverse ? l.Name + " (reverse)" : l.Name)}") : null)
                    BackwardBody(cw, new RecurrentDir(layer, reverse), w);
            if (bi && layer.InputGrad is not null)
                using (layer.InputGradGuard(cw))
                    cw.Line($"MG.Layout.AddReversedSteps(ref ws.Ref({layer.Scratch("dxrev")}), {F(l)}, {T(l)}, ld, ref ws.Ref({layer.InputGrad}));   // dx += the reverse direction's, back in step order");
        }
    }

    /// <summary>One direction's backward through time and its parameter gradients (the reverse direction on the
    /// time-reversed sequence, its output gradient reversed likewise; its d loss / d input is added reversed after).</summary>
    private void BackwardBody(CodeWriter cw, RecurrentDir c, Width w)
    {
        var l = c.Layer;
        int t = T(l), f = F(l), h = H(l), g = Gates * h;
        bool seq = Opt(l).ReturnSequences;
        string hgates = SeparateHidden ? "hgates" : "gates";
        // This direction's output gradient: the output's rows, the reverse direction's (rows H…2H−1) back in its own order.
        string dy = !c.Reverse ? c.C.OutputGrad : seq ? c.C.Scratch("dyrev") : $"({c.C.OutputGrad} + {h} * (long)ld)";
        cw.Line($"nint row = (nint){t} * ld;   // row stride of a sequence panel");
        if (c.Reverse && seq)
            cw.Line($"MG.Layout.ReverseSteps(ref ws.Ref({c.C.OutputGrad} + {h} * row), {h}, {t}, ld, ref ws.Ref({dy}));   // the output gradient's rows {h}…{2 * h - 1}, in reverse step order");
        cw.Line($"ref float wih = ref _arena.Ref({c.Tensor("weight_ih_l0")});   // [{g}, {f}]");
        cw.Line($"ref float whh = ref _arena.Ref({c.Tensor("weight_hh_l0")});   // [{g}, {h}]");
        if (!w.IsScalar) cw.Line($"ref float whhTP = ref ws.Ref({c.Scratch("whhTP")});   // W_hhᵀ in {PanelRows}-row panels (PackPanels)");
        cw.Line($"ref float gates = ref ws.Ref({c.Scratch("gates")});   // [{g}, {t}·ld]: the gates, turned into their gradients step by step");
        if (SeparateHidden) cw.Line($"ref float hgates = ref ws.Ref({c.Scratch("hgates")});   // [{g}, {t}·ld]");
        cw.Line($"ref float hs = ref ws.Ref({States(c)});");
        cw.Line($"ref float dh = ref ws.Ref({c.Scratch("dh")});   // [{h}, ld]");
        cw.Line($"ref float h0 = ref ws.Ref({c.Scratch("h0")});   // h_(−1): the carried state, a constant (truncated backpropagation)");
        BeforeBackward(cw, c);
        string? mask = Mask(c);
        if (mask is not null)
        {
            cw.Line($"ref float dhpass = ref ws.Ref({c.Scratch("dhpass")});   // [{h}, ld]");
            if (seq) cw.Line($"MG.Recurrent.Masked(ref ws.Ref({dy}), ref ws.Ref({dy}), row, {h}, ref ws.Ref({mask}), (int)row);   // padded outputs are constant zeros");
        }
        using (cw.Block($"for (int r = 0; r < {h}; r++)   // dh of the last step: the output gradient"))
            cw.Line(seq ? $"ws.Span({dy} + r * row + {t - 1} * (nint)ld, ld).CopyTo(ws.Span({c.Scratch("dh")} + (long)r * ld, ld));"
                        : $"ws.Span({dy} + (long)r * ld, ld).CopyTo(ws.Span({c.Scratch("dh")} + (long)r * ld, ld));");
        using (cw.Block($"for (int t = {t - 1}; t >= 0; t--)"))
        {
            cw.Line("ref float gt = ref MG.Mem.Add(ref gates, (nint)t * ld);");
            if (SeparateHidden) cw.Line("ref float ht = ref MG.Mem.Add(ref hgates, (nint)t * ld);");
            cw.Line(c.Carries ? "bool first = t == 0 && !ws.Carried;" : "bool first = t == 0;");
            cw.Line("ref float hp = ref t == 0 ? ref h0 : ref MG.Mem.Add(ref hs, (nint)(t - 1) * ld);   // h_(t−1)");
            cw.Line("nint ldp = t == 0 ? ld : row;");
            PrevLocals(cw, c, batch1: false);
            if (mask is not null)
            {
                cw.Line($"ref float mt = ref ws.Ref({mask} + (long)t * ld);");
                cw.Line($"MG.Recurrent.SplitMasked(ref dh, ref dhpass, ld, {h}, ref mt, n);   // padded columns: dh skips the step");
                SplitCells(cw, c, merge: false);
            }
            CellBackward(cw, c, w);
            cw.Line("if (t == 0) break;");
            cw.Line($"// dh_(t−1) {(SeparateHidden ? "+=" : "=")} W_hhᵀ·dGₕ_t   (A = W_hhᵀ: row stride 1, reduction stride {h})");
            c.Gemm.Emit(cw, w, new GemmCall("whh", "1", h.ToString(), SeparateHidden ? "ht" : "gt", "row", "dh", "ld", g.ToString(), h, null, null,
                SeparateHidden ? "MG.Epilogue.Accumulate" : "MG.Epilogue.Store", "0f") { Panels = ("whhTP", PanelRows, g) });
            if (mask is not null)
            {
                cw.Line($"MG.Recurrent.MergeMasked(ref dh, ref dhpass, ld, {h}, ref mt, n);");
                SplitCells(cw, c, merge: true);
            }
            if (seq)
                using (cw.Block($"for (int r = 0; r < {h}; r++)   // + the output gradient of step t − 1"))
                    cw.Line($"MG.Sum.Add(ws.Span({c.Scratch("dh")} + (long)r * ld, n), ws.Span({dy} + r * row + (t - 1) * (nint)ld, n), ws.Span({c.Scratch("dh")} + (long)r * ld, n), {w.Enum});");
        }
        cw.Line($"// Parameter gradients over all {t} steps at once (the gradients are zero in the padding columns).");
        cw.Line($"MG.Reductions.AddRowSums(ref gates, {g}, (int)row, (int)row, ref _arena.Ref(GradientBase + {c.Tensor("bias_ih_l0")}), {w.Enum});   // db_ih += Σ dGᵢ");
        cw.Line($"MG.Reductions.AddRowSums(ref {hgates}, {g}, (int)row, (int)row, ref _arena.Ref(GradientBase + {c.Tensor("bias_hh_l0")}), {w.Enum});   // db_hh += Σ dGₕ");
        cw.Line($"MG.Layout.ToSampleMajor(ref ws.Ref({c.Input}), {f}, (int)row, (int)row, ws.Span({c.Scratch("xs")}, (int)row * {f}));   // X as [T·ld, {f}]");
        cw.Line($"MG.Layout.ToSampleMajor(ref hs, {h}, (int)row, (int)row, ws.Span({c.Scratch("hs")}, (int)row * {h}));   // H as [T·ld, {h}]");
        cw.Line($"ref float xs = ref ws.Ref({c.Scratch("xs")});");
        cw.Line($"ref float hts = ref ws.Ref({c.Scratch("hs")});");
        cw.Line($"ref float dwih = ref _arena.Ref(GradientBase + {c.Tensor("weight_ih_l0")});");
        cw.Line($"ref float dwhh = ref _arena.Ref(GradientBase + {c.Tensor("weight_hh_l0")});");
        cw.Line("// dW_ih[g,f] += Σ_(t,b) dGᵢ[g, t·ld+b]·x[f, t·ld+b]");
        c.Gemm.Emit(cw, w, new GemmCall("gates", "row", "1", "xs", f.ToString(), "dwih", f.ToString(), "(int)row", g, f, null, "MG.Epilogue.Accumulate", "0f"));
        cw.Line("// dW_hh[g,j] += Σ_(t≥1,b) dGₕ[g, t·ld+b]·h[j, (t−1)·ld+b]");
        cw.Line($"ref float dgh1 = ref MG.Mem.Add(ref {hgates}, ld);");
        c.Gemm.Emit(cw, w, new GemmCall("dgh1", "row", "1", "hts", h.ToString(), "dwhh", h.ToString(), "(int)row - ld", g, h, null, "MG.Epilogue.Accumulate", "0f"));
        if (c.Carries)
            using (cw.Block("if (ws.Carried)   // Stateful: step 0 read the carried h_(−1) as well"))
            {
                cw.Line($"MG.Layout.ToSampleMajor(ref h0, {h}, ld, ld, ws.Span({c.Scratch("hs")}, ld * {h}));   // h_(−1) as [ld, {h}]");
                cw.Line("// dW_hh[g,j] += Σ_b dGₕ[g, b]·h_(−1)[j, b]");
                c.Gemm.Emit(cw, w, new GemmCall(hgates, "row", "1", "hts", h.ToString(), "dwhh", h.ToString(), "ld", g, h, null, "MG.Epilogue.Accumulate", "0f"));
            }
        if (c.InputGrad is not null)
            using (c.InputGradGuard(cw))
            {
                cw.Line($"ref float dx = ref ws.Ref({c.InputGrad});   // [{f}, {t}·ld]");
                using (cw.Block($"for (int t = 0; t < {t}; t++)"))
                {
                    cw.Line("ref float gt = ref MG.Mem.Add(ref gates, (nint)t * ld);");
                    cw.Line("ref float dxt = ref MG.Mem.Add(ref dx, (nint)t * ld);");
                    cw.Line($"// dx_t = W_ihᵀ·dGᵢ_t   (A = W_ihᵀ: row stride 1, reduction stride {f})");
                    c.Gemm.Emit(cw, w, new GemmCall("wih", "1", f.ToString(), "gt", "row", "dxt", "row", g.ToString(), f, null, null, "MG.Epilogue.Store", "0f"));
                }
            }
    }

}

/// <summary>
/// LSTM, PyTorch's <c>nn.LSTM</c>: gates i, f, g, o; <c>c_t = f⊙c_(t−1) + i⊙g</c>, <c>h_t = o⊙tanh(c_t)</c>. The cell
/// states of every step are kept for backward.
/// </summary>
internal sealed class Lstm : RecurrentLayer
{
    public static readonly Lstm Instance = new();
    public override string Name => "Lstm";
    protected override int Gates => 4;

    protected override IEnumerable<string> CellMath(LayerPlan l)
    {
        yield return $"forward : for t = 0…{T(l) - 1}: [i f g o] = [σ σ tanh σ](W_ih·x_t + b_ih + W_hh·h_(t−1) + b_hh)   (PyTorch's gate order; h_(−1) = c_(−1) = 0, or the carried states when Stateful)";
        yield return "          c_t = f⊙c_(t−1) + i⊙g,  h_t = o⊙tanh(c_t)   (a training forward keeps tanh(c_t) for backward)";
        yield return "backward: dc = dc_(t+1) + dh⊙o⊙(1 − tanh²c_t); dG = [dc⊙g⊙i(1−i), dc⊙c_(t−1)⊙f(1−f), dc⊙i⊙(1−g²), dh⊙tanh c_t⊙o(1−o)];";
        yield return "          dc_(t−1) = dc⊙f,  dh_(t−1) = W_hhᵀ·dG_t (+ dy_(t−1))";
    }

    protected override IEnumerable<ScratchRequest> CellScratch(LayerPlan l)
    {
        yield return new ScratchRequest("cells", BufferSize.Panel((long)T(l) * H(l)), ScratchScope.PerLayer, false, "cell states of every step [H, T·ld]");
        yield return new ScratchRequest("tanhc", BufferSize.Panel((long)T(l) * H(l)), ScratchScope.PerLayer, true, "tanh of the cell states, kept by a training forward for backward [H, T·ld]");
        yield return new ScratchRequest("dc", BufferSize.Panel(H(l)), ScratchScope.Shared, true, "d loss / d c of the current step [H, ld]");
    }

    protected override void CellForward(CodeWriter cw, RecurrentDir c, Width w)
    {
        string cells = $"ws.Ref({c.Scratch("cells")})";
        // a training forward keeps tanh(c_t) for backward; an inference-only network has no such buffer
        string tanhC = c.Network.Trainable ? $"ws.Training ? ref ws.Ref({c.Scratch("tanhc")} + (long)t * ld) : ref Unsafe.NullRef<float>()" : "Unsafe.NullRef<float>()";
        cw.Line($"MG.Recurrent.LstmForward(ref gt, row, ref cp, ldp, ref MG.Mem.Add(ref {cells}, (nint)t * ld), " +
                $"ref MG.Mem.Add(ref hs, (nint)t * ld), ref {tanhC}, row, {H(c.Layer)}, n, first, {w.Enum});" + (c.Network.Trainable ? "   // training: tanh(c_t) kept for backward" : ""));
    }

    protected override bool HasCell => true;

    protected override IEnumerable<ScratchRequest> StateScratch(LayerPlan l)
    {
        yield return new ScratchRequest("c0", BufferSize.Panel(H(l)), ScratchScope.PerLayer, false, "the initial cell state c_(−1) [H, ld]");
        yield return new ScratchRequest("carriedc", BufferSize.Images(H(l)), ScratchScope.PerLayer, false, "Stateful: the final cell state per sample index [maxBatch, H]");
    }

    protected override void PrevLocals(CodeWriter cw, RecurrentDir c, bool batch1)
    {
        int h = H(c.Layer);
        cw.Line(batch1
            ? $"ref float cp = ref t == 0 ? ref ws.Ref({c.Scratch("c0")}) : ref ws.Ref({c.Scratch("cells")} + (long)(t - 1) * {h});   // c_(t−1)"
            : $"ref float cp = ref t == 0 ? ref ws.Ref({c.Scratch("c0")}) : ref ws.Ref({c.Scratch("cells")} + (long)(t - 1) * ld);   // c_(t−1), rows ldp apart");
    }

    protected override void LoadCells(CodeWriter cw, RecurrentDir c, bool batch1)
    {
        int h = H(c.Layer);
        cw.Line(batch1
            ? $"ws.Span({c.Scratch("carriedc")}, {h}).CopyTo(ws.Span({c.Scratch("c0")}, {h}));"
            : $"MG.Layout.ToFeatureMajor(ws.Span({c.Scratch("carriedc")}, ws.Batch * {h}), ws.Batch, {h}, ref ws.Ref({c.Scratch("c0")}), ld);");
    }

    protected override void SaveCells(CodeWriter cw, RecurrentDir c, bool batch1)
    {
        int h = H(c.Layer), t = T(c.Layer);
        cw.Line(batch1
            ? $"ws.Span({c.Scratch("cells")} + {(t - 1) * h}, {h}).CopyTo(ws.Span({c.Scratch("carriedc")}, {h}));"
            : $"MG.Layout.ToSampleMajor(ref ws.Ref({c.Scratch("cells")} + (long){t - 1} * ld), {h}, (int)row, ws.Batch, ws.Span({c.Scratch("carriedc")}, ws.Batch * {h}));");
    }

    protected override void ResetCells(CodeWriter cw, CSharpLayer c) =>
        cw.Line($"_main.Span({c.Scratch("carriedc")}, _maxBatch * {H(c.Layer)}).Clear();   // {c.Layer.Name}: c");

    protected override void CellForward1(CodeWriter cw, RecurrentDir c, Width w)
    {
        int h = H(c.Layer);
        string cells = $"ws.Ref({c.Scratch("cells")})";   // [T, H] here
        cw.Line($"MG.Recurrent.LstmForward(ref gt, {h}, ref cp, 0, ref MG.Mem.Add(ref {cells}, t * {h}), " +
                $"ref MG.Mem.Add(ref h1, t * {h}), ref Unsafe.NullRef<float>(), 0, 1, {h}, first, {w.Enum});   // one row per gate, the units in the lanes (inference only)");
    }

    protected override IEnumerable<ScratchRequest> MaskScratch(LayerPlan l)
    {
        foreach (var s in base.MaskScratch(l)) yield return s;
        yield return new ScratchRequest("dcpass", BufferSize.Panel(H(l)), ScratchScope.Shared, true, "d loss / d c passing a padded step [H, ld]");
    }

    protected override void CarryCells(CodeWriter cw, RecurrentDir c)
    {
        string cells = $"ws.Ref({c.Scratch("cells")})";
        cw.Line($"MG.Recurrent.Carry(ref MG.Mem.Add(ref {cells}, (nint)t * ld), row, ref cp, ldp, {H(c.Layer)}, ref mt, n, first);   // c_t = c_(t−1)");
    }

    protected override void CarryCells1(CodeWriter cw, RecurrentDir c)
    {
        int h = H(c.Layer);
        cw.Line($"if (first) ws.Span({c.Scratch("cells")} + (long)t * {h}, {h}).Clear();");
        cw.Line($"else MG.Mem.Copy(ref cp, ref ws.Ref({c.Scratch("cells")} + (long)t * {h}), {h});");
    }

    protected override void SplitCells(CodeWriter cw, RecurrentDir c, bool merge)
    {
        if (!merge) cw.Line($"ref float dcpass = ref ws.Ref({c.Scratch("dcpass")});");
        cw.Line(merge ? $"MG.Recurrent.MergeMasked(ref dc, ref dcpass, ld, {H(c.Layer)}, ref mt, n);"
                      : $"MG.Recurrent.SplitMasked(ref dc, ref dcpass, ld, {H(c.Layer)}, ref mt, n);");
    }

    protected override void BeforeBackward(CodeWriter cw, RecurrentDir c)
    {
        cw.Line($"ref float dc = ref ws.Ref({c.Scratch("dc")});   // [{H(c.Layer)}, ld]");
        cw.Line($"ws.Span({c.Scratch("dc")}, {H(c.Layer)} * ld).Clear();");
    }

    protected override void CellBackward(CodeWriter cw, RecurrentDir c, Width w)
    {
        cw.Line($"MG.Recurrent.LstmBackward(ref gt, row, ref cp, ldp, ref ws.Ref({c.Scratch("tanhc")} + (long)t * ld), row, " +
                $"ref dh, ref dc, ld, {H(c.Layer)}, n, batch, first, {w.Enum});");
    }
}

/// <summary>
/// GRU, PyTorch's <c>nn.GRU</c>: gates r, z, n; <c>n = tanh(W_in x + b_in + r⊙(W_hn h + b_hn))</c>,
/// <c>h = (1 − z)⊙n + z⊙h_prev</c>. <c>W_hh·h + b_hh</c> is kept apart (its n rows are multiplied by r).
/// </summary>
internal sealed class Gru : RecurrentLayer
{
    public static readonly Gru Instance = new();
    public override string Name => "Gru";
    protected override int Gates => 3;
    protected override bool SeparateHidden => true;

    protected override IEnumerable<string> CellMath(LayerPlan l)
    {
        yield return $"forward : for t = 0…{T(l) - 1}: Gᵢ = W_ih·x_t + b_ih, Gₕ = W_hh·h_(t−1) + b_hh   (gates r, z, n in PyTorch's order; h_(−1) = 0, or the carried state when Stateful)";
        yield return "          r = σ(Gᵢr + Gₕr), z = σ(Gᵢz + Gₕz), n = tanh(Gᵢn + r⊙Gₕn),  h_t = (1 − z)⊙n + z⊙h_(t−1)";
        yield return "backward: dn̂ = dh⊙(1−z)⊙(1−n²), dẑ = dh⊙(h_(t−1) − n)⊙z(1−z), dr̂ = dn̂⊙Gₕn⊙r(1−r);  dGᵢ = [dr̂, dẑ, dn̂], dGₕ = [dr̂, dẑ, dn̂⊙r];";
        yield return "          dh_(t−1) = dh⊙z + W_hhᵀ·dGₕ (+ dy_(t−1))";
    }

    protected override void CellForward(CodeWriter cw, RecurrentDir c, Width w) =>
        cw.Line($"MG.Recurrent.GruForward(ref gt, ref ht, row, ref hp, ldp, ref MG.Mem.Add(ref hs, (nint)t * ld), row, {H(c.Layer)}, n, first, {w.Enum});");

    protected override void CellForward1(CodeWriter cw, RecurrentDir c, Width w) =>
        cw.Line($"MG.Recurrent.GruForward(ref gt, ref ht, {H(c.Layer)}, ref hp, 0, ref MG.Mem.Add(ref h1, t * {H(c.Layer)}), 0, 1, {H(c.Layer)}, first, {w.Enum});   // one row per gate");

    protected override void CellBackward(CodeWriter cw, RecurrentDir c, Width w) =>
        cw.Line($"MG.Recurrent.GruBackward(ref gt, ref ht, row, ref hp, ldp, ref dh, ld, {H(c.Layer)}, n, batch, first, {w.Enum});");
}

/// <summary>The Elman RNN, PyTorch's <c>nn.RNN</c>: <c>h_t = tanh(W_ih·x_t + b_ih + W_hh·h_(t−1) + b_hh)</c>, or ReLU
/// with <c>Nonlinearity = "relu"</c>.</summary>
internal sealed class Rnn : RecurrentLayer
{
    public static readonly Rnn Instance = new();
    public override string Name => "Rnn";
    protected override int Gates => 1;

    public override LayerOptions? Read(AttributeArgs a, LayerDiagnostics d)
    {
        string nl = a.NamedString("Nonlinearity") ?? "tanh";
        if (nl is not ("tanh" or "relu")) { d.Invalid($"Rnn nonlinearity must be \"tanh\" or \"relu\" (PyTorch's names), got \"{nl}\""); return null; }
        return new RecurrentOptions(a.Int(0, 0), a.NamedBool("ReturnSequences", false), nl == "relu", a.NamedBool("Bidirectional", false));
    }

    private static string Act(LayerPlan l) => Opt(l).Relu ? "relu" : "tanh";

    protected override IEnumerable<string> CellMath(LayerPlan l)
    {
        yield return $"forward : for t = 0…{T(l) - 1}: h_t = {Act(l)}(W_ih·x_t + b_ih + W_hh·h_(t−1) + b_hh)   (h_(−1) = 0, or the carried state when Stateful)";
        yield return $"backward: dG = dh⊙{(Opt(l).Relu ? "[h > 0]" : "(1 − h²)")},  dh_(t−1) = W_hhᵀ·dG_t (+ dy_(t−1))";
    }

    protected override void CellForward(CodeWriter cw, RecurrentDir c, Width w) =>
        cw.Line($"MG.Recurrent.RnnForward(ref gt, row, ref MG.Mem.Add(ref hs, (nint)t * ld), row, {H(c.Layer)}, n, {(Opt(c.Layer).Relu ? "true" : "false")}, {w.Enum});");

    protected override void CellForward1(CodeWriter cw, RecurrentDir c, Width w) =>
        cw.Line($"MG.Recurrent.RnnForward(ref gt, 0, ref MG.Mem.Add(ref h1, t * {H(c.Layer)}), 0, 1, {H(c.Layer)}, {(Opt(c.Layer).Relu ? "true" : "false")}, {w.Enum});   // the units in the lanes");

    protected override void CellBackward(CodeWriter cw, RecurrentDir c, Width w) =>
        cw.Line($"MG.Recurrent.RnnBackward(ref gt, row, ref MG.Mem.Add(ref hs, (nint)t * ld), row, ref dh, ld, {H(c.Layer)}, n, batch, {(Opt(c.Layer).Relu ? "true" : "false")}, {w.Enum});");
}

/// <summary>One direction of a recurrent layer as its code sees it: the layer's context with the direction's tensors
/// (<c>weight_ih_l0_reverse</c>…) and scratch, and for the reverse direction the time-reversed input, mask and output
/// gradient (the same recurrence run over the reversed sequence, as PyTorch's bidirectional layers).</summary>
internal sealed class RecurrentDir
{
    /// <summary>Scratch held once per direction; the rest (the backward's step buffers) is shared.</summary>
    private static readonly HashSet<string> PerDirection = new()
    {
        "gates", "hgates", "states", "bsum", "cells", "tanhc", "wihT", "whhT", "whhP", "whhTP", "h1", "h0", "carried", "c0", "carriedc",
    };

    public RecurrentDir(CSharpLayer c, bool reverse) { C = c; Reverse = reverse; }

    public CSharpLayer C { get; }
    /// <summary>True for the direction that reads the sequence from its last step to its first.</summary>
    public bool Reverse { get; }
    public string Suffix => Reverse ? "_reverse" : "";
    public LayerPlan Layer => C.Layer;
    public NetworkPlan Network => C.Network;
    public GemmEmitter Gemm => C.Gemm;
    public string Scratch(string name) => C.Scratch(PerDirection.Contains(name) ? name + Suffix : name);
    public string Output => C.Output;
    public string Tensor(string local) => C.Tensor(local + Suffix);
    /// <summary>The sequence this direction reads: the input, or its time-reversed copy.</summary>
    public string Input => Reverse ? C.Scratch("xrev") : C.Input;
    /// <summary>Where this direction's d loss / d input goes: the input gradient, or the reversed one added to it later.</summary>
    public string? InputGrad => C.InputGrad is null ? null : Reverse ? C.Scratch("dxrev") : C.InputGrad;
    public System.IDisposable? InputGradGuard(CodeWriter cw) => C.InputGradGuard(cw);
    /// <summary>Whether this direction starts from a carried state when the model is Stateful (the forward one only).</summary>
    public bool Carries => !Reverse;
    public string Carried => Reverse ? "false" : "ws.Carried";
    /// <summary>The layer's own name for comments: <c>Encoder</c> or <c>Encoder (reverse)</c>.</summary>
    public string Name => Reverse ? Layer.Name + " (reverse)" : Layer.Name;
}
