using System;
using System.Collections.Generic;
using System.Linq;
using ModelGen.Generator.Analysis;
using ModelGen.Generator.Emit.Ptx;
using ModelGen.Generator.Model;

namespace ModelGen.Generator.Layers;

/// <summary>
/// The PTX of LSTM, GRU and the Elman RNN (one or two directions, padded steps carried through). On the GPU the
/// sequence is sample-major <c>[n, T, F]</c>, so the input projection of every step is one GEMM over the <c>T·n</c>
/// rows; the recurrence is a host loop of one launch per step (a thread per sample and hidden unit, the recurrent
/// product a dot product over <c>W_hh</c>'s row), and backward through time two launches per step (the cell's
/// gate gradients, then <c>dh_(t−1) = W_hhᵀ·dGₕ</c> per sample and unit). The weight gradients are GEMMs over every
/// step at once (<c>dW_hh</c> against the states shifted by one step), the bias gradients column sums in order; no
/// atomics, so every launch sums in the same order.
/// </summary>
internal abstract partial class RecurrentLayer : IPtxLayer, IPtxScratch
{
    /// <summary>Per sample and direction: the gates of every step [T, G·H] (activated; in backward their gradients), GRU's
    /// <c>W_hh·h + b_hh</c> [T, G·H], the states [T, H], LSTM's cells [T, H], the states shifted one step [T, H] (for
    /// dW_hh), and the running dh and dc [H].</summary>
    public IEnumerable<(string Name, int PerSample, int Fixed)> Scratch(LayerPlan l)
    {
        int t = T(l), h = H(l), g = Gates * h;
        foreach (bool reverse in Directions(l))
        {
            string sfx = reverse ? "_reverse" : "";
            yield return ("pg" + sfx, t * g, 0);
            if (SeparateHidden) yield return ("phg" + sfx, t * g, 0);
            yield return ("ph" + sfx, t * h, 0);
            if (HasCell) yield return ("pc" + sfx, t * h, 0);
            yield return ("pprev" + sfx, t * h, 0);
            yield return ("pdh" + sfx, h, 0);
            if (HasCell) yield return ("pdc" + sfx, h, 0);
        }
        if (!Carries(l)) yield break;
        yield return ("h0", h, 0);          // this call's initial state [n, H]: zero, or the carried one (Stateful)
        yield return ("carried", h, 0);     // the final state per sample index, the next Stateful call's start
        if (HasCell) { yield return ("c0", h, 0); yield return ("carriedc", h, 0); }
    }

    /// <summary>Whether the layer's (forward) direction starts from a state of its own, <c>h0</c> (and <c>c0</c>): zero, or the
    /// state the last call left when the twin is Stateful. A bidirectional layer cannot stream (the host says why).</summary>
    private bool Carries(LayerPlan l) => NoStreaming(l) is null;

    /// <summary>The initial-state buffers a direction's step kernels read at its first step, or null (zero, not stored).</summary>
    private string[]? Initial(PtxLayer c, bool reverse) =>
        reverse || !Carries(c.Layer) ? null : HasCell ? new[] { c.Scratch("h0"), c.Scratch("c0") } : new[] { c.Scratch("h0") };

    public void Forward(PtxLayer c)
    {
        foreach (bool reverse in Directions(c.Layer)) ForwardDirection(c, reverse);
    }

    /// <summary>The padding mask <c>[n, T]</c> (1 data, 0 padding) of the embedding or Masking layer below, or null.</summary>
    private static string? MaskOf(PtxLayer c)
    {
        int src = c.Network.MaskSource(c.Layer);
        return src < 0 ? null : c.Gpu.ScratchOf(src, "mask");
    }

    /// <summary>Branches to <paramref name="label"/> when step <paramref name="row"/> of the sequence is padding.</summary>
    private static void IfPadded(PtxKernel k, string maskPointer, string row, string label)
    {
        string pad = k.P();
        k.Op($"setp.eq.f32 {pad}, {k.LoadGlobal(k.Element(maskPointer, row))}, {PtxMath.Zero}");
        k.Op(pad, $"bra {label}");
    }

    public void Backward(PtxLayer c)
    {
        foreach (bool reverse in Directions(c.Layer)) BackwardDirection(c, reverse);
    }

