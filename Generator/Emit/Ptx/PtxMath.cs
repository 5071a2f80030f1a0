using System;
using ModelGen.Generator.Model;

namespace ModelGen.Generator.Emit.Ptx;

/// <summary>The element-wise math the kernels share: activations and their derivatives (from the output y, as the
/// C# path computes them), and the one-thread-per-element kernel shape.</summary>
internal static class PtxMath
{
    public const string Zero = "0f00000000", One = "0f3F800000";

    /// <summary><c>act(v)</c> for an element-wise activation (softmax is a kernel of its own: <see cref="SoftmaxRows"/>).</summary>
    public static string Activate(PtxKernel k, ActivationKind a, float alpha, string v)
    {
        switch (a)
        {
            case ActivationKind.None: return v;
            case ActivationKind.Relu:
            {
                string y = k.F();
                k.Op($"max.f32 {y}, {v}, {Zero}");
                return y;
            }
            case ActivationKind.LeakyRelu:
            {
                string t = k.F(), y = k.F(), p = k.P();
                k.Op($"mul.f32 {t}, {v}, {PtxText.F(alpha)}");
                k.Op($"setp.gt.f32 {p}, {v}, {Zero}");
                k.Op($"selp.f32 {y}, {v}, {t}, {p}");
                return y;
            }
            case ActivationKind.Sigmoid:
            {
                // σ(v) = 1 / (1 + e^−v)
                string m = k.F();
                k.Op($"neg.f32 {m}, {v}");
                string e = k.Exp(m), d = k.F(), y = k.F();
                k.Op($"add.f32 {d}, {e}, {One}");
                k.Op($"rcp.rn.f32 {y}, {d}");
                return y;
            }
            case ActivationKind.Tanh:
            {
                // tanh(v) = 1 − 2 / (e^{2v} + 1): ±1 at the ends (e = ∞ or 0), never NaN
                string t = k.F();
                k.Op($"add.f32 {t}, {v}, {v}");
                string e = k.Exp(t), d = k.F(), r = k.F(), y = k.F();
                k.Op($"add.f32 {d}, {e}, {One}");
                k.Op($"rcp.rn.f32 {r}, {d}");
                k.Op($"fma.rn.f32 {y}, {r}, {PtxText.F(-2f)}, {One}");
                return y;
            }
            default: throw new ArgumentOutOfRangeException(nameof(a), a, "softmax is not element-wise");
        }
    }

    /// <summary><c>dz = dy · act'(·)</c> written in terms of the output <paramref name="y"/>.</summary>
    public static string Derivative(PtxKernel k, ActivationKind a, float alpha, string y, string dy)
    {
        switch (a)
        {
            case ActivationKind.None: return dy;
            case ActivationKind.Relu:
            case ActivationKind.LeakyRelu:
            {
                string p = k.P(), dz = k.F();
                k.Op($"setp.gt.f32 {p}, {y}, {Zero}");
                if (a == ActivationKind.Relu) k.Op($"selp.f32 {dz}, {dy}, {Zero}, {p}");
                else
                {
                    string t = k.F();
                    k.Op($"mul.f32 {t}, {dy}, {PtxText.F(alpha)}");
                    k.Op($"selp.f32 {dz}, {dy}, {t}, {p}");
                }
                return dz;
            }
            case ActivationKind.Sigmoid:
            {
                string t = k.F(), u = k.F(), dz = k.F();
                k.Op($"sub.f32 {t}, {One}, {y}");
                k.Op($"mul.f32 {u}, {y}, {t}");
                k.Op($"mul.f32 {dz}, {dy}, {u}");
                return dz;
            }
            case ActivationKind.Tanh:
            {
                string t = k.F(), dz = k.F();
                k.Op($"fma.rn.f32 {t}, {y}, {Negate(y, k)}, {One}");
                k.Op($"mul.f32 {dz}, {dy}, {t}");
                return dz;
            }
            default: throw new ArgumentOutOfRangeException(nameof(a), a, "softmax is not element-wise");
        }
    }

