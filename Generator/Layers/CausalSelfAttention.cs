using System.Collections.Generic;
using ModelGen.Generator.Analysis;
using ModelGen.Generator.Diagnostics;
using ModelGen.Generator.Emit;
using ModelGen.Generator.Emit.CSharp;
using ModelGen.Generator.Model;

namespace ModelGen.Generator.Layers;

internal sealed record CausalSelfAttentionOptions(int Heads) : LayerOptions;

/// <summary>
/// Causal multi-head scaled dot-product attention on a fused projection <c>[T, 3C]</c> (queries, keys, values) →
/// <c>[T, C]</c>: <c>o_t = Σ_{u ≤ t} softmax_u(q_t·k_u/√d)·v_u</c> per head, <c>d = C/heads</c>; online softmax over key
/// tiles, <c>lse</c> kept for the backward, which recomputes the probabilities (FlashAttention-2). No parameters: the
/// projections are the Dense layers around it. Runtime kernel: <c>Runtime/Kernels/Attention.cs</c>.
/// </summary>
internal sealed class CausalSelfAttention : LayerKind, ICSharpLayer, ICSharpDecodeStep
{
    public static readonly CausalSelfAttention Instance = new();
    public override string Name => "CausalSelfAttention";

    public override bool ReadsEarlierSteps => true;

    public override LayerOptions? Read(AttributeArgs a, LayerDiagnostics d) => new CausalSelfAttentionOptions(a.Int(0, 0));

    private static int Heads(LayerPlan l) => ((CausalSelfAttentionOptions)l.Options).Heads;
    private static int T(LayerPlan l) => l.InShape[0];
    private static int C(LayerPlan l) => l.OutShape[1];
    private static int HeadDim(LayerPlan l) => C(l) / Heads(l);

    public override LayerShape? Infer(LayerSpec s, IReadOnlyList<Shape> inputs, LayerDiagnostics d)
    {
        int heads = ((CausalSelfAttentionOptions)s.Options).Heads;
        if (heads <= 0) { d.Report(Descriptors.NonPositiveSize, "heads", heads); return null; }
        var x = inputs[0];
        if (!x.IsSequence || x[1] % 3 != 0)
        {
            Fused.WrongInput(d, $"CausalSelfAttention({heads})", "the fused projection [steps, 3·C] of a sequence (queries, keys, values: a [Dense(3 * C)] before it)", x);
            return null;
        }
        int c = x[1] / 3;
        if (c % heads != 0) { d.Invalid($"{heads} heads do not divide the {c} channels of each of q, k, v (input [{x[0]}, {x[1]}] = [T, 3·{c}])"); return null; }
        long flops = 2L * x[0] * (x[0] + 1) * c;   // q·k and p·v over the causal half, 2 FLOPs per multiply-add
        return new LayerShape(Shape.Of(x[0], c), EquatableArray<TensorSpec>.Empty, flops, s.Options);
    }

    public override ReceptiveField ReceptiveField(LayerPlan layer, IReadOnlyList<ReceptiveField> inputs) => Analysis.ReceptiveField.Whole;

    public override string Describe(LayerPlan l) => $"CausalSelfAttention({Heads(l)} heads)";

    public override IEnumerable<(string Key, double Value)> Hyperparameters(LayerPlan l) { yield return ("heads", Heads(l)); }

    public override IEnumerable<string> Math(LayerPlan l, NetworkPlan p)
    {
        int t = T(l), c = C(l), h = Heads(l), d = HeadDim(l);
        yield return $"forward : o_t = Σ_(u≤t) softmax_u(q_t·k_u/√{d})·v_u  per head".PadRight(64) + $"qkv:[{3 * c},{t}·B] (q, k, v rows) o:[{c},{t}·B]";
        yield return $"          {h} heads of {d}; keys in tiles of 64 with the online softmax (running max and sum), lse_t = m + log l kept";
        yield return "backward: p = e^(q·k/√d − lse), D_t = do_t·o_t, ds = p·(do_t·v_u − D_t);";
        yield return "          dq_t += ds·k_u/√d,  dk_u += ds·q_t/√d,  dv_u += p·do_t   (probabilities recomputed, never stored)";
        yield return $"FLOPs/sample: {Text.N0(l.Flops)} (the causal half of the {t}×{t} scores)";
    }

