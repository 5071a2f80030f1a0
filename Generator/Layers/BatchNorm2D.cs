using System.Collections.Generic;
using ModelGen.Generator.Analysis;
using ModelGen.Generator.Emit;
using ModelGen.Generator.Emit.CSharp;
using ModelGen.Generator.Emit.Ptx;
using ModelGen.Generator.Model;

namespace ModelGen.Generator.Layers;

internal sealed record BatchNormOptions(float Momentum, float Epsilon) : LayerOptions;

/// <summary>
/// BatchNorm2D: per-channel normalisation with batch statistics in training (running averages updated) and the
/// running averages in inference; γ (<c>weight</c>) and β (<c>bias</c>) are trained, <c>running_mean</c> and
/// <c>running_var</c> are saved buffers. An activation may be fused after it. For inference it folds into a
/// convolution that it is the only reader of.
/// </summary>
internal sealed class BatchNorm2D : LayerKind, ICSharpLayer, ICSharpFold, IPtxLayer, IPtxScratch
{
    public static readonly BatchNorm2D Instance = new();
    public override string Name => "BatchNorm2D";
    public override bool FusesActivation => true;

    public override LayerOptions? Read(AttributeArgs a, LayerDiagnostics d)
    {
        float momentum = a.Float(0, 0.1f), eps = a.Float(1, 1e-5f);
        if (momentum > 0f && momentum <= 1f && eps > 0f) return new BatchNormOptions(momentum, eps);
        d.Invalid($"BatchNorm2D needs 0 < momentum ≤ 1 and epsilon > 0, got {Text.Num(momentum)} and {Text.Num(eps)}");
        return null;
    }

    public override LayerShape? Infer(LayerSpec s, IReadOnlyList<Shape> inputs, LayerDiagnostics d)
    {
        var x = inputs[0];
        if (x.Rank != 3) { Fused.WrongInput(d, Name, "a [channels, height, width]", x); return null; }
        if (!Fused.CheckAlpha(s, d)) return null;
        var c = EquatableArray.From(new[] { x[0] });
        return new LayerShape(x, EquatableArray.From(new[]
        {
            new TensorSpec("weight", c, TensorRole.Parameter, TensorInit.Ones),
            new TensorSpec("bias", c, TensorRole.Parameter, TensorInit.Zeros),
            new TensorSpec("running_mean", c, TensorRole.Buffer, TensorInit.Zeros),
            new TensorSpec("running_var", c, TensorRole.Buffer, TensorInit.Ones),
        }), 4L * x.Size, s.Options);
    }

    private static BatchNormOptions Opt(LayerPlan l) => (BatchNormOptions)l.Options;

    public override string Describe(LayerPlan l) => Name;

    public override IEnumerable<(string Key, double Value)> Hyperparameters(LayerPlan l)
    {
        yield return ("momentum", Opt(l).Momentum);
        yield return ("epsilon", Opt(l).Epsilon);
    }

    /// <summary>Folds into a convolution whose output it alone reads, when its activation can go into the GEMM's store.</summary>
    public override bool FoldsInto(LayerPlan producer, LayerPlan self) =>
        producer.Kind is Conv2D && producer.Activation == ActivationKind.None && Fused.InEpilogue(self.Activation);