    private static string Negate(string v, PtxKernel k)
    {
        string m = k.F();
        k.Op($"neg.f32 {m}, {v}");
        return m;
    }

    /// <summary>A kernel with one thread per element <c>i &lt; count</c>; <paramref name="body"/> writes the work of element
    /// <c>i</c> (a 32-bit register). The count is the kernel's last parameter, a C# expression at the launch.</summary>
    public static PtxKernel PerElement(string name, string count, string[] pointers, string[] args, Action<PtxKernel, string[], string> body)
    {
        var launch = KernelLaunch.PerItem(count);
        foreach (var a in args) launch.Args.Add(KernelArg.Buffer(a));
        launch.Args.Add(KernelArg.Count(count));
        var k = new PtxKernel(name, launch);
        var ps = new string[pointers.Length];
        for (int i = 0; i < pointers.Length; i++) ps[i] = k.Param("u64", pointers[i]);
        string pc = k.Param("u32", "count");
        var g = new string[pointers.Length];
        for (int i = 0; i < pointers.Length; i++) g[i] = k.GlobalPointer(ps[i]);
        string c = k.LoadU32(pc), idx = k.GlobalThreadIndex(), outside = k.P();
        k.Op($"setp.ge.u32 {outside}, {idx}, {c}");
        string done = k.NewLabel("done");
        k.Op(outside, $"bra {done}");
        body(k, g, idx);
        k.Label(done);
        return k;
    }

    /// <summary>Softmax over each row of <c>[rows, width]</c> (one thread per row): <c>y = e^{x − max} / Σ e^{x − max}</c>;
    /// in place when x and y are the same buffer.</summary>
    public static PtxKernel SoftmaxRows(string name, string rows, int width, string x, string y)
    {
        var k = PerElement(name, rows, new[] { "pX", "pY" }, new[] { x, y }, (k, g, row) =>
        {
            string first = k.R();
            k.Op($"mul.lo.s32 {first}, {row}, {width}");
            string xa = k.Element(g[0], first), ya = k.Element(g[1], first);
            string max = k.LoadGlobal(xa);
            for (int c = 1; c < width; c++)
            {
                string v = k.LoadGlobal(xa, 4 * c);
                k.Op($"max.f32 {max}, {max}, {v}");
            }
            string sum = k.F();
            k.Op($"mov.f32 {sum}, {Zero}");
            for (int c = 0; c < width; c++)
            {
                string v = k.LoadGlobal(xa, 4 * c), t = k.F();
                k.Op($"sub.f32 {t}, {v}, {max}");
                string e = k.Exp(t);
                k.StoreGlobal(ya, e, 4 * c);
                k.Op($"add.f32 {sum}, {sum}, {e}");
            }
            string inv = k.F();
            k.Op($"rcp.rn.f32 {inv}, {sum}");
            for (int c = 0; c < width; c++)
            {
                string v = k.LoadGlobal(ya, 4 * c);
                k.Op($"mul.f32 {v}, {v}, {inv}");
                k.StoreGlobal(ya, v, 4 * c);
            }
        });
        k.Banner.Add($"y[r,:] = softmax(x[r,:]) over {width} values per row, one thread per row");
        return k;
    }

    /// <summary>Softmax's backward per row: <c>dx = y ⊙ (dy − Σ dy⊙y)</c>, added to <paramref name="dx"/> when
    /// <paramref name="accumulate"/> (an input gradient), else stored (in place over dy).</summary>
    public static PtxKernel SoftmaxRowsBackward(string name, string rows, int width, string y, string dy, string dx, bool accumulate)
    {
        var k = PerElement(name, rows, new[] { "pY", "pDY", "pDX" }, new[] { y, dy, dx }, (k, g, row) =>
        {
            string first = k.R();
            k.Op($"mul.lo.s32 {first}, {row}, {width}");
            string ya = k.Element(g[0], first), dya = k.Element(g[1], first), dxa = k.Element(g[2], first);
            string dot = k.F();
            k.Op($"mov.f32 {dot}, {Zero}");
            for (int c = 0; c < width; c++)
                k.Op($"fma.rn.f32 {dot}, {k.LoadGlobal(ya, 4 * c)}, {k.LoadGlobal(dya, 4 * c)}, {dot}");
            for (int c = 0; c < width; c++)
            {
                string t = k.F(), r = k.F();
                k.Op($"sub.f32 {t}, {k.LoadGlobal(dya, 4 * c)}, {dot}");
                k.Op($"mul.f32 {r}, {t}, {k.LoadGlobal(ya, 4 * c)}");
                if (accumulate) k.Op($"add.f32 {r}, {r}, {k.LoadGlobal(dxa, 4 * c)}");
                k.StoreGlobal(dxa, r, 4 * c);
            }
        });
        k.Banner.Add($"dx[r,:] {(accumulate ? "+=" : "=")} y ⊙ (dy − Σ dy⊙y) over {width} values per row, one thread per row");
        return k;
    }

