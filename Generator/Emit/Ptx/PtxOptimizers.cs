using System.Collections.Generic;

namespace ModelGen.Generator.Emit.Ptx;

/// <summary>
/// The kernels every network's module carries besides its layers: the optimiser updates (SGD, SGD with momentum or
/// Nesterov, Adam/AdamW — the formulas of <c>ModelGen.Training</c>'s classes, the bias corrections folded into two
/// scalars on the host as the C# path does), weight decay as a scale, and the L2 gradient <c>g += c·w</c>. One thread
/// per parameter; the host passes absolute device addresses and the count. The updates also take a row mask
/// (<c>pRows</c>, one float per row of <c>rowLength</c> parameters; 0: no mask): on a sparse table only the rows a
/// batch used (flag ≠ 0) are updated, their optimiser state too — the lazy update of the C# path and PyTorch's
/// sparse embeddings.
/// </summary>
internal static class PtxOptimizers
{
    public static IEnumerable<PtxKernel> All()
    {
        yield return Elementwise("Sgd", "θ ← θ − η·g", new[] { "pP", "pG" }, new[] { "lr" }, true, (k, a, s, i) =>
        {
            string pa = k.Element(a[0], i), r = k.F(), nlr = k.F();
            k.Op($"neg.f32 {nlr}, {s[0]}");
            k.Op($"fma.rn.f32 {r}, {nlr}, {k.LoadGlobal(k.Element(a[1], i))}, {k.LoadGlobal(pa)}");
            k.StoreGlobal(pa, r);
        });
        yield return Elementwise("SgdMomentum", "v ← μv + g;  θ ← θ − η·(nesterov ? g + μv : v)", new[] { "pP", "pG", "pV" }, new[] { "lr", "mu", "nesterov" }, true, (k, a, s, i) =>
        {
            string pa = k.Element(a[0], i), va = k.Element(a[2], i), g = k.LoadGlobal(k.Element(a[1], i));
            string v = k.F(), dn = k.F(), d = k.F(), nest = k.P(), nlr = k.F(), r = k.F();
            k.Op($"fma.rn.f32 {v}, {s[1]}, {k.LoadGlobal(va)}, {g}");
            k.StoreGlobal(va, v);
            k.Op($"fma.rn.f32 {dn}, {s[1]}, {v}, {g}");
            k.Op($"setp.ne.f32 {nest}, {s[2]}, {PtxMath.Zero}");
            k.Op($"selp.f32 {d}, {dn}, {v}, {nest}");
            k.Op($"neg.f32 {nlr}, {s[0]}");
            k.Op($"fma.rn.f32 {r}, {nlr}, {d}, {k.LoadGlobal(pa)}");
            k.StoreGlobal(pa, r);
        });
        yield return Elementwise("Adam", "m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  θ ← θ − η'·m / (√v + ε')   (η', ε': bias-corrected on the host)",
            new[] { "pP", "pG", "pM", "pV" }, new[] { "lrT", "epsT", "beta1", "beta2" }, true, (k, a, s, i) =>
        {
            string pa = k.Element(a[0], i), ma = k.Element(a[2], i), va = k.Element(a[3], i), g = k.LoadGlobal(k.Element(a[1], i));
            string c1 = k.F(), c2 = k.F(), m = k.F(), v = k.F(), gg = k.F(), t = k.F(), sq = k.F(), den = k.F(), step = k.F(), r = k.F();
            k.Op($"sub.f32 {c1}, {PtxMath.One}, {s[2]}");
            k.Op($"sub.f32 {c2}, {PtxMath.One}, {s[3]}");
            k.Op($"mul.f32 {t}, {c1}, {g}");
            k.Op($"fma.rn.f32 {m}, {s[2]}, {k.LoadGlobal(ma)}, {t}");
            k.Op($"mul.f32 {gg}, {c2}, {g}");
            k.Op($"mul.f32 {gg}, {gg}, {g}");
            k.Op($"fma.rn.f32 {v}, {s[3]}, {k.LoadGlobal(va)}, {gg}");
            k.StoreGlobal(ma, m);
            k.StoreGlobal(va, v);
            k.Op($"sqrt.rn.f32 {sq}, {v}");
            k.Op($"add.f32 {den}, {sq}, {s[1]}");
            k.Op($"mul.f32 {step}, {s[0]}, {m}");
            k.Op($"div.rn.f32 {step}, {step}, {den}");
            k.Op($"sub.f32 {r}, {k.LoadGlobal(pa)}, {step}");
            k.StoreGlobal(pa, r);
        });
        yield return Elementwise("Scale", "θ ← c·θ   (decoupled weight decay, c = 1 − η·λ, on one weight tensor)", new[] { "pP" }, new[] { "c" }, true, (k, a, s, i) =>
        {
            string pa = k.Element(a[0], i), r = k.F();
            k.Op($"mul.f32 {r}, {k.LoadGlobal(pa)}, {s[0]}");
            k.StoreGlobal(pa, r);
        });
        yield return Elementwise("AddScaled", "g ← g + c·w   (the L2 gradient, c = 2λ, on one weight tensor)", new[] { "pW", "pG" }, new[] { "c" }, false, (k, a, s, i) =>
        {
            string ga = k.Element(a[1], i), r = k.F();
            k.Op($"fma.rn.f32 {r}, {s[0]}, {k.LoadGlobal(k.Element(a[0], i))}, {k.LoadGlobal(ga)}");
            k.StoreGlobal(ga, r);
        });
    }

