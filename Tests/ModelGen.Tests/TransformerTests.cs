using System;
using System.Linq;
using ModelGen.Kernels;
using ModelGen.Tests.Models;
using Xunit;

namespace ModelGen.Tests;

/// <summary>The Transformer's pieces beyond the gradient checks: the attention kernel over several key tiles (the online
/// softmax's rescaling) against a double-precision definition and its central differences, and causality — a later
/// token never changes an earlier output.</summary>
public sealed class TransformerTests
{
    public static TheoryData<SimdWidth> Widths => new() { SimdWidth.Scalar, SimdWidth.V256, SimdWidth.V512 };

    /// <summary>Per width: T, C, heads, samples. Three samples take the per-sample kernel; 8 and 16 the blocked kernel
    /// (one and two groups of 8 in the lanes), with odd head sizes (256-bit registers under V512) and even ones.</summary>
    public static TheoryData<SimdWidth, int, int, int, int> KernelCases()
    {
        var data = new TheoryData<SimdWidth, int, int, int, int>();
        foreach (var w in new[] { SimdWidth.Scalar, SimdWidth.V256, SimdWidth.V512 })
            foreach (int n in new[] { 3, 8, 16 })
            {
                data.Add(w, 130, 10, 2, n);   // three key tiles, head size 5
                data.Add(w, 7, 4, 4, n);      // head size 1, T not a multiple of the blocks of 4
                data.Add(w, 21, 48, 3, n);    // head size 16: whole vectors
            }
        return data;
    }

    /// <summary>o per head by the definition, in double, for one sample of a sample-major <c>[T, 3C]</c>.</summary>
    private static double[] Reference(double[] qkv, int T, int c, int heads)
    {
        int d = c / heads, f = 3 * c;
        var o = new double[T * c];
        for (int h = 0; h < heads; h++)
            for (int t = 0; t < T; t++)
            {
                var s = new double[t + 1];
                for (int u = 0; u <= t; u++)
                {
                    for (int j = 0; j < d; j++) s[u] += qkv[t * f + h * d + j] * qkv[u * f + c + h * d + j];
                    s[u] /= Math.Sqrt(d);
                }
                double m = s.Max(), z = s.Sum(v => Math.Exp(v - m));
                for (int j = 0; j < d; j++)
                    for (int u = 0; u <= t; u++) o[t * c + h * d + j] += Math.Exp(s[u] - m) / z * qkv[u * f + 2 * c + h * d + j];
            }
        return o;
    }