    private void ForwardDirection(PtxLayer c, bool reverse)
    {
        var l = c.Layer;
        int t = T(l), f = F(l), h = H(l), g = Gates * h, dirsH = (Opt(l).Bidirectional ? 2 : 1) * h;
        string sfx = reverse ? "_reverse" : "", dir = reverse ? " (reverse)" : "";
        string W(string local) => c.Tensor(local + sfx);

        var proj = PtxGemm.Kernel(c.Name("Proj" + sfx), new GemmSpec(-t, g, f, TransA: false, f, TransB: true, f, g) { Bias = GemmBias.PerColumn },
            c.Input, W("weight_ih_l0"), c.Scratch("pg" + sfx), W("bias_ih_l0"));
        proj.Banner.Insert(0, $"Gᵢ[{t}·n, {g}] = X·W_ihᵀ + b_ih: the input projection of every step at once{dir}");
        c.ForwardKernels.Add(proj);

        var init = Initial(c, reverse);
        if (init is not null)
        {
            // h0 (c0): the carried state of each sample index when Stateful, else zero.
            var from = HasCell ? new[] { c.Scratch("carried"), c.Scratch("carriedc") } : new[] { c.Scratch("carried") };
            var carry = PtxMath.PerElement(c.Name("Carry"), $"{h} * n", HasCell ? new[] { "pH", "pC", "pH0", "pC0" } : new[] { "pH", "pH0" }, from.Concat(init).ToArray(), (k, a, i) =>
            {
                for (int q = 0; q < init.Length; q++) k.StoreGlobal(k.Element(a[init.Length + q], i), k.LoadGlobal(k.Element(a[q], i)));
            });
            carry.Banner.Add($"Stateful: h0[s, j] = carried[s, j]{(HasCell ? " (and c0 = the carried c)" : "")}, the state the last call left for sample index s");
            carry.Condition = "_stateful";
            c.ForwardKernels.Add(carry);
            var zero = PtxMath.PerElement(c.Name("Zero0"), $"{h} * n", HasCell ? new[] { "pH0", "pC0" } : new[] { "pH0" }, init, (k, a, i) =>
            {
                string z = k.F();
                k.Op($"mov.f32 {z}, {PtxMath.Zero}");
                foreach (var q in a) k.StoreGlobal(k.Element(q, i), z);
            });
            zero.Banner.Add($"h0 = 0{(HasCell ? ", c0 = 0" : "")}: every call starts from the zero state (not Stateful)");
            zero.Condition = "!_stateful";
            c.ForwardKernels.Add(zero);
        }

        var loop = new HostLoop(c.Name("ForwardSteps" + sfx), t, $"{l.Name}{dir}: the recurrence, one launch per step");
        var args = new List<string> { c.Scratch("pg" + sfx), c.Scratch("ph" + sfx), W("weight_hh_l0"), W("bias_hh_l0") };
        if (HasCell) args.Add(c.Scratch("pc" + sfx));
        if (SeparateHidden) args.Add(c.Scratch("phg" + sfx));
        string? mask = MaskOf(c);
        if (mask is not null) args.Add(mask);
        var forward = StepKernel(c.Name("Step" + sfx), h, t, reverse, backward: false, args, init, (k, p, step, s, j, first, row, prev, i0) =>
        {
            string? carry = mask is null ? null : k.NewLabel("padded"), end = k.NewLabel("stored");
            if (carry is not null) IfPadded(k, p[p.Length - 1], row, carry);
            // a_q = Gᵢ[row, qH + j] (+ b_hh unless kept apart) + W_hh[qH + j, :]·h_(t−1): the G pre-activations of unit j
            string gRow = k.R(), hPrev = k.R();
            k.Op($"mul.lo.s32 {gRow}, {row}, {g}");
            k.Op($"mul.lo.s32 {hPrev}, {prev}, {h}");
            var acc = new string[Gates];
            for (int q = 0; q < Gates; q++)
            {
                acc[q] = k.F();
                string u = k.R();
                k.Op($"add.s32 {u}, {j}, {q * h}");
                string b = k.LoadGlobal(k.Element(p[3], u));
                if (SeparateHidden) k.Op($"mov.f32 {acc[q]}, {b}");
                else k.Op($"add.f32 {acc[q]}, {k.LoadGlobal(k.Element(k.Element(p[0], gRow), u))}, {b}");
            }
            string skip = k.NewLabel("first");
            string hp = k.Element(p[1], hPrev);
            if (i0 is null) k.Op(first, $"bra {skip}");   // h_(−1) = 0: no recurrent product
            else
            {
                // h_(−1) = h0[s]: the first step's product reads the initial state
                string sRow = k.R(), initial = k.Rd();
                k.Op($"mul.lo.s32 {sRow}, {s}, {h}");
                k.Op($"selp.b64 {initial}, {k.Element(i0[0], sRow)}, {hp}, {first}");
                hp = initial;
            }
            k.For(PtxText.I(h), kk =>
            {
                string x = k.LoadGlobal(k.Element(hp, kk));
                for (int q = 0; q < Gates; q++)
                {
                    string w = k.R();
                    k.Op($"mad.lo.s32 {w}, {j}, {h}, {kk}");
                    k.Op($"add.s32 {w}, {w}, {q * h * h}");
                    k.Op($"fma.rn.f32 {acc[q]}, {k.LoadGlobal(k.Element(p[2], w))}, {x}, {acc[q]}");
                }
            });
            k.Label(skip);
            string stAt = k.R();
            k.Op($"mad.lo.s32 {stAt}, {row}, {h}, {j}");
            string prevAt = k.R();
            k.Op($"add.s32 {prevAt}, {hPrev}, {j}");
            var start = new Start(i0, s, j, h);
            CellForward(k, p, acc, gRow, j, h, first, stAt, prevAt, l, start);
            if (carry is null) return;
            // A padded step: the state (and cell) stay as they were; its gates get no gradient in backward.
            k.Op($"bra {end}");
            k.Label(carry);
            string at = k.R(), before = k.R();
            k.Op($"mad.lo.s32 {at}, {row}, {h}, {j}");
            k.Op($"mad.lo.s32 {before}, {prev}, {h}, {j}");
            k.StoreGlobal(k.Element(p[1], at), Previous(k, p[1], before, first, start, cell: false));
            if (HasCell) k.StoreGlobal(k.Element(p[4], at), Previous(k, p[4], before, first, start, cell: true));
            k.Label(end);
        });
        forward.Loop = loop;
        forward.Banner.Add(CellBanner(l) + $"{dir}{(mask is null ? "" : "; a padded step carries h (and c) unchanged")}; one thread per sample and hidden unit, one launch per step");
        c.ForwardKernels.Add(forward);

        // The output: every step's state, or the last step's (the reverse direction's last is step 0), at this direction's columns.
        bool seq = Opt(l).ReturnSequences;
        bool zeros = seq && mask is not null;
        var copy = PtxMath.PerElement(c.Name("Out" + sfx), seq ? $"{t * h} * n" : $"{h} * n", zeros ? new[] { "pH", "pY", "pMask" } : new[] { "pH", "pY" },
            zeros ? new[] { c.Scratch("ph" + sfx), c.Output, mask! } : new[] { c.Scratch("ph" + sfx), c.Output }, (k, a, i) =>
        {
            string row = k.R(), j = k.R(), y = k.R(), from = k.R();
            k.Op($"div.u32 {row}, {i}, {h}");
            k.Op($"rem.u32 {j}, {i}, {h}");
            k.Op($"mad.lo.s32 {y}, {row}, {dirsH}, {j}");
            if (reverse) k.Op($"add.s32 {y}, {y}, {h}");
            if (seq) k.Op($"mov.u32 {from}, {i}");
            else
            {
                k.Op($"mad.lo.s32 {from}, {row}, {t * h}, {j}");
                if (!reverse) k.Op($"add.s32 {from}, {from}, {(t - 1) * h}");
            }
            string v = k.LoadGlobal(k.Element(a[0], from));
            if (zeros)
            {
                string real = k.P();
                k.Op($"setp.ne.f32 {real}, {k.LoadGlobal(k.Element(a[2], row))}, {PtxMath.Zero}");
                k.Op($"selp.f32 {v}, {v}, {PtxMath.Zero}, {real}");
            }
            k.StoreGlobal(k.Element(a[1], y), v);
        });
        copy.Banner.Add(seq ? $"y[s, t, {(reverse ? $"{h} + " : "")}j] = h_t[s, j] of every step{(zeros ? " (0 at padded steps)" : "")}{dir}" : $"y[s, {(reverse ? $"{h} + " : "")}j] = h[s, j] of the last step{(reverse ? " of the reverse direction (t = 0)" : "")}");
        c.ForwardKernels.Add(copy);
        if (init is null) return;
        var from2 = HasCell ? new[] { c.Scratch("ph"), c.Scratch("pc") } : new[] { c.Scratch("ph") };
        var to = HasCell ? new[] { c.Scratch("carried"), c.Scratch("carriedc") } : new[] { c.Scratch("carried") };
        var keep = PtxMath.PerElement(c.Name("Keep"), $"{h} * n", HasCell ? new[] { "pH", "pC", "pCarried", "pCarriedC" } : new[] { "pH", "pCarried" }, from2.Concat(to).ToArray(), (k, a, i) =>
        {
            string sample = k.R(), j = k.R(), last = k.R();
            k.Op($"div.u32 {sample}, {i}, {h}");
            k.Op($"rem.u32 {j}, {i}, {h}");
            k.Op($"mad.lo.s32 {last}, {sample}, {t * h}, {j}");
            k.Op($"add.s32 {last}, {last}, {(t - 1) * h}");
            for (int q = 0; q < from2.Length; q++) k.StoreGlobal(k.Element(a[from2.Length + q], i), k.LoadGlobal(k.Element(a[q], last)));
        });
        keep.Banner.Add($"Stateful: carried[s, j] = h_(T−1)[s, j]{(HasCell ? " (and c)" : "")}, where the next call starts (a padded end carried it there)");
        keep.Condition = "_stateful";
        c.ForwardKernels.Add(keep);
    }

