using System.Collections.Generic;
using System.Linq;
using ModelGen.Generator.Analysis;
using ModelGen.Generator.Emit;
using ModelGen.Generator.Emit.CSharp;
using ModelGen.Generator.Emit.Ptx;
using ModelGen.Generator.Model;

namespace ModelGen.Generator.Layers;

internal sealed record LayerNormOptions(float Epsilon) : LayerOptions;

/// <summary>
/// PyTorch's <c>nn.LayerNorm(F)</c> over the last dimension of a vector <c>[F]</c> or of each step of a sequence
/// <c>[T, F]</c>: <c>y = (x − μ)·r·γ + β</c>, <c>r = 1/√(var + ε)</c>; parameters <c>weight</c> (γ) and <c>bias</c> (β),
/// <c>[F]</c>. The columns of the panel (<c>T·ld</c>) run in the vector lanes. Runtime kernel:
/// <c>Runtime/Kernels/LayerNorm.cs</c>.
/// </summary>
internal sealed class LayerNorm : LayerKind, ICSharpLayer, ICSharpDecodeStep, IPtxLayer, IPtxScratch
{
    public static readonly LayerNorm Instance = new();
    public override string Name => "LayerNorm";

    public override LayerOptions? Read(AttributeArgs a, LayerDiagnostics d)
    {
        float eps = a.Float(0, 1e-5f);
        if (eps > 0f && !float.IsInfinity(eps)) return new LayerNormOptions(eps);
        d.Invalid($"LayerNorm needs epsilon > 0, got {Text.Num(eps)}");
        return null;
    }

    private static int Features(LayerPlan l) => l.InShape.IsSequence ? l.InShape[1] : l.In;
    private static int Steps(LayerPlan l) => l.InShape.IsSequence ? l.InShape[0] : 1;
    private static float Eps(LayerPlan l) => ((LayerNormOptions)l.Options).Epsilon;

    public override LayerShape? Infer(LayerSpec s, IReadOnlyList<Shape> inputs, LayerDiagnostics d)
    {
        var x = inputs[0];
        if (x.IsImage) { Fused.WrongInput(d, "LayerNorm", "a vector [features] or a sequence [steps, features] (for images use [BatchNorm2D])", x); return null; }
        int f = x.IsSequence ? x[1] : x.Size;
        var shape = EquatableArray.From(new[] { f });
        return new LayerShape(x, EquatableArray.From(new[]
        {
            new TensorSpec("weight", shape, TensorRole.Parameter, TensorInit.Ones),
            new TensorSpec("bias", shape, TensorRole.Parameter, TensorInit.Zeros),
        }), 8L * x.Size, s.Options);
    }

    public override string Describe(LayerPlan l) => $"LayerNorm({Features(l)})";

    public override IEnumerable<(string Key, double Value)> Hyperparameters(LayerPlan l) { yield return ("epsilon", Eps(l)); }

    public override IEnumerable<string> Math(LayerPlan l, NetworkPlan p)
    {
        string cols = l.InShape.IsSequence ? $"{Steps(l)}·B" : "B";
        yield return $"forward : y = (x − μ)·r·γ + β,  μ = mean_f x,  r = 1/√(var_f x + {Text.Num(Eps(l))})".PadRight(64) + $"x,y:[{Features(l)},{cols}] γ,β:[{Features(l)}]";
        yield return $"          per column (each sample{(l.InShape.IsSequence ? "'s step" : "")}), the columns in the vector lanes; μ, r kept for backward";
        yield return "backward: dγ += Σ dy·x̂,  dβ += Σ dy,  dx = r·(g − mean_f g − x̂·mean_f(g·x̂)),  g = dy·γ,  x̂ = (x − μ)·r";
    }

    public override IEnumerable<ScratchRequest> Scratch(LayerPlan l, NetworkPlan p)
    {
        yield return new ScratchRequest("stats", BufferSize.Panel(2L * Steps(l)), ScratchScope.PerLayer, false, "μ and r per column [2, T·ld]");
    }

    public void Forward(CodeWriter cw, CSharpLayer c, Width w)
    {
        var l = c.Layer;
        using (c.ForwardMethod(cw, w))
            cw.Line($"MG.LayerNorm.Forward(ref ws.Ref({c.Input}), {Features(l)}, {Steps(l)} * ld, ref _arena.Ref({c.Tensor("weight")}), ref _arena.Ref({c.Tensor("bias")}), " +
                    $"{Text.Float(Eps(l))}, ref ws.Ref({c.Output}), ref ws.Ref({c.Scratch("stats")}), {w.Enum});");
    }

    public bool CanStep(LayerPlan l) => l.InShape.IsSequence;

    public void Step(CodeWriter cw, CSharpLayer c) =>
        cw.Line($"MG.Decode.LayerNorm(ref ws.Ref({c.Input}), {Features(c.Layer)}, {Steps(c.Layer)}, t, ref _arena.Ref({c.Tensor("weight")}), ref _arena.Ref({c.Tensor("bias")}), {Text.Float(Eps(c.Layer))}, ref ws.Ref({c.Output}));");

