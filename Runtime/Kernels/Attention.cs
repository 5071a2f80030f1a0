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

    /// <summary>Floats of scratch one call needs: the forward's tiles, or the backward's.</summary>
    public static int ScratchFloats(int steps, int headDim, bool backward) => backward ? 9 * steps * headDim + steps + 2 * KeyTile : 4 * steps * headDim + KeyTile;

    /// <summary>The forward for samples <c>s0 … s1 − 1</c> (padding columns <c>n … ld − 1</c> of the output set to 0 by the
    /// part that owns sample 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(ref float qkv, int steps, int channels, int heads, int ld, int n, int s0, int s1, ref float o, ref float lse, Span<float> scratch, SimdWidth width)
    {
        int d = channels / heads, T = steps;
        if (scratch.Length < ScratchFloats(T, d, false)) throw new ArgumentException($"attention scratch holds {scratch.Length} floats, the forward needs {ScratchFloats(T, d, false)}");
        nint row = (nint)T * ld;
        float scale = 1f / MathF.Sqrt(d);
        var q = scratch.Slice(0, T * d);
        var kT = scratch.Slice(T * d, T * d);
        var v = scratch.Slice(2 * T * d, T * d);
        var acc = scratch.Slice(3 * T * d, d);
        var p = scratch.Slice(4 * T * d, KeyTile);
        for (int s = s0; s < s1; s++)
            for (int h = 0; h < heads; h++)
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
                        int u1 = Math.Min(u0 + KeyTile, t + 1);
                        Scores(qt, kT, T, u0, u1, p, width);
                        float mt = m;
                        for (int u = 0; u < u1 - u0; u++) mt = MathF.Max(mt, p[u]);
                        float rescale = MathF.Exp(m - mt);   // 0 on the first tile (m = −∞)
                        l *= rescale;
                        VectorOps.Scale(acc, rescale, width);
                        for (int u = 0; u < u1 - u0; u++)
                        {
                            float e = MathF.Exp(p[u] - mt);
                            l += e;
                            VectorOps.Axpy(e, v.Slice((u0 + u) * d, d), acc, width);
                        }
                        m = mt;
                    }
                    float inv = 1f / l;
                    nint col = (nint)t * ld + s;
                    for (int j = 0; j < d; j++) Mem.Add(ref o, (h * d + j) * row + col) = acc[j] * inv;
                    Mem.Add(ref lse, ((nint)h * T + t) * ld + s) = m + MathF.Log(l);
                }
            }
        if (s0 == 0) ClearPadding(ref o, channels, T, ld, n);
    }

    /// <summary><c>p[u − u0] = q_t·k_u</c> for keys <c>u0 … u1 − 1</c>, q already scaled; kT is <c>[d, T]</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Scores(ReadOnlySpan<float> qt, ReadOnlySpan<float> kT, int T, int u0, int u1, Span<float> p, SimdWidth width)
    {
        int d = qt.Length, u = u0;
        ref float k = ref MemoryMarshal.GetReference(kT);
        ref float ps = ref MemoryMarshal.GetReference(p);
        if (width == SimdWidth.V512)
            for (; u + 16 <= u1; u += 16)
            {
                var a = Vector512<float>.Zero;
                for (int j = 0; j < d; j++) a = Vector512.FusedMultiplyAdd(Vector512.Create(qt[j]), Mem.Load512(ref Mem.Add(ref k, (nint)j * T + u)), a);
                a.StoreAt(ref Mem.Add(ref ps, u - u0));
            }
        else if (width == SimdWidth.V256)
            for (; u + 8 <= u1; u += 8)
            {
                var a = Vector256<float>.Zero;
                for (int j = 0; j < d; j++) a = Vector256.FusedMultiplyAdd(Vector256.Create(qt[j]), Mem.Load256(ref Mem.Add(ref k, (nint)j * T + u)), a);
                a.StoreAt(ref Mem.Add(ref ps, u - u0));
            }
        for (; u < u1; u++)
        {
            float a = 0f;
            for (int j = 0; j < d; j++) a = MathF.FusedMultiplyAdd(qt[j], Mem.Add(ref k, (nint)j * T + u), a);
            Mem.Add(ref ps, u - u0) = a;
        }
    }

    /// <summary>The backward for samples <c>s0 … s1 − 1 &lt; batch</c>: <c>dqkv</c> (stored, not added) from <c>do</c>, the
    /// forward's input, output and <c>lse</c>; padding columns of dqkv set to 0 by the part that owns sample 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(ref float qkv, ref float o, ref float lse, ref float dout, int steps, int channels, int heads, int ld, int batch, int s0, int s1,
        ref float dqkv, Span<float> scratch, SimdWidth width)
    {
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
        for (int s = s0; s < s1; s++)
            for (int h = 0; h < heads; h++)
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
                        int u1 = Math.Min(u0 + KeyTile, t + 1);
                        Scores(qt, kT, T, u0, u1, p, width);    // q_t·k_u/√d
                        Scores(gt, vT, T, u0, u1, dp, width);   // do_t·v_u
                        for (int u = 0; u < u1 - u0; u++)
                        {
                            float pu = MathF.Exp(p[u] - l);
                            float ds = pu * (dp[u] - dD[t]);
                            int key = u0 + u;
                            VectorOps.Axpy(ds * scale, k.Slice(key * d, d), dqt, width);
                            VectorOps.Axpy(ds, qt, dk.Slice(key * d, d), width);   // qt carries the 1/√d already
                            VectorOps.Axpy(pu, gt, dv.Slice(key * d, d), width);
                        }
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
        if (s0 == 0) ClearPadding(ref dqkv, 3 * channels, T, ld, batch);
    }

    /// <summary>Zeros columns <c>t·ld + s</c>, <c>s ≥ n</c>, of a <c>[rows, T·ld]</c> panel.</summary>
    private static void ClearPadding(ref float m, int rows, int T, int ld, int n)
    {
        if (n >= ld) return;
        nint row = (nint)T * ld;
        for (int r = 0; r < rows; r++)
            for (int t = 0; t < T; t++)
                for (int s = n; s < ld; s++) Mem.Add(ref m, r * row + (nint)t * ld + s) = 0f;
    }
}