    /// <summary>T = 130 runs over three key tiles of 64 (the running maximum grows across them: the scores rise with the
    /// key index); head size 5 leaves vector tails; n samples in a panel of 17 columns per step.</summary>
    [Theory]
    [MemberData(nameof(KernelCases))]
    public void Attention_over_several_key_tiles_matches_the_definition_and_its_derivatives(SimdWidth width, int T, int c, int heads, int n)
    {
        if (!Simd.IsSupported(width)) return;
        const int ld = 17;
        int f = 3 * c;
        var rng = new Rng(4);
        var samples = new double[n][];
        for (int s = 0; s < n; s++)
        {
            samples[s] = new double[T * f];
            for (int t = 0; t < T; t++)
                for (int r = 0; r < f; r++)
                    samples[s][t * f + r] = rng.NextGaussian() * 0.7 + (r >= c && r < 2 * c ? 0.02 * t : 0);   // keys drift: later tiles score higher
        }
        var panel = new float[f * T * ld];
        panel.AsSpan().Fill(float.NaN);   // the padding columns: a kernel that mixed lanes would spread it
        for (int s = 0; s < n; s++)
            for (int t = 0; t < T; t++)
                for (int r = 0; r < f; r++) panel[(r * T + t) * ld + s] = (float)samples[s][t * f + r];
        var o = new float[c * T * ld];
        o.AsSpan().Fill(float.NaN);
        var lse = new float[heads * T * ld];
        var scratch = new float[Attention.ScratchFloats(T, c / heads, backward: true)];
        Attention.Forward(ref panel[0], T, c, heads, ld, n, 0, heads, ref o[0], ref lse[0], scratch, width);
        for (int s = 0; s < ld; s++)
        {
            var want = s < n ? Reference(samples[s], T, c, heads) : new double[T * c];
            for (int t = 0; t < T; t++)
                for (int j = 0; j < c; j++)
                    Assert.True(Math.Abs(o[(j * T + t) * ld + s] - want[t * c + j]) < 2e-5, $"o[sample {s}, step {t}, channel {j}] = {o[(j * T + t) * ld + s]}, want {want[t * c + j]}");
        }

        // Backward of L = Σ o ⊙ R against central differences of the double definition, on 60 random entries of q, k and v.
        var weights = new double[n][];
        var dout = new float[c * T * ld];
        for (int s = 0; s < n; s++)
        {
            weights[s] = Enumerable.Range(0, T * c).Select(_ => rng.NextGaussian()).ToArray();
            for (int t = 0; t < T; t++) for (int j = 0; j < c; j++) dout[(j * T + t) * ld + s] = (float)weights[s][t * c + j];
        }
        var dqkv = new float[f * T * ld];
        dqkv.AsSpan().Fill(float.NaN);
        Attention.Backward(ref panel[0], ref o[0], ref lse[0], ref dout[0], T, c, heads, ld, n, 0, heads, ref dqkv[0], scratch, width);
        for (int k = 0; k < 60; k++)
        {
            int s = rng.NextInt(n), t = rng.NextInt(T), r = rng.NextInt(f);
            var x = (double[])samples[s].Clone();
            const double h = 1e-5;
            x[t * f + r] += h;
            double up = Reference(x, T, c, heads).Zip(weights[s], (a, b) => a * b).Sum();
            x[t * f + r] -= 2 * h;
            double down = Reference(x, T, c, heads).Zip(weights[s], (a, b) => a * b).Sum();
            double numeric = (up - down) / (2 * h), got = dqkv[(r * T + t) * ld + s];
            Assert.True(Math.Abs(got - numeric) <= 1e-3 + 1e-3 * Math.Abs(numeric), $"dqkv[sample {s}, step {t}, row {r}] = {got}, central difference {numeric}");
        }
        for (int r = 0; r < f; r++)
            for (int t = 0; t < T; t++)
                for (int s = n; s < ld; s++) Assert.Equal(0f, dqkv[(r * T + t) * ld + s]);   // padding columns cleared
    }

    /// <summary>Changing the token at step t (and everything after it) leaves every output before t bit for bit as it was:
    /// the causal mask holds through embeddings, layer norms, attention, the MLP and the residual adds.</summary>
    [Theory]
    [MemberData(nameof(Widths))]
    public void A_later_token_never_changes_an_earlier_output(SimdWidth width)
    {
        if (!Simd.IsSupported(width)) return;
        using var net = new GcGptBlock(8, 3) { Width = width };
        const int T = 5, V = 7;
        foreach (int batch in new[] { 1, 3 })
            for (int t = 0; t < T; t++)
            {
                var rng = new Rng((ulong)(10 * t + batch));
                var x = Enumerable.Range(0, batch * T).Select(_ => (float)rng.NextInt(V)).ToArray();
                var y = new float[batch * T * V];
                net.Predict(x, y);
                for (int b = 0; b < batch; b++)
                    for (int u = t; u < T; u++) x[b * T + u] = (x[b * T + u] + 1 + rng.NextInt(V - 1)) % V;
                var z = new float[y.Length];
                net.Predict(x, z);
                for (int b = 0; b < batch; b++)
                {
                    Assert.Equal(y.AsSpan(b * T * V, t * V).ToArray(), z.AsSpan(b * T * V, t * V).ToArray());
                    Assert.NotEqual(y.AsSpan((b * T + t) * V, V).ToArray(), z.AsSpan((b * T + t) * V, V).ToArray());
                }
            }
    }
}