    /// <summary>Where a direction's first step finds h_(−1) (and c_(−1)): the initial-state buffers at sample s, or zero
    /// (<see cref="Init"/> null).</summary>
    private sealed record Start(string[]? Init, string S, string J, int Hidden)
    {
        /// <summary>The initial h (or, <paramref name="cell"/>, c) buffer, or null.</summary>
        public string? Of(bool cell) => Init is null ? null : cell ? Init[1] : Init[0];
    }

    private void BackwardDirection(PtxLayer c, bool reverse)
    {
        var l = c.Layer;
        int t = T(l), f = F(l), h = H(l), g = Gates * h, dirsH = (Opt(l).Bidirectional ? 2 : 1) * h;
        bool seq = Opt(l).ReturnSequences;
        string sfx = reverse ? "_reverse" : "", dir = reverse ? " (reverse)" : "";
        string W(string local) => c.Tensor(local + sfx);
        string dG = c.Scratch("pg" + sfx), dGh = SeparateHidden ? c.Scratch("phg" + sfx) : dG;

        var zero = PtxMath.PerElement(c.Name("Dstart" + sfx), $"{h} * n", HasCell ? new[] { "pDH", "pDC" } : new[] { "pDH" },
            HasCell ? new[] { c.Scratch("pdh" + sfx), c.Scratch("pdc" + sfx) } : new[] { c.Scratch("pdh" + sfx) }, (k, a, i) =>
        {
            foreach (var p in a) k.StoreGlobal(k.Element(p, i), PtxMath.Zero);
        });
        zero.Banner.Add($"dh = 0{(HasCell ? ", dc = 0" : "")} before the last step{dir}");
        c.BackwardKernels.Add(zero);

        // Step k of backward is step t = T−1−k of the forward order (the reverse direction: t = k).
        var loop = new HostLoop(c.Name("BackwardSteps" + sfx), t, $"{l.Name}{dir}: backward through time, two launches per step");
        var args = new List<string> { dG, c.Scratch("ph" + sfx), c.OutputGrad, c.Scratch("pdh" + sfx) };
        if (HasCell) { args.Add(c.Scratch("pc" + sfx)); args.Add(c.Scratch("pdc" + sfx)); }
        if (SeparateHidden) args.Add(dGh);
        string? mask = MaskOf(c);
        if (mask is not null) args.Add(mask);
        var cell = StepKernel(c.Name("Dcell" + sfx), h, t, reverse, backward: true, args, Initial(c, reverse), (k, p, step, s, j, first, row, prev, i0) =>
        {
            string? padded = mask is null ? null : k.NewLabel("padded"), end = k.NewLabel("stored");
            string dh = k.F(), dhAt = k.R();
            k.Op($"mad.lo.s32 {dhAt}, {s}, {h}, {j}");
            string dhp = k.Element(p[3], dhAt);
            k.Op($"mov.f32 {dh}, {k.LoadGlobal(dhp)}");
            // + dy of this step: every step's output, or only the last step's (backward's step 0)
            string y = k.R();
            k.Op($"mad.lo.s32 {y}, {(seq ? row : s)}, {dirsH}, {j}");
            if (reverse) k.Op($"add.s32 {y}, {y}, {h}");
            string noDy = k.NewLabel("nody");
            if (!seq)
            {
                string later = k.P();
                k.Op($"setp.ne.u32 {later}, {step}, 0");
                k.Op(later, $"bra {noDy}");
            }
            else if (padded is not null) IfPadded(k, p[p.Length - 1], row, noDy);   // a padded step's output is a constant 0
            k.Op($"add.f32 {dh}, {dh}, {k.LoadGlobal(k.Element(p[2], y))}");
            k.Label(noDy);
            string gRow = k.R(), stAt = k.R(), prevAt = k.R();
            k.Op($"mul.lo.s32 {gRow}, {row}, {g}");
            k.Op($"mad.lo.s32 {stAt}, {row}, {h}, {j}");
            k.Op($"mad.lo.s32 {prevAt}, {prev}, {h}, {j}");
            if (padded is not null) IfPadded(k, p[p.Length - 1], row, padded);
            CellBackward(k, p, gRow, j, h, first, stAt, prevAt, dh, dhp, dhAt, l, new Start(i0, s, j, h));
            if (padded is null) return;
            // A padded step: dh (and dc) pass to the step before unchanged; its gates get no gradient.
            k.Op($"bra {end}");
            k.Label(padded);
            k.StoreGlobal(dhp, dh);
            string ga = k.Element(p[0], gRow);
            for (int q = 0; q < Gates; q++) k.StoreGlobal(Gate(k, ga, q, j, h), PtxMath.Zero);
            if (SeparateHidden)
            {
                string ha = k.Element(p[p.Length - 2], gRow);
                for (int q = 0; q < Gates; q++) k.StoreGlobal(Gate(k, ha, q, j, h), PtxMath.Zero);
            }
            k.Label(end);
        });
        cell.Loop = loop;
        cell.Banner.Add(CellBackwardBanner(l) + $"{dir}{(mask is null ? "" : "; a padded step passes dh (and dc) on and gets dG = 0")}; one thread per sample and hidden unit");
        c.BackwardKernels.Add(cell);

        var recArgs = new List<string> { dGh, W("weight_hh_l0"), c.Scratch("pdh" + sfx) };
        if (mask is not null) recArgs.Add(mask);
        var rec = StepKernel(c.Name("Dstate" + sfx), h, t, reverse, backward: true, recArgs, null, (k, p, step, s, j, first, row, prev, _) =>
        {
            string? padded = mask is null ? null : k.NewLabel("padded");
            if (padded is not null) IfPadded(k, p[3], row, padded);   // dh passed the step: it stays
            // dh_(t−1)[s, j] = W_hh[:, j]·dGₕ[row, :] (+ the direct path GRU's cell left in dh)
            string gRow = k.R(), sum = k.F(), at = k.R();
            k.Op($"mul.lo.s32 {gRow}, {row}, {g}");
            string ga = k.Element(p[0], gRow);
            k.Op($"mov.f32 {sum}, {PtxMath.Zero}");
            k.For(PtxText.I(g), u =>
            {
                string w = k.R();
                k.Op($"mad.lo.s32 {w}, {u}, {h}, {j}");
                k.Op($"fma.rn.f32 {sum}, {k.LoadGlobal(k.Element(p[1], w))}, {k.LoadGlobal(k.Element(ga, u))}, {sum}");
            });
            k.Op($"mad.lo.s32 {at}, {s}, {h}, {j}");
            string dha = k.Element(p[2], at);
            if (SeparateHidden) k.Op($"add.f32 {sum}, {sum}, {k.LoadGlobal(dha)}");
            k.StoreGlobal(dha, sum);
            if (padded is not null) k.Label(padded);
        });
        rec.Loop = loop;
        rec.Banner.Add($"dh_(t−1)[s, j] = Σ_u W_hh[u, j]·dGₕ[s, t, u] over the {g} gate rows{(SeparateHidden ? " + dh⊙z (left by the cell)" : "")}{dir}; one thread per sample and unit");
        c.BackwardKernels.Add(rec);

        // The states each step read: h_(t−1), at the direction's first step zero or the initial state h0.
        var h0 = Initial(c, reverse)?[0];
        var shifted = PtxMath.PerElement(c.Name("Hprev" + sfx), $"{t * h} * n", h0 is null ? new[] { "pH", "pP" } : new[] { "pH", "pP", "pH0" },
            h0 is null ? new[] { c.Scratch("ph" + sfx), c.Scratch("pprev" + sfx) } : new[] { c.Scratch("ph" + sfx), c.Scratch("pprev" + sfx), h0 }, (k, a, i) =>
        {
            string step = k.R(), firstStep = k.P(), v = k.F(), from = k.R(), done = k.NewLabel("zero");
            k.Op($"div.u32 {step}, {i}, {h}");
            k.Op($"rem.u32 {step}, {step}, {t}");
            k.Op($"mov.f32 {v}, {PtxMath.Zero}");
            k.Op($"setp.eq.u32 {firstStep}, {step}, {(reverse ? t - 1 : 0)}");
            if (h0 is not null)
            {
                // step 0 read h0[s]: s = i / (T·H), j = i mod H
                string sample = k.R(), j = k.R(), at = k.R(), normal = k.NewLabel("normal");
                k.Op("!" + firstStep, $"bra {normal}");
                k.Op($"div.u32 {sample}, {i}, {t * h}");
                k.Op($"rem.u32 {j}, {i}, {h}");
                k.Op($"mad.lo.s32 {at}, {sample}, {h}, {j}");
                k.Op($"ld.global.f32 {v}, [{k.Element(a[2], at)}]");
                k.Op($"bra {done}");
                k.Label(normal);
            }
            else k.Op(firstStep, $"bra {done}");
            k.Op(reverse ? $"add.s32 {from}, {i}, {h}" : $"sub.s32 {from}, {i}, {h}");
            k.Op($"ld.global.f32 {v}, [{k.Element(a[0], from)}]");
            k.Label(done);
            k.StoreGlobal(k.Element(a[1], i), v);
        });
        shifted.Banner.Add($"Hₚ[s, t] = h_(t{(reverse ? "+" : "−")}1)[s], {(h0 is null ? "0" : "h0[s]")} at t = {(reverse ? t - 1 : 0)}{dir}");
        c.BackwardKernels.Add(shifted);

        string rows = $"{t} * n";
        c.BackwardKernels.Add(PtxMath.ColumnSumsAdd(c.Name("Dbih" + sfx), rows, g, dG, c.Gradient("bias_ih_l0" + sfx)));
        c.BackwardKernels.Add(PtxMath.ColumnSumsAdd(c.Name("Dbhh" + sfx), rows, g, dGh, c.Gradient("bias_hh_l0" + sfx)));
        var dwih = PtxGemm.Kernel(c.Name("Dwih" + sfx), new GemmSpec(g, f, -t, TransA: true, g, TransB: false, f, f) { Accumulate = true },
            dG, c.Input, c.Gradient("weight_ih_l0" + sfx), null);
        dwih.Banner.Insert(0, $"dW_ih[{g}, {f}] += dGᵢᵀ·X over the {t}·n rows{dir}");
        c.BackwardKernels.Add(dwih);
        var dwhh = PtxGemm.Kernel(c.Name("Dwhh" + sfx), new GemmSpec(g, h, -t, TransA: true, g, TransB: false, h, h) { Accumulate = true },
            dGh, c.Scratch("pprev" + sfx), c.Gradient("weight_hh_l0" + sfx), null);
        dwhh.Banner.Insert(0, $"dW_hh[{g}, {h}] += dGₕᵀ·Hₚ over the {t}·n rows{dir}");
        c.BackwardKernels.Add(dwhh);
        if (c.InputGrad is null) return;
        var dx = PtxGemm.Kernel(c.Name("Dx" + sfx), new GemmSpec(-t, f, g, TransA: false, g, TransB: false, f, f) { Accumulate = true },
            dG, W("weight_ih_l0"), c.InputGrad, null);
        dx.Banner.Insert(0, $"dX[{t}·n, {f}] += dGᵢ·W_ih{dir}");
        dx.OnlyForInputGradient = c.ReadsNetworkInput();
        c.BackwardKernels.Add(dx);
    }

