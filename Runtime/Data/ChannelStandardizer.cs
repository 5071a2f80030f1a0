using System;
using System.IO;

namespace ModelGen.Data;

/// <summary>Per-channel standardisation of images <c>[C, H, W]</c>: μ and σ of each channel over every pixel of the training set.</summary>
public sealed class ChannelStandardizer
{
    /// <summary>Per-channel mean.</summary>
    public float[] Mean { get; }
    /// <summary>Per-channel standard deviation.</summary>
    public float[] Std { get; }

    private ChannelStandardizer(float[] mean, float[] std) { Mean = mean; Std = std; }

    /// <summary>Statistics of <paramref name="data"/> with <paramref name="channels"/> channels.</summary>
    public static ChannelStandardizer Fit(Dataset data, int channels)
    {
        int pixels = data.FeatureSize / channels;
        var sum = new double[channels];
        var sq = new double[channels];
        for (int i = 0; i < data.Count; i++)
            for (int c = 0; c < channels; c++)
            {
                var s = data.Features.AsSpan(i * data.FeatureSize + c * pixels, pixels);
                foreach (float v in s) { sum[c] += v; sq[c] += (double)v * v; }
            }
        var mean = new float[channels];
        var std = new float[channels];
        double n = (double)data.Count * pixels;
        for (int c = 0; c < channels; c++)
        {
            double m = sum[c] / n;
            mean[c] = (float)m;
            std[c] = (float)Math.Sqrt(Math.Max(sq[c] / n - m * m, 1e-12));
        }
        return new ChannelStandardizer(mean, std);
    }

    /// <summary>Standardises every image of <paramref name="data"/> in place.</summary>
    public void Apply(Dataset data)
    {
        int channels = Mean.Length, pixels = data.FeatureSize / channels;
        for (int i = 0; i < data.Count; i++)
            for (int c = 0; c < channels; c++)
                foreach (ref float v in data.Features.AsSpan(i * data.FeatureSize + c * pixels, pixels))
                    v = (v - Mean[c]) / Std[c];
    }
}
