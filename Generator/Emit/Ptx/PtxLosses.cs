using System;
using ModelGen.Generator.Analysis;
using ModelGen.Generator.Model;

namespace ModelGen.Generator.Emit.Ptx;

/// <summary>
/// The loss kernels: one thread per sample reads its outputs and its label or targets, writes its loss to
/// <c>losses[b]</c> (summed on the host in sample order, so the mean does not depend on the launch) and the
/// gradient of the mean loss into the output gradient: <c>scale · ∂ℓ/∂y</c> with <c>scale</c> = 1/B (per-sample
/// losses) or 1/(B·N) (the element-wise family), the C# path's formulas exactly.
/// </summary>
internal static class PtxLosses
{
    public static bool Supports(LossPlan loss) => loss.Kind != LossKind.None;

    /// <summary>The kernel <c>Loss</c>: arguments output, output gradient, labels/targets, losses, the scale (a float in
    /// device memory, written by the host before the pass: a recorded graph reads each batch's, e.g. 1 over the
    /// labelled steps), n. With
    /// <paramref name="steps"/> &gt; 1 (softmax cross-entropy at every step of a sequence) a thread per (sample, step) row
    /// of <paramref name="outputs"/> classes, n·steps rows; a step labelled −100 adds nothing and gets no gradient.</summary>
    public static PtxKernel Kernel(LossPlan loss, int outputs, string output, string grad, int steps = 1)
    {
        var launch = KernelLaunch.PerItem(steps > 1 ? $"{steps} * n" : "n", 128);
        launch.Args.Add(KernelArg.Buffer(output));
        launch.Args.Add(KernelArg.Buffer(grad));
        launch.Args.Add(KernelArg.Buffer("_dTargets"));
        launch.Args.Add(KernelArg.Buffer("_dLosses"));
        launch.Args.Add(KernelArg.Buffer("_dLossScale"));
        launch.Args.Add(KernelArg.Count(steps > 1 ? $"{steps} * n" : "n"));
        var k = new PtxKernel("Loss", launch);
        string py = k.Param("u64", "pY"), pg = k.Param("u64", "pGrad"), pt = k.Param("u64", "pTargets"), pl = k.Param("u64", "pLosses");
        string ps = k.Param("u64", "pScale"), pn = k.Param("u32", "n");
        string Y = k.GlobalPointer(py), G = k.GlobalPointer(pg), T = k.GlobalPointer(pt), L = k.GlobalPointer(pl);
        string scale = k.LoadGlobal(k.GlobalPointer(ps)), n = k.LoadU32(pn), b = k.GlobalThreadIndex(), outside = k.P(), done = k.NewLabel("done");
        k.Op($"setp.ge.u32 {outside}, {b}, {n}");
        k.Op(outside, $"bra {done}");
        string first = k.R();
        k.Op($"mul.lo.s32 {first}, {b}, {outputs}");
        string ya = k.Element(Y, first), ga = k.Element(G, first);
        string total;
        switch (loss.Kind)
        {
            case LossKind.SoftmaxCrossEntropy when steps > 1:
            {
                string label = Label(k, T, b), ignored = k.P(), skip = k.NewLabel("ignored"), end = k.NewLabel("labelled");
                total = k.F();
                k.Op($"setp.eq.s32 {ignored}, {label}, -100");
                k.Op(ignored, $"bra {skip}");
                k.Op($"mov.f32 {total}, {SoftmaxCrossEntropy(k, outputs, ya, ga, label, scale)}");
                k.Op($"bra {end}");
                k.Label(skip);
                k.Op($"mov.f32 {total}, {PtxMath.Zero}");
                string zero = k.F();
                k.Op($"mov.f32 {zero}, {PtxMath.Zero}");
                k.For(PtxText.I(outputs), c => k.StoreGlobal(k.Element(ga, c), zero));
                k.Label(end);
                break;
            }
            case LossKind.SoftmaxCrossEntropy: total = SoftmaxCrossEntropy(k, outputs, ya, ga, Label(k, T, b), scale); break;
            case LossKind.MultiClassHinge: total = MultiClassHinge(k, outputs, ya, ga, Label(k, T, b), scale); break;
            default: total = Elementwise(k, loss, outputs, ya, ga, k.Element(T, first), scale); break;
        }
        k.StoreGlobal(k.Element(L, b), total);
        k.Label(done);
        k.Banner.Add(Math(loss, outputs));
        k.Banner.Add(steps > 1 ? $"one thread per (sample, step) of {steps} steps; a label −100 skips its step; losses summed on the host in order"
            : "one thread per sample; losses[b] summed on the host in sample order");
        return k;
    }

    /// <summary>The mean the host takes of <c>losses[0..B)</c>: over B, or over B·N for the element-wise family.</summary>
    public static bool PerElement(LossPlan loss) => loss.Kind is not (LossKind.SoftmaxCrossEntropy or LossKind.MultiClassHinge);