    /// <summary>Per-step body: the pointers, the step register, sample s, unit j, the predicate "first step of the
    /// direction", the row <c>s·T + t</c> of step t and the row of the step before it (in the direction's order).</summary>
    private delegate void StepBody(PtxKernel k, string[] pointers, string step, string s, string j, string first, string row, string prev, string[]? initial);

    /// <summary>A kernel of one step (the launch's <c>k</c>): one thread per sample and hidden unit. Forward step k is
    /// t = k (reverse: T−1−k); backward step k is t = T−1−k (reverse: k).</summary>
    private static PtxKernel StepKernel(string name, int h, int steps, bool reverse, bool backward, List<string> args, string[]? initial, StepBody body)
    {
        var launch = KernelLaunch.PerItem($"{h} * n");
        foreach (var a in args) launch.Args.Add(KernelArg.Buffer(a));
        foreach (var a in initial ?? Array.Empty<string>()) launch.Args.Add(KernelArg.Buffer(a));
        launch.Args.Add(KernelArg.Count("k"));
        launch.Args.Add(KernelArg.Count($"{h} * n"));
        var k = new PtxKernel(name, launch);
        var ps = args.Select((_, i) => k.Param("u64", "p" + i)).ToArray();
        var pi = (initial ?? Array.Empty<string>()).Select((_, i) => k.Param("u64", "pInit" + i)).ToArray();
        string pStep = k.Param("u32", "step"), pCount = k.Param("u32", "count");
        var g = ps.Select(k.GlobalPointer).ToArray();
        string[]? gi = initial is null ? null : pi.Select(k.GlobalPointer).ToArray();
        string step = k.LoadU32(pStep), count = k.LoadU32(pCount), i = k.GlobalThreadIndex(), outside = k.P(), done = k.NewLabel("done");
        k.Op($"setp.ge.u32 {outside}, {i}, {count}");
        k.Op(outside, $"bra {done}");
        string s = k.R(), j = k.R(), t = k.R(), row = k.R(), prev = k.R(), first = k.P();
        k.Op($"div.u32 {s}, {i}, {h}");
        k.Op($"rem.u32 {j}, {i}, {h}");
        if (backward != reverse)
        {
            string last = k.R();
            k.Op($"mov.u32 {last}, {steps - 1}");
            k.Op($"sub.s32 {t}, {last}, {step}");
        }
        else k.Op($"mov.u32 {t}, {step}");
        k.Op($"setp.eq.u32 {first}, {t}, {(reverse ? steps - 1 : 0)}");
        k.Op($"mad.lo.s32 {row}, {s}, {steps}, {t}");
        k.Op(reverse ? $"add.s32 {prev}, {row}, 1" : $"sub.s32 {prev}, {row}, 1");
        body(k, g, step, s, j, first, row, prev, gi);
        k.Label(done);
        return k;
    }

