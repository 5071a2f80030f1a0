using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.IO.Compression;

namespace ModelGen.Data;

/// <summary>Per-feature standardisation <c>x' = (x − μ)/σ</c> with μ, σ taken from the training set only.</summary>
public sealed class Standardizer
{
    /// <summary>Per-feature means.</summary>
    public float[] Mean { get; }
    /// <summary>Per-feature standard deviations (1 where a feature is constant).</summary>
    public float[] Std { get; }

    private Standardizer(float[] mean, float[] std) { Mean = mean; Std = std; }

    /// <summary>μ and σ of each column of row-major <paramref name="x"/> with <paramref name="width"/> columns.</summary>
    public static Standardizer Fit(ReadOnlySpan<float> x, int width)
    {
        int n = x.Length / width;
        var mean = new double[width];
        var sq = new double[width];
        for (int r = 0; r < n; r++)
            for (int i = 0; i < width; i++) { double v = x[r * width + i]; mean[i] += v; sq[i] += v * v; }
        var m = new float[width];
        var s = new float[width];
        for (int i = 0; i < width; i++)
        {
            double mu = mean[i] / n, var = Math.Max(0, sq[i] / n - mu * mu);
            m[i] = (float)mu;
            s[i] = var > 1e-12 ? (float)Math.Sqrt(var) : 1f;
        }
        return new Standardizer(m, s);
    }

    /// <summary>Standardises row-major <paramref name="x"/> in place.</summary>
    public void Apply(Span<float> x)
    {
        int w = Mean.Length;
        for (int i = 0; i < x.Length; i++) x[i] = (x[i] - Mean[i % w]) / Std[i % w];
    }

    /// <summary>Undoes <see cref="Apply"/> in place.</summary>
    public void Invert(Span<float> x)
    {
        int w = Mean.Length;
        for (int i = 0; i < x.Length; i++) x[i] = x[i] * Std[i % w] + Mean[i % w];
    }
}
