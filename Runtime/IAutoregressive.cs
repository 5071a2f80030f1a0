using System;

namespace ModelGen;

/// <summary>
/// A generated network that generates token by token with a KV cache (token ids in, causal attention, logits per step
/// out): <see cref="Append"/> costs one pass over the weights plus <c>O(t)</c> attention at step t, instead of a forward
/// over the whole prefix. <see cref="Text.Sampling.Generate"/> samples from it.
/// </summary>
public interface IAutoregressive : INetwork
{
    /// <summary>The most tokens the cache holds (the network's sequence length).</summary>
    int ContextLength { get; }

    /// <summary>Logits per step.</summary>
    int Vocabulary { get; }

    /// <summary>Tokens appended since the last <see cref="ResetCache"/>.</summary>
    int CachedTokens { get; }

    /// <summary>Empties the cache.</summary>
    void ResetCache();

    /// <summary>Appends a token at step <see cref="CachedTokens"/> and writes the next token's logits.</summary>
    void Append(int token, Span<float> logits);
}
