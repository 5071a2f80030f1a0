using System.Collections.Generic;
using System.Linq;
using ModelGen.Generator.Analysis;
using ModelGen.Generator.Diagnostics;
using ModelGen.Generator.Emit;
using ModelGen.Generator.Emit.CSharp;
using ModelGen.Generator.Emit.Ptx;
using ModelGen.Generator.Model;

namespace ModelGen.Generator.Layers;

/// <summary>An embedding's options: table size, padding id 0 masked, row-by-row (sparse) updates.</summary>
internal sealed record EmbeddingOptions(int Vocabulary, int Dimension, bool MaskZero, bool Sparse) : LayerOptions;

/// <summary>
/// PyTorch's <c>nn.Embedding</c> on the network input: token ids <c>[T]</c> (whole numbers in floats, checked at the API
/// entry) → the sequence <c>[T, D]</c>, held as the panel <c>[D, T·ld]</c> the recurrent layers read. Parameter
/// <c>weight [V, D]</c>, N(0, 1) as PyTorch. Backward adds each step's output gradient to its id's row; a sparse table
/// records the rows (<c>SparseRows</c>) so that <c>ZeroGrad</c> and the optimiser touch only those. With MaskZero, id 0
/// is padding: zero output, no gradient, and a mask panel <c>[T, ld]</c> that the recurrent layers above read.
/// Runtime kernel: <c>Runtime/Kernels/Embedding.cs</c>. PTX (dense tables): a gather forward, and a backward with one
/// thread per column of the table that walks the tokens in order (no atomics: the C# path's order).
/// </summary>
internal sealed class Embedding : LayerKind, ICSharpLayer, ICSharpInputCheck, ICSharpDecodeStep, IPtxLayer, IPtxScratch
{
    public static readonly Embedding Instance = new();
    public override string Name => "Embedding";
    public override bool HasWeights => true;

    public override LayerOptions? Read(AttributeArgs a, LayerDiagnostics d) =>
        new EmbeddingOptions(a.Int(0, 0), a.Int(1, 0), a.NamedBool("MaskZero", false), a.NamedBool("Sparse", true));

    private static EmbeddingOptions Opt(LayerPlan l) => (EmbeddingOptions)l.Options;
    private static int T(LayerPlan l) => l.InShape[0];

    public override LayerShape? Infer(LayerSpec s, IReadOnlyList<Shape> inputs, LayerDiagnostics d)
    {
        var o = (EmbeddingOptions)s.Options;
        if (o.Vocabulary <= 0) { d.Report(Descriptors.NonPositiveSize, "vocabulary", o.Vocabulary); return null; }
        if (o.Dimension <= 0) { d.Report(Descriptors.NonPositiveSize, "dimension", o.Dimension); return null; }
        if (d.Producer != "(input)") { d.Invalid($"an Embedding reads token ids, so it must read the network input, not '{d.Producer}'"); return null; }
        var x = inputs[0];
        if (x.Rank != 1) { Fused.WrongInput(d, $"Embedding({o.Vocabulary}, {o.Dimension})", "token ids [steps] (declare the network as [Network(steps)])", x); return null; }
        if (o.Vocabulary > 1 << 24) { d.Invalid($"vocabulary {o.Vocabulary} exceeds 2^24: larger ids are not exact in the float input"); return null; }
        if (o.MaskZero && o.Vocabulary < 2) { d.Invalid("MaskZero reserves id 0 for padding, so the vocabulary needs at least 2 ids"); return null; }
        if ((long)o.Vocabulary * o.Dimension > int.MaxValue / 4) { d.Invalid($"Embedding({o.Vocabulary}, {o.Dimension}) has more weights than one arena can address"); return null; }
        var tensors = EquatableArray.From(new[]
        {
            new TensorSpec("weight", EquatableArray.From(new[] { o.Vocabulary, o.Dimension }), TensorRole.Weight, TensorInit.Normal, o.Vocabulary, o.Dimension, o.Sparse),
        });
        return new LayerShape(Shape.Of(x[0], o.Dimension), tensors, 0, o);
    }

    public override bool MasksOutput(LayerPlan l) => Opt(l).MaskZero;

    public override string Describe(LayerPlan l) =>
        $"Embedding({Opt(l).Vocabulary}, {Opt(l).Dimension}{(Opt(l).MaskZero ? ", mask 0" : "")}{(Opt(l).Sparse ? ", sparse" : "")})";

    public override IEnumerable<(string Key, double Value)> Hyperparameters(LayerPlan l)
    {
        yield return ("vocabulary", Opt(l).Vocabulary);
        yield return ("dimension", Opt(l).Dimension);
        yield return ("mask_zero", Opt(l).MaskZero ? 1 : 0);
        yield return ("sparse", Opt(l).Sparse ? 1 : 0);
    }