    /// <summary><c>v = first ? initial[s, j] : p[at]</c> (the initial h, or <paramref name="cell"/> c, of <paramref name="start"/>), or
    /// <c>first ? 0 : p[at]</c> for a direction that starts from zero.</summary>
    private static string Previous(PtxKernel k, string pointer, string at, string first, Start start, bool cell)
    {
        if (start.Of(cell) is not { } initialBuffer) return Previous(k, pointer, at, first);
        string v = k.F(), initial = k.NewLabel("initial"), done = k.NewLabel("previous"), idx = k.R();
        k.Op(first, $"bra {initial}");
        k.Op($"ld.global.f32 {v}, [{k.Element(pointer, at)}]");
        k.Op($"bra {done}");
        k.Label(initial);
        k.Op($"mad.lo.s32 {idx}, {start.S}, {start.Hidden}, {start.J}");
        k.Op($"ld.global.f32 {v}, [{k.Element(initialBuffer, idx)}]");
        k.Label(done);
        return v;
    }

    /// <summary><c>v = first ? 0 : p[at]</c>: the previous step's value, never read at the first step.</summary>
    private static string Previous(PtxKernel k, string pointer, string at, string first)
    {
        string v = k.F(), skip = k.NewLabel("zero");
        k.Op($"mov.f32 {v}, {PtxMath.Zero}");
        k.Op(first, $"bra {skip}");
        k.Op($"ld.global.f32 {v}, [{k.Element(pointer, at)}]");
        k.Label(skip);
        return v;
    }