/// <summary>Incremental decoding with the KV cache: each appended token gives the logits <c>Predict</c> gives at that
/// step, the cache's limits are errors that say what to do, and sampling follows its definition.</summary>
public sealed class DecodingTests
{
    [Theory]
    [InlineData(SimdWidth.Scalar)]
    [InlineData(SimdWidth.V256)]
    [InlineData(SimdWidth.V512)]
    public void Each_appended_token_gives_the_logits_of_a_whole_forward(SimdWidth width)
    {
        if (!Simd.IsSupported(width)) return;
        using var net = new GcGptBlock(4, 11) { Width = width };
        const int T = 5, V = 7;
        var rng = new Rng(2);
        foreach (var t in net.Tensors.Where(t => !t.IsWeight))
            for (int i = 0; i < t.Length; i++) net.Parameters[t.Offset + i] = (float)(rng.NextGaussian() * 0.3);
        var tokens = Enumerable.Range(0, T).Select(_ => rng.NextInt(V)).ToArray();
        var whole = new float[T * V];
        net.Predict(tokens.Select(x => (float)x).ToArray(), whole);
        Assert.Equal(T, net.ContextLength);
        Assert.Equal(V, net.Vocabulary);
        var logits = new float[V];
        for (int step = 0; step < T; step++)
        {
            net.Append(tokens[step], logits);
            Assert.Equal(step + 1, net.CachedTokens);
            for (int v = 0; v < V; v++)
                Assert.True(Math.Abs(logits[v] - whole[step * V + v]) <= 1e-5f * (1 + Math.Abs(whole[step * V + v])), $"step {step}, logit {v}: {logits[v]} vs {whole[step * V + v]}");
        }
        // Full: an error that says what to do; after ResetCache the same tokens give the same logits again.
        var e = Assert.Throws<InvalidOperationException>(() => net.Append(0, logits));
        Assert.Contains("ResetCache", e.Message);
        net.ResetCache();
        var again = new float[V];
        net.Append(tokens[0], again);
        Assert.Equal(whole.AsSpan(0, V).ToArray(), again.Select((x, i) => x).ToArray(), new Tolerance(1e-5f));
        // Changed parameters make the cached keys and values stale.
        net.Parameters[0] += 0.5f;
        net.Step(new ModelGen.Training.Sgd(0f));
        e = Assert.Throws<InvalidOperationException>(() => net.Append(1, logits));
        Assert.Contains("parameters changed", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => { net.ResetCache(); net.Append(V, logits); });
        Assert.Throws<ArgumentException>(() => net.Append(1, new float[V + 1]));
    }

    [Fact]
    public void Appending_allocates_nothing()
    {
        using var net = new GcGptBlock(1, 5);
        var logits = new float[7];
        net.Append(1, logits);   // warm: the cache's workspace is made on first use
        net.ResetCache();
        net.Append(1, logits);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int t = 1; t < 5; t++) net.Append(t, logits);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Sampling_follows_the_temperature_and_top_k()
    {
        float[] logits = { 1f, 3f, 2f, -1f, 3f - 1e-3f };
        var rng = new Rng(8);
        Assert.Equal(1, ModelGen.Text.Sampling.Sample(logits, 0f, 0, ref rng));   // greedy
        Assert.Equal(1, ModelGen.Text.Sampling.Sample(logits, 1f, 1, ref rng));   // top-1
        var counts = new int[logits.Length];
        const int draws = 200_000;
        for (int i = 0; i < draws; i++) counts[ModelGen.Text.Sampling.Sample(logits, 0.5f, 3, ref rng)]++;
        Assert.Equal(0, counts[0] + counts[3]);   // outside the top 3
        double z = new[] { 1, 2, 4 }.Sum(i => Math.Exp(logits[i] / 0.5));
        foreach (int i in new[] { 1, 2, 4 })
            Assert.True(Math.Abs(counts[i] / (double)draws - Math.Exp(logits[i] / 0.5) / z) < 0.005, $"token {i}: {counts[i] / (double)draws}");
        Assert.Throws<ArgumentOutOfRangeException>(() => ModelGen.Text.Sampling.Sample(logits, -1f, 0, ref rng));
    }

    [Fact]
    public void Generation_is_deterministic_for_a_seed_and_slides_past_the_context()
    {
        using var net = new GcGptBlock(1, 9);
        var a = new int[12];
        var b = new int[12];
        ModelGen.Text.Sampling.Generate(net, new[] { 1, 2, 3 }, a, temperature: 1f, topK: 4, seed: 5);   // 3 + 12 > T = 5: slides
        ModelGen.Text.Sampling.Generate(net, new[] { 1, 2, 3 }, b, temperature: 1f, topK: 4, seed: 5);
        Assert.Equal(a, b);
        Assert.All(a, x => Assert.InRange(x, 0, 6));
    }
}