    public override IEnumerable<string> Math(LayerPlan l, NetworkPlan p)
    {
        var o = Opt(l);
        int t = T(l);
        yield return $"forward : y[t] = W[id_t]  for t = 0…{t - 1}" + (o.MaskZero ? "; id 0 is padding: y[t] = 0, mask[t] = 0" : "");
        yield return $"          ids:[{t}] (whole numbers in floats, checked on entry) W:[{o.Vocabulary},{o.Dimension}] y:{l.OutShape} held as the panel [{o.Dimension}, {t}·ld]";
        yield return "backward: dW[id_t] += dy[t]" + (o.MaskZero ? " (padding skipped)" : "") + (o.Sparse
            ? "; the rows used are recorded: ZeroGrad and the optimiser touch only them"
            : "; every row is updated each step (Sparse = false)");
        yield return $"params  : {Text.N0(l.ParameterCount)}";
    }

    public override IEnumerable<ScratchRequest> Scratch(LayerPlan l, NetworkPlan p)
    {
        if (Opt(l).MaskZero)
            yield return new ScratchRequest("mask", BufferSize.Panel(T(l)), ScratchScope.PerLayer, false, "1 for a token, 0 for padding [T, ld]");
    }

    /// <summary>The table's <c>SparseRows</c> in the generated code, or <c>null</c> for a dense table.</summary>
    private static string Rows(CSharpLayer c)
    {
        var weight = c.Layer.Tensor("weight");
        if (!weight.Sparse) return "null";
        int k = 0;
        foreach (var t in c.Network.SparseTensors) { if (t.Name == weight.Name) break; k++; }
        return $"_sparseTables[{k}]";
    }

    private static string Mask(CSharpLayer c) => Opt(c.Layer).MaskZero ? $"ref ws.Ref({c.Scratch("mask")})" : "ref Unsafe.NullRef<float>()";

    public void CheckInput(CodeWriter cw, CSharpLayer c)
    {
        var o = Opt(c.Layer);
        int t = T(c.Layer);
        string bad = "bad" + c.Layer.Name;
        cw.Line($"int {bad} = MG.Embedding.FindInvalid(input, {o.Vocabulary});   // {c.Layer.Name}: token ids");
        cw.Line($"if ({bad} >= 0)");
        cw.Line($"    throw new ArgumentException($\"{c.Layer.Name}: sample {{{bad} / {t}}}, step {{{bad} % {t}}} holds {{input[{bad}]}}, which is not a token id: " +
                $"ids are whole numbers in [0, {o.Vocabulary})\", \"input\");");
    }

    public void Forward(CodeWriter cw, CSharpLayer c, Width w)
    {
        var o = Opt(c.Layer);
        using (c.ForwardMethod(cw, w))
            cw.Line($"MG.Embedding.Forward(ref ws.Ref({c.Input}), {T(c.Layer)}, ld, n, ref _arena.Ref({c.Tensor("weight")}), {o.Dimension}, ref ws.Ref({c.Output}), " +
                    $"{(o.MaskZero ? "true" : "false")}, {Mask(c)});");
    }

    public bool CanStep(LayerPlan l) => true;

    public void Step(CodeWriter cw, CSharpLayer c)
    {
        var o = Opt(c.Layer);
        cw.Line($"MG.Decode.Embedding(ref ws.Ref({c.Input}), {T(c.Layer)}, t, ref _arena.Ref({c.Tensor("weight")}), {o.Dimension}, ref ws.Ref({c.Output}), {(o.MaskZero ? "true" : "false")}, {Mask(c)});");
    }

    public void Backward(CodeWriter cw, CSharpLayer c, Width w)
    {
        var o = Opt(c.Layer);
        using (c.BackwardMethod(cw, w))
        {
            cw.Line($"MG.Embedding.Backward(ref ws.Ref({c.Input}), {T(c.Layer)}, ld, batch, ref ws.Ref({c.OutputGrad}), {o.Dimension}, " +
                    $"ref _arena.Ref(GradientBase + {c.Tensor("weight")}), {(o.MaskZero ? "true" : "false")}, {Rows(c)});   // dW[id] += dy");
            if (c.InputGrad is not null)
                using (c.InputGradGuard(cw))
                    cw.Line($"ws.Span({c.InputGrad}, {c.Extent(false)}).Clear();   // ids are not differentiable: d loss / d input = 0");
        }
    }

    // ── PTX: the ids arrive as floats [batch, T] (checked on the host first); the output is sample-major [batch, T, D];
    //    with MaskZero the mask [batch, T] the recurrent layers above read ────────────────────────────────────────────

    public IEnumerable<(string Name, int PerSample, int Fixed)> Scratch(LayerPlan l)
    {
        if (Opt(l).MaskZero) yield return ("mask", T(l), 0);
        if (Opt(l).Sparse) yield return ("rows", 0, Opt(l).Vocabulary);   // a flag per row: used since the last ZeroGrad
    }

    /// <summary>The id at float address <paramref name="at"/> as an integer (a whole number, checked on entry).</summary>
    private static string Id(PtxKernel k, string at)
    {
        string id = k.R();
        k.Op($"cvt.rzi.s32.f32 {id}, {k.LoadGlobal(at)}");
        return id;
    }