    /// <summary><c>dst[c] += Σ_r src[r, c]</c> over the rows of <c>[rows, width]</c> (a bias gradient), one thread per
    /// column, the rows in order (the same sum for any launch: no atomics).</summary>
    public static PtxKernel ColumnSumsAdd(string name, string rows, int width, string src, string dst)
    {
        var launch = KernelLaunch.PerItem(PtxText.I(width));
        launch.Args.Add(KernelArg.Buffer(src));
        launch.Args.Add(KernelArg.Buffer(dst));
        launch.Args.Add(KernelArg.Count(rows));
        var k = new PtxKernel(name, launch);
        k.Banner.Add($"dst[c] += Σ_r src[r, c] over [{rows}, {width}], one thread per column, rows in order");
        string ps = k.Param("u64", "pSrc"), pd = k.Param("u64", "pDst"), pr = k.Param("u32", "rows");
        string gs = k.GlobalPointer(ps), gd = k.GlobalPointer(pd), r = k.LoadU32(pr);
        string col = k.GlobalThreadIndex(), outside = k.P(), done = k.NewLabel("done");
        k.Op($"setp.ge.u32 {outside}, {col}, {width}");
        k.Op(outside, $"bra {done}");
        string sum = k.F(), row = k.R(), a = k.Element(gs, col), loop = k.NewLabel("row"), more = k.P(), any = k.P();
        k.Op($"mov.f32 {sum}, {Zero}");
        k.Op($"mov.u32 {row}, 0");
        k.Op($"setp.eq.u32 {any}, {r}, 0");
        string sumDone = k.NewLabel("summed");
        k.Op(any, $"bra {sumDone}");
        k.Label(loop);
        k.Op($"add.f32 {sum}, {sum}, {k.LoadGlobal(a)}");
        k.Op($"add.s64 {a}, {a}, {4 * width}");
        k.Op($"add.s32 {row}, {row}, 1");
        k.Op($"setp.lt.u32 {more}, {row}, {r}");
        k.Op(more, $"bra {loop}");
        k.Label(sumDone);
        string da = k.Element(gd, col), t = k.F();
        k.Op($"add.f32 {t}, {sum}, {k.LoadGlobal(da)}");
        k.StoreGlobal(da, t);
        k.Label(done);
        return k;
    }