/// <summary>Training and predicting at exactly <c>maxBatch</c>, where the panels' per-step stride (n + 1) is widest: the
/// workspace holds it (the checked build names any buffer overrun).</summary>
public sealed class WidestPanelTests
{
    [Theory]
    [InlineData(16)]
    [InlineData(8)]
    [InlineData(24)]
    public void A_full_batch_fits_the_workspace(int maxBatch)
    {
        using var net = new GcGpt16(maxBatch, 1);
        var rng = new Rng(3);
        var x = Enumerable.Range(0, maxBatch * 16).Select(_ => (float)rng.NextInt(5)).ToArray();
        var labels = Enumerable.Range(0, maxBatch * 16).Select(_ => rng.NextInt(5)).ToArray();
        float loss = net.TrainStep(x, labels, new ModelGen.Training.AdamW(1e-3f));
        Assert.True(float.IsFinite(loss));
        var y = new float[maxBatch * 16 * 5];
        net.Predict(x, y);
        Assert.All(y, v => Assert.True(float.IsFinite(v)));
    }
}

/// <summary>Weight tying: one tensor, counted and saved once under the embedding's name, read by both layers.</summary>
public sealed class TyingTests : IDisposable
{
    private readonly string _dir = System.IO.Directory.CreateTempSubdirectory("modelgen-tie-").FullName;
    public void Dispose() => System.IO.Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_tied_head_shares_the_embedding_table()
    {
        using var net = new GcTiedGpt(3, 7);
        Assert.DoesNotContain(net.Tensors, t => t.Name == "Head.weight");
        Assert.Equal(GcTiedGpt.ParameterCount, net.Tensors.Where(t => !t.IsBuffer).Sum(t => t.Length));
        Assert.Equal(6 * 5 + 4 * 5 + 15 * 5 + 15 + 5 + 5 + 6, GcTiedGpt.ParameterCount);   // Tok, Pos, Qkv, N, Head.bias
        var head = net.Layers.Single(l => l.Name == "Head");
        Assert.Equal("Tok.weight", Assert.Single(head.Tensors, t => t.Name.EndsWith(".weight", StringComparison.Ordinal)).Name);
        Assert.Equal(6, head.ParameterCount);   // its bias: the table is Tok's
        Assert.Equal(GcTiedGpt.ParameterCount, net.Layers.Sum(l => l.ParameterCount));
        // Changing the table changes the head's logits.
        var x = new float[] { 1, 2, 3, 4 };
        var y0 = new float[4 * 6];
        var y1 = new float[4 * 6];
        net.Predict(x, y0);
        var tok = net.Tensors.Single(t => t.Name == "Tok.weight");
        net.Parameters[tok.Offset + 5 * 5 + 2] += 1f;   // row 5 is never an input here: only the head reads it
        net.Step(new ModelGen.Training.Sgd(0f));          // tell the model its parameters changed
        net.Predict(x, y1);
        for (int t = 0; t < 4; t++) Assert.NotEqual(y0[t * 6 + 5], y1[t * 6 + 5]);
        // Saved once, loaded back whole.
        string path = System.IO.Path.Combine(_dir, "tied.safetensors");
        net.Save(path);
        using var back = GcTiedGpt.FromFile(path, maxBatch: 3);
        var y2 = new float[y1.Length];
        back.Predict(x, y2);
        Assert.Equal(y1, y2);
    }

