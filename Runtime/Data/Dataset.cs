using System;

namespace ModelGen.Data;

/// <summary>
/// Samples in memory: features row-major <c>[Count, FeatureSize]</c>, and either integer class labels
/// (classification) or float targets row-major <c>[Count, TargetSize]</c> (regression).
/// </summary>
public sealed class Dataset
{
    /// <summary>A classification set.</summary>
    /// <exception cref="ArgumentNullException">An array is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="featureSize"/> is below 1.</exception>
    /// <exception cref="ArgumentException">The features are not a whole number of samples, or the label count differs from the sample count.</exception>
    public Dataset(float[] features, int featureSize, int[] labels) : this(features, featureSize, labels, 1) { }

    /// <summary>A classification set with <paramref name="labelsPerSample"/> labels per sample, row-major
    /// <c>[Count, labelsPerSample]</c>: one per step for a model whose output is a sequence (a language model's next
    /// token at every position; <c>−100</c> skips a step, as PyTorch's <c>ignore_index</c>).</summary>
    /// <exception cref="ArgumentNullException">An array is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="featureSize"/> or <paramref name="labelsPerSample"/> is below 1.</exception>
    /// <exception cref="ArgumentException">The features are not a whole number of samples, or the labels are not <paramref name="labelsPerSample"/> per sample.</exception>
    public Dataset(float[] features, int featureSize, int[] labels, int labelsPerSample)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        if (featureSize <= 0) throw new ArgumentOutOfRangeException(nameof(featureSize), featureSize, "a sample needs at least one feature");
        if (labelsPerSample <= 0) throw new ArgumentOutOfRangeException(nameof(labelsPerSample), labelsPerSample, "a sample needs at least one label");
        if (features.Length % featureSize != 0)
            throw new ArgumentException($"{features.Length} floats are not a whole number of {featureSize}-float samples", nameof(features));
        if ((long)features.Length / featureSize * labelsPerSample != labels.Length)
            throw new ArgumentException(labelsPerSample == 1
                ? $"{features.Length / featureSize} samples but {labels.Length} labels"
                : $"{features.Length / featureSize} samples need {features.Length / featureSize * labelsPerSample} labels ({labelsPerSample} each), got {labels.Length}", nameof(labels));
        Features = features; FeatureSize = featureSize; Labels = labels; LabelsPerSample = labelsPerSample; Count = features.Length / featureSize;
    }

    /// <summary>A regression set.</summary>
    /// <exception cref="ArgumentNullException">An array is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="featureSize"/> is below 1.</exception>
    /// <exception cref="ArgumentException">The features are not a whole number of samples, or the targets do not hold <paramref name="targetSize"/> per sample.</exception>
    public Dataset(float[] features, int featureSize, float[] targets, int targetSize)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(targets);
        if (featureSize <= 0) throw new ArgumentOutOfRangeException(nameof(featureSize), featureSize, "a sample needs at least one feature");
        if (features.Length % featureSize != 0)
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
    /// <summary>Labels per sample (1, or one per step of a sequence output; 0 for regression).</summary>
    public int LabelsPerSample { get; }

    /// <summary>Samples <c>[start, start + count)</c> as a new set (copied).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The range is not inside the set.</exception>
    public Dataset Slice(int start, int count)
    {
        if (start < 0 || count < 0 || start + count > Count)
            throw new ArgumentOutOfRangeException(nameof(start), $"[{start}, {start + count}) is outside the {Count} samples");
        var f = Features.AsSpan(start * FeatureSize, count * FeatureSize).ToArray();
        return Labels is not null
            ? new Dataset(f, FeatureSize, Labels.AsSpan(start * LabelsPerSample, count * LabelsPerSample).ToArray(), LabelsPerSample)
            : new Dataset(f, FeatureSize, Targets!.AsSpan(start * TargetSize, count * TargetSize).ToArray(), TargetSize);
    }

    /// <summary>The samples at <paramref name="indices"/>, in that order (copied).</summary>
    public Dataset Select(ReadOnlySpan<int> indices)
    {
        var f = new float[indices.Length * FeatureSize];
        for (int i = 0; i < indices.Length; i++) Features.AsSpan(indices[i] * FeatureSize, FeatureSize).CopyTo(f.AsSpan(i * FeatureSize));
        if (Labels is not null)
        {
            int k = LabelsPerSample;
            var l = new int[indices.Length * k];
            for (int i = 0; i < indices.Length; i++) Labels.AsSpan(indices[i] * k, k).CopyTo(l.AsSpan(i * k));
            return new Dataset(f, FeatureSize, l, k);
        }
        var t = new float[indices.Length * TargetSize];
        for (int i = 0; i < indices.Length; i++) Targets.AsSpan(indices[i] * TargetSize, TargetSize).CopyTo(t.AsSpan(i * TargetSize));
        return new Dataset(f, FeatureSize, t, TargetSize);
    }

    /// <summary>A fixed, seeded random split: the first <paramref name="trainFraction"/> of a shuffled order for training.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="trainFraction"/> is not in (0, 1).</exception>
    public (Dataset Train, Dataset Test) Split(double trainFraction, ulong seed)
    {
        if (!(trainFraction > 0 && trainFraction < 1)) throw new ArgumentOutOfRangeException(nameof(trainFraction), trainFraction, "must be in (0, 1)");
        var order = new int[Count];
        for (int i = 0; i < Count; i++) order[i] = i;
        var rng = new Rng(seed);
        rng.Shuffle(order);
        int n = (int)Math.Round(Count * trainFraction);
        return (Select(order.AsSpan(0, n)), Select(order.AsSpan(n)));
    }
}