    /// <summary>The address of gate q of unit j in the gate row at <paramref name="rowAt"/>.</summary>
    private static string Gate(PtxKernel k, string rowAt, int q, string j, int h)
    {
        string u = k.R();
        k.Op($"add.s32 {u}, {j}, {q * h}");
        return k.Element(rowAt, u);
    }

    private static string Sub(PtxKernel k, string a, string b) { string r = k.F(); k.Op($"sub.f32 {r}, {a}, {b}"); return r; }
    private static string Mul(PtxKernel k, string a, string b) { string r = k.F(); k.Op($"mul.f32 {r}, {a}, {b}"); return r; }
    private static string OneMinus(PtxKernel k, string a) => Sub(k, PtxMath.One, a);

    /// <summary>The cell from the pre-activations <paramref name="acc"/> of unit j (pointers: G, H, W_hh, b_hh, then C
    /// or GRU's Gₕ): stores the activated gates, the state (and cell).</summary>
    private void CellForward(PtxKernel k, string[] p, string[] acc, string gRow, string j, int h, string first, string stAt, string prevAt, LayerPlan l, Start start)
    {
        string gAt = k.Element(p[0], gRow);
        switch (Gates)
        {
            case 4:   // LSTM: i f g o
            {
                string i = PtxMath.Activate(k, ActivationKind.Sigmoid, 0, acc[0]), f = PtxMath.Activate(k, ActivationKind.Sigmoid, 0, acc[1]);
                string gg = PtxMath.Activate(k, ActivationKind.Tanh, 0, acc[2]), o = PtxMath.Activate(k, ActivationKind.Sigmoid, 0, acc[3]);
                foreach (var (q, v) in new[] { (0, i), (1, f), (2, gg), (3, o) }) k.StoreGlobal(Gate(k, gAt, q, j, h), v);
                string cPrev = Previous(k, p[4], prevAt, first, start, cell: true), ig = Mul(k, i, gg), c = k.F();
                k.Op($"fma.rn.f32 {c}, {f}, {cPrev}, {ig}");
                string hv = Mul(k, o, PtxMath.Activate(k, ActivationKind.Tanh, 0, c));
                k.StoreGlobal(k.Element(p[4], stAt), c);
                k.StoreGlobal(k.Element(p[1], stAt), hv);
                break;
            }
            case 3:   // GRU: r z n; acc is W_hh·h + b_hh, kept for backward
            {
                string hgAt = k.Element(p[4], gRow);
                var gi = new string[3];
                for (int q = 0; q < 3; q++)
                {
                    k.StoreGlobal(Gate(k, hgAt, q, j, h), acc[q]);
                    gi[q] = k.LoadGlobal(Gate(k, gAt, q, j, h));
                }
                string ar = k.F(), az = k.F(), an = k.F();
                k.Op($"add.f32 {ar}, {gi[0]}, {acc[0]}");
                k.Op($"add.f32 {az}, {gi[1]}, {acc[1]}");
                string r = PtxMath.Activate(k, ActivationKind.Sigmoid, 0, ar), z = PtxMath.Activate(k, ActivationKind.Sigmoid, 0, az);
                k.Op($"fma.rn.f32 {an}, {r}, {acc[2]}, {gi[2]}");
                string n = PtxMath.Activate(k, ActivationKind.Tanh, 0, an);
                string hp = Previous(k, p[1], prevAt, first, start, cell: false), hv = k.F();
                k.Op($"fma.rn.f32 {hv}, {z}, {Sub(k, hp, n)}, {n}");   // (1 − z)·n + z·h_(t−1)
                foreach (var (q, v) in new[] { (0, r), (1, z), (2, n) }) k.StoreGlobal(Gate(k, gAt, q, j, h), v);
                k.StoreGlobal(k.Element(p[1], stAt), hv);
                break;
            }
            default:   // RNN
            {
                string hv = PtxMath.Activate(k, Opt(l).Relu ? ActivationKind.Relu : ActivationKind.Tanh, 0, acc[0]);
                k.StoreGlobal(k.Element(p[1], stAt), hv);
                break;
            }
        }
    }