    public override IEnumerable<ScratchRequest> Scratch(LayerPlan l, NetworkPlan p)
    {
        yield return new ScratchRequest("lse", BufferSize.Panel((long)Heads(l) * T(l)), ScratchScope.PerLayer, false, "log-sum-exp of each query's scores [heads·T, ld]");
        yield return new ScratchRequest("attn", BufferSize.Floats(Tiles(l)), ScratchScope.Shared, false, "one head's q, k, v (and do, dk, dv) packed [T, d, 8 samples]");
    }

    /// <summary>The floats of <c>MG.Attention.ScratchFloats(T, d, backward: true)</c> (the kernel checks it).</summary>
    private static int Tiles(LayerPlan l)
    {
        int t = T(l), d = HeadDim(l), tp = (t + 3) & ~3, r = 8 * d;   // the blocked kernels' steps padded to blocks of 4, rows of d·8
        int forward = System.Math.Max(4 * t * d + 64, 3 * tp * r + 4 * r + 4 * 64 * 8 + 2 * 4 * 8);
        return System.Math.Max(forward, System.Math.Max(9 * t * d + t + 2 * 64, 6 * tp * r + 4 * r + 2 * 4 * 4 * 8 + 2 * tp * 8));
    }
    private static string Tiles(CSharpLayer c, string workspace = "ws") => $"{workspace}.Span({c.Scratch("attn")}, {Tiles(c.Layer)})";

    public void Forward(CodeWriter cw, CSharpLayer c, Width w)
    {
        var l = c.Layer;
        using (c.ForwardMethod(cw, w))
            c.RunParts(cw, w, "Forward", CSharpLayer.ParallelUnits(Heads(l).ToString(), "n", l.Flops), "heads");
        cw.Line();
        using (c.PartMethod(cw, w, "Forward"))
        {
            cw.Line("int n = ws.N, ld = ws.Ld;");
            cw.Line($"ThreadTeam.Split({Heads(l)}, 1, part, parts, out int h0, out int h1);   // this part's heads");
            cw.Line($"MG.Attention.Forward(ref ws.Ref({c.Input}), {T(l)}, {C(l)}, {Heads(l)}, ld, n, h0, h1, ref ws.Ref({c.Output}), ref ws.Ref({c.Scratch("lse")}), {Tiles(c, "ts")}, {w.Enum});");
        }
    }

    public void Backward(CodeWriter cw, CSharpLayer c, Width w)
    {
        var l = c.Layer;
        using (c.BackwardMethod(cw, w))
        {
            if (c.InputGrad is null) { cw.Line("// no parameters and no gradient flows further down"); return; }
            using var guard = c.InputGradGuard(cw);
            c.RunParts(cw, w, "Backward", CSharpLayer.ParallelUnits(Heads(l).ToString(), "batch", 3 * l.Flops), "heads");
        }
        if (c.InputGrad is null) return;
        cw.Line();
        using (c.PartMethod(cw, w, "Backward"))
        {
            cw.Line("int batch = ws.Batch, ld = ws.Ld;");
            cw.Line($"ThreadTeam.Split({Heads(l)}, 1, part, parts, out int h0, out int h1);   // this part's heads");
            cw.Line($"MG.Attention.Backward(ref ws.Ref({c.Input}), ref ws.Ref({c.Output}), ref ws.Ref({c.Scratch("lse")}), ref ws.Ref({c.OutputGrad}), {T(l)}, {C(l)}, {Heads(l)}, ld, batch, h0, h1,");
            cw.Line($"    ref ws.Ref({c.InputGrad}), {Tiles(c, "ts")}, {w.Enum});   // dqkv stored");
        }
    }

    public bool CanStep(LayerPlan l) => true;

    public void Step(CodeWriter cw, CSharpLayer c)
    {
        var l = c.Layer;
        cw.Line($"MG.Decode.Attention(ref ws.Ref({c.Input}), {T(l)}, {C(l)}, {Heads(l)}, t, ref ws.Ref({c.Output}), ws.Span({c.Scratch("attn")}, {T(l)}), width);   // q of step t against the cached k, v of steps 0…t");
    }
}
