using System;

namespace ModelGen;

/// <summary>Parameter initialisation.</summary>
public static class Init
{
    /// <summary>He (Kaiming) normal, for layers followed by ReLU: <c>W ~ N(0, 2/fanIn)</c> (He et al. 2015).</summary>
    public static void HeNormal(Span<float> w, int fanIn, ref Rng rng)
    {
        double std = Math.Sqrt(2.0 / fanIn);
        for (int i = 0; i < w.Length; i++) w[i] = (float)(rng.NextGaussian() * std);
    }

    /// <summary>Xavier (Glorot) uniform: <c>W ~ U(−a, a)</c>, <c>a = √(6/(fanIn+fanOut))</c> (Glorot &amp; Bengio 2010).</summary>
    public static void XavierUniform(Span<float> w, int fanIn, int fanOut, ref Rng rng)
    {
        double a = Math.Sqrt(6.0 / (fanIn + fanOut));
        for (int i = 0; i < w.Length; i++) w[i] = (float)((2.0 * rng.NextDouble() - 1.0) * a);
    }

    /// <summary>Standard normal: <c>W ~ N(0, 1)</c> (PyTorch's <c>nn.Embedding</c>).</summary>
    public static void Normal(Span<float> w, ref Rng rng)
    {
        for (int i = 0; i < w.Length; i++) w[i] = (float)rng.NextGaussian();
    }
}
