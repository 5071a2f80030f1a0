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
/// <para>Batches in groups of 8 columns take the blocked kernels (<see cref="ForwardBlocked"/>): 8 samples in the lanes,
/// blocks of 4 queries × 4 keys in registers, as a small GEMM. Otherwise (one sample, the scalar width), per sample and
/// head, the head's queries, keys (also transposed) and values are copied into contiguous
/// <c>[T, d]</c> tiles. Either way each query runs over the keys in tiles of <see cref="KeyTile"/> with the online softmax (running
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
        int forward = Math.Max(4 * steps * headDim + KeyTile, BlockedFloats(steps, headDim, false));
        return backward ? Math.Max(forward, Math.Max(9 * steps * headDim + steps + 2 * KeyTile, BlockedFloats(steps, headDim, true))) : forward;   // one scratch serves both
    }

    /// <summary>The forward of heads <c>h0 … h1 − 1</c> (a thread's part; the heads are independent) for the n samples;
    /// the padding columns <c>n … ld − 1</c> of those heads' output rows are set to 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(ref float qkv, int steps, int channels, int heads, int ld, int n, int h0, int h1, ref float o, ref float lse, Span<float> scratch, SimdWidth width)
    {
        if (scratch.Length < ScratchFloats(steps, channels / heads, false)) throw new ArgumentException($"attention scratch holds {scratch.Length} floats, the forward needs {ScratchFloats(steps, channels / heads, false)}");
        // Groups of 8 columns from column 0 cover the n computed columns, inside each step's ld columns: the blocked kernel.
        if (width != SimdWidth.Scalar && (n & 7) == 0 && n <= ld)
        {
            bool wide = width == SimdWidth.V512 && (channels / heads & 1) == 0;   // a packed row of d·8 floats in 512-bit registers
            for (int b = 0; b < n; b += Group)
                if (wide) ForwardBlocked<Vector512<float>, Lanes512>(ref qkv, steps, channels, heads, ld, b, h0, h1, ref o, ref lse, scratch);
                else ForwardBlocked<Vector256<float>, Lanes256>(ref qkv, steps, channels, heads, ld, b, h0, h1, ref o, ref lse, scratch);
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
        // Groups of 8 columns from column 0 must stay inside each step's ld columns: the blocked kernel.
        if (width != SimdWidth.Scalar && ((batch + 7) & ~7) <= ld)
        {
            bool wide = width == SimdWidth.V512 && (channels / heads & 1) == 0;
            for (int b = 0; b < batch; b += Group)
                if (wide) BackwardBlocked<Vector512<float>, Lanes512>(ref qkv, ref o, ref lse, ref dout, steps, channels, heads, ld, b, h0, h1, ref dqkv, scratch);
                else BackwardBlocked<Vector256<float>, Lanes256>(ref qkv, ref o, ref lse, ref dout, steps, channels, heads, ld, b, h0, h1, ref dqkv, scratch);
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

    /// <summary>Samples per lane group of the blocked kernels: one 256-bit register's worth.</summary>
    private const int Group = 8;
    /// <summary>Queries (and keys) per register block of the blocked kernels.</summary>
    private const int Block = 4;

    /// <summary>Steps rounded up to whole blocks.</summary>
    private static int Padded(int steps) => (steps + Block - 1) & ~(Block - 1);

    /// <summary>Floats the blocked kernels need: the head's q, k, v (and do, dk, dv) packed <c>[Tp, d, 8]</c>, the block's
    /// output (or dq) rows, and the score tiles.</summary>
    private static int BlockedFloats(int steps, int headDim, bool backward)
    {
        int tp = Padded(steps), r = Group * headDim;
        return backward ? 6 * tp * r + Block * r + 2 * Block * Block * Group + 2 * tp * Group
                        : 3 * tp * r + Block * r + Block * KeyTile * Group + 2 * Block * Group;
    }

    /// <summary>
    /// The forward for the 8 samples of columns <c>b … b + 7</c>, blocked like a GEMM. Per head, q (scaled by 1/√d), k and v
    /// are packed as <c>[Tp, d, 8]</c>: a step's row is d·8 contiguous floats, feature-major, so a 512-bit register holds
    /// two features of the 8 samples and every multiply-add uses the whole register whatever the batch. Queries go in
    /// blocks of 4 against keys in blocks of 4: the 16 scores of a block pair take 8 loads per 16 multiply-adds
    /// (<see cref="Dot4x4"/>), and the 16 probabilities weight 4 value rows into 4 output rows the same way
    /// (<see cref="Axpy4x4"/>). Keys run in tiles of <see cref="KeyTile"/> with the online softmax per query; the diagonal
    /// block masks the keys after each query.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardBlocked<TV, TL>(ref float qkv, int T, int channels, int heads, int ld, int b, int h0, int h1, ref float o, ref float lse, Span<float> scratch)
        where TV : struct where TL : struct, ILanes<TV>
    {
        int d = channels / heads, tp = Padded(T), R = Group * d;
        nint row = (nint)T * ld, plane = (nint)tp * R;
        ref float q = ref MemoryMarshal.GetReference(scratch);
        ref float k = ref Mem.Add(ref q, plane);
        ref float v = ref Mem.Add(ref k, plane);
        ref float acc = ref Mem.Add(ref v, plane);                      // the block's output sums [Block][d·8]
        ref float sc = ref Mem.Add(ref acc, Block * R);                 // scores, then e^(s − m) [Block][KeyTile][8]
        ref float ml = ref Mem.Add(ref sc, Block * KeyTile * Group);    // running max m [Block][8], then running sum l [Block][8]
        var ninf = Vector256.Create(float.NegativeInfinity);
        for (int h = h0; h < h1; h++)
        {
            nint qr = (nint)h * d * row + b;
            Pack(ref Mem.Add(ref qkv, qr), row, ld, T, tp, d, 1f / MathF.Sqrt(d), ref q);
            Pack(ref Mem.Add(ref qkv, (nint)(channels + h * d) * row + b), row, ld, T, tp, d, 1f, ref k);
            Pack(ref Mem.Add(ref qkv, (nint)(2 * channels + h * d) * row + b), row, ld, T, tp, d, 1f, ref v);
            for (int t0 = 0; t0 < T; t0 += Block)
            {
                ref float qb = ref Mem.Add(ref q, (nint)t0 * R);
                MemoryMarshal.CreateSpan(ref acc, Block * R).Clear();
                for (int i = 0; i < Block; i++)
                {
                    ninf.StoreAt(ref ml, (nuint)(i * Group));
                    Vector256<float>.Zero.StoreAt(ref ml, (nuint)((Block + i) * Group));
                }
                int end = t0 + Block;   // keys 0 … t0 + 3
                for (int u0 = 0; u0 < end; u0 += KeyTile)
                {
                    int count = Math.Min(KeyTile, end - u0);
                    for (int ub = 0; ub < count; ub += Block)
                        Dot4x4<TV, TL>(ref qb, ref Mem.Add(ref k, (nint)(u0 + ub) * R), R, ref Mem.Add(ref sc, ub * Group), KeyTile);
                    if (u0 + count == end)   // the diagonal block: key t0 + j comes after query t0 + i for j > i
                        for (int i = 0; i < Block; i++)
                            for (int j = i + 1; j < Block; j++) ninf.StoreAt(ref sc, (nuint)((i * KeyTile + count - Block + j) * Group));
                    for (int i = 0; i < Block; i++)
                    {
                        ref float si = ref Mem.Add(ref sc, i * KeyTile * Group);
                        var m = Mem.Load256(ref ml, (nuint)(i * Group));
                        var mt = m;
                        for (int u = 0; u < count; u++) mt = Vector256.Max(mt, Mem.Load256(ref si, (nuint)(u * Group)));
                        var rescale = VectorExp.Exp(m - mt);   // 0 on the first tile (m = −∞)
                        var l = Mem.Load256(ref ml, (nuint)((Block + i) * Group)) * rescale;
                        for (int u = 0; u < count; u++)
                        {
                            var e = VectorExp.Exp(Mem.Load256(ref si, (nuint)(u * Group)) - mt);
                            e.StoreAt(ref si, (nuint)(u * Group));
                            l += e;
                        }
                        mt.StoreAt(ref ml, (nuint)(i * Group));
                        l.StoreAt(ref ml, (nuint)((Block + i) * Group));
                        if (u0 > 0) ScaleRow<TV, TL>(ref Mem.Add(ref acc, i * R), R, rescale);
                    }
                    for (int ub = 0; ub < count; ub += Block)   // acc_i += Σ_u e_iu·v_u
                        Axpy4x4<TV, TL>(ref Mem.Add(ref sc, ub * Group), KeyTile, 1, ref Mem.Add(ref v, (nint)(u0 + ub) * R), R, ref acc);
                }
                for (int i = 0; i < Block && t0 + i < T; i++)
                {
                    var l = Mem.Load256(ref ml, (nuint)((Block + i) * Group));
                    Unpack(ref Mem.Add(ref acc, i * R), d, Vector256<float>.One / l, ref Mem.Add(ref o, qr + (nint)(t0 + i) * ld), row);
                    (Mem.Load256(ref ml, (nuint)(i * Group)) + Vector256.Log(l)).StoreAt(ref lse, (nuint)(((nint)h * T + t0 + i) * ld + b));
                }
            }
        }
    }

    /// <summary>
    /// The backward for the 8 samples of columns <c>b … b + 7</c>, blocked as <see cref="ForwardBlocked"/>: per head, q, k,
    /// v and do packed, dk and dv summed in packed rows; per block of 4 queries and each block of 4 keys up to the diagonal,
    /// the 16 scores and the 16 <c>do_t·v_u</c> (<see cref="Dot4x4"/>), then p and ds, then dq, dk and dv each as one
    /// 4×4 block update (<see cref="Axpy4x4"/>). The rows go back into the dqkv panel (stored, not added) at the end.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BackwardBlocked<TV, TL>(ref float qkv, ref float o, ref float lse, ref float dout, int T, int channels, int heads, int ld, int b, int h0, int h1, ref float dqkv, Span<float> scratch)
        where TV : struct where TL : struct, ILanes<TV>
    {
        int d = channels / heads, tp = Padded(T), R = Group * d;
        nint row = (nint)T * ld, plane = (nint)tp * R;
        float scale = 1f / MathF.Sqrt(d);
        ref float q = ref MemoryMarshal.GetReference(scratch);
        ref float k = ref Mem.Add(ref q, plane);
        ref float v = ref Mem.Add(ref k, plane);
        ref float g = ref Mem.Add(ref v, plane);
        ref float dk = ref Mem.Add(ref g, plane);
        ref float dv = ref Mem.Add(ref dk, plane);
        ref float dq = ref Mem.Add(ref dv, plane);                         // the query block's dq [Block][d·8]
        ref float s = ref Mem.Add(ref dq, Block * R);                      // scores, then p [Block][Block][8]
        ref float e = ref Mem.Add(ref s, Block * Block * Group);           // do_t·v_u, then ds [Block][Block][8]
        ref float dd = ref Mem.Add(ref e, Block * Block * Group);          // D_t = do_t·o_t [Tp][8]
        ref float ls = ref Mem.Add(ref dd, tp * Group);                    // lse_t [Tp][8]
        for (int h = h0; h < h1; h++)
        {
            nint qr = (nint)h * d * row + b, kr = (nint)(channels + h * d) * row + b, vr = (nint)(2 * channels + h * d) * row + b;
            Pack(ref Mem.Add(ref qkv, qr), row, ld, T, tp, d, scale, ref q);
            Pack(ref Mem.Add(ref qkv, kr), row, ld, T, tp, d, 1f, ref k);
            Pack(ref Mem.Add(ref qkv, vr), row, ld, T, tp, d, 1f, ref v);
            Pack(ref Mem.Add(ref dout, qr), row, ld, T, tp, d, 1f, ref g);
            for (int t = 0; t < tp; t++)
            {
                Vector256<float> dt = default, lt = default;
                if (t < T)
                {
                    for (int j = 0; j < d; j++)
                    {
                        nuint at = (nuint)(qr + j * row + (nint)t * ld);
                        dt = Vector256.FusedMultiplyAdd(Mem.Load256(ref dout, at), Mem.Load256(ref o, at), dt);
                    }
                    lt = Mem.Load256(ref lse, (nuint)(((nint)h * T + t) * ld + b));
                }
                dt.StoreAt(ref dd, (nuint)(t * Group));
                lt.StoreAt(ref ls, (nuint)(t * Group));
            }
            MemoryMarshal.CreateSpan(ref dk, (int)(2 * plane)).Clear();   // dk and dv
            for (int t0 = 0; t0 < T; t0 += Block)
            {
                ref float qb = ref Mem.Add(ref q, (nint)t0 * R);
                ref float gb = ref Mem.Add(ref g, (nint)t0 * R);
                MemoryMarshal.CreateSpan(ref dq, Block * R).Clear();
                for (int u0 = 0; u0 <= t0; u0 += Block)
                {
                    ref float kb = ref Mem.Add(ref k, (nint)u0 * R);
                    Dot4x4<TV, TL>(ref qb, ref kb, R, ref s, Block);                          // q_t·k_u/√d
                    Dot4x4<TV, TL>(ref gb, ref Mem.Add(ref v, (nint)u0 * R), R, ref e, Block);   // do_t·v_u
                    for (int i = 0; i < Block; i++)
                    {
                        var lt = Mem.Load256(ref ls, (nuint)((t0 + i) * Group));
                        var dt = Mem.Load256(ref dd, (nuint)((t0 + i) * Group));
                        for (int j = 0; j < Block; j++)
                        {
                            nuint at = (nuint)((i * Block + j) * Group);
                            var p = u0 + j > t0 + i || t0 + i >= T ? default : VectorExp.Exp(Mem.Load256(ref s, at) - lt);
                            p.StoreAt(ref s, at);
                            (p * (Mem.Load256(ref e, at) - dt)).StoreAt(ref e, at);
                        }
                    }
                    Axpy4x4<TV, TL>(ref e, Block, 1, ref kb, R, ref dq);                                // dq_i += Σ_j ds_ij·k_j
                    Axpy4x4<TV, TL>(ref e, 1, Block, ref qb, R, ref Mem.Add(ref dk, (nint)u0 * R));   // dk_j += Σ_i ds_ij·q_i/√d
                    Axpy4x4<TV, TL>(ref s, 1, Block, ref gb, R, ref Mem.Add(ref dv, (nint)u0 * R));   // dv_j += Σ_i p_ij·do_i
                }
                var unscale = Vector256.Create(scale);
                for (int i = 0; i < Block && t0 + i < T; i++)
                    Unpack(ref Mem.Add(ref dq, i * R), d, unscale, ref Mem.Add(ref dqkv, qr + (nint)(t0 + i) * ld), row);
            }
            for (int t = 0; t < T; t++)
            {
                Unpack(ref Mem.Add(ref dk, (nint)t * R), d, Vector256<float>.One, ref Mem.Add(ref dqkv, kr + (nint)t * ld), row);
                Unpack(ref Mem.Add(ref dv, (nint)t * R), d, Vector256<float>.One, ref Mem.Add(ref dqkv, vr + (nint)t * ld), row);
            }
        }
    }

    /// <summary><c>dst[t, j, 0…8) = f·src[j·row + t·ld + 0…8)</c> for the T steps; rows <c>T … Tp − 1</c> zero.</summary>
    private static void Pack(ref float src, nint row, int ld, int T, int tp, int d, float f, ref float dst)
    {
        var factor = Vector256.Create(f);
        for (int t = 0; t < T; t++)
            for (int j = 0; j < d; j++)
                (Mem.Load256(ref src, (nuint)(j * row + (nint)t * ld)) * factor).StoreAt(ref dst, (nuint)((t * d + j) * Group));
        MemoryMarshal.CreateSpan(ref Mem.Add(ref dst, T * d * Group), (tp - T) * d * Group).Clear();
    }

    /// <summary><c>dst[j·row + 0…8) = f·src[j, 0…8)</c>: one packed step back into its panel column block.</summary>
    private static void Unpack(ref float src, int d, Vector256<float> f, ref float dst, nint row)
    {
        for (int j = 0; j < d; j++) (Mem.Load256(ref src, (nuint)(j * Group)) * f).StoreAt(ref dst, (nuint)(j * row));
    }

    /// <summary><c>x[0…r) *= f</c>, f's 8 samples repeated across the register.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ScaleRow<TV, TL>(ref float x, int r, Vector256<float> f)
        where TV : struct where TL : struct, ILanes<TV>
    {
        var fr = TL.Repeat8(f);
        for (int c = 0; c < r; c += TL.Count) TL.Store(TL.Mul(TL.Load(ref x, (nuint)c), fr), ref x, (nuint)c);
    }

    /// <summary>
    /// <c>out[(i·stride + j)·8 …] = Σ_c x_i[c]·y_j[c]</c> per sample for the 4 packed rows x_i and the 4 rows y_j (r floats
    /// each, <c>[d, 8]</c>): 16 accumulators, 8 loads per 16 multiply-adds; a 512-bit register's two features are folded
    /// at the end.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]   // its own method: inlined, the JIT spilled the 16 weights every iteration
    private static void Dot4x4<TV, TL>(ref float x, ref float y, int r, ref float output, int stride)
        where TV : struct where TL : struct, ILanes<TV>
    {
        TV a00 = TL.Zero, a01 = TL.Zero, a02 = TL.Zero, a03 = TL.Zero, a10 = TL.Zero, a11 = TL.Zero, a12 = TL.Zero, a13 = TL.Zero;
        TV a20 = TL.Zero, a21 = TL.Zero, a22 = TL.Zero, a23 = TL.Zero, a30 = TL.Zero, a31 = TL.Zero, a32 = TL.Zero, a33 = TL.Zero;
        nuint r1 = (nuint)r, r2 = 2 * r1, r3 = 3 * r1;
        for (nuint c = 0; c < r1; c += (nuint)TL.Count)
        {
            var x0 = TL.Load(ref x, c); var x1 = TL.Load(ref x, r1 + c); var x2 = TL.Load(ref x, r2 + c); var x3 = TL.Load(ref x, r3 + c);
            var y0 = TL.Load(ref y, c);
            a00 = TL.Fma(x0, y0, a00); a10 = TL.Fma(x1, y0, a10); a20 = TL.Fma(x2, y0, a20); a30 = TL.Fma(x3, y0, a30);
            var y1 = TL.Load(ref y, r1 + c);
            a01 = TL.Fma(x0, y1, a01); a11 = TL.Fma(x1, y1, a11); a21 = TL.Fma(x2, y1, a21); a31 = TL.Fma(x3, y1, a31);
            var y2 = TL.Load(ref y, r2 + c);
            a02 = TL.Fma(x0, y2, a02); a12 = TL.Fma(x1, y2, a12); a22 = TL.Fma(x2, y2, a22); a32 = TL.Fma(x3, y2, a32);
            var y3 = TL.Load(ref y, r3 + c);
            a03 = TL.Fma(x0, y3, a03); a13 = TL.Fma(x1, y3, a13); a23 = TL.Fma(x2, y3, a23); a33 = TL.Fma(x3, y3, a33);
        }
        nuint s1 = (nuint)(stride * Group), s2 = 2 * s1, s3 = 3 * s1;
        TL.Fold8(a00).StoreAt(ref output, 0); TL.Fold8(a01).StoreAt(ref output, 8); TL.Fold8(a02).StoreAt(ref output, 16); TL.Fold8(a03).StoreAt(ref output, 24);
        TL.Fold8(a10).StoreAt(ref output, s1); TL.Fold8(a11).StoreAt(ref output, s1 + 8); TL.Fold8(a12).StoreAt(ref output, s1 + 16); TL.Fold8(a13).StoreAt(ref output, s1 + 24);
        TL.Fold8(a20).StoreAt(ref output, s2); TL.Fold8(a21).StoreAt(ref output, s2 + 8); TL.Fold8(a22).StoreAt(ref output, s2 + 16); TL.Fold8(a23).StoreAt(ref output, s2 + 24);
        TL.Fold8(a30).StoreAt(ref output, s3); TL.Fold8(a31).StoreAt(ref output, s3 + 8); TL.Fold8(a32).StoreAt(ref output, s3 + 16); TL.Fold8(a33).StoreAt(ref output, s3 + 24);
    }

    /// <summary>
    /// <c>c_i[0…r) += Σ_j w_ij·y_j[0…r)</c> per sample for 4 rows c_i and 4 rows y_j, the weight of (i, j) the 8 samples at
    /// <c>w[(i·si + j·sj)·8 …]</c> (transposed when si = 1): the 16 weights stay in registers, 8 loads and 4 stores per
    /// 16 multiply-adds.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]   // its own method: inlined, the JIT spilled the 16 weights every iteration
    private static void Axpy4x4<TV, TL>(ref float w, int si, int sj, ref float y, int r, ref float c)
        where TV : struct where TL : struct, ILanes<TV>
    {
        nuint i1 = (nuint)(si * Group), i2 = 2 * i1, i3 = 3 * i1, j1 = (nuint)(sj * Group), j2 = 2 * j1, j3 = 3 * j1;
        TV w00 = TL.Repeat8(Mem.Load256(ref w, 0)), w01 = TL.Repeat8(Mem.Load256(ref w, j1)), w02 = TL.Repeat8(Mem.Load256(ref w, j2)), w03 = TL.Repeat8(Mem.Load256(ref w, j3));
        TV w10 = TL.Repeat8(Mem.Load256(ref w, i1)), w11 = TL.Repeat8(Mem.Load256(ref w, i1 + j1)), w12 = TL.Repeat8(Mem.Load256(ref w, i1 + j2)), w13 = TL.Repeat8(Mem.Load256(ref w, i1 + j3));
        TV w20 = TL.Repeat8(Mem.Load256(ref w, i2)), w21 = TL.Repeat8(Mem.Load256(ref w, i2 + j1)), w22 = TL.Repeat8(Mem.Load256(ref w, i2 + j2)), w23 = TL.Repeat8(Mem.Load256(ref w, i2 + j3));
        TV w30 = TL.Repeat8(Mem.Load256(ref w, i3)), w31 = TL.Repeat8(Mem.Load256(ref w, i3 + j1)), w32 = TL.Repeat8(Mem.Load256(ref w, i3 + j2)), w33 = TL.Repeat8(Mem.Load256(ref w, i3 + j3));
        nuint r1 = (nuint)r, r2 = 2 * r1, r3 = 3 * r1;
        for (nuint k = 0; k < r1; k += (nuint)TL.Count)
        {
            var y0 = TL.Load(ref y, k); var y1 = TL.Load(ref y, r1 + k); var y2 = TL.Load(ref y, r2 + k); var y3 = TL.Load(ref y, r3 + k);
            TL.Store(TL.Fma(w03, y3, TL.Fma(w02, y2, TL.Fma(w01, y1, TL.Fma(w00, y0, TL.Load(ref c, k))))), ref c, k);
            TL.Store(TL.Fma(w13, y3, TL.Fma(w12, y2, TL.Fma(w11, y1, TL.Fma(w10, y0, TL.Load(ref c, r1 + k))))), ref c, r1 + k);
            TL.Store(TL.Fma(w23, y3, TL.Fma(w22, y2, TL.Fma(w21, y1, TL.Fma(w20, y0, TL.Load(ref c, r2 + k))))), ref c, r2 + k);
            TL.Store(TL.Fma(w33, y3, TL.Fma(w32, y2, TL.Fma(w31, y1, TL.Fma(w30, y0, TL.Load(ref c, r3 + k))))), ref c, r3 + k);
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
                var e = VectorExp.Exp(Mem.Load512(ref a, (nuint)i) - sh);
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
                var e = VectorExp.Exp(Mem.Load256(ref a, (nuint)i) - sh);
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