    private static string Math(LossPlan loss, int outputs) => loss.Kind switch
    {
        LossKind.SoftmaxCrossEntropy => $"ℓ_b = log Σ_c e^(z[b,c] − m) + m − z[b,y_b] over {outputs} classes;  dz[b,c] = (softmax(z[b])_c − [c = y_b])·scale",
        LossKind.MultiClassHinge => $"ℓ_b = Σ_(j≠y) max(0, s_j − s_y + 1) over {outputs} classes;  ds_j = [m_j > 0]·scale, ds_y = −#active·scale",
        _ => $"ℓ_b = Σ_o ℓ(y[b,o], t[b,o]) over {outputs} outputs ({loss.Kind});  dy = ∂ℓ/∂y·scale",
    };

    private static string Label(PtxKernel k, string targets, string b)
    {
        string y = k.R();
        k.Op($"ld.global.u32 {y}, [{k.Element(targets, b)}]");
        return y;
    }

    private static string SoftmaxCrossEntropy(PtxKernel k, int classes, string ya, string ga, string label, string scale)
    {
        string max = k.LoadGlobal(ya);
        k.For(PtxText.I(classes), c =>
        {
            string v = k.LoadGlobal(k.Element(ya, c));
            k.Op($"max.f32 {max}, {max}, {v}");
        });
        string sum = k.F(), zy = k.F();
        k.Op($"mov.f32 {sum}, {PtxMath.Zero}");
        k.Op($"mov.f32 {zy}, {PtxMath.Zero}");
        k.For(PtxText.I(classes), c =>
        {
            string v = k.LoadGlobal(k.Element(ya, c)), t = k.F(), isY = k.P();
            k.Op($"sub.f32 {t}, {v}, {max}");
            k.Op($"add.f32 {sum}, {sum}, {k.Exp(t)}");
            k.Op($"setp.eq.u32 {isY}, {c}, {label}");
            k.Op(isY, $"mov.f32 {zy}, {v}");
        });
        string inv = k.F();
        k.Op($"rcp.rn.f32 {inv}, {sum}");
        k.For(PtxText.I(classes), c =>
        {
            string v = k.LoadGlobal(k.Element(ya, c)), t = k.F(), p = k.F(), isY = k.P(), d = k.F();
            k.Op($"sub.f32 {t}, {v}, {max}");
            k.Op($"mul.f32 {p}, {k.Exp(t)}, {inv}");
            k.Op($"setp.eq.u32 {isY}, {c}, {label}");
            k.Op(isY, $"sub.f32 {p}, {p}, {PtxMath.One}");
            k.Op($"mul.f32 {d}, {p}, {scale}");
            k.StoreGlobal(k.Element(ga, c), d);
        });
        string l = k.F();
        k.Op($"add.f32 {l}, {k.Log(sum)}, {max}");
        k.Op($"sub.f32 {l}, {l}, {zy}");
        return l;
    }

    private static string MultiClassHinge(PtxKernel k, int classes, string ya, string ga, string label, string scale)
    {
        string sy = k.LoadGlobal(k.Element(ya, label)), total = k.F(), active = k.F();
        k.Op($"mov.f32 {total}, {PtxMath.Zero}");
        k.Op($"mov.f32 {active}, {PtxMath.Zero}");
        k.For(PtxText.I(classes), c =>
        {
            string m = k.F(), on = k.P(), isY = k.P(), d = k.F(), skip = k.NewLabel("label");
            k.Op($"setp.eq.u32 {isY}, {c}, {label}");
            k.Op(isY, $"bra {skip}");
            k.Op($"sub.f32 {m}, {k.LoadGlobal(k.Element(ya, c))}, {sy}");
            k.Op($"add.f32 {m}, {m}, {PtxMath.One}");
            k.Op($"setp.gt.f32 {on}, {m}, {PtxMath.Zero}");
            k.Op(on, $"add.f32 {total}, {total}, {m}");
            k.Op(on, $"add.f32 {active}, {active}, {PtxMath.One}");
            k.Op($"selp.f32 {d}, {scale}, {PtxMath.Zero}, {on}");
            k.StoreGlobal(k.Element(ga, c), d);
            k.Label(skip);
        });
        string dy = k.F();
        k.Op($"neg.f32 {dy}, {active}");
        k.Op($"mul.f32 {dy}, {dy}, {scale}");
        k.StoreGlobal(k.Element(ga, label), dy);
        return total;
    }

    private static string Elementwise(PtxKernel k, LossPlan loss, int outputs, string ya, string ga, string ta, string scale)
    {
        string total = k.F();
        k.Op($"mov.f32 {total}, {PtxMath.Zero}");
        k.For(PtxText.I(outputs), o =>
        {
            string v = k.LoadGlobal(k.Element(ya, o)), t = k.LoadGlobal(k.Element(ta, o));
            var (l, d) = Term(k, loss, v, t);
            k.Op($"add.f32 {total}, {total}, {l}");
            string g = k.F();
            k.Op($"mul.f32 {g}, {d}, {scale}");
            k.StoreGlobal(k.Element(ga, o), g);
        });
        return total;
    }