    private static PtxKernel Elementwise(string name, string math, string[] pointers, string[] scalars, bool rowMask, System.Action<PtxKernel, string[], string[], string> body)
    {
        var k = new PtxKernel("mg_" + name, KernelLaunch.PerItem("count"));
        k.Banner.Add(math);
        k.Banner.Add("one thread per element; arguments: " + string.Join(", ", pointers) + " (device addresses), count, " + string.Join(", ", scalars)
            + (rowMask ? ", pRows, rowLength (pRows ≠ 0: only elements whose row flag is non-zero)" : ""));
        var ps = new string[pointers.Length];
        for (int i = 0; i < pointers.Length; i++) ps[i] = k.Param("u64", pointers[i]);
        string pc = k.Param("u32", "count");
        var fs = new string[scalars.Length];
        for (int i = 0; i < scalars.Length; i++) fs[i] = k.Param("f32", scalars[i]);
        var a = new string[pointers.Length];
        for (int i = 0; i < pointers.Length; i++) a[i] = k.GlobalPointer(ps[i]);
        var s = new string[scalars.Length];
        for (int i = 0; i < scalars.Length; i++) s[i] = k.LoadF32(fs[i]);
        string? pRows = rowMask ? k.Param("u64", "pRows") : null, pLength = rowMask ? k.Param("u32", "rowLength") : null;
        string c = k.LoadU32(pc), idx = k.GlobalThreadIndex(), outside = k.P(), done = k.NewLabel("done");
        k.Op($"setp.ge.u32 {outside}, {idx}, {c}");
        k.Op(outside, $"bra {done}");
        if (rowMask)
        {
            string rows = k.Rd(), none = k.P(), all = k.NewLabel("all"), row = k.R(), unused = k.P();
            k.Op($"ld.param.u64 {rows}, [{pRows}]");
            k.Op($"setp.eq.u64 {none}, {rows}, 0");
            k.Op(none, $"bra {all}");
            string flags = k.Rd();
            k.Op($"cvta.to.global.u64 {flags}, {rows}");
            k.Op($"div.u32 {row}, {idx}, {k.LoadU32(pLength!)}");
            k.Op($"setp.eq.f32 {unused}, {k.LoadGlobal(k.Element(flags, row))}, {PtxMath.Zero}");
            k.Op(unused, $"bra {done}");
            k.Label(all);
        }
        body(k, a, s, idx);
        k.Label(done);
        return k;
    }
}