    public void Backward(CodeWriter cw, CSharpLayer c, Width w)
    {
        var l = c.Layer;
        using (c.BackwardMethod(cw, w))
        {
            string dx = c.InputGrad is null ? "ref Unsafe.NullRef<float>()"
                : c.ReadsNetworkInput() ? $"ref ws.InputGradient ? ref ws.Ref({c.InputGrad}) : ref Unsafe.NullRef<float>()"
                : $"ref ws.Ref({c.InputGrad})";
            cw.Line($"MG.LayerNorm.Backward(ref ws.Ref({c.OutputGrad}), ref ws.Ref({c.Input}), {Features(l)}, {Steps(l)}, ld, batch, ref _arena.Ref({c.Tensor("weight")}), ref ws.Ref({c.Scratch("stats")}),");
            cw.Line($"    ref _arena.Ref(GradientBase + {c.Tensor("weight")}), ref _arena.Ref(GradientBase + {c.Tensor("bias")}), {dx}, {w.Enum});   // dγ, dβ added; dx stored");
        }
    }

    // ── PTX: one thread per row (a sample, or one step of it) of F features; μ and r kept per row for backward ──────

    public IEnumerable<(string Name, int PerSample, int Fixed)> Scratch(LayerPlan l) { yield return ("stats", 2 * Steps(l), 0); }

    public void Forward(PtxLayer c)
    {
        var l = c.Layer;
        int F = Features(l);
        float eps = Eps(l);
        var k = PtxMath.PerElement(c.Name("Forward"), $"{Steps(l)} * n", new[] { "pX", "pY", "pGamma", "pBeta", "pStats" },
            new[] { c.Input, c.Output, c.Tensor("weight"), c.Tensor("bias"), c.Scratch("stats") }, (k, a, row) =>
        {
            string first = k.R();
            k.Op($"mul.lo.s32 {first}, {row}, {F}");
            string xa = k.Element(a[0], first), ya = k.Element(a[1], first);
            string sum = k.F(), sq = k.F(), mean = k.F(), r = k.F();
            k.Op($"mov.f32 {sum}, {PtxMath.Zero}");
            k.For(PtxText.I(F), f => k.Op($"add.f32 {sum}, {sum}, {k.LoadGlobal(k.Element(xa, f))}"));
            k.Op($"mul.f32 {mean}, {sum}, {PtxText.F(1f / F)}");
            k.Op($"mov.f32 {sq}, {PtxMath.Zero}");
            k.For(PtxText.I(F), f =>
            {
                string d = k.F();
                k.Op($"sub.f32 {d}, {k.LoadGlobal(k.Element(xa, f))}, {mean}");
                k.Op($"fma.rn.f32 {sq}, {d}, {d}, {sq}");
            });
            k.Op($"fma.rn.f32 {r}, {sq}, {PtxText.F(1f / F)}, {PtxText.F(eps)}");
            k.Op($"sqrt.rn.f32 {r}, {r}");
            k.Op($"rcp.rn.f32 {r}, {r}");
            k.For(PtxText.I(F), f =>
            {
                string d = k.F(), y = k.F();
                k.Op($"sub.f32 {d}, {k.LoadGlobal(k.Element(xa, f))}, {mean}");
                k.Op($"mul.f32 {d}, {d}, {r}");
                k.Op($"fma.rn.f32 {y}, {d}, {k.LoadGlobal(k.Element(a[2], f))}, {k.LoadGlobal(k.Element(a[3], f))}");
                k.StoreGlobal(k.Element(ya, f), y);
            });
            string twice = k.R();
            k.Op($"shl.b32 {twice}, {row}, 1");
            string sa = k.Element(a[4], twice);
            k.StoreGlobal(sa, mean);
            k.StoreGlobal(sa, r, 4);
        });
        k.Banner.Add($"y = (x − μ)·r·γ + β per row of {F}, μ = mean, r = 1/√(var + {Text.Num(eps)}); one thread per row (sample or step)");
        c.ForwardKernels.Add(k);
    }

