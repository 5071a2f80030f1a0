using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ModelGen.Kernels;

/// <summary>
/// Causal multi-head scaled dot-product attention on the fused projection of a sequence, PyTorch's
/// <c>F.scaled_dot_product_attention(q, k, v, is_causal=True)</c> after splitting heads. The input is the panel
/// <c>qkv [3C, T·ld]</c> (rows <c>0…C−1</c> the queries, then the keys, then the values; head h owns rows
/// <c>h·d … h·d + d − 1</c> of each, <c>d = C / heads</c>; sample s of step t is column <c>t·ld + s</c>); the output is
/// <c>o [C, T·ld]</c>, <c>o_t = Σ_{u ≤ t} softmax_u(q_t·k_u / √d)·v_u</c>.
/// <para>Per sample and head, the head's queries, keys (also transposed) and values are copied into contiguous
/// <c>[T, d]</c> tiles; each query runs over the keys in tiles of <see cref="KeyTile"/> with the online softmax (running
/// maximum m, running sum l, the output rescaled by <c>e^{m_old − m_new}</c> when m grows), so no <c>T×T</c> matrix is
/// ever held. The forward keeps <c>lse_t = m + log l</c> per query (<c>[heads·T, ld]</c>); the backward recomputes the
/// probabilities from it (FlashAttention-2): <c>p = e^{q·k/√d − lse}</c>, <c>D_t = do_t·o_t</c>,
/// <c>ds = p·(do_t·v_u − D_t)</c>, <c>dq_t += ds·k_u/√d</c>, <c>dk_u += ds·q_t/√d</c>, <c>dv_u += p·do_t</c>.</para>
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Attention
{
    /// <summary>Keys per tile of the online softmax.</summary>
    public const int KeyTile = 64;

    /// <summary>Floats of scratch one call needs: the forward's tiles, or (enough for both) the backward's.</summary>
    public static int ScratchFloats(int steps, int headDim, bool backward)
    {
        int forward = Math.Max(4 * steps * headDim + KeyTile, 16 * (KeyTile + headDim));
        return backward ? Math.Max(forward, Math.Max(9 * steps * headDim + steps + 2 * KeyTile, 32 * steps)) : forward;   // one scratch serves both
    }

    /// <summary>The forward of heads <c>h0 … h1 − 1</c> (a thread's part; the heads are independent) for the n samples;
    /// the padding columns <c>n … ld − 1</c> of those heads' output rows are set to 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(ref float qkv, int steps, int channels, int heads, int ld, int n, int h0, int h1, ref float o, ref float lse, Span<float> scratch, SimdWidth width)
    {
        if (scratch.Length < ScratchFloats(steps, channels / heads, false)) throw new ArgumentException($"attention scratch holds {scratch.Length} floats, the forward needs {ScratchFloats(steps, channels / heads, false)}");
        // Lane blocks of 16 (or 8) columns from column 0 cover the n computed columns, inside each step's ld columns.
        bool wide = width == SimdWidth.V512 && (n & 15) == 0 && n <= ld, narrow = width != SimdWidth.Scalar && (n & 7) == 0 && n <= ld;
        if (wide || narrow)
        {
            // The samples in the vector lanes: 16 (or 8) columns at a time, read straight from the panels.
            if (wide)
                for (int b = 0; b < n; b += 16) ForwardLanes<Vector512<float>, Lanes512>(ref qkv, steps, channels, heads, ld, b, h0, h1, ref o, ref lse, scratch);
            else
                for (int b = 0; b < n; b += 8) ForwardLanes<Vector256<float>, Lanes256>(ref qkv, steps, channels, heads, ld, b, h0, h1, ref o, ref lse, scratch);
            ClearPadding(ref o, 1, channels, channels / heads, h0, h1, steps, ld, n);
            return;
        }
        int d = channels / heads, T = steps;
        if (scratch.Length < ScratchFloats(T, d, false)) throw new ArgumentException($"attention scratch holds {scratch.Length} floats, the forward needs {ScratchFloats(T, d, false)}");
        nint row = (nint)T * ld;
        float scale = 1f / MathF.Sqrt(d);
        var q = scratch.Slice(0, T * d);
        var kT = scratch.Slice(T * d, T * d);
        var v = scratch.Slice(2 * T * d, T * d);
        var acc = scratch.Slice(3 * T * d, d);
        var p = scratch.Slice(4 * T * d, KeyTile);
        for (int s = 0; s < n; s++)
            for (int h = h0; h < h1; h++)
            {
                for (int t = 0; t < T; t++)
                    for (int j = 0; j < d; j++)
                    {
                        nint col = (nint)t * ld + s;
                        q[t * d + j] = Mem.Add(ref qkv, (h * d + j) * row + col) * scale;
                        kT[j * T + t] = Mem.Add(ref qkv, (channels + h * d + j) * row + col);
                        v[t * d + j] = Mem.Add(ref qkv, (2 * channels + h * d + j) * row + col);
                    }
                for (int t = 0; t < T; t++)
                {
                    float m = float.NegativeInfinity, l = 0f;
                    acc.Clear();
                    var qt = q.Slice(t * d, d);
                    for (int u0 = 0; u0 <= t; u0 += KeyTile)
                    {
                        int count = Math.Min(KeyTile, t + 1 - u0);
                        Scores(qt, kT, T, u0, u0 + count, p, width);
                        float mt = m;
                        for (int u = 0; u < count; u++) mt = MathF.Max(mt, p[u]);
                        float rescale = MathF.Exp(m - mt);   // 0 on the first tile (m = −∞)
                        l = l * rescale + ExpShifted(p.Slice(0, count), mt, width);
                        if (rescale != 1f) VectorOps.Scale(acc, rescale, width);
                        ref float vr = ref Mem.Add(ref MemoryMarshal.GetReference(v), (nint)u0 * d);
                        ref float ar = ref MemoryMarshal.GetReference(acc);
                        WeightedRows(ref ar, ref vr, ref MemoryMarshal.GetReference(p), 1f, count, d, width);   // acc += Σ p_u·v_u
                        m = mt;
                    }
                    float inv = 1f / l;
                    nint col = (nint)t * ld + s;
                    for (int j = 0; j < d; j++) Mem.Add(ref o, (h * d + j) * row + col) = acc[j] * inv;
                    Mem.Add(ref lse, ((nint)h * T + t) * ld + s) = m + MathF.Log(l);
                }
            }
        ClearPadding(ref o, 1, channels, d, h0, h1, T, ld, n);
    }

    /// <summary><c>p[u − u0] = q_t·k_u</c> for keys <c>u0 … u1 − 1</c>, q already scaled; kT is <c>[d, T]</c>. Four blocks of
    /// keys at a time, so four independent chains of multiply-adds run in parallel.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Scores(ReadOnlySpan<float> qt, ReadOnlySpan<float> kT, int T, int u0, int u1, Span<float> p, SimdWidth width)
    {
        int d = qt.Length, u = u0;
        ref float k = ref MemoryMarshal.GetReference(kT);
        ref float q = ref MemoryMarshal.GetReference(qt);
        ref float ps = ref MemoryMarshal.GetReference(p);
        if (width == SimdWidth.V512) u = ScoreVectors<Vector512<float>, Lanes512>(ref q, ref k, d, T, u0, u1, ref ps);
        else if (width == SimdWidth.V256) u = ScoreVectors<Vector256<float>, Lanes256>(ref q, ref k, d, T, u0, u1, ref ps);
        for (; u < u1; u++)
        {
            float a = 0f;
            for (int j = 0; j < d; j++) a = MathF.FusedMultiplyAdd(Mem.Add(ref q, j), Mem.Add(ref k, (nint)j * T + u), a);
            Mem.Add(ref ps, u - u0) = a;
        }
    }

    /// <summary>The keys of <see cref="Scores"/> in whole vectors: four vectors of keys at a time, then one; returns the first
    /// key left for the scalar tail.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ScoreVectors<TV, TL>(ref float q, ref float k, int d, int T, int u0, int u1, ref float ps)
        where TV : struct where TL : struct, ILanes<TV>
    {
        int u = u0, L = TL.Count;
        for (; u + 4 * L <= u1; u += 4 * L)
        {
            TV a0 = TL.Zero, a1 = TL.Zero, a2 = TL.Zero, a3 = TL.Zero;
            for (int j = 0; j < d; j++)
            {
                var qj = TL.Splat(Mem.Add(ref q, j));
                ref float kj = ref Mem.Add(ref k, (nint)j * T + u);
                a0 = TL.Fma(qj, TL.Load(ref kj, 0), a0);
                a1 = TL.Fma(qj, TL.Load(ref kj, (nuint)L), a1);
                a2 = TL.Fma(qj, TL.Load(ref kj, (nuint)(2 * L)), a2);
                a3 = TL.Fma(qj, TL.Load(ref kj, (nuint)(3 * L)), a3);
            }
            ref float o = ref Mem.Add(ref ps, u - u0);
            TL.Store(a0, ref o, 0); TL.Store(a1, ref o, (nuint)L); TL.Store(a2, ref o, (nuint)(2 * L)); TL.Store(a3, ref o, (nuint)(3 * L));
        }
        for (; u + L <= u1; u += L)
        {
            var a = TL.Zero;
            for (int j = 0; j < d; j++) a = TL.Fma(TL.Splat(Mem.Add(ref q, j)), TL.Load(ref Mem.Add(ref k, (nint)j * T + u), 0), a);
            TL.Store(a, ref Mem.Add(ref ps, u - u0), 0);
        }
        return u;
    }

    /// <summary><c>acc[0 … d) += a·Σ_u c_u·rows[u]</c> over <paramref name="count"/> rows of d: the weighted sum of values
    /// (forward) or of keys (dq). With 512-bit vectors and d a multiple of 16 up to 64 the sums stay in registers, two
    /// rows at a time in separate accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WeightedRows(ref float acc, ref float rows, ref float c, float a, int count, int d, SimdWidth width)
    {
        if (width == SimdWidth.V512 && (d & 15) == 0 && d <= 64)
        {
            Vector512<float> x0 = default, x1 = default, x2 = default, x3 = default, y0 = default, y1 = default, y2 = default, y3 = default;
            int u = 0;
            for (; u + 2 <= count; u += 2)
            {
                var c0 = Vector512.Create(Mem.Add(ref c, u) * a);
                var c1 = Vector512.Create(Mem.Add(ref c, u + 1) * a);
                ref float r0 = ref Mem.Add(ref rows, (nint)u * d);
                ref float r1 = ref Mem.Add(ref rows, (nint)(u + 1) * d);
                x0 = Vector512.FusedMultiplyAdd(c0, Mem.Load512(ref r0, 0), x0);
                y0 = Vector512.FusedMultiplyAdd(c1, Mem.Load512(ref r1, 0), y0);
                if (d > 16) { x1 = Vector512.FusedMultiplyAdd(c0, Mem.Load512(ref r0, 16), x1); y1 = Vector512.FusedMultiplyAdd(c1, Mem.Load512(ref r1, 16), y1); }
                if (d > 32) { x2 = Vector512.FusedMultiplyAdd(c0, Mem.Load512(ref r0, 32), x2); y2 = Vector512.FusedMultiplyAdd(c1, Mem.Load512(ref r1, 32), y2); }
                if (d > 48) { x3 = Vector512.FusedMultiplyAdd(c0, Mem.Load512(ref r0, 48), x3); y3 = Vector512.FusedMultiplyAdd(c1, Mem.Load512(ref r1, 48), y3); }
            }
            if (u < count)
            {
                var c0 = Vector512.Create(Mem.Add(ref c, u) * a);
                ref float r0 = ref Mem.Add(ref rows, (nint)u * d);
                x0 = Vector512.FusedMultiplyAdd(c0, Mem.Load512(ref r0, 0), x0);
                if (d > 16) x1 = Vector512.FusedMultiplyAdd(c0, Mem.Load512(ref r0, 16), x1);
                if (d > 32) x2 = Vector512.FusedMultiplyAdd(c0, Mem.Load512(ref r0, 32), x2);
                if (d > 48) x3 = Vector512.FusedMultiplyAdd(c0, Mem.Load512(ref r0, 48), x3);
            }
            (Mem.Load512(ref acc, 0) + x0 + y0).StoreAt(ref acc, 0);
            if (d > 16) (Mem.Load512(ref acc, 16) + x1 + y1).StoreAt(ref acc, 16);
            if (d > 32) (Mem.Load512(ref acc, 32) + x2 + y2).StoreAt(ref acc, 32);
            if (d > 48) (Mem.Load512(ref acc, 48) + x3 + y3).StoreAt(ref acc, 48);
            return;
        }
        for (int u = 0; u < count; u++) RowAxpy(Mem.Add(ref c, u) * a, ref Mem.Add(ref rows, (nint)u * d), ref acc, d, width);
    }

    /// <summary>The backward of heads <c>h0 … h1 − 1</c> for the batch's samples: those heads' rows of <c>dqkv</c> (stored,
    /// not added) from <c>do</c>, the forward's input, output and <c>lse</c>; their padding columns set to 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(ref float qkv, ref float o, ref float lse, ref float dout, int steps, int channels, int heads, int ld, int batch, int h0, int h1,
        ref float dqkv, Span<float> scratch, SimdWidth width)
    {
        if (scratch.Length < ScratchFloats(steps, channels / heads, true)) throw new ArgumentException($"attention scratch holds {scratch.Length} floats, the backward needs {ScratchFloats(steps, channels / heads, true)}");
        // Lane blocks of 16 (or 8) columns from column 0 must stay inside each step's ld columns.
        bool wide = width == SimdWidth.V512 && ((batch + 15) & ~15) <= ld, narrow = width != SimdWidth.Scalar && ((batch + 7) & ~7) <= ld;
        if (wide || narrow)
        {
            if (wide)
                for (int b = 0; b < batch; b += 16) BackwardLanes<Vector512<float>, Lanes512>(ref qkv, ref o, ref lse, ref dout, steps, channels, heads, ld, b, h0, h1, ref dqkv, scratch);
            else
                for (int b = 0; b < batch; b += 8) BackwardLanes<Vector256<float>, Lanes256>(ref qkv, ref o, ref lse, ref dout, steps, channels, heads, ld, b, h0, h1, ref dqkv, scratch);
            ClearPadding(ref dqkv, 3, channels, channels / heads, h0, h1, steps, ld, batch);
            return;
        }
        int d = channels / heads, T = steps, td = T * d;
        if (scratch.Length < ScratchFloats(T, d, true)) throw new ArgumentException($"attention scratch holds {scratch.Length} floats, the backward needs {ScratchFloats(T, d, true)}");
        nint row = (nint)T * ld;
        float scale = 1f / MathF.Sqrt(d);
        var q = scratch.Slice(0, td);
        var k = scratch.Slice(td, td);
        var kT = scratch.Slice(2 * td, td);
        var v = scratch.Slice(3 * td, td);
        var vT = scratch.Slice(4 * td, td);
        var go = scratch.Slice(5 * td, td);
        var dq = scratch.Slice(6 * td, td);
        var dk = scratch.Slice(7 * td, td);
        var dv = scratch.Slice(8 * td, td);
        var dD = scratch.Slice(9 * td, T);
        var dp = scratch.Slice(9 * td + T, KeyTile);
        var p = scratch.Slice(9 * td + T + KeyTile, KeyTile);
        for (int s = 0; s < batch; s++)
            for (int h = h0; h < h1; h++)
            {
                for (int t = 0; t < T; t++)
                {
                    nint col = (nint)t * ld + s;
                    float dt = 0f;
                    for (int j = 0; j < d; j++)
                    {
                        q[t * d + j] = Mem.Add(ref qkv, (h * d + j) * row + col) * scale;
                        float kv = Mem.Add(ref qkv, (channels + h * d + j) * row + col);
                        k[t * d + j] = kv;
                        kT[j * T + t] = kv;
                        float vv = Mem.Add(ref qkv, (2 * channels + h * d + j) * row + col);
                        v[t * d + j] = vv;
                        vT[j * T + t] = vv;
                        float g = Mem.Add(ref dout, (h * d + j) * row + col);
                        go[t * d + j] = g;
                        dt = MathF.FusedMultiplyAdd(g, Mem.Add(ref o, (h * d + j) * row + col), dt);
                    }
                    dD[t] = dt;   // D_t = do_t·o_t
                }
                dq.Clear(); dk.Clear(); dv.Clear();
                for (int t = 0; t < T; t++)
                {
                    float l = Mem.Add(ref lse, ((nint)h * T + t) * ld + s);
                    var qt = q.Slice(t * d, d);
                    var gt = go.Slice(t * d, d);
                    var dqt = dq.Slice(t * d, d);
                    for (int u0 = 0; u0 <= t; u0 += KeyTile)
                    {
                        int count = Math.Min(KeyTile, t + 1 - u0);
                        Scores(qt, kT, T, u0, u0 + count, p, width);    // q_t·k_u/√d
                        Scores(gt, vT, T, u0, u0 + count, dp, width);   // do_t·v_u
                        ExpShifted(p.Slice(0, count), l, width);        // p_u = e^(s_u − lse_t)
                        float dt = dD[t];
                        ref float kr = ref Mem.Add(ref MemoryMarshal.GetReference(k), (nint)u0 * d);
                        ref float dkr = ref Mem.Add(ref MemoryMarshal.GetReference(dk), (nint)u0 * d);
                        ref float dvr = ref Mem.Add(ref MemoryMarshal.GetReference(dv), (nint)u0 * d);
                        ref float dqr = ref MemoryMarshal.GetReference(dqt);
                        ref float qr = ref MemoryMarshal.GetReference(qt);
                        ref float gr = ref MemoryMarshal.GetReference(gt);
                        for (int u = 0; u < count; u++)
                        {
                            float pu = p[u], ds = pu * (dp[u] - dt);
                            dp[u] = ds;
                            nint at = (nint)u * d;
                            RowAxpy(ds, ref qr, ref Mem.Add(ref dkr, at), d, width);            // dk_u += ds·q_t/√d (q_t scaled)
                            RowAxpy(pu, ref gr, ref Mem.Add(ref dvr, at), d, width);            // dv_u += p_u·do_t
                        }
                        WeightedRows(ref dqr, ref kr, ref MemoryMarshal.GetReference(dp), scale, count, d, width);   // dq_t += Σ ds_u·k_u/√d
                    }
                }
                for (int t = 0; t < T; t++)
                {
                    nint col = (nint)t * ld + s;
                    for (int j = 0; j < d; j++)
                    {
                        Mem.Add(ref dqkv, (h * d + j) * row + col) = dq[t * d + j];
                        Mem.Add(ref dqkv, (channels + h * d + j) * row + col) = dk[t * d + j];
                        Mem.Add(ref dqkv, (2 * channels + h * d + j) * row + col) = dv[t * d + j];
                    }
                }
            }
        ClearPadding(ref dqkv, 3, channels, d, h0, h1, T, ld, batch);
    }

    /// <summary>
    /// The forward for the samples of columns <c>b … b + L − 1</c> (L = <typeparamref name="TL"/>'s lanes: 16 or 8), each lane
    /// one sample: every multiply-add does L samples' work and the q, k, v rows are read from the panel as they are (no
    /// copies). Per head and query, keys in tiles of <see cref="KeyTile"/>: scores four keys at a time (independent
    /// chains), the online softmax per lane.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardLanes<TV, TL>(ref float qkv, int T, int channels, int heads, int ld, int b, int h0, int h1, ref float o, ref float lse, Span<float> scratch)
        where TV : struct where TL : struct, ILanes<TV>
    {
        int d = channels / heads, L = TL.Count;
        nint row = (nint)T * ld;
        var scale = TL.Splat(1f / MathF.Sqrt(d));
        ref float sc = ref MemoryMarshal.GetReference(scratch);      // scores of a tile [KeyTile][L]
        ref float acc = ref Mem.Add(ref sc, KeyTile * L);            // the output sums [d][L]
        for (int h = h0; h < h1; h++)
        {
            ref float qh = ref Mem.Add(ref qkv, (nint)h * d * row + b);
            ref float kh = ref Mem.Add(ref qkv, (nint)(channels + h * d) * row + b);
            ref float vh = ref Mem.Add(ref qkv, (nint)(2 * channels + h * d) * row + b);
            for (int t = 0; t < T; t++)
            {
                ref float qt = ref Mem.Add(ref qh, (nint)t * ld);
                var m = TL.Splat(float.NegativeInfinity);
                var l = TL.Zero;
                for (int j = 0; j < d; j++) TL.Store(TL.Zero, ref acc, (nuint)(j * L));
                for (int u0 = 0; u0 <= t; u0 += KeyTile)
                {
                    int count = Math.Min(KeyTile, t + 1 - u0);
                    var mt = m;
                    int u = 0;
                    for (; u + 4 <= count; u += 4)
                    {
                        ref float k0 = ref Mem.Add(ref kh, (nint)(u0 + u) * ld);
                        TV a0 = TL.Zero, a1 = TL.Zero, a2 = TL.Zero, a3 = TL.Zero;
                        for (int j = 0; j < d; j++)
                        {
                            var qj = TL.Load(ref qt, (nuint)(j * row));
                            ref float kj = ref Mem.Add(ref k0, (nint)j * row);
                            a0 = TL.Fma(qj, TL.Load(ref kj, 0), a0);
                            a1 = TL.Fma(qj, TL.Load(ref kj, (nuint)ld), a1);
                            a2 = TL.Fma(qj, TL.Load(ref kj, (nuint)(2 * ld)), a2);
                            a3 = TL.Fma(qj, TL.Load(ref kj, (nuint)(3 * ld)), a3);
                        }
                        a0 = TL.Mul(a0, scale); a1 = TL.Mul(a1, scale); a2 = TL.Mul(a2, scale); a3 = TL.Mul(a3, scale);
                        mt = TL.Max(mt, TL.Max(TL.Max(a0, a1), TL.Max(a2, a3)));
                        TL.Store(a0, ref sc, (nuint)(u * L)); TL.Store(a1, ref sc, (nuint)((u + 1) * L));
                        TL.Store(a2, ref sc, (nuint)((u + 2) * L)); TL.Store(a3, ref sc, (nuint)((u + 3) * L));
                    }
                    for (; u < count; u++)
                    {
                        ref float k0 = ref Mem.Add(ref kh, (nint)(u0 + u) * ld);
                        var a = TL.Zero;
                        for (int j = 0; j < d; j++) a = TL.Fma(TL.Load(ref qt, (nuint)(j * row)), TL.Load(ref k0, (nuint)(j * row)), a);
                        a = TL.Mul(a, scale);
                        mt = TL.Max(mt, a);
                        TL.Store(a, ref sc, (nuint)(u * L));
                    }
                    var rescale = TL.Exp(TL.Sub(m, mt));   // 0 on the first tile (m = −∞)
                    l = TL.Mul(l, rescale);
                    for (u = 0; u < count; u++)
                    {
                        var e = TL.Exp(TL.Sub(TL.Load(ref sc, (nuint)(u * L)), mt));
                        TL.Store(e, ref sc, (nuint)(u * L));
                        l = TL.Add(l, e);
                    }
                    for (int j = 0; j < d; j++)
                    {
                        ref float vj = ref Mem.Add(ref vh, (nint)j * row + (nint)u0 * ld);
                        var x0 = TL.Mul(TL.Load(ref acc, (nuint)(j * L)), rescale);
                        var x1 = TL.Zero;
                        u = 0;
                        for (; u + 2 <= count; u += 2)
                        {
                            x0 = TL.Fma(TL.Load(ref sc, (nuint)(u * L)), TL.Load(ref vj, (nuint)(u * ld)), x0);
                            x1 = TL.Fma(TL.Load(ref sc, (nuint)((u + 1) * L)), TL.Load(ref vj, (nuint)((u + 1) * ld)), x1);
                        }
                        if (u < count) x0 = TL.Fma(TL.Load(ref sc, (nuint)(u * L)), TL.Load(ref vj, (nuint)(u * ld)), x0);
                        TL.Store(TL.Add(x0, x1), ref acc, (nuint)(j * L));
                    }
                    m = mt;
                }
                var inv = TL.Div(TL.Splat(1f), l);
                ref float ot = ref Mem.Add(ref o, (nint)h * d * row + (nint)t * ld + b);
                for (int j = 0; j < d; j++) TL.Store(TL.Mul(TL.Load(ref acc, (nuint)(j * L)), inv), ref ot, (nuint)(j * row));
                TL.Store(TL.Add(m, TL.Log(l)), ref Mem.Add(ref lse, ((nint)h * T + t) * ld + b), 0);
            }
        }
    }

    /// <summary>
    /// The backward for the samples of columns <c>b … b + L − 1</c> in the vector lanes: per head and query, the keys'
    /// probabilities recomputed from lse, then dq accumulated over the keys and dk, dv over the queries, straight into
    /// the dqkv panel (zeroed here first for the head).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BackwardLanes<TV, TL>(ref float qkv, ref float o, ref float lse, ref float dout, int T, int channels, int heads, int ld, int b, int h0, int h1, ref float dqkv, Span<float> scratch)
        where TV : struct where TL : struct, ILanes<TV>
    {
        int d = channels / heads, L = TL.Count;
        nint row = (nint)T * ld;
        var scale = TL.Splat(1f / MathF.Sqrt(d));
        ref float ds = ref MemoryMarshal.GetReference(scratch);      // ds of the keys 0…t [T][L]
        ref float pp = ref Mem.Add(ref ds, (nint)T * L);              // p of the keys 0…t [T][L]
        for (int h = h0; h < h1; h++)
        {
            ref float qh = ref Mem.Add(ref qkv, (nint)h * d * row + b);
            ref float kh = ref Mem.Add(ref qkv, (nint)(channels + h * d) * row + b);
            ref float vh = ref Mem.Add(ref qkv, (nint)(2 * channels + h * d) * row + b);
            ref float oh = ref Mem.Add(ref o, (nint)h * d * row + b);
            ref float gh = ref Mem.Add(ref dout, (nint)h * d * row + b);
            ref float dqh = ref Mem.Add(ref dqkv, (nint)h * d * row + b);
            ref float dkh = ref Mem.Add(ref dqkv, (nint)(channels + h * d) * row + b);
            ref float dvh = ref Mem.Add(ref dqkv, (nint)(2 * channels + h * d) * row + b);
            for (int j = 0; j < d; j++)
                for (int t = 0; t < T; t++)
                {
                    TL.Store(TL.Zero, ref dkh, (nuint)(j * row + t * ld));
                    TL.Store(TL.Zero, ref dvh, (nuint)(j * row + t * ld));
                }
            for (int t = 0; t < T; t++)
            {
                ref float qt = ref Mem.Add(ref qh, (nint)t * ld);
                ref float gt = ref Mem.Add(ref gh, (nint)t * ld);
                var dt = TL.Zero;   // D_t = do_t·o_t
                for (int j = 0; j < d; j++) dt = TL.Fma(TL.Load(ref gt, (nuint)(j * row)), TL.Load(ref oh, (nuint)(j * row + t * ld)), dt);
                var lt = TL.Load(ref lse, (nuint)((h * T + t) * ld + b));
                // p_u = e^(q_t·k_u/√d − lse_t), ds_u = p_u·(do_t·v_u − D_t), two keys at a time.
                int u = 0;
                for (; u + 2 <= t + 1; u += 2)
                {
                    ref float k0 = ref Mem.Add(ref kh, (nint)u * ld);
                    ref float v0 = ref Mem.Add(ref vh, (nint)u * ld);
                    TV s0 = TL.Zero, s1 = TL.Zero, e0 = TL.Zero, e1 = TL.Zero;
                    for (int j = 0; j < d; j++)
                    {
                        var qj = TL.Load(ref qt, (nuint)(j * row));
                        var gj = TL.Load(ref gt, (nuint)(j * row));
                        s0 = TL.Fma(qj, TL.Load(ref k0, (nuint)(j * row)), s0);
                        s1 = TL.Fma(qj, TL.Load(ref k0, (nuint)(j * row + ld)), s1);
                        e0 = TL.Fma(gj, TL.Load(ref v0, (nuint)(j * row)), e0);
                        e1 = TL.Fma(gj, TL.Load(ref v0, (nuint)(j * row + ld)), e1);
                    }
                    var p0 = TL.Exp(TL.Sub(TL.Mul(s0, scale), lt));
                    var p1 = TL.Exp(TL.Sub(TL.Mul(s1, scale), lt));
                    TL.Store(p0, ref pp, (nuint)(u * L)); TL.Store(p1, ref pp, (nuint)((u + 1) * L));
                    TL.Store(TL.Mul(p0, TL.Sub(e0, dt)), ref ds, (nuint)(u * L)); TL.Store(TL.Mul(p1, TL.Sub(e1, dt)), ref ds, (nuint)((u + 1) * L));
                }
                for (; u <= t; u++)
                {
                    ref float k0 = ref Mem.Add(ref kh, (nint)u * ld);
                    ref float v0 = ref Mem.Add(ref vh, (nint)u * ld);
                    TV s0 = TL.Zero, e0 = TL.Zero;
                    for (int j = 0; j < d; j++)
                    {
                        s0 = TL.Fma(TL.Load(ref qt, (nuint)(j * row)), TL.Load(ref k0, (nuint)(j * row)), s0);
                        e0 = TL.Fma(TL.Load(ref gt, (nuint)(j * row)), TL.Load(ref v0, (nuint)(j * row)), e0);
                    }
                    var p0 = TL.Exp(TL.Sub(TL.Mul(s0, scale), lt));
                    TL.Store(p0, ref pp, (nuint)(u * L));
                    TL.Store(TL.Mul(p0, TL.Sub(e0, dt)), ref ds, (nuint)(u * L));
                }
                // dq_t = Σ_u ds_u·k_u/√d;  dk_u += ds_u·q_t/√d;  dv_u += p_u·do_t.
                for (int j = 0; j < d; j++)
                {
                    ref float kj = ref Mem.Add(ref kh, (nint)j * row);
                    ref float dkj = ref Mem.Add(ref dkh, (nint)j * row);
                    ref float dvj = ref Mem.Add(ref dvh, (nint)j * row);
                    var qj = TL.Mul(TL.Load(ref qt, (nuint)(j * row)), scale);
                    var gj = TL.Load(ref gt, (nuint)(j * row));
                    TV x0 = TL.Zero, x1 = TL.Zero;
                    u = 0;
                    for (; u + 2 <= t + 1; u += 2)
                    {
                        var d0 = TL.Load(ref ds, (nuint)(u * L));
                        var d1 = TL.Load(ref ds, (nuint)((u + 1) * L));
                        x0 = TL.Fma(d0, TL.Load(ref kj, (nuint)(u * ld)), x0);
                        x1 = TL.Fma(d1, TL.Load(ref kj, (nuint)((u + 1) * ld)), x1);
                        TL.Store(TL.Fma(d0, qj, TL.Load(ref dkj, (nuint)(u * ld))), ref dkj, (nuint)(u * ld));
                        TL.Store(TL.Fma(d1, qj, TL.Load(ref dkj, (nuint)((u + 1) * ld))), ref dkj, (nuint)((u + 1) * ld));
                        TL.Store(TL.Fma(TL.Load(ref pp, (nuint)(u * L)), gj, TL.Load(ref dvj, (nuint)(u * ld))), ref dvj, (nuint)(u * ld));
                        TL.Store(TL.Fma(TL.Load(ref pp, (nuint)((u + 1) * L)), gj, TL.Load(ref dvj, (nuint)((u + 1) * ld))), ref dvj, (nuint)((u + 1) * ld));
                    }
                    if (u <= t)
                    {
                        var d0 = TL.Load(ref ds, (nuint)(u * L));
                        x0 = TL.Fma(d0, TL.Load(ref kj, (nuint)(u * ld)), x0);
                        TL.Store(TL.Fma(d0, qj, TL.Load(ref dkj, (nuint)(u * ld))), ref dkj, (nuint)(u * ld));
                        TL.Store(TL.Fma(TL.Load(ref pp, (nuint)(u * L)), gj, TL.Load(ref dvj, (nuint)(u * ld))), ref dvj, (nuint)(u * ld));
                    }
                    TL.Store(TL.Mul(TL.Add(x0, x1), scale), ref dqh, (nuint)(j * row + t * ld));
                }
            }
        }
    }

    /// <summary><c>x_i = e^(x_i − shift)</c> in place; returns <c>Σ x_i</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float ExpShifted(Span<float> x, float shift, SimdWidth width)
    {
        int n = x.Length, i = 0;
        ref float a = ref MemoryMarshal.GetReference(x);
        float sum = 0f;
        if (width == SimdWidth.V512)
        {
            var acc = Vector512<float>.Zero;
            for (var sh = Vector512.Create(shift); i + 16 <= n; i += 16)
            {
                var e = Vector512.Exp(Mem.Load512(ref a, (nuint)i) - sh);
                e.StoreAt(ref a, (nuint)i);
                acc += e;
            }
            sum = Vector512.Sum(acc);
        }
        else if (width == SimdWidth.V256)
        {
            var acc = Vector256<float>.Zero;
            for (var sh = Vector256.Create(shift); i + 8 <= n; i += 8)
            {
                var e = Vector256.Exp(Mem.Load256(ref a, (nuint)i) - sh);
                e.StoreAt(ref a, (nuint)i);
                acc += e;
            }
            sum = Vector256.Sum(acc);
        }
        for (; i < n; i++) { float e = MathF.Exp(Mem.Add(ref a, i) - shift); Mem.Add(ref a, i) = e; sum += e; }
        return sum;
    }

    /// <summary><c>y[0 … d) += a·x[0 … d)</c>, inlined into the loops over keys.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RowAxpy(float a, ref float x, ref float y, int d, SimdWidth width)
    {
        int j = 0;
        if (width == SimdWidth.V512)
            for (var k = Vector512.Create(a); j + 16 <= d; j += 16)
                Vector512.FusedMultiplyAdd(k, Mem.Load512(ref x, (nuint)j), Mem.Load512(ref y, (nuint)j)).StoreAt(ref y, (nuint)j);
        else if (width == SimdWidth.V256)
            for (var k = Vector256.Create(a); j + 8 <= d; j += 8)
                Vector256.FusedMultiplyAdd(k, Mem.Load256(ref x, (nuint)j), Mem.Load256(ref y, (nuint)j)).StoreAt(ref y, (nuint)j);
        for (; j < d; j++) Mem.Add(ref y, j) = MathF.FusedMultiplyAdd(a, Mem.Add(ref x, j), Mem.Add(ref y, j));
    }

    /// <summary>Zeros columns <c>t·ld + s</c>, <c>s ≥ n</c>, of the rows of heads <c>h0 … h1 − 1</c> in each of the
    /// <paramref name="parts"/> blocks of <paramref name="channels"/> rows (q, k, v) of a <c>[parts·C, T·ld]</c> panel.</summary>
    private static void ClearPadding(ref float m, int parts, int channels, int d, int h0, int h1, int T, int ld, int n)
    {
        if (n >= ld) return;
        nint row = (nint)T * ld;
        for (int part = 0; part < parts; part++)
            for (int r = part * channels + h0 * d; r < part * channels + h1 * d; r++)
                for (int t = 0; t < T; t++)
                    for (int s = n; s < ld; s++) Mem.Add(ref m, r * row + (nint)t * ld + s) = 0f;
    }
}