    /// <summary>ℓ(v, t) and ∂ℓ/∂v of one element, as <c>Losses.Elementwise</c> computes them.</summary>
    private static (string Loss, string Grad) Term(PtxKernel k, LossPlan loss, string v, string t)
    {
        string l = k.F(), d = k.F();
        switch (loss.Kind)
        {
            case LossKind.Mse:
            {
                string e = k.F();
                k.Op($"sub.f32 {e}, {v}, {t}");
                k.Op($"mul.f32 {l}, {e}, {e}");
                k.Op($"add.f32 {d}, {e}, {e}");
                break;
            }
            case LossKind.Mae:
            {
                string e = k.F(), pos = k.P(), neg = k.P();
                k.Op($"sub.f32 {e}, {v}, {t}");
                k.Op($"abs.f32 {l}, {e}");
                k.Op($"setp.gt.f32 {pos}, {e}, {PtxMath.Zero}");
                k.Op($"setp.lt.f32 {neg}, {e}, {PtxMath.Zero}");
                k.Op($"selp.f32 {d}, {PtxMath.One}, {PtxMath.Zero}, {pos}");
                k.Op(neg, $"mov.f32 {d}, {PtxText.F(-1f)}");
                break;
            }
            case LossKind.Huber:
            {
                string e = k.F(), a = k.F(), near = k.P(), lin = k.F(), half = k.F(), pos = k.P(), far = k.F();
                float delta = loss.Param;
                k.Op($"sub.f32 {e}, {v}, {t}");
                k.Op($"abs.f32 {a}, {e}");
                k.Op($"setp.le.f32 {near}, {a}, {PtxText.F(delta)}");
                k.Op($"mul.f32 {half}, {e}, {PtxText.F(0.5f)}");
                k.Op($"mul.f32 {l}, {half}, {e}");
                k.Op($"sub.f32 {lin}, {a}, {PtxText.F(0.5f * delta)}");
                k.Op($"mul.f32 {lin}, {lin}, {PtxText.F(delta)}");
                k.Op($"selp.f32 {l}, {l}, {lin}, {near}");
                k.Op($"setp.gt.f32 {pos}, {e}, {PtxMath.Zero}");
                k.Op($"selp.f32 {far}, {PtxText.F(delta)}, {PtxText.F(-delta)}, {pos}");
                k.Op($"selp.f32 {d}, {e}, {far}, {near}");
                break;
            }
            case LossKind.Quantile:
            {
                float tau = loss.Param;
                string e = k.F(), a = k.F(), b = k.F(), pos = k.P(), neg = k.P();
                k.Op($"sub.f32 {e}, {t}, {v}");
                k.Op($"mul.f32 {a}, {e}, {PtxText.F(tau)}");
                k.Op($"mul.f32 {b}, {e}, {PtxText.F(tau - 1f)}");
                k.Op($"max.f32 {l}, {a}, {b}");
                k.Op($"setp.gt.f32 {pos}, {e}, {PtxMath.Zero}");
                k.Op($"setp.lt.f32 {neg}, {e}, {PtxMath.Zero}");
                k.Op($"selp.f32 {d}, {PtxText.F(-tau)}, {PtxMath.Zero}, {pos}");
                k.Op(neg, $"mov.f32 {d}, {PtxText.F(1f - tau)}");
                break;
            }
            case LossKind.BinaryCrossEntropy:
            {
                // max(v,0) − v·t + log(1 + e^{−|v|});  d = σ(v) − t
                string mx = k.F(), a = k.F(), na = k.F(), vt = k.F(), one = k.F();
                k.Op($"max.f32 {mx}, {v}, {PtxMath.Zero}");
                k.Op($"abs.f32 {a}, {v}");
                k.Op($"neg.f32 {na}, {a}");
                k.Op($"add.f32 {one}, {k.Exp(na)}, {PtxMath.One}");
                k.Op($"mul.f32 {vt}, {v}, {t}");
                k.Op($"sub.f32 {l}, {mx}, {vt}");
                k.Op($"add.f32 {l}, {l}, {k.Log(one)}");
                string s = PtxMath.Activate(k, ActivationKind.Sigmoid, 0f, v);
                k.Op($"sub.f32 {d}, {s}, {t}");
                break;
            }
            case LossKind.Hinge:
            {
                string m = k.F(), on = k.P(), nt = k.F();
                k.Op($"mul.f32 {m}, {t}, {v}");
                k.Op($"sub.f32 {m}, {PtxMath.One}, {m}");
                k.Op($"setp.gt.f32 {on}, {m}, {PtxMath.Zero}");
                k.Op($"selp.f32 {l}, {m}, {PtxMath.Zero}, {on}");
                k.Op($"neg.f32 {nt}, {t}");
                k.Op($"selp.f32 {d}, {nt}, {PtxMath.Zero}, {on}");
                break;
            }
            default: throw new ArgumentOutOfRangeException(nameof(loss), loss.Kind, "not an element-wise loss");
        }
        return (l, d);
    }
}