    public override IEnumerable<string> Math(LayerPlan l, NetworkPlan p)
    {
        var o = Opt(l);
        yield return $"forward : training y = {Fused.Math(l.Activation, l.Alpha, "γ[c]·(x − μ_B[c])/√(σ²_B[c] + ε) + β[c]")}, μ_B, σ²_B over (batch, pixels);";
        yield return $"          running r ← (1 − {Text.Num(o.Momentum)})·r + {Text.Num(o.Momentum)}·stat (unbiased var); inference uses r.   ε = {Text.Num(o.Epsilon)}   x,y:{l.OutShape}";
        yield return $"backward: dβ = Σ dy; dγ = Σ dy·x̂; dx = γ/(N·√(σ²+ε))·(N·dy − dβ − x̂·dγ), N = batch·{l.OutPixels}";
        if (p.Buffers.Layers.Count > l.Index && p.Buffers.Layers[l.Index].FoldedInto is int conv and >= 0)
        {
            int pool = p.Buffers.Layers[conv].FuseInto;
            yield return $"inference: folded into {p.Layers[conv].Name} (FoldBatchNorm), whose forward writes this output"
                + (pool >= 0 ? $" — or, with {p.Layers[pool].Name} fused in too (FusePooling), {p.Layers[pool].Name}'s instead" : "");
        }
    }

    public override IEnumerable<ScratchRequest> Scratch(LayerPlan l, NetworkPlan p)
    {
        yield return new ScratchRequest("stats", BufferSize.Floats(2L * l.OutShape[0]), ScratchScope.PerLayer, TrainingOnly: true, "the batch's mean and 1/σ per channel");
    }

    /// <summary>W' = s·W, b' = s·(b − mean) + β, s = γ/√(var + ε), into the convolution's <c>folded</c> scratch.</summary>
    public void Fold(CodeWriter cw, CSharpLayer conv, CSharpLayer c)
    {
        var w = conv.Layer.Tensor("weight");
        int o = conv.Layer.OutShape[0], k = w.Length / o;
        string folded = conv.Scratch("folded");
        cw.Line($"MG.BatchNorm.Fold(ref _arena.Ref({w.Const}), ref _arena.Ref({conv.Tensor("bias")}), {o}, {k}, ref _arena.Ref({c.Tensor("weight")}), ref _arena.Ref({c.Tensor("bias")}), " +
            $"ref _arena.Ref({c.Tensor("running_mean")}), ref _arena.Ref({c.Tensor("running_var")}), {Text.Float(Opt(c.Layer).Epsilon)}, ref ws.Ref({folded}), ref ws.Ref({folded} + {w.Length}));");
        Conv2D.PackFolded(cw, conv);
    }

    private static string Args(CSharpLayer c)
    {
        var l = c.Layer;
        return $"{l.OutShape[0]}, {l.OutPixels}, {Geometry.LdP(l.OutPixels)}, ref _arena.Ref({c.Tensor("weight")}), ref _arena.Ref({c.Tensor("bias")}), ref _arena.Ref({c.Tensor("running_mean")}), ref _arena.Ref({c.Tensor("running_var")})";
    }

    public void Forward(CodeWriter cw, CSharpLayer c, Width w)
    {
        var l = c.Layer;
        var o = Opt(l);
        string ext = c.Extent(true);
        using (c.ForwardMethod(cw, w))
        {
            if (c.Network.Trainable)
            {
                using (cw.Block("if (ws.Training)"))
                    cw.Line($"MG.BatchNorm.ForwardTraining(ref ws.Ref({c.Input}), ws.Batch, {Args(c)}, {Text.Float(o.Momentum)}, {Text.Float(o.Epsilon)}, ref ws.Ref({c.Scratch("stats")}), ref ws.Ref({c.Output}));");
                using (cw.Block(c.Folded ? "else if (!FoldBatchNorm)" : "else"))
                    cw.Line($"MG.BatchNorm.ForwardInference(ref ws.Ref({c.Input}), ws.Batch, {Args(c)}, {Text.Float(o.Epsilon)}, ref ws.Ref({c.Output}));");
            }
            else
            {
                string inference = $"MG.BatchNorm.ForwardInference(ref ws.Ref({c.Input}), ws.Batch, {Args(c)}, {Text.Float(o.Epsilon)}, ref ws.Ref({c.Output}));";
                if (!c.Folded) cw.Line(inference);
                else using (cw.Block("if (!FoldBatchNorm)")) cw.Line(inference);
            }
            if (c.Folded) cw.Line("else return;   // folded into the convolution before it, which wrote this output (activation included)");
            if (l.Activation != ActivationKind.None)
                cw.Line($"MG.Activations.Forward({Fused.Runtime(l.Activation)}, {Text.Float(l.Alpha)}, ws.Span({c.Output}, {ext}), ws.Span({c.Output}, {ext}), {w.Enum});");
        }
    }