    /// <summary>Two threads appending to (and, when it is full, resetting) one model's cache at once: each call either
    /// does its work or says another thread is appending — never a corrupted cache or another error (a reset racing an
    /// append once reached the attention step with a step index past the cache) — a Predict beside them is unaffected,
    /// and afterwards the cache still gives a whole forward's logits.</summary>
    [Fact]
    public void Concurrent_appends_are_refused_with_a_clear_error_and_leave_the_cache_whole()
    {
        using var net = new GcGptBlock(1, 13);
        const int T = 5, V = 7;
        var tokens = new float[] { 1, 4, 2, 6, 3 };
        var whole = new float[T * V];
        net.Predict(tokens, whole);
        int refused = 0, appended = 0;
        var failures = new System.Collections.Concurrent.ConcurrentBag<Exception>();
        var threads = Enumerable.Range(0, 2).Select(k => new System.Threading.Thread(() =>
        {
            var logits = new float[V];
            for (int i = 0; i < 2000; i++)
                try
                {
                    net.Append(k + 1, logits);
                    System.Threading.Interlocked.Increment(ref appended);
                }
                catch (InvalidOperationException e) when (e.Message.Contains("another thread is appending"))
                {
                    System.Threading.Interlocked.Increment(ref refused);
                }
                catch (InvalidOperationException e) when (e.Message.Contains("ResetCache"))
                {
                    try { net.ResetCache(); }   // full: start again (refused too while the other thread appends)
                    catch (InvalidOperationException f) when (f.Message.Contains("another thread is appending")) { System.Threading.Interlocked.Increment(ref refused); }
                    catch (Exception f) { failures.Add(f); }
                }
                catch (Exception e) { failures.Add(e); }
        })).ToArray();
        foreach (var t in threads) t.Start();
        var y = new float[T * V];
        for (int i = 0; i < 50; i++) { net.Predict(tokens, y); Assert.Equal(whole, y); }   // Predict has its own workspace
        foreach (var t in threads) t.Join();
        Assert.Empty(failures);
        Assert.True(appended > 0, "no append went through");
        net.ResetCache();
        var step = new float[V];
        for (int t = 0; t < T; t++)
        {
            net.Append((int)tokens[t], step);
            Assert.Equal(whole.AsSpan(t * V, V).ToArray(), step, new Tolerance(1e-5f));
        }
    }

    /// <summary>A <c>[TransformerBlock]</c> is its ten layers written out: the same layers, names, shapes and tensors, and
    /// from the same parameters bit-identical predictions and training steps (its [L2] reaching the layers with weights),
    /// at one sample and at three; the member itself is the block's output, the second residual add.</summary>
    [Fact]
    public void A_declared_block_is_its_ten_layers_written_out()
    {
        using var declared = new BlockDeclared(3, 1);
        using var written = new BlockExplicit(3, 1);
        Assert.Equal(written.Layers.Select(l => (l.Name, l.Type, string.Join(",", l.OutputShape), l.ParameterCount)),
            declared.Layers.Select(l => (l.Name, l.Type, string.Join(",", l.OutputShape), l.ParameterCount)));
        Assert.Equal(written.Tensors.Select(t => (t.Name, t.Offset, t.Length)), declared.Tensors.Select(t => (t.Name, t.Offset, t.Length)));
        Assert.Equal(("B", LayerType.Add), (declared.B.Name, declared.B.Type));
        var rng = new Rng(8);
        for (int i = 0; i < declared.Parameters.Length; i++) declared.Parameters[i] = written.Parameters[i] = (float)(rng.NextGaussian() * 0.4);
        foreach (int batch in new[] { 1, 3 })
        {
            var x = Enumerable.Range(0, batch * 5).Select(_ => (float)rng.NextInt(7)).ToArray();
            var labels = Enumerable.Range(0, batch * 5).Select(_ => rng.NextInt(7)).ToArray();
            float[] y1 = new float[batch * 35], y2 = new float[batch * 35];
            declared.Predict(x, y1);
            written.Predict(x, y2);
            Assert.Equal(y2, y1);
            NetworkExtensions.TrainStep(declared, x, labels, new ModelGen.Training.Sgd(0.1f));
            NetworkExtensions.TrainStep(written, x, labels, new ModelGen.Training.Sgd(0.1f));
            Assert.Equal(written.Parameters.ToArray(), declared.Parameters.ToArray());
        }
    }
}

internal sealed class Tolerance(float tol) : System.Collections.Generic.IEqualityComparer<float>
{
    public bool Equals(float x, float y) => Math.Abs(x - y) <= tol * (1 + Math.Abs(y));
    public int GetHashCode(float obj) => 0;
}