    /// <summary><c>dst[c] += Σ_b Σ_p src[b, c, p]</c> over <c>[n, channels, pixels]</c> (a convolution's bias gradient), one
    /// thread per channel, samples then pixels in order.</summary>
    public static PtxKernel ChannelSumsAdd(string name, int channels, int pixels, string src, string dst)
    {
        var launch = KernelLaunch.PerItem(PtxText.I(channels));
        launch.Args.Add(KernelArg.Buffer(src));
        launch.Args.Add(KernelArg.Buffer(dst));
        launch.Args.Add(KernelArg.Count("n"));
        var k = new PtxKernel(name, launch);
        k.Banner.Add($"dst[c] += Σ_b Σ_p src[b, c, p] over [n, {channels}, {pixels}], one thread per channel, in order");
        string ps = k.Param("u64", "pSrc"), pd = k.Param("u64", "pDst"), pn = k.Param("u32", "n");
        string gs = k.GlobalPointer(ps), gd = k.GlobalPointer(pd), n = k.LoadU32(pn);
        string c = k.GlobalThreadIndex(), outside = k.P(), done = k.NewLabel("done");
        k.Op($"setp.ge.u32 {outside}, {c}, {channels}");
        k.Op(outside, $"bra {done}");
        string sum = k.F();
        k.Op($"mov.f32 {sum}, {Zero}");
        k.For(n, b =>
        {
            string first = k.R();
            k.Op($"mad.lo.s32 {first}, {b}, {channels}, {c}");
            k.Op($"mul.lo.s32 {first}, {first}, {pixels}");
            string a = k.Element(gs, first);
            k.For(PtxText.I(pixels), _ =>
            {
                k.Op($"add.f32 {sum}, {sum}, {k.LoadGlobal(a)}");
                k.Op($"add.s64 {a}, {a}, 4");
            });
        });
        string da = k.Element(gd, c), t = k.F();
        k.Op($"add.f32 {t}, {sum}, {k.LoadGlobal(da)}");
        k.StoreGlobal(da, t);
        k.Label(done);
        return k;
    }

    /// <summary><c>q / d</c> and <c>q % d</c> of an unsigned register by a build-time constant.</summary>
    public static (string Quotient, string Remainder) DivRem(PtxKernel k, string q, int d)
    {
        if (d == 1) return (q, "0");
        if (q == "0") return ("0", "0");
        string a = k.R(), b = k.R();
        k.Op($"div.u32 {a}, {q}, {d}");
        k.Op($"rem.u32 {b}, {q}, {d}");
        return (a, b);
    }

    /// <summary>The sum of <paramref name="value"/> over a 256-thread block: a tree in shared memory (fixed order, so the
    /// same total for any launch), returned in every thread; the array is free again when it returns.</summary>
    public static string BlockSum(PtxKernel k, string smem, string tid, string value)
    {
        string addr = k.R();
        k.Op($"shl.b32 {addr}, {tid}, 2");
        k.Op($"add.s32 {addr}, {addr}, {smem}");
        k.Op($"st.shared.f32 [{addr}], {value}");
        k.Op("bar.sync 0");
        for (int s = 128; s >= 1; s >>= 1)
        {
            string p = k.P(), skip = k.NewLabel("tree"), a = k.F(), b = k.F();
            k.Op($"setp.ge.u32 {p}, {tid}, {s}");
            k.Op(p, $"bra {skip}");
            k.Op($"ld.shared.f32 {a}, [{addr}]");
            k.Op($"ld.shared.f32 {b}, [{addr}+{4 * s}]");
            k.Op($"add.f32 {a}, {a}, {b}");
            k.Op($"st.shared.f32 [{addr}], {a}");
            k.Label(skip);
            k.Op("bar.sync 0");
        }
        string total = k.F();
        k.Op($"ld.shared.f32 {total}, [{smem}]");
        k.Op("bar.sync 0");
        return total;
    }

    /// <summary>For a block per channel c of <c>[n, channels, pixels]</c>: each thread visits elements tid, tid + 256, … of the
    /// channel's <paramref name="count"/> = n·pixels; <paramref name="body"/> gets the flat index of each.</summary>
    public static void ChannelElements(PtxKernel k, string tid, string c, int channels, int pixels, string count, Action<string> body)
    {
        string e = k.R(), top = k.NewLabel("elem"), end = k.NewLabel("elems"), done = k.P();
        k.Op($"mov.u32 {e}, {tid}");
        k.Label(top);
        k.Op($"setp.ge.u32 {done}, {e}, {count}");
        k.Op(done, $"bra {end}");
        var (b, q) = DivRem(k, e, pixels);
        string flat = k.R();
        k.Op($"mad.lo.s32 {flat}, {b}, {channels}, {c}");
        k.Op($"mad.lo.s32 {flat}, {flat}, {pixels}, {q}");
        body(flat);
        k.Op($"add.s32 {e}, {e}, 256");
        k.Op($"bra {top}");
        k.Label(end);
    }
}