    public void Forward(PtxLayer c)
    {
        var o = Opt(c.Layer);
        int t = T(c.Layer), dim = o.Dimension;
        var k = PtxMath.PerElement(c.Name("Forward"), $"{t * dim} * n", o.MaskZero ? new[] { "pIds", "pW", "pY", "pMask" } : new[] { "pIds", "pW", "pY" },
            o.MaskZero ? new[] { c.Input, c.Tensor("weight"), c.Output, c.Scratch("mask") } : new[] { c.Input, c.Tensor("weight"), c.Output }, (k, a, i) =>
        {
            string row = k.R(), d = k.R(), at = k.R();
            k.Op($"div.u32 {row}, {i}, {dim}");
            k.Op($"rem.u32 {d}, {i}, {dim}");
            string id = Id(k, k.Element(a[0], row));
            k.Op($"mad.lo.s32 {at}, {id}, {dim}, {d}");
            string v = k.LoadGlobal(k.Element(a[1], at));
            if (o.MaskZero)
            {
                string pad = k.P(), notFirst = k.P(), m = k.F(), skip = k.NewLabel("mask");
                k.Op($"setp.eq.s32 {pad}, {id}, 0");
                k.Op($"selp.f32 {v}, {PtxMath.Zero}, {v}, {pad}");
                k.Op($"setp.ne.u32 {notFirst}, {d}, 0");
                k.Op(notFirst, $"bra {skip}");
                k.Op($"selp.f32 {m}, {PtxMath.Zero}, {PtxMath.One}, {pad}");
                k.StoreGlobal(k.Element(a[3], row), m);
                k.Label(skip);
            }
            k.StoreGlobal(k.Element(a[2], i), v);
        });
        k.Banner.Add($"y[s, t, :] = W[id(s, t), :], W [{o.Vocabulary}, {dim}]{(o.MaskZero ? "; id 0 is padding: y = 0, mask[s, t] = 0 (written by the thread of d = 0)" : "")}; one thread per output element");
        c.ForwardKernels.Add(k);
    }

    public void Backward(PtxLayer c)
    {
        // The ids are not differentiable: nothing is added to an input gradient (the caller's is zeroed).
        var o = Opt(c.Layer);
        int dim = o.Dimension;
        string rows = $"{T(c.Layer)} * n";
        if (o.Sparse)
        {
            // The rows used, for ZeroGrad and the optimiser (which update only these): every token's thread writes 1 to its
            // row's flag, several the same 1 to the same word, which is a write of one value whatever the order.
            var mark = PtxMath.PerElement(c.Name("Rows"), rows, new[] { "pIds", "pRows" }, new[] { c.Input, c.Scratch("rows") }, (k, a, i) =>
            {
                string id = Id(k, k.Element(a[0], i)), skip = k.NewLabel("pad");
                if (o.MaskZero)
                {
                    string pad = k.P();
                    k.Op($"setp.eq.s32 {pad}, {id}, 0");
                    k.Op(pad, $"bra {skip}");
                }
                string one = k.F();
                k.Op($"mov.f32 {one}, {PtxMath.One}");
                k.StoreGlobal(k.Element(a[1], id), one);
                k.Label(skip);
            });
            mark.Banner.Add($"rows[id(s, t)] = 1{(o.MaskZero ? " (padding skipped)" : "")}: the table's rows used since the last ZeroGrad, which clears them; one thread per token");
            c.BackwardKernels.Add(mark);
        }
        var launch = KernelLaunch.PerItem(PtxText.I(dim));
        foreach (var arg in new[] { c.Input, c.OutputGrad, c.Gradient("weight") }) launch.Args.Add(KernelArg.Buffer(arg));
        launch.Args.Add(KernelArg.Count(rows));
        var k = new PtxKernel(c.Name("Dweight"), launch);
        var g = new[] { "pIds", "pDY", "pDW" }.Select(p => k.GlobalPointer(k.Param("u64", p))).ToArray();
        string count = k.LoadU32(k.Param("u32", "rows")), d = k.GlobalThreadIndex(), outside = k.P(), done = k.NewLabel("done");
        k.Op($"setp.ge.u32 {outside}, {d}, {dim}");
        k.Op(outside, $"bra {done}");
        k.For(count, row =>
        {
            string id = Id(k, k.Element(g[0], row)), skip = o.MaskZero ? k.NewLabel("pad") : "";
            if (o.MaskZero)
            {
                string pad = k.P();
                k.Op($"setp.eq.s32 {pad}, {id}, 0");
                k.Op(pad, $"bra {skip}");
            }
            string e = k.R(), w = k.R(), sum = k.F();
            k.Op($"mad.lo.s32 {e}, {row}, {dim}, {d}");
            k.Op($"mad.lo.s32 {w}, {id}, {dim}, {d}");
            string wa = k.Element(g[2], w);
            k.Op($"add.f32 {sum}, {k.LoadGlobal(wa)}, {k.LoadGlobal(k.Element(g[1], e))}");
            k.StoreGlobal(wa, sum);
            if (o.MaskZero) k.Label(skip);
        });
        k.Label(done);
        k.Banner.Add($"dW[id(s, t), d] += dy[s, t, d]{(o.MaskZero ? " (padding skipped)" : "")}; one thread per column d of {dim}, the {rows} tokens in order");
        c.BackwardKernels.Add(k);
    }
}