    /// <summary>The cell's backward for unit j given dh (pointers: dG = G, H, dy, dh, then C and dc, or GRU's Gₕ): stores
    /// the gate gradients in place over the gates (GRU: also dGₕ), and the state gradient that skips the recurrent
    /// product (LSTM: dc·f; GRU: dh·z in dh).</summary>
    private void CellBackward(PtxKernel k, string[] p, string gRow, string j, int h, string first, string stAt, string prevAt, string dh, string dhp, string dhAt, LayerPlan l, Start start)
    {
        string gAt = k.Element(p[0], gRow);
        switch (Gates)
        {
            case 4:
            {
                var a = Enumerable.Range(0, 4).Select(q => Gate(k, gAt, q, j, h)).ToArray();
                string i = k.LoadGlobal(a[0]), f = k.LoadGlobal(a[1]), gg = k.LoadGlobal(a[2]), o = k.LoadGlobal(a[3]);
                string c = k.LoadGlobal(k.Element(p[4], stAt)), cPrev = Previous(k, p[4], prevAt, first, start, cell: true);
                string tc = PtxMath.Activate(k, ActivationKind.Tanh, 0, c);
                string dcAt = k.Element(p[5], dhAt), dc = k.F();
                k.Op($"fma.rn.f32 {dc}, {PtxMath.Derivative(k, ActivationKind.Tanh, 0, tc, Mul(k, dh, o))}, {PtxMath.One}, {k.LoadGlobal(dcAt)}");   // dc + dh·o·(1 − tanh²c)
                k.StoreGlobal(a[0], PtxMath.Derivative(k, ActivationKind.Sigmoid, 0, i, Mul(k, dc, gg)));
                k.StoreGlobal(a[1], PtxMath.Derivative(k, ActivationKind.Sigmoid, 0, f, Mul(k, dc, cPrev)));
                k.StoreGlobal(a[2], PtxMath.Derivative(k, ActivationKind.Tanh, 0, gg, Mul(k, dc, i)));
                k.StoreGlobal(a[3], PtxMath.Derivative(k, ActivationKind.Sigmoid, 0, o, Mul(k, dh, tc)));
                k.StoreGlobal(dcAt, Mul(k, dc, f));
                break;
            }
            case 3:
            {
                var a = Enumerable.Range(0, 3).Select(q => Gate(k, gAt, q, j, h)).ToArray();
                string hgAt = k.Element(p[4], gRow);
                var ah = Enumerable.Range(0, 3).Select(q => Gate(k, hgAt, q, j, h)).ToArray();
                string r = k.LoadGlobal(a[0]), z = k.LoadGlobal(a[1]), n = k.LoadGlobal(a[2]), hn = k.LoadGlobal(ah[2]);
                string hp = Previous(k, p[1], prevAt, first, start, cell: false);
                string dn = PtxMath.Derivative(k, ActivationKind.Tanh, 0, n, Mul(k, dh, OneMinus(k, z)));
                string dz = PtxMath.Derivative(k, ActivationKind.Sigmoid, 0, z, Mul(k, dh, Sub(k, hp, n)));
                string dr = PtxMath.Derivative(k, ActivationKind.Sigmoid, 0, r, Mul(k, dn, hn));
                k.StoreGlobal(a[0], dr); k.StoreGlobal(a[1], dz); k.StoreGlobal(a[2], dn);
                k.StoreGlobal(ah[0], dr); k.StoreGlobal(ah[1], dz); k.StoreGlobal(ah[2], Mul(k, dn, r));
                k.StoreGlobal(dhp, Mul(k, dh, z));
                break;
            }
            default:
            {
                string hv = k.LoadGlobal(k.Element(p[1], stAt));
                k.StoreGlobal(Gate(k, gAt, 0, j, h), PtxMath.Derivative(k, Opt(l).Relu ? ActivationKind.Relu : ActivationKind.Tanh, 0, hv, dh));
                break;
            }
        }
    }

