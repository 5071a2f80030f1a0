using System.Collections.Generic;
using ModelGen.Generator.Analysis;
using ModelGen.Generator.Diagnostics;
using ModelGen.Generator.Emit;
using ModelGen.Generator.Emit.CSharp;
using ModelGen.Generator.Emit.Ptx;
using ModelGen.Generator.Model;

namespace ModelGen.Generator.Layers;

internal sealed record CausalSelfAttentionOptions(int Heads) : LayerOptions;

/// <summary>
/// Causal multi-head scaled dot-product attention on a fused projection <c>[T, 3C]</c> (queries, keys, values) →
/// <c>[T, C]</c>: <c>o_t = Σ_{u ≤ t} softmax_u(q_t·k_u/√d)·v_u</c> per head, <c>d = C/heads</c>; online softmax over key
/// tiles, <c>lse</c> kept for the backward, which recomputes the probabilities (FlashAttention-2). No parameters: the
/// projections are the Dense layers around it. Runtime kernel: <c>Runtime/Kernels/Attention.cs</c>.
/// </summary>
internal sealed class CausalSelfAttention : LayerKind, ICSharpLayer, ICSharpDecodeStep, IPtxLayer, IPtxScratch
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

    // ── PTX: the probabilities kept per head ([T, T], the causal half used) instead of recomputed — the simple form;
    //    a FlashAttention-style tiled kernel is the GPU's next step. One thread per (sample, head, query) for the
    //    softmax rows, one per element for the mixes and the input gradient (no atomics). ──────────────────────────

    public IEnumerable<(string Name, int PerSample, int Fixed)> Scratch(LayerPlan l)
    {
        yield return ("p", Heads(l) * T(l) * T(l), 0);    // softmax probabilities p[h, t, u]
        yield return ("ds", Heads(l) * T(l) * T(l), 0);   // their gradients through the softmax
    }

    /// <summary>Decomposes a row index over (sample, head, query): b, h, t, and the first float of the head's [T, T] block.</summary>
    private static (string B, string H, string T, string Block) Row(PtxKernel k, LayerPlan l, string idx)
    {
        var (bh, t) = PtxMath.DivRem(k, idx, T(l));
        var (b, h) = PtxMath.DivRem(k, bh, Heads(l));
        string block = k.R();
        k.Op($"mul.lo.s32 {block}, {bh}, {T(l) * T(l)}");
        return (b, h, t, block);
    }

    /// <summary>The address of feature <paramref name="col"/> of step <paramref name="t"/> of sample <paramref name="b"/> in a [n, T, width] tensor.</summary>
    /// <summary><c>Σ_j x[j]·y[j]</c> over the <paramref name="d"/> features of one head (x, y: addresses of their
    /// first feature), unrolled, in a new register.</summary>
    private static string Dot(PtxKernel k, string x, string y, int d)
    {
        string dot = k.F();
        k.Op($"mov.f32 {dot}, {PtxMath.Zero}");
        for (int j = 0; j < d; j++) k.Op($"fma.rn.f32 {dot}, {k.LoadGlobal(x, 4 * j)}, {k.LoadGlobal(y, 4 * j)}, {dot}");
        return dot;
    }

    private static string At(PtxKernel k, string baseAddress, string b, string t, int steps, int width, string col)
    {
        string e = k.R();
        k.Op($"mad.lo.s32 {e}, {b}, {steps}, {t}");
        k.Op($"mad.lo.s32 {e}, {e}, {width}, {col}");
        return k.Element(baseAddress, e);
    }

    public void Forward(PtxLayer c)
    {
        var l = c.Layer;
        int t = T(l), chans = C(l), d = HeadDim(l);
        float scale = (float)(1.0 / System.Math.Sqrt(d));
        var scores = PtxMath.PerElement(c.Name("Softmax"), $"{Heads(l) * t} * n", new[] { "pQkv", "pP" }, new[] { c.Input, c.Scratch("p") }, (k, a, idx) =>
        {
            var (b, h, q, block) = Row(k, l, idx);
            string hd = k.R(), kc = k.R(), row = k.R();
            k.Op($"mul.lo.s32 {hd}, {h}, {d}");
            k.Op($"add.s32 {kc}, {hd}, {chans}");
            k.Op($"mad.lo.s32 {row}, {q}, {t}, {block}");
            string qa = At(k, a[0], b, q, t, 3 * chans, hd), pa = k.Element(a[1], row);
            string max = k.F(), sum = k.F(), zero = k.F(), count = k.R();
            k.Op($"mov.f32 {max}, {PtxText.F(float.NegativeInfinity)}");
            k.Op($"mov.f32 {sum}, {PtxMath.Zero}");
            k.Op($"mov.f32 {zero}, {PtxMath.Zero}");
            k.Op($"add.s32 {count}, {q}, 1");
            k.For(count, u =>
            {
                string dot = Dot(k, qa, At(k, a[0], b, u, t, 3 * chans, kc), d);
                k.Op($"mul.f32 {dot}, {dot}, {PtxText.F(scale)}");
                k.StoreGlobal(k.Element(pa, u), dot);
                k.Op($"max.f32 {max}, {max}, {dot}");
            });
            k.For(count, u =>
            {
                string at = k.Element(pa, u), e = k.F();
                k.Op($"sub.f32 {e}, {k.LoadGlobal(at)}, {max}");
                string x = k.Exp(e);
                k.StoreGlobal(at, x);
                k.Op($"add.f32 {sum}, {sum}, {x}");
            });
            string inv = k.F();
            k.Op($"rcp.rn.f32 {inv}, {sum}");
            k.For(PtxText.I(t), u =>
            {
                string at = k.Element(pa, u), v = k.F(), future = k.P();
                k.Op($"mul.f32 {v}, {k.LoadGlobal(at)}, {inv}");
                k.Op($"setp.gt.u32 {future}, {u}, {q}");
                k.Op(future, $"mov.f32 {v}, {zero}");   // keys after the query: probability 0
                k.StoreGlobal(at, v);
            });
        });
        scores.Banner.Add($"p[b,h,t,u] = softmax_(u≤t)(q_t·k_u/√{d}), 0 for u > t; {Heads(l)} heads of {d}, {t} steps; one thread per (sample, head, query)");
        c.ForwardKernels.Add(scores);
        var mix = PtxMath.PerElement(c.Name("Mix"), $"{t * chans} * n", new[] { "pQkv", "pP", "pY" }, new[] { c.Input, c.Scratch("p"), c.Output }, (k, a, idx) =>
        {
            var (bt, col) = PtxMath.DivRem(k, idx, chans);
            var (b, q) = PtxMath.DivRem(k, bt, t);
            var (h, _) = PtxMath.DivRem(k, col, d);
            string bh = k.R(), row = k.R(), vc = k.R(), acc = k.F(), count = k.R();
            k.Op($"mad.lo.s32 {bh}, {b}, {Heads(l)}, {h}");
            k.Op($"mul.lo.s32 {row}, {bh}, {t}");
            k.Op($"add.s32 {row}, {row}, {q}");
            k.Op($"mul.lo.s32 {row}, {row}, {t}");
            k.Op($"add.s32 {vc}, {col}, {2 * chans}");
            k.Op($"mov.f32 {acc}, {PtxMath.Zero}");
            k.Op($"add.s32 {count}, {q}, 1");
            string pa = k.Element(a[1], row);
            k.For(count, u => k.Op($"fma.rn.f32 {acc}, {k.LoadGlobal(k.Element(pa, u))}, {k.LoadGlobal(At(k, a[0], b, u, t, 3 * chans, vc))}, {acc}"));
            k.StoreGlobal(k.Element(a[2], idx), acc);
        });
        mix.Banner.Add($"o[b,t,c] = Σ_(u≤t) p[b,h,t,u]·v[b,u,c], h = c/{d}; one thread per output element");
        c.ForwardKernels.Add(mix);
    }

    public void Backward(PtxLayer c)
    {
        var l = c.Layer;
        if (c.InputGrad is null) return;
        int t = T(l), chans = C(l), d = HeadDim(l);
        float scale = (float)(1.0 / System.Math.Sqrt(d));
        var dsk = PtxMath.PerElement(c.Name("Dscores"), $"{Heads(l) * t} * n", new[] { "pQkv", "pP", "pDY", "pDS" }, new[] { c.Input, c.Scratch("p"), c.OutputGrad, c.Scratch("ds") }, (k, a, idx) =>
        {
            var (b, h, q, block) = Row(k, l, idx);
            string hd = k.R(), vc = k.R(), row = k.R();
            k.Op($"mul.lo.s32 {hd}, {h}, {d}");
            k.Op($"add.s32 {vc}, {hd}, {2 * chans}");
            k.Op($"mad.lo.s32 {row}, {q}, {t}, {block}");
            string dya = At(k, a[2], b, q, t, chans, hd), pa = k.Element(a[1], row), dsa = k.Element(a[3], row);
            string D = k.F(), count = k.R(), zero = k.F();
            k.Op($"mov.f32 {D}, {PtxMath.Zero}");
            k.Op($"mov.f32 {zero}, {PtxMath.Zero}");
            k.Op($"add.s32 {count}, {q}, 1");
            // dp_u = do_t·v_u (kept in ds for now), D = Σ_u p_u·dp_u
            k.For(count, u =>
            {
                string dp = Dot(k, dya, At(k, a[0], b, u, t, 3 * chans, vc), d);
                k.StoreGlobal(k.Element(dsa, u), dp);
                k.Op($"fma.rn.f32 {D}, {k.LoadGlobal(k.Element(pa, u))}, {dp}, {D}");
            });
            k.For(PtxText.I(t), u =>
            {
                string at = k.Element(dsa, u), v = k.F(), future = k.P();
                k.Op($"sub.f32 {v}, {k.LoadGlobal(at)}, {D}");
                k.Op($"mul.f32 {v}, {v}, {k.LoadGlobal(k.Element(pa, u))}");
                k.Op($"setp.gt.u32 {future}, {u}, {q}");
                k.Op(future, $"mov.f32 {v}, {zero}");
                k.StoreGlobal(at, v);
            });
        });
        dsk.Banner.Add("ds[b,h,t,u] = p·(do_t·v_u − Σ_u' p·do_t·v_u'), 0 for u > t; one thread per (sample, head, query)");
        c.BackwardKernels.Add(dsk);
        var dx = PtxMath.PerElement(c.Name("Dqkv"), $"{t * 3 * chans} * n", new[] { "pQkv", "pP", "pDS", "pDY", "pDX" },
            new[] { c.Input, c.Scratch("p"), c.Scratch("ds"), c.OutputGrad, c.InputGrad }, (k, a, idx) =>
        {
            var (bt, col) = PtxMath.DivRem(k, idx, 3 * chans);
            var (b, s) = PtxMath.DivRem(k, bt, t);
            var (part, ch) = PtxMath.DivRem(k, col, chans);
            var (h, _) = PtxMath.DivRem(k, ch, d);
            string bh = k.R(), block = k.R(), acc = k.F();
            k.Op($"mad.lo.s32 {bh}, {b}, {Heads(l)}, {h}");
            k.Op($"mul.lo.s32 {block}, {bh}, {t * t}");
            k.Op($"mov.f32 {acc}, {PtxMath.Zero}");
            string isQ = k.P(), isK = k.P(), kLabel = k.NewLabel("key"), vLabel = k.NewLabel("value"), done = k.NewLabel("sum");
            k.Op($"setp.eq.u32 {isQ}, {part}, 0");
            k.Op($"setp.eq.u32 {isK}, {part}, 1");
            k.Op("!" + isQ, $"bra {kLabel}");
            {
                // dq_s = Σ_(u≤s) ds[s,u]·k_u/√d
                string count = k.R(), row = k.R(), kc = k.R();
                k.Op($"add.s32 {count}, {s}, 1");
                k.Op($"mad.lo.s32 {row}, {s}, {t}, {block}");
                k.Op($"add.s32 {kc}, {ch}, {chans}");
                string dsa = k.Element(a[2], row);
                k.For(count, u => k.Op($"fma.rn.f32 {acc}, {k.LoadGlobal(k.Element(dsa, u))}, {k.LoadGlobal(At(k, a[0], b, u, t, 3 * chans, kc))}, {acc}"));
                k.Op($"mul.f32 {acc}, {acc}, {PtxText.F(scale)}");
                k.Op($"bra {done}");
            }
            // dk_s = Σ_(t'≥s) ds[t',s]·q_t'/√d and dv_s = Σ_(t'≥s) p[t',s]·do_t': the same walk down column s of a [T, T] block.
            void DownColumn(string weights, string other, int width, string col)
            {
                string count = k.R();
                k.Op($"sub.s32 {count}, {t}, {s}");
                k.For(count, i =>
                {
                    string q = k.R(), e = k.R();
                    k.Op($"add.s32 {q}, {s}, {i}");
                    k.Op($"mad.lo.s32 {e}, {q}, {t}, {s}");
                    k.Op($"add.s32 {e}, {e}, {block}");
                    k.Op($"fma.rn.f32 {acc}, {k.LoadGlobal(k.Element(weights, e))}, {k.LoadGlobal(At(k, other, b, q, t, width, col))}, {acc}");
                });
            }
            k.Label(kLabel);
            k.Op("!" + isK, $"bra {vLabel}");
            DownColumn(a[2], a[0], 3 * chans, ch);
            k.Op($"mul.f32 {acc}, {acc}, {PtxText.F(scale)}");
            k.Op($"bra {done}");
            k.Label(vLabel);
            DownColumn(a[1], a[3], chans, ch);
            k.Label(done);
            string dxa = k.Element(a[4], idx), r = k.F();
            k.Op($"add.f32 {r}, {acc}, {k.LoadGlobal(dxa)}");
            k.StoreGlobal(dxa, r);
        });
        dx.Banner.Add("dq_t += Σ_u ds[t,u]·k_u/√d, dk_u += Σ_t ds[t,u]·q_t/√d, dv_u += Σ_t p[t,u]·do_t; one thread per input element");
        dx.OnlyForInputGradient = c.ReadsNetworkInput();
        c.BackwardKernels.Add(dx);
    }
}
