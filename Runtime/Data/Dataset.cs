using System;

namespace ModelGen.Data;

/// <summary>
/// Samples in memory: features row-major <c>[Count, FeatureSize]</c>, and either integer class labels
/// (classification) or float targets row-major <c>[Count, TargetSize]</c> (regression).
/// </summary>
public sealed class Dataset
{
    /// <summary>A classification set.</summary>
    public Dataset(float[] features, int featureSize, int[] labels)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        if (featureSize <= 0 || features.Length % featureSize != 0)
            throw new ArgumentException($"{features.Length} floats are not a whole number of {featureSize}-float samples", nameof(features));
        if (features.Length / featureSize != labels.Length)
            throw new ArgumentException($"{features.Length / featureSize} samples but {labels.Length} labels", nameof(labels));
        Features = features; FeatureSize = featureSize; Labels = labels; Count = labels.Length;
    }

    /// <summary>A regression set.</summary>
    public Dataset(float[] features, int featureSize, float[] targets, int targetSize)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(targets);
        if (featureSize <= 0 || features.Length % featureSize != 0)
            throw new ArgumentException($"{features.Length} floats are not a whole number of {featureSize}-float samples", nameof(features));
        if (targetSize <= 0 || targets.Length != features.Length / featureSize * targetSize)
            throw new ArgumentException($"{features.Length / featureSize} samples need {features.Length / featureSize * targetSize} targets, got {targets.Length}", nameof(targets));
        Features = features; FeatureSize = featureSize; Targets = targets; TargetSize = targetSize; Count = features.Length / featureSize;
    }

    /// <summary>Number of samples.</summary>
    public int Count { get; }
    /// <summary>Floats per sample.</summary>
    public int FeatureSize { get; }
    /// <summary>Row-major features.</summary>
    public float[] Features { get; }
    /// <summary>Class labels, or null for a regression set.</summary>
    public int[]? Labels { get; }
    /// <summary>Row-major float targets, or null for a classification set.</summary>
    public float[]? Targets { get; }
    /// <summary>Floats per target (0 for classification).</summary>
    public int TargetSize { get; }

    /// <summary>Samples <c>[start, start + count)</c> as a new set (copied).</summary>
    public Dataset Slice(int start, int count)
    {
        if (start < 0 || count < 0 || start + count > Count)
            throw new ArgumentOutOfRangeException(nameof(start), $"[{start}, {start + count}) is outside the {Count} samples");
        var f = Features.AsSpan(start * FeatureSize, count * FeatureSize).ToArray();
        return Labels is not null
            ? new Dataset(f, FeatureSize, Labels.AsSpan(start, count).ToArray())
            : new Dataset(f, FeatureSize, Targets!.AsSpan(start * TargetSize, count * TargetSize).ToArray(), TargetSize);
    }
}