    public void Backward(CodeWriter cw, CSharpLayer c, Width w)
    {
        var l = c.Layer;
        string ext = c.Extent(true);
        using (c.BackwardMethod(cw, w))
        {
            if (l.Activation != ActivationKind.None)
                cw.Line($"MG.Activations.Backward({Fused.Runtime(l.Activation)}, {Text.Float(l.Alpha)}, ws.Span({c.OutputGrad}, {ext}), ws.Span({c.Output}, {ext}), ws.Span({c.OutputGrad}, {ext}), {w.Enum});");
            string dx = c.InputGrad is null ? "Unsafe.NullRef<float>()" : $"ws.Ref({c.InputGrad})";
            cw.Line($"MG.BatchNorm.Backward(ref ws.Ref({c.Input}), ref ws.Ref({c.OutputGrad}), batch, {l.OutShape[0]}, {l.OutPixels}, {Geometry.LdP(l.OutPixels)}, ref _arena.Ref({c.Tensor("weight")}), ref ws.Ref({c.Scratch("stats")}), " +
                $"ref _arena.Ref(GradientBase + {c.Tensor("weight")}), ref _arena.Ref(GradientBase + {c.Tensor("bias")}), ref {dx}, {(c.InputGrad is null ? "false" : c.InputGradCondition())});");
        }
    }

    // ── PTX: a 256-thread block per channel for the statistics (two passes in float: mean, then Σ(x − μ)², summed
    //    in shared-memory trees), element-wise kernels for the rest ───────────────────────────────────────────────

    public IEnumerable<(string Name, int PerSample, int Fixed)> Scratch(LayerPlan l)
    {
        yield return ("stats", 0, 2 * l.OutShape[0]);   // μ and 1/√(σ² + ε) per channel, from the training forward
        yield return ("sums", 0, 2 * l.OutShape[0]);    // Σ dy and Σ dy·x̂ per channel, for the input gradient
    }

    /// <summary>A kernel with one 256-thread block per channel; arguments: <paramref name="args"/>, then n.</summary>
    private static PtxKernel PerChannel(PtxLayer c, string name, string[] pointers, string[] args, System.Action<PtxKernel, string[], string, string, string, string> body)
    {
        var l = c.Layer;
        var launch = new KernelLaunch(PtxText.I(l.OutShape[0]), "1", 256);
        foreach (var a in args) launch.Args.Add(KernelArg.Buffer(a));
        launch.Args.Add(KernelArg.Count("n"));
        var k = new PtxKernel(c.Name(name), launch);
        var ps = new string[pointers.Length];
        for (int i = 0; i < pointers.Length; i++) ps[i] = k.Param("u64", pointers[i]);
        string pn = k.Param("u32", "n");
        var g = new string[pointers.Length];
        for (int i = 0; i < pointers.Length; i++) g[i] = k.GlobalPointer(ps[i]);
        string n = k.LoadU32(pn), smem = k.Shared(256 * 4), tid = k.R(), ch = k.R(), count = k.R();
        k.Op($"mov.u32 {tid}, %tid.x");
        k.Op($"mov.u32 {ch}, %ctaid.x");
        k.Op($"mul.lo.s32 {count}, {n}, {l.OutPixels}");
        body(k, g, smem, tid, ch, count);
        return k;
    }

    private static string Scalar(PtxKernel k, string array, string index, int offset = 0) => k.LoadGlobal(k.Element(array, index), offset);

