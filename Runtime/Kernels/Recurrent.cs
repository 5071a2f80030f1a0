using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ModelGen.Kernels;

/// <summary>
/// The element-wise part of a recurrent step, over the batch columns of one time step. Sequences are feature-major
/// panels <c>[rows, T·ld]</c>: step t's columns are <c>[t·ld, t·ld + n)</c>, so the input projection, the recurrent
/// product and the weight gradients are ordinary GEMMs over them. LSTM gates are stacked in PyTorch's order
/// <c>i, f, g, o</c>, <c>hidden</c> rows each. Every width computes the same formulas with the same sigmoid and tanh
/// (<see cref="Activations"/>), lane by lane.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Recurrent
{
    /// <summary>One LSTM step forward: <paramref name="gates"/> holds the pre-activations <c>[4H rows][ldg]</c> and is
    /// replaced by the activations <c>i = σ, f = σ, g = tanh, o = σ</c>; then <c>c = f⊙cPrev + i⊙g</c>,
    /// <c>h = o⊙tanh(c)</c> (rows <paramref name="ldc"/> apart; <paramref name="first"/>: cPrev = 0). When training,
    /// <paramref name="tanhC"/> (rows <paramref name="ldc"/> apart) keeps <c>tanh(c)</c> for <see cref="LstmBackward"/> —
    /// one transcendental of the six per element it would otherwise compute again; a null reference stores nothing.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LstmForward(ref float gates, nint ldg, ref float cPrev, nint ldp, ref float c, ref float h, ref float tanhC, nint ldc, int hidden, int n, bool first, SimdWidth width)
    {
        bool keep = !Unsafe.IsNullRef(ref tanhC);
        for (int r = 0; r < hidden; r++)
        {
            ref float gi = ref Mem.Add(ref gates, r * ldg);
            ref float gf = ref Mem.Add(ref gates, (hidden + r) * ldg);
            ref float gg = ref Mem.Add(ref gates, (2 * hidden + r) * ldg);
            ref float go = ref Mem.Add(ref gates, (3 * hidden + r) * ldg);
            ref float cp = ref Mem.Add(ref cPrev, r * ldp);
            ref float cr = ref Mem.Add(ref c, r * ldc);
            ref float hr = ref Mem.Add(ref h, r * ldc);
            ref float tr = ref keep ? ref Mem.Add(ref tanhC, r * ldc) : ref tanhC;
            int j = 0;
            if (width == SimdWidth.V512)
                for (; j + 16 <= n; j += 16)
                {
                    nuint u = (nuint)j;
                    var i = Activations.F512(Activation.Sigmoid, 0f, Mem.Load512(ref gi, u));
                    var f = Activations.F512(Activation.Sigmoid, 0f, Mem.Load512(ref gf, u));
                    var g = Activations.F512(Activation.Tanh, 0f, Mem.Load512(ref gg, u));
                    var o = Activations.F512(Activation.Sigmoid, 0f, Mem.Load512(ref go, u));
                    i.StoreAt(ref gi, u); f.StoreAt(ref gf, u); g.StoreAt(ref gg, u); o.StoreAt(ref go, u);
                    var cv = first ? i * g : f * Mem.Load512(ref cp, u) + i * g;
                    cv.StoreAt(ref cr, u);
                    var tc = Activations.F512(Activation.Tanh, 0f, cv);
                    if (keep) tc.StoreAt(ref tr, u);
                    (o * tc).StoreAt(ref hr, u);
                }
            else if (width == SimdWidth.V256)
                for (; j + 8 <= n; j += 8)
                {
                    nuint u = (nuint)j;
                    var i = Activations.F256(Activation.Sigmoid, 0f, Mem.Load256(ref gi, u));
                    var f = Activations.F256(Activation.Sigmoid, 0f, Mem.Load256(ref gf, u));
                    var g = Activations.F256(Activation.Tanh, 0f, Mem.Load256(ref gg, u));
                    var o = Activations.F256(Activation.Sigmoid, 0f, Mem.Load256(ref go, u));
                    i.StoreAt(ref gi, u); f.StoreAt(ref gf, u); g.StoreAt(ref gg, u); o.StoreAt(ref go, u);
                    var cv = first ? i * g : f * Mem.Load256(ref cp, u) + i * g;
                    cv.StoreAt(ref cr, u);
                    var tc = Activations.F256(Activation.Tanh, 0f, cv);
                    if (keep) tc.StoreAt(ref tr, u);
                    (o * tc).StoreAt(ref hr, u);
                }
            for (; j < n; j++)
            {
                float i = Activations.F(Activation.Sigmoid, 0f, Mem.Add(ref gi, j)), f = Activations.F(Activation.Sigmoid, 0f, Mem.Add(ref gf, j));
                float g = Activations.F(Activation.Tanh, 0f, Mem.Add(ref gg, j)), o = Activations.F(Activation.Sigmoid, 0f, Mem.Add(ref go, j));
                Mem.Add(ref gi, j) = i; Mem.Add(ref gf, j) = f; Mem.Add(ref gg, j) = g; Mem.Add(ref go, j) = o;
                float cv = first ? i * g : f * Mem.Add(ref cp, j) + i * g;
                Mem.Add(ref cr, j) = cv;
                float tc = Activations.F(Activation.Tanh, 0f, cv);
                if (keep) Mem.Add(ref tr, j) = tc;
                Mem.Add(ref hr, j) = o * tc;
            }
        }
    }

    /// <summary>
    /// One LSTM step backward. In: the activated gates of the step (<c>[4H][ldg]</c>), <c>tanh</c> of its cell state as
    /// <see cref="LstmForward"/> kept it (rows <paramref name="ldc"/> apart), the previous cell state (rows
    /// <paramref name="ldp"/> apart), <paramref name="dh"/> = d loss / d h of the step and
    /// <paramref name="dc"/> = d loss / d c from the step after (rows <paramref name="ldd"/> apart). Out: the gates hold
    /// d loss / d pre-activation (<c>dGᵢ = dc·g·i(1−i)</c>, <c>dG_f = dc·cPrev·f(1−f)</c>, <c>dG_g = dc·i·(1−g²)</c>,
    /// <c>dG_o = dh·tanh(c)·o(1−o)</c>, with <c>dc = dc_next + dh·o·(1−tanh²c)</c>), and <paramref name="dc"/> holds
    /// <c>dc·f</c> for the step before. Columns from <paramref name="batch"/> to <paramref name="n"/> are padding: their
    /// gradients are set to zero up to the panel stride <paramref name="ldd"/>, so that sums over whole panels count
    /// real samples only.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LstmBackward(ref float gates, nint ldg, ref float cPrev, nint ldp, ref float tanhC, nint ldc, ref float dh, ref float dc, nint ldd,
        int hidden, int n, int batch, bool first, SimdWidth width)
    {
        for (int r = 0; r < hidden; r++)
        {
            ref float gi = ref Mem.Add(ref gates, r * ldg);
            ref float gf = ref Mem.Add(ref gates, (hidden + r) * ldg);
            ref float gg = ref Mem.Add(ref gates, (2 * hidden + r) * ldg);
            ref float go = ref Mem.Add(ref gates, (3 * hidden + r) * ldg);
            ref float cp = ref Mem.Add(ref cPrev, r * ldp);
            ref float tr = ref Mem.Add(ref tanhC, r * ldc);
            ref float dhr = ref Mem.Add(ref dh, r * ldd);
            ref float dcr = ref Mem.Add(ref dc, r * ldd);
            int j = 0;
            if (width == SimdWidth.V512)
                for (; j + 16 <= n; j += 16)
                {
                    nuint u = (nuint)j;
                    var one = Vector512<float>.One;
                    var i = Mem.Load512(ref gi, u); var f = Mem.Load512(ref gf, u); var g = Mem.Load512(ref gg, u); var o = Mem.Load512(ref go, u);
                    var tc = Mem.Load512(ref tr, u);
                    var dhv = Mem.Load512(ref dhr, u);
                    var dcv = Mem.Load512(ref dcr, u) + dhv * o * (one - tc * tc);
                    var cpv = first ? Vector512<float>.Zero : Mem.Load512(ref cp, u);
                    (dcv * g * i * (one - i)).StoreAt(ref gi, u);
                    (dcv * cpv * f * (one - f)).StoreAt(ref gf, u);
                    (dcv * i * (one - g * g)).StoreAt(ref gg, u);
                    (dhv * tc * o * (one - o)).StoreAt(ref go, u);
                    (dcv * f).StoreAt(ref dcr, u);
                }
            else if (width == SimdWidth.V256)
                for (; j + 8 <= n; j += 8)
                {
                    nuint u = (nuint)j;
                    var one = Vector256<float>.One;
                    var i = Mem.Load256(ref gi, u); var f = Mem.Load256(ref gf, u); var g = Mem.Load256(ref gg, u); var o = Mem.Load256(ref go, u);
                    var tc = Mem.Load256(ref tr, u);
                    var dhv = Mem.Load256(ref dhr, u);
                    var dcv = Mem.Load256(ref dcr, u) + dhv * o * (one - tc * tc);
                    var cpv = first ? Vector256<float>.Zero : Mem.Load256(ref cp, u);
                    (dcv * g * i * (one - i)).StoreAt(ref gi, u);
                    (dcv * cpv * f * (one - f)).StoreAt(ref gf, u);
                    (dcv * i * (one - g * g)).StoreAt(ref gg, u);
                    (dhv * tc * o * (one - o)).StoreAt(ref go, u);
                    (dcv * f).StoreAt(ref dcr, u);
                }
            for (; j < n; j++)
            {
                float i = Mem.Add(ref gi, j), f = Mem.Add(ref gf, j), g = Mem.Add(ref gg, j), o = Mem.Add(ref go, j);
                float cpv = first ? 0f : Mem.Add(ref cp, j);
                float tc = Mem.Add(ref tr, j);
                float dhv = Mem.Add(ref dhr, j);
                float dcv = Mem.Add(ref dcr, j) + dhv * o * (1f - tc * tc);
                Mem.Add(ref gi, j) = dcv * g * i * (1f - i);
                Mem.Add(ref gf, j) = dcv * cpv * f * (1f - f);
                Mem.Add(ref gg, j) = dcv * i * (1f - g * g);
                Mem.Add(ref go, j) = dhv * tc * o * (1f - o);
                Mem.Add(ref dcr, j) = dcv * f;
            }
            // Padding columns carry no sample: their gradients are zero up to the panel stride (ldd), so sums over whole
            // panels count real samples only — whatever an earlier call with another batch left there.
            for (j = batch; j < ldd; j++)
            {
                Mem.Add(ref gi, j) = 0f; Mem.Add(ref gf, j) = 0f; Mem.Add(ref gg, j) = 0f; Mem.Add(ref go, j) = 0f;
                Mem.Add(ref dcr, j) = 0f;
            }
        }
    }

    /// <summary>One GRU step forward (PyTorch's formulation): <paramref name="gi"/> holds <c>W_ih·x + b_ih</c> and
    /// <paramref name="gh"/> <c>W_hh·h_(t−1) + b_hh</c> (gates r, z, n, <c>[3H rows][ldg]</c>); <c>r = σ(gi_r + gh_r)</c>,
    /// <c>z = σ(gi_z + gh_z)</c>, <c>n = tanh(gi_n + r⊙gh_n)</c>, <c>h = (1 − z)⊙n + z⊙h_prev</c>. The rows of
    /// <paramref name="gi"/> are replaced by r, z, n (<paramref name="gh"/>'s n rows are kept for backward).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GruForward(ref float gi, ref float gh, nint ldg, ref float hPrev, nint ldp, ref float h, nint ldh, int hidden, int n, bool first, SimdWidth width)
    {
        for (int r = 0; r < hidden; r++)
        {
            ref float ir = ref Mem.Add(ref gi, r * ldg); ref float iz = ref Mem.Add(ref gi, (hidden + r) * ldg); ref float ineu = ref Mem.Add(ref gi, (2 * hidden + r) * ldg);
            ref float hr = ref Mem.Add(ref gh, r * ldg); ref float hz = ref Mem.Add(ref gh, (hidden + r) * ldg); ref float hn = ref Mem.Add(ref gh, (2 * hidden + r) * ldg);
            ref float hp = ref Mem.Add(ref hPrev, r * ldp);
            ref float ho = ref Mem.Add(ref h, r * ldh);
            int j = 0;
            if (width == SimdWidth.V512)
                for (; j + 16 <= n; j += 16)
                {
                    nuint u = (nuint)j;
                    var rv = Activations.F512(Activation.Sigmoid, 0f, Mem.Load512(ref ir, u) + Mem.Load512(ref hr, u));
                    var zv = Activations.F512(Activation.Sigmoid, 0f, Mem.Load512(ref iz, u) + Mem.Load512(ref hz, u));
                    var nv = Activations.F512(Activation.Tanh, 0f, Mem.Load512(ref ineu, u) + rv * Mem.Load512(ref hn, u));
                    var hpv = first ? Vector512<float>.Zero : Mem.Load512(ref hp, u);
                    rv.StoreAt(ref ir, u); zv.StoreAt(ref iz, u); nv.StoreAt(ref ineu, u);
                    ((Vector512<float>.One - zv) * nv + zv * hpv).StoreAt(ref ho, u);
                }
            else if (width == SimdWidth.V256)
                for (; j + 8 <= n; j += 8)
                {
                    nuint u = (nuint)j;
                    var rv = Activations.F256(Activation.Sigmoid, 0f, Mem.Load256(ref ir, u) + Mem.Load256(ref hr, u));
                    var zv = Activations.F256(Activation.Sigmoid, 0f, Mem.Load256(ref iz, u) + Mem.Load256(ref hz, u));
                    var nv = Activations.F256(Activation.Tanh, 0f, Mem.Load256(ref ineu, u) + rv * Mem.Load256(ref hn, u));
                    var hpv = first ? Vector256<float>.Zero : Mem.Load256(ref hp, u);
                    rv.StoreAt(ref ir, u); zv.StoreAt(ref iz, u); nv.StoreAt(ref ineu, u);
                    ((Vector256<float>.One - zv) * nv + zv * hpv).StoreAt(ref ho, u);
                }
            for (; j < n; j++)
            {
                float rv = Activations.F(Activation.Sigmoid, 0f, Mem.Add(ref ir, j) + Mem.Add(ref hr, j));
                float zv = Activations.F(Activation.Sigmoid, 0f, Mem.Add(ref iz, j) + Mem.Add(ref hz, j));
                float nv = Activations.F(Activation.Tanh, 0f, Mem.Add(ref ineu, j) + rv * Mem.Add(ref hn, j));
                float hpv = first ? 0f : Mem.Add(ref hp, j);
                Mem.Add(ref ir, j) = rv; Mem.Add(ref iz, j) = zv; Mem.Add(ref ineu, j) = nv;
                Mem.Add(ref ho, j) = (1f - zv) * nv + zv * hpv;
            }
        }
    }

    /// <summary>
    /// One GRU step backward. In: r, z, n in <paramref name="gi"/>, <c>gh_n</c> in <paramref name="gh"/>, the previous
    /// hidden state, <paramref name="dh"/> = d loss / d h of the step. Out: <paramref name="gi"/> holds d loss / d
    /// (W_ih·x + b_ih) — <c>[dr̂, dẑ, dn̂]</c> with <c>dn̂ = dh⊙(1−z)⊙(1−n²)</c>, <c>dẑ = dh⊙(h_prev − n)⊙z(1−z)</c>,
    /// <c>dr̂ = dn̂⊙gh_n⊙r(1−r)</c> —, <paramref name="gh"/> holds d loss / d (W_hh·h + b_hh) = <c>[dr̂, dẑ, dn̂⊙r]</c>, and
    /// <paramref name="dh"/> holds <c>dh⊙z</c>, the direct part of d loss / d h_prev (the caller adds <c>W_hhᵀ·dgh</c>).
    /// Padding columns from <paramref name="batch"/> on get zero gradients.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GruBackward(ref float gi, ref float gh, nint ldg, ref float hPrev, nint ldh, ref float dh, nint ldd, int hidden, int n, int batch, bool first, SimdWidth width)
    {
        for (int r = 0; r < hidden; r++)
        {
            ref float ir = ref Mem.Add(ref gi, r * ldg); ref float iz = ref Mem.Add(ref gi, (hidden + r) * ldg); ref float ineu = ref Mem.Add(ref gi, (2 * hidden + r) * ldg);
            ref float hr = ref Mem.Add(ref gh, r * ldg); ref float hz = ref Mem.Add(ref gh, (hidden + r) * ldg); ref float hn = ref Mem.Add(ref gh, (2 * hidden + r) * ldg);
            ref float hp = ref Mem.Add(ref hPrev, r * ldh);
            ref float dhr = ref Mem.Add(ref dh, r * ldd);
            int j = 0;
            if (width == SimdWidth.V512)
                for (; j + 16 <= n; j += 16)
                {
                    nuint u = (nuint)j;
                    var one = Vector512<float>.One;
                    var rv = Mem.Load512(ref ir, u); var zv = Mem.Load512(ref iz, u); var nv = Mem.Load512(ref ineu, u);
                    var hpv = first ? Vector512<float>.Zero : Mem.Load512(ref hp, u);
                    var d = Mem.Load512(ref dhr, u);
                    var dn = d * (one - zv) * (one - nv * nv);
                    var dz = d * (hpv - nv) * zv * (one - zv);
                    var dr = dn * Mem.Load512(ref hn, u) * rv * (one - rv);
                    dr.StoreAt(ref ir, u); dz.StoreAt(ref iz, u); dn.StoreAt(ref ineu, u);
                    dr.StoreAt(ref hr, u); dz.StoreAt(ref hz, u); (dn * rv).StoreAt(ref hn, u);
                    (d * zv).StoreAt(ref dhr, u);
                }
            else if (width == SimdWidth.V256)
                for (; j + 8 <= n; j += 8)
                {
                    nuint u = (nuint)j;
                    var one = Vector256<float>.One;
                    var rv = Mem.Load256(ref ir, u); var zv = Mem.Load256(ref iz, u); var nv = Mem.Load256(ref ineu, u);
                    var hpv = first ? Vector256<float>.Zero : Mem.Load256(ref hp, u);
                    var d = Mem.Load256(ref dhr, u);
                    var dn = d * (one - zv) * (one - nv * nv);
                    var dz = d * (hpv - nv) * zv * (one - zv);
                    var dr = dn * Mem.Load256(ref hn, u) * rv * (one - rv);
                    dr.StoreAt(ref ir, u); dz.StoreAt(ref iz, u); dn.StoreAt(ref ineu, u);
                    dr.StoreAt(ref hr, u); dz.StoreAt(ref hz, u); (dn * rv).StoreAt(ref hn, u);
                    (d * zv).StoreAt(ref dhr, u);
                }
            for (; j < n; j++)
            {
                float rv = Mem.Add(ref ir, j), zv = Mem.Add(ref iz, j), nv = Mem.Add(ref ineu, j), ghn = Mem.Add(ref hn, j);
                float hpv = first ? 0f : Mem.Add(ref hp, j);
                float d = Mem.Add(ref dhr, j);
                float dn = d * (1f - zv) * (1f - nv * nv);
                float dz = d * (hpv - nv) * zv * (1f - zv);
                float dr = dn * ghn * rv * (1f - rv);
                Mem.Add(ref ir, j) = dr; Mem.Add(ref iz, j) = dz; Mem.Add(ref ineu, j) = dn;
                Mem.Add(ref hr, j) = dr; Mem.Add(ref hz, j) = dz; Mem.Add(ref hn, j) = dn * rv;
                Mem.Add(ref dhr, j) = d * zv;
            }
            // Padding columns carry no sample: zero gradients up to the panel stride (see LstmBackward).
            for (j = batch; j < ldd; j++)
            {
                Mem.Add(ref ir, j) = 0f; Mem.Add(ref iz, j) = 0f; Mem.Add(ref ineu, j) = 0f;
                Mem.Add(ref hr, j) = 0f; Mem.Add(ref hz, j) = 0f; Mem.Add(ref hn, j) = 0f;
                Mem.Add(ref dhr, j) = 0f;
            }
        }
    }

    /// <summary>One step of an Elman RNN forward: <c>h = act(g)</c> (tanh, or ReLU when <paramref name="relu"/>),
    /// <paramref name="g"/> = <c>W_ih·x + b_ih + W_hh·h_(t−1) + b_hh</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RnnForward(ref float g, nint ldg, ref float h, nint ldh, int hidden, int n, bool relu, SimdWidth width)
    {
        var f = relu ? Activation.Relu : Activation.Tanh;
        for (int r = 0; r < hidden; r++)
            Activations.Forward(f, 0f, System.Runtime.InteropServices.MemoryMarshal.CreateReadOnlySpan(ref Mem.Add(ref g, r * ldg), n),
                System.Runtime.InteropServices.MemoryMarshal.CreateSpan(ref Mem.Add(ref h, r * ldh), n), width);
    }

    /// <summary>One step of an Elman RNN backward: <paramref name="g"/> = d loss / d pre-activation = <c>dh⊙act'(h)</c>
    /// (padding columns from <paramref name="batch"/> on set to zero).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RnnBackward(ref float g, nint ldg, ref float h, nint ldh, ref float dh, nint ldd, int hidden, int n, int batch, bool relu, SimdWidth width)
    {
        var f = relu ? Activation.Relu : Activation.Tanh;
        for (int r = 0; r < hidden; r++)
        {
            ref float gr = ref Mem.Add(ref g, r * ldg);
            Activations.Backward(f, 0f, System.Runtime.InteropServices.MemoryMarshal.CreateReadOnlySpan(ref Mem.Add(ref dh, r * ldd), n),
                System.Runtime.InteropServices.MemoryMarshal.CreateReadOnlySpan(ref Mem.Add(ref h, r * ldh), n),
                System.Runtime.InteropServices.MemoryMarshal.CreateSpan(ref gr, n), width);
            for (int j = batch; j < ldd; j++) Mem.Add(ref gr, j) = 0f;   // to the panel stride (see LstmBackward)
        }
    }

    // ── Masked steps (an [Embedding(…, MaskZero = true)] below): a padded step leaves the state as it was ──────────────

    /// <summary>After a step's cell: in every column whose <paramref name="mask"/> is 0 the new state is the old one
    /// (<paramref name="prev"/>, rows <paramref name="ldp"/> apart, or 0 at the first step), <c>rows</c> rows <paramref name="ldr"/> apart, <paramref name="n"/> columns.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Carry(ref float state, nint ldr, ref float prev, nint ldp, int rows, ref float mask, int n, bool first)
    {
        for (int j = 0; j < n; j++)
        {
            if (Mem.Add(ref mask, j) != 0f) continue;
            for (int r = 0; r < rows; r++)
                Mem.Add(ref state, r * ldr + j) = first ? 0f : Mem.Add(ref prev, r * ldp + j);
        }
    }

    /// <summary>Keras's <c>Masking</c>: over a sequence panel <c>[features, steps·ld]</c>, a column whose features all equal
    /// <paramref name="value"/> is padding: <c>mask = 0</c> and <c>y = 0</c> there; else <c>mask = 1</c>, <c>y = x</c>. The
    /// padding columns <c>[n, ld)</c> of every step get mask 0 and y 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MaskSteps(ref float x, int features, int steps, int ld, int n, float value, ref float y, ref float mask)
    {
        nint row = (nint)steps * ld;
        for (int c = 0; c < steps * ld; c++)
        {
            bool real = false;
            if (c % ld < n)
                for (int f = 0; f < features && !real; f++) real = Mem.Add(ref x, f * row + c) != value;
            Mem.Add(ref mask, c) = real ? 1f : 0f;
            for (int f = 0; f < features; f++) Mem.Add(ref y, f * row + c) = real ? Mem.Add(ref x, f * row + c) : 0f;
        }
    }

    /// <summary><c>y = x</c> where <paramref name="mask"/> is 1, 0 where it is 0 (<paramref name="x"/> may be <paramref name="y"/>):
    /// <c>rows</c> rows <paramref name="ldr"/> apart of <paramref name="count"/> columns, the mask one row of as many.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Masked(ref float x, ref float y, nint ldr, int rows, ref float mask, int count)
    {
        for (int r = 0; r < rows; r++)
        {
            ref float xr = ref Mem.Add(ref x, r * ldr);
            ref float yr = ref Mem.Add(ref y, r * ldr);
            for (int j = 0; j < count; j++) Mem.Add(ref yr, j) = Mem.Add(ref mask, j) != 0f ? Mem.Add(ref xr, j) : 0f;
        }
    }

    /// <summary>Backward of <see cref="Carry"/>, before the cell's backward: the state gradient of a masked column passes
    /// to the step before unchanged, so it moves from <paramref name="d"/> to <paramref name="pass"/> (the cell then sees
    /// 0 there and gives its gates no gradient); unmasked columns stay, and their <paramref name="pass"/> is 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SplitMasked(ref float d, ref float pass, nint ldr, int rows, ref float mask, int n)
    {
        for (int r = 0; r < rows; r++)
        {
            ref float dr = ref Mem.Add(ref d, r * ldr);
            ref float pr = ref Mem.Add(ref pass, r * ldr);
            for (int j = 0; j < n; j++)
            {
                bool real = Mem.Add(ref mask, j) != 0f;
                Mem.Add(ref pr, j) = real ? 0f : Mem.Add(ref dr, j);
                if (!real) Mem.Add(ref dr, j) = 0f;
            }
        }
    }

    /// <summary>After the step's backward: <c>d += pass</c> (the gradient that skipped a masked step joins the previous step's).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MergeMasked(ref float d, ref float pass, nint ldr, int rows, ref float mask, int n)
    {
        for (int r = 0; r < rows; r++)
        {
            ref float dr = ref Mem.Add(ref d, r * ldr);
            ref float pr = ref Mem.Add(ref pass, r * ldr);
            for (int j = 0; j < n; j++)
                if (Mem.Add(ref mask, j) == 0f) Mem.Add(ref dr, j) += Mem.Add(ref pr, j);
        }
    }
}
