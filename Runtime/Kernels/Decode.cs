using System;
using System.Buffers;
using System.ComponentModel;
using System.Runtime.CompilerServices;

namespace ModelGen.Kernels;

/// <summary>
/// One step of incremental decoding: column <c>t</c> of each layer's batch-1 panel <c>[F, T]</c> (feature f of step u at
/// <c>f·T + u</c>), computed from column t of its inputs — and, for attention, from the columns <c>0 … t</c> of its
/// q/k/v panel, which stay in the workspace from step to step: that panel is the KV cache. Each step costs one pass over
/// the weights (matrix-vector products) plus <c>O(t)</c> per attention head, instead of a forward over all t steps.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Decode
{
    /// <summary><c>y[d, t] = table[id, d]</c> for the id held at column t of the input panel <c>[1, T]</c>.</summary>
    public static void Embedding(ref float ids, int steps, int t, ref float table, int dim, ref float y, bool maskZero, ref float mask)
    {
        int id = (int)Mem.Add(ref ids, t);
        bool real = !maskZero || id != 0;
        if (maskZero) Mem.Add(ref mask, t) = real ? 1f : 0f;
        for (int d = 0; d < dim; d++) Mem.Add(ref y, (nint)d * steps + t) = real ? Mem.Add(ref table, (nint)id * dim + d) : 0f;
    }

    /// <summary><c>y[d, t] = x[d, t] + table[t, d]</c>.</summary>
    public static void Positions(ref float x, ref float table, int dim, int steps, int t, ref float y)
    {
        for (int d = 0; d < dim; d++)
        {
            nint at = (nint)d * steps + t;
            Mem.Add(ref y, at) = Mem.Add(ref x, at) + Mem.Add(ref table, (nint)t * dim + d);
        }
    }

    /// <summary>Layer norm of column t (the same arithmetic as <see cref="Kernels.LayerNorm"/>'s scalar path).</summary>
    public static void LayerNorm(ref float x, int features, int steps, int t, ref float gamma, ref float beta, float eps, ref float y)
    {
        float sum = 0f, inv = 1f / features;
        for (int f = 0; f < features; f++) sum += Mem.Add(ref x, (nint)f * steps + t);
        float mean = sum * inv, sq = 0f;
        for (int f = 0; f < features; f++) { float d = Mem.Add(ref x, (nint)f * steps + t) - mean; sq = MathF.FusedMultiplyAdd(d, d, sq); }
        float r = 1f / MathF.Sqrt(sq * inv + eps);
        for (int f = 0; f < features; f++)
        {
            nint at = (nint)f * steps + t;
            Mem.Add(ref y, at) = MathF.FusedMultiplyAdd((Mem.Add(ref x, at) - mean) * r, Mem.Add(ref gamma, f), Mem.Add(ref beta, f));
        }
    }

    /// <summary>A dense layer on column t: <c>y[o, t] = act(Σ_i W[o, i]·x[i, t] + bias[o])</c> (W <c>[units, inputs]</c>), one
    /// pass over W with the column gathered into contiguous memory; a softmax activation is applied by the caller.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Dense(ref float w, int inputs, int units, ref float bias, ref float x, int steps, int t, ref float y, Activation f, float alpha, SimdWidth width)
    {
        float[]? rented = inputs > 1024 ? ArrayPool<float>.Shared.Rent(inputs) : null;
        Span<float> col = rented is null ? stackalloc float[inputs] : rented.AsSpan(0, inputs);
        for (int i = 0; i < inputs; i++) col[i] = Mem.Add(ref x, (nint)i * steps + t);
        var weights = System.Runtime.InteropServices.MemoryMarshal.CreateReadOnlySpan(ref w, checked(inputs * units));
        for (int o = 0; o < units; o++)
        {
            float z = VectorOps.Dot(weights.Slice(o * inputs, inputs), col, width) + Mem.Add(ref bias, o);
            Mem.Add(ref y, (nint)o * steps + t) = Activations.F(f, alpha, z);
        }
        if (rented is not null) ArrayPool<float>.Shared.Return(rented);
    }

    /// <summary>An element-wise activation on column t.</summary>
    public static void Activate(Activation f, float alpha, ref float x, int rows, int steps, int t, ref float y)
    {
        for (int r = 0; r < rows; r++) { nint at = (nint)r * steps + t; Mem.Add(ref y, at) = Activations.F(f, alpha, Mem.Add(ref x, at)); }
    }

    /// <summary>GELU on column t.</summary>
    public static void Gelu(bool tanh, ref float x, int rows, int steps, int t, ref float y)
    {
        for (int r = 0; r < rows; r++) { nint at = (nint)r * steps + t; Mem.Add(ref y, at) = Kernels.Gelu.Scalar(tanh, Mem.Add(ref x, at)); }
    }

    /// <summary><c>y[:, t] = a[:, t] + b[:, t]</c>.</summary>
    public static void Add(ref float a, ref float b, int rows, int steps, int t, ref float y)
    {
        for (int r = 0; r < rows; r++) { nint at = (nint)r * steps + t; Mem.Add(ref y, at) = Mem.Add(ref a, at) + Mem.Add(ref b, at); }
    }

    /// <summary><c>y[:, t] = x[:, t]</c> (dropout at inference).</summary>
    public static void Copy(ref float x, int rows, int steps, int t, ref float y)
    {
        for (int r = 0; r < rows; r++) { nint at = (nint)r * steps + t; Mem.Add(ref y, at) = Mem.Add(ref x, at); }
    }

    /// <summary>
    /// Causal attention for the query at step t against the keys and values of steps <c>0 … t</c> (the cache): per head,
    /// <c>s_u = q·k_u/√d</c> accumulated over the head's channels with the steps in the vector lanes (a row of the panel
    /// holds one channel of every step, contiguous), softmax, then <c>o_j = Σ_u p_u·v_u[j]</c> as dot products over the
    /// steps. <paramref name="scratch"/> holds at least T floats.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Attention(ref float qkv, int steps, int channels, int heads, int t, ref float o, Span<float> scratch, SimdWidth width)
    {
        int d = channels / heads, n = t + 1;
        float scale = 1f / MathF.Sqrt(d);
        var s = scratch.Slice(0, n);
        var panel = System.Runtime.InteropServices.MemoryMarshal.CreateReadOnlySpan(ref qkv, checked(3 * channels * steps));
        for (int h = 0; h < heads; h++)
        {
            s.Clear();
            for (int j = 0; j < d; j++)
            {
                int row = h * d + j;
                float q = panel[row * steps + t] * scale;
                VectorOps.Axpy(q, panel.Slice((channels + row) * steps, n), s, width);
            }
            float m = float.NegativeInfinity, z = 0f;
            for (int u = 0; u < n; u++) m = MathF.Max(m, s[u]);
            for (int u = 0; u < n; u++) { float e = MathF.Exp(s[u] - m); s[u] = e; z += e; }
            float inv = 1f / z;
            for (int j = 0; j < d; j++)
            {
                int row = h * d + j;
                Mem.Add(ref o, (nint)row * steps + t) = VectorOps.Dot(s, panel.Slice((2 * channels + row) * steps, n), width) * inv;
            }
        }
    }
}