    public void Backward(PtxLayer c)
    {
        var l = c.Layer;
        int F = Features(l);
        string rows = $"{Steps(l)} * n";
        // dγ[f] += Σ_rows dy·x̂, dβ[f] += Σ_rows dy: one thread per feature, rows in order.
        c.BackwardKernels.Add(ParamsKernel(c, F, rows));
        if (c.InputGrad is null) return;
        var dx = PtxMath.PerElement(c.Name("Dx"), rows, new[] { "pX", "pDY", "pGamma", "pStats", "pDX" },
            new[] { c.Input, c.OutputGrad, c.Tensor("weight"), c.Scratch("stats"), c.InputGrad }, (k, a, row) =>
        {
            string first = k.R(), twice = k.R();
            k.Op($"mul.lo.s32 {first}, {row}, {F}");
            k.Op($"shl.b32 {twice}, {row}, 1");
            string sa = k.Element(a[3], twice), mean = k.LoadGlobal(sa), r = k.LoadGlobal(sa, 4);
            string xa = k.Element(a[0], first), dya = k.Element(a[1], first), dxa = k.Element(a[4], first);
            string sa1 = k.F(), sb = k.F();
            k.Op($"mov.f32 {sa1}, {PtxMath.Zero}");
            k.Op($"mov.f32 {sb}, {PtxMath.Zero}");
            k.For(PtxText.I(F), f =>
            {
                string g = k.F(), xh = k.F();
                k.Op($"mul.f32 {g}, {k.LoadGlobal(k.Element(dya, f))}, {k.LoadGlobal(k.Element(a[2], f))}");
                k.Op($"add.f32 {sa1}, {sa1}, {g}");
                k.Op($"sub.f32 {xh}, {k.LoadGlobal(k.Element(xa, f))}, {mean}");
                k.Op($"mul.f32 {xh}, {xh}, {r}");
                k.Op($"fma.rn.f32 {sb}, {g}, {xh}, {sb}");
            });
            k.Op($"mul.f32 {sa1}, {sa1}, {PtxText.F(1f / F)}");
            k.Op($"mul.f32 {sb}, {sb}, {PtxText.F(1f / F)}");
            k.For(PtxText.I(F), f =>
            {
                string g = k.F(), xh = k.F(), v = k.F(), at = k.Element(dxa, f);
                k.Op($"mul.f32 {g}, {k.LoadGlobal(k.Element(dya, f))}, {k.LoadGlobal(k.Element(a[2], f))}");
                k.Op($"sub.f32 {xh}, {k.LoadGlobal(k.Element(xa, f))}, {mean}");
                k.Op($"mul.f32 {xh}, {xh}, {r}");
                k.Op($"sub.f32 {v}, {g}, {sa1}");
                k.Op($"mul.f32 {xh}, {xh}, {sb}");
                k.Op($"sub.f32 {v}, {v}, {xh}");
                k.Op($"fma.rn.f32 {v}, {v}, {r}, {k.LoadGlobal(at)}");
                k.StoreGlobal(at, v);
            });
        });
        dx.Banner.Add($"dx += r·(g − mean(g) − x̂·mean(g·x̂)), g = dy ⊙ γ, per row of {F}; one thread per row");
        dx.OnlyForInputGradient = c.ReadsNetworkInput();
        c.BackwardKernels.Add(dx);
    }

    private static PtxKernel ParamsKernel(PtxLayer c, int F, string rows)
    {
        var launch = KernelLaunch.PerItem(PtxText.I(F));
        foreach (var a in new[] { c.Input, c.OutputGrad, c.Scratch("stats"), c.Gradient("weight"), c.Gradient("bias") }) launch.Args.Add(KernelArg.Buffer(a));
        launch.Args.Add(KernelArg.Count(rows));
        var k = new PtxKernel(c.Name("Dparams"), launch);
        var ps = new[] { "pX", "pDY", "pStats", "pDGamma", "pDBeta" }.Select(p => k.Param("u64", p)).ToArray();
        string pr = k.Param("u32", "rows");
        var g = ps.Select(k.GlobalPointer).ToArray();
        string count = k.LoadU32(pr), f = k.GlobalThreadIndex(), outside = k.P(), done = k.NewLabel("done");
        k.Op($"setp.ge.u32 {outside}, {f}, {F}");
        k.Op(outside, $"bra {done}");
        string sg = k.F(), sb = k.F();
        k.Op($"mov.f32 {sg}, {PtxMath.Zero}");
        k.Op($"mov.f32 {sb}, {PtxMath.Zero}");
        k.For(count, row =>
        {
            string e = k.R(), twice = k.R();
            k.Op($"mad.lo.s32 {e}, {row}, {F}, {f}");
            k.Op($"shl.b32 {twice}, {row}, 1");
            string sa = k.Element(g[2], twice), dy = k.LoadGlobal(k.Element(g[1], e)), xh = k.F();
            k.Op($"sub.f32 {xh}, {k.LoadGlobal(k.Element(g[0], e))}, {k.LoadGlobal(sa)}");
            k.Op($"mul.f32 {xh}, {xh}, {k.LoadGlobal(sa, 4)}");
            k.Op($"fma.rn.f32 {sg}, {dy}, {xh}, {sg}");
            k.Op($"add.f32 {sb}, {sb}, {dy}");
        });
        string ga = k.Element(g[3], f), ba = k.Element(g[4], f), t = k.F(), u = k.F();
        k.Op($"add.f32 {t}, {sg}, {k.LoadGlobal(ga)}");
        k.StoreGlobal(ga, t);
        k.Op($"add.f32 {u}, {sb}, {k.LoadGlobal(ba)}");
        k.StoreGlobal(ba, u);
        k.Label(done);
        k.Banner.Add($"dγ[f] += Σ_rows dy·x̂, dβ[f] += Σ_rows dy over [{rows}, {F}]; one thread per feature, rows in order");
        return k;
    }
}