    public void Forward(PtxLayer c)
    {
        var l = c.Layer;
        var o = Opt(l);
        int C = l.OutShape[0], P = l.OutPixels;
        if (c.Network.Trainable)
        {
            var train = PerChannel(c, "Forward", new[] { "pX", "pY", "pGamma", "pBeta", "pMean", "pVar", "pStats" },
                new[] { c.Input, c.Output, c.Tensor("weight"), c.Tensor("bias"), c.Tensor("running_mean"), c.Tensor("running_var"), c.Scratch("stats") }, (k, g, smem, tid, ch, count) =>
            {
                string sum = k.F(), sq = k.F(), nf = k.F(), mean = k.F(), var = k.F(), inv = k.F();
                k.Op($"mov.f32 {sum}, {PtxMath.Zero}");
                PtxMath.ChannelElements(k, tid, ch, C, P, count, e => k.Op($"add.f32 {sum}, {sum}, {Scalar(k, g[0], e)}"));
                string total = PtxMath.BlockSum(k, smem, tid, sum);
                k.Op($"cvt.rn.f32.u32 {nf}, {count}");
                k.Op($"div.rn.f32 {mean}, {total}, {nf}");
                k.Op($"mov.f32 {sq}, {PtxMath.Zero}");
                PtxMath.ChannelElements(k, tid, ch, C, P, count, e =>
                {
                    string d = k.F();
                    k.Op($"sub.f32 {d}, {Scalar(k, g[0], e)}, {mean}");
                    k.Op($"fma.rn.f32 {sq}, {d}, {d}, {sq}");
                });
                string squares = PtxMath.BlockSum(k, smem, tid, sq);
                k.Op($"div.rn.f32 {var}, {squares}, {nf}");
                string t = k.F();
                k.Op($"add.f32 {t}, {var}, {PtxText.F(o.Epsilon)}");
                k.Op($"sqrt.rn.f32 {t}, {t}");
                k.Op($"rcp.rn.f32 {inv}, {t}");
                // Thread 0 keeps the statistics for backward and moves the running averages (unbiased variance, as PyTorch).
                string notFirst = k.P(), skip = k.NewLabel("running");
                k.Op($"setp.ne.u32 {notFirst}, {tid}, 0");
                k.Op(notFirst, $"bra {skip}");
                string twice = k.R();
                k.Op($"shl.b32 {twice}, {ch}, 1");
                string sa = k.Element(g[6], twice);
                k.StoreGlobal(sa, mean);
                k.StoreGlobal(sa, inv, 4);
                string rma = k.Element(g[4], ch), rva = k.Element(g[5], ch), rm = k.LoadGlobal(rma), rv = k.LoadGlobal(rva), u = k.F(), nm1 = k.F(), one = k.P();
                k.Op($"mul.f32 {rm}, {rm}, {PtxText.F(1 - o.Momentum)}");
                k.Op($"fma.rn.f32 {rm}, {mean}, {PtxText.F(o.Momentum)}, {rm}");
                k.StoreGlobal(rma, rm);
                k.Op($"sub.f32 {nm1}, {nf}, {PtxMath.One}");
                k.Op($"mul.f32 {u}, {var}, {nf}");
                k.Op($"div.rn.f32 {u}, {u}, {nm1}");
                k.Op($"setp.le.f32 {one}, {nf}, {PtxMath.One}");
                k.Op(one, $"mov.f32 {u}, {var}");
                k.Op($"mul.f32 {rv}, {rv}, {PtxText.F(1 - o.Momentum)}");
                k.Op($"fma.rn.f32 {rv}, {u}, {PtxText.F(o.Momentum)}, {rv}");
                k.StoreGlobal(rva, rv);
                k.Label(skip);
                string gain = k.F(), shift = k.F();
                k.Op($"mul.f32 {gain}, {Scalar(k, g[2], ch)}, {inv}");
                k.Op($"mul.f32 {shift}, {mean}, {gain}");
                k.Op($"sub.f32 {shift}, {Scalar(k, g[3], ch)}, {shift}");
                PtxMath.ChannelElements(k, tid, ch, C, P, count, e =>
                {
                    string y = k.F();
                    k.Op($"fma.rn.f32 {y}, {Scalar(k, g[0], e)}, {gain}, {shift}");
                    k.StoreGlobal(k.Element(g[1], e), PtxMath.Activate(k, l.Activation, l.Alpha, y));
                });
            });
            train.Banner.Add($"training: μ, σ² of channel c over n·{P} values (two passes), y = {Fused.Math(l.Activation, l.Alpha, "γ(x − μ)/√(σ² + ε) + β")}, ε = {Text.Num(o.Epsilon)}");
            train.Banner.Add($"running r ← {Text.Num(1 - o.Momentum)}·r + {Text.Num(o.Momentum)}·stat (unbiased σ²); one 256-thread block per channel");
            train.Condition = "training";
            c.ForwardKernels.Add(train);
        }
        var infer = PtxMath.PerElement(c.Name("Inference"), $"{l.Out} * n", new[] { "pX", "pY", "pGamma", "pBeta", "pMean", "pVar" },
            new[] { c.Input, c.Output, c.Tensor("weight"), c.Tensor("bias"), c.Tensor("running_mean"), c.Tensor("running_var") }, (k, g, i) =>
        {
            var (plane, _) = PtxMath.DivRem(k, i, P);
            var (_, ch) = PtxMath.DivRem(k, plane, C);
            string sd = k.F(), gain = k.F(), shift = k.F(), y = k.F();
            k.Op($"add.f32 {sd}, {Scalar(k, g[5], ch)}, {PtxText.F(o.Epsilon)}");
            k.Op($"sqrt.rn.f32 {sd}, {sd}");
            k.Op($"div.rn.f32 {gain}, {Scalar(k, g[2], ch)}, {sd}");
            k.Op($"mul.f32 {shift}, {Scalar(k, g[4], ch)}, {gain}");
            k.Op($"sub.f32 {shift}, {Scalar(k, g[3], ch)}, {shift}");
            k.Op($"fma.rn.f32 {y}, {Scalar(k, g[0], i)}, {gain}, {shift}");
            k.StoreGlobal(k.Element(g[1], i), PtxMath.Activate(k, l.Activation, l.Alpha, y));
        });
        infer.Banner.Add($"inference: y = {Fused.Math(l.Activation, l.Alpha, "γ(x − running_mean)/√(running_var + ε) + β")}, one thread per element");
        if (c.Network.Trainable) infer.Condition = "!training";
        c.ForwardKernels.Add(infer);
    }