    private string CellBanner(LayerPlan l) => Gates switch
    {
        4 => "[i f g o] = [σ σ tanh σ](Gᵢ + b_hh + W_hh·h_(t−1)), c_t = f⊙c_(t−1) + i⊙g, h_t = o⊙tanh c_t",
        3 => "Gₕ = W_hh·h_(t−1) + b_hh; r = σ(Gᵢr + Gₕr), z = σ(Gᵢz + Gₕz), n = tanh(Gᵢn + r⊙Gₕn), h_t = (1 − z)⊙n + z⊙h_(t−1)",
        _ => $"h_t = {(Opt(l).Relu ? "relu" : "tanh")}(Gᵢ + b_hh + W_hh·h_(t−1))",
    };

    private string CellBackwardBanner(LayerPlan l) => Gates switch
    {
        4 => "dh = dh_(t) + dy_t; dc += dh⊙o⊙(1 − tanh²c); dG = [dc⊙g⊙i(1−i), dc⊙c_(t−1)⊙f(1−f), dc⊙i⊙(1−g²), dh⊙tanh c⊙o(1−o)]; dc ← dc⊙f",
        3 => "dn̂ = dh⊙(1−z)⊙(1−n²), dẑ = dh⊙(h_(t−1) − n)⊙z(1−z), dr̂ = dn̂⊙Gₕn⊙r(1−r); dGᵢ = [dr̂ dẑ dn̂], dGₕ = [dr̂ dẑ dn̂⊙r]; dh ← dh⊙z",
        _ => $"dG = dh⊙{(Opt(l).Relu ? "[h > 0]" : "(1 − h²)")}",
    };
}
