using System;

namespace ModelGen.Text;

/// <summary>Sampling the next token from logits, and generation with a KV cache.</summary>
public static class Sampling
{
    /// <summary>
    /// A token drawn from <c>softmax(logits / temperature)</c> restricted to the <paramref name="topK"/> largest logits
    /// (0: all); temperature 0 takes the largest (greedy). Allocates nothing for vocabularies up to 4096.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The temperature is negative or not finite, or topK is negative.</exception>
    public static int Sample(ReadOnlySpan<float> logits, float temperature, int topK, ref Rng rng)
    {
        if (logits.IsEmpty) throw new ArgumentException("no logits", nameof(logits));
        if (!(temperature >= 0f) || float.IsInfinity(temperature)) throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "the temperature must be finite and ≥ 0");
        if (topK < 0) throw new ArgumentOutOfRangeException(nameof(topK), topK, "topK must be ≥ 0 (0: every token)");
        int best = 0;
        for (int i = 1; i < logits.Length; i++) if (logits[i] > logits[best]) best = i;
        if (temperature == 0f) return best;
        // The k-th largest logit is the cut: tokens below it are never drawn (ties at the cut are kept).
        float cut = float.NegativeInfinity;
        if (topK > 0 && topK < logits.Length)
        {
            float[]? rented = logits.Length > 4096 ? new float[logits.Length] : null;
            Span<float> sorted = rented ?? stackalloc float[logits.Length];
            logits.CopyTo(sorted);
            sorted.Sort();
            cut = sorted[logits.Length - topK];
        }
        double max = logits[best], sum = 0;
        for (int i = 0; i < logits.Length; i++) if (logits[i] >= cut) sum += Math.Exp((logits[i] - max) / temperature);
        double r = rng.NextDouble() * sum;
        for (int i = 0; i < logits.Length; i++)
        {
            if (logits[i] < cut) continue;
            r -= Math.Exp((logits[i] - max) / temperature);
            if (r < 0) return i;
        }
        return best;   // rounding left r ≥ 0: the most likely token
    }

    /// <summary>
    /// Appends <paramref name="prompt"/> to <paramref name="model"/>'s cache (from empty), then samples
    /// <c>output.Length</c> tokens one at a time, each appended in turn. When the cache is full it keeps the last half of
    /// the context (re-appended) and goes on, as a sliding window. Deterministic for a seed.
    /// </summary>
    /// <exception cref="ArgumentException">The prompt is empty.</exception>
    public static void Generate(this IAutoregressive model, ReadOnlySpan<int> prompt, Span<int> output, float temperature = 1f, int topK = 0, ulong seed = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (prompt.IsEmpty) throw new ArgumentException("generation needs at least one prompt token", nameof(prompt));
        int context = model.ContextLength;
        var logits = new float[model.Vocabulary];
        var window = new int[context];   // the tokens in the cache, in order
        int held = 0;
        var rng = new Rng(seed);
        model.ResetCache();
        void Push(IAutoregressive m, int token, int[] w, ref int n)
        {
            if (n == context)
            {
                // Full: keep the last half, re-appended from step 0.
                int keep = context / 2;
                Array.Copy(w, context - keep, w, 0, keep);
                n = keep;
                m.ResetCache();
                for (int i = 0; i < keep; i++) m.Append(w[i], logits);
            }
            m.Append(token, logits);
            w[n++] = token;
        }
        foreach (int token in prompt) Push(model, token, window, ref held);
        for (int i = 0; i < output.Length; i++)
        {
            output[i] = Sample(logits, temperature, topK, ref rng);
            if (i + 1 < output.Length) Push(model, output[i], window, ref held);
        }
    }
}