    public void Backward(PtxLayer c)
    {
        var l = c.Layer;
        int C = l.OutShape[0], P = l.OutPixels;
        c.ActivationGradient($"{l.Out} * n", $"[n, {C}, {l.OutShape[1]}, {l.OutShape[2]}]");
        var dp = PerChannel(c, "Dparams", new[] { "pX", "pDY", "pStats", "pDGamma", "pDBeta", "pSums" },
            new[] { c.Input, c.OutputGrad, c.Scratch("stats"), c.Gradient("weight"), c.Gradient("bias"), c.Scratch("sums") }, (k, g, smem, tid, ch, count) =>
        {
            string twice = k.R();
            k.Op($"shl.b32 {twice}, {ch}, 1");
            string sa = k.Element(g[2], twice), mean = k.LoadGlobal(sa), inv = k.LoadGlobal(sa, 4);
            string sdy = k.F(), sdyx = k.F();
            k.Op($"mov.f32 {sdy}, {PtxMath.Zero}");
            k.Op($"mov.f32 {sdyx}, {PtxMath.Zero}");
            PtxMath.ChannelElements(k, tid, ch, C, P, count, e =>
            {
                string dy = Scalar(k, g[1], e), xh = k.F();
                k.Op($"sub.f32 {xh}, {Scalar(k, g[0], e)}, {mean}");
                k.Op($"mul.f32 {xh}, {xh}, {inv}");
                k.Op($"add.f32 {sdy}, {sdy}, {dy}");
                k.Op($"fma.rn.f32 {sdyx}, {dy}, {xh}, {sdyx}");
            });
            string a = PtxMath.BlockSum(k, smem, tid, sdy), b = PtxMath.BlockSum(k, smem, tid, sdyx);
            string notFirst = k.P(), skip = k.NewLabel("params");
            k.Op($"setp.ne.u32 {notFirst}, {tid}, 0");
            k.Op(notFirst, $"bra {skip}");
            string dga = k.Element(g[3], ch), dba = k.Element(g[4], ch), t = k.F(), u = k.F();
            k.Op($"add.f32 {t}, {b}, {k.LoadGlobal(dga)}");
            k.StoreGlobal(dga, t);
            k.Op($"add.f32 {u}, {a}, {k.LoadGlobal(dba)}");
            k.StoreGlobal(dba, u);
            string ua = k.Element(g[5], twice);
            k.StoreGlobal(ua, a);
            k.StoreGlobal(ua, b, 4);
            k.Label(skip);
        });
        dp.Banner.Add("dβ[c] += Σ dy, dγ[c] += Σ dy·x̂ over the channel's n·" + P + " values (tree sums); both kept for dx");
        c.BackwardKernels.Add(dp);
        if (c.InputGrad is null) return;
        var dx = PtxMath.PerElement(c.Name("Dx"), $"{l.Out} * n", new[] { "pX", "pDY", "pGamma", "pStats", "pSums", "pDX" },
            new[] { c.Input, c.OutputGrad, c.Tensor("weight"), c.Scratch("stats"), c.Scratch("sums"), c.InputGrad }, (k, g, i) =>
        {
            var (plane, _) = PtxMath.DivRem(k, i, P);
            var (_, ch) = PtxMath.DivRem(k, plane, C);
            string nf = k.F(), twice = k.R(), values = k.R();
            k.Op($"shl.b32 {twice}, {ch}, 1");
            string sa = k.Element(g[3], twice), mean = k.LoadGlobal(sa), inv = k.LoadGlobal(sa, 4);
            string ua = k.Element(g[4], twice), sdy = k.LoadGlobal(ua), sdyx = k.LoadGlobal(ua, 4);
            string xh = k.F(), kk = k.F(), v = k.F(), dxa = k.Element(g[5], i), r = k.F();
            k.Op($"sub.f32 {xh}, {Scalar(k, g[0], i)}, {mean}");
            k.Op($"mul.f32 {xh}, {xh}, {inv}");
            k.Op($"mul.f32 {kk}, {Scalar(k, g[2], ch)}, {inv}");
            // N = n·pixels = count / C (count = C·pixels·n is the kernel's parameter)
            k.Op($"div.u32 {values}, {k.LoadU32("count")}, {C}");
            k.Op($"cvt.rn.f32.u32 {nf}, {values}");
            k.Op($"div.rn.f32 {kk}, {kk}, {nf}");
            k.Op($"mul.f32 {v}, {nf}, {Scalar(k, g[1], i)}");
            k.Op($"sub.f32 {v}, {v}, {sdy}");
            k.Op($"mul.f32 {r}, {xh}, {sdyx}");
            k.Op($"sub.f32 {v}, {v}, {r}");
            k.Op($"fma.rn.f32 {v}, {kk}, {v}, {k.LoadGlobal(dxa)}");
            k.StoreGlobal(dxa, v);
        });
        dx.Banner.Add("dx += γ/(N·√(σ²+ε))·(N·dy − Σdy − x̂·Σdy·x̂), N = n·" + P + ", one thread per element");
        dx.OnlyForInputGradient = c.ReadsNetworkInput();
        c.BackwardKernels.Add(dx);
    }
}
