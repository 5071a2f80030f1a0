using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Threading;
using ModelGen.Data;

namespace ModelGen;

/// <summary>Options of <see cref="Trainer.Fit"/>.</summary>
public sealed class TrainOptions
{
    /// <summary>Passes over the training set.</summary>
    public int Epochs { get; set; } = 10;
    /// <summary>Samples per update (at most the model's <c>MaxBatch</c>).</summary>
    public int BatchSize { get; set; } = 32;
    /// <summary>The optimiser.</summary>
    public Optimizer Optimizer { get; set; } = new Sgd(0.01f);
    /// <summary>Reshuffle the training set each epoch.</summary>
    public bool Shuffle { get; set; } = true;
    /// <summary>Seed of the shuffling.</summary>
    public ulong Seed { get; set; }
    /// <summary>Where the progress line of each epoch goes (null: nowhere).</summary>
    public TextWriter? Log { get; set; } = Console.Out;
}

/// <summary>One epoch's figures.</summary>
public sealed record EpochStats(int Epoch, float TrainLoss, float TrainAccuracy, float TestLoss, float TestAccuracy,
    double Seconds, double SamplesPerSecond);

/// <summary>The per-epoch record of a training run.</summary>
public sealed class History
{
    /// <summary>One entry per finished epoch.</summary>
    public List<EpochStats> Epochs { get; } = new();
}

/// <summary>Loss, accuracy and confusion matrix of a model on a data set.</summary>
/// <param name="Loss">Mean loss.</param>
/// <param name="Accuracy">Fraction classified correctly (NaN for regression).</param>
/// <param name="Confusion">Counts <c>[true class, predicted class]</c> (null for regression).</param>
public sealed record Evaluation(float Loss, float Accuracy, int[,]? Confusion);

/// <summary>Mini-batch training and evaluation of generated networks.</summary>
public static class Trainer
{
    /// <summary>
    /// Trains <paramref name="model"/> on <paramref name="train"/> for <see cref="TrainOptions.Epochs"/> epochs of
    /// shuffled mini-batches, evaluating on <paramref name="test"/> after each epoch. Deterministic for a
    /// given model seed and <see cref="TrainOptions.Seed"/>.
    /// </summary>
    public static History Fit(ITrainableNetwork model, Dataset train, Dataset? test, TrainOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(options);
        Check(model, train, nameof(train));
        if (test is not null) Check(model, test, nameof(test));
        if (options.BatchSize <= 0 || options.BatchSize > model.MaxBatch)
            throw new ArgumentOutOfRangeException(nameof(options), options.BatchSize, $"BatchSize must be in 1..{model.MaxBatch} (the model's maxBatch)");
        if (options.Epochs < 0) throw new ArgumentOutOfRangeException(nameof(options), options.Epochs, "Epochs must be ≥ 0");

        int bs = options.BatchSize, f = train.FeatureSize, t = Math.Max(train.TargetSize, 0);
        var order = new int[train.Count];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        var rng = new Rng(options.Seed);
        var x = new float[bs * f];
        var labels = new int[bs];
        var targets = new float[bs * Math.Max(t, 1)];
        var outputs = new float[bs * model.OutputSize];
        var history = new History();

        for (int epoch = 1; epoch <= options.Epochs; epoch++)
        {
            var sw = Stopwatch.StartNew();
            if (options.Shuffle) rng.Shuffle(order);
            double lossSum = 0; long correct = 0;
            for (int start = 0; start < train.Count; start += bs)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int n = Math.Min(bs, train.Count - start);
                for (int i = 0; i < n; i++)
                {
                    int s = order[start + i];
                    Array.Copy(train.Features, (long)s * f, x, (long)i * f, f);
                    if (train.Labels is not null) labels[i] = train.Labels[s];
                    else Array.Copy(train.Targets!, (long)s * t, targets, (long)i * t, t);
                }
                model.ZeroGrad();
                model.Forward(x.AsSpan(0, n * f), training: true);
                float loss = train.Labels is not null ? model.Backward(labels.AsSpan(0, n)) : model.Backward(targets.AsSpan(0, n * t));
                model.Step(options.Optimizer);
                lossSum += (double)loss * n;
                if (train.Labels is not null)
                {
                    model.GetOutput(outputs.AsSpan(0, n * model.OutputSize));
                    correct += CountCorrect(outputs, model.OutputSize, labels, n, null);
                }
            }
            double seconds = sw.Elapsed.TotalSeconds;
            float trainLoss = (float)(lossSum / train.Count);
            float trainAcc = train.Labels is not null ? (float)correct / train.Count : float.NaN;
            var ev = test is not null ? Evaluate(model, test) : new Evaluation(float.NaN, float.NaN, null);
            var stats = new EpochStats(epoch, trainLoss, trainAcc, ev.Loss, ev.Accuracy, seconds, train.Count / seconds);
            history.Epochs.Add(stats);
            options.Log?.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"epoch {epoch,3}/{options.Epochs}  train loss {trainLoss:F4}  train acc {Fmt(trainAcc)}  test loss {Fmt(ev.Loss)}  test acc {Fmt(ev.Accuracy)}  lr {options.Optimizer.LearningRate:G4}  {seconds:F1}s  {stats.SamplesPerSecond:F0} samples/s"));
        }
        return history;
    }

    /// <summary>Mean loss, accuracy and confusion matrix of <paramref name="model"/> on <paramref name="data"/> (inference mode).</summary>
    public static Evaluation Evaluate(ITrainableNetwork model, Dataset data)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        Check(model, data, nameof(data));
        int bs = model.MaxBatch, f = data.FeatureSize, o = model.OutputSize;
        var outputs = new float[bs * o];
        int[,]? confusion = data.Labels is not null ? new int[o, o] : null;
        double lossSum = 0; long correct = 0;
        for (int start = 0; start < data.Count; start += bs)
        {
            int n = Math.Min(bs, data.Count - start);
            model.Forward(data.Features.AsSpan(start * f, n * f));
            if (data.Labels is not null)
            {
                var labels = data.Labels.AsSpan(start, n);
                lossSum += (double)model.ComputeLoss(labels) * n;
                model.GetOutput(outputs.AsSpan(0, n * o));
                correct += CountCorrect(outputs, o, labels, n, confusion);
            }
            else
            {
                lossSum += (double)model.ComputeLoss(data.Targets.AsSpan(start * data.TargetSize, n * data.TargetSize)) * n;
            }
        }
        float acc = data.Labels is not null ? (float)correct / data.Count : float.NaN;
        return new Evaluation((float)(lossSum / data.Count), acc, confusion);
    }

    /// <summary>Index of the largest of each sample's outputs.</summary>
    public static int ArgMax(ReadOnlySpan<float> row)
    {
        int best = 0;
        for (int i = 1; i < row.Length; i++) if (row[i] > row[best]) best = i;
        return best;
    }

    private static int CountCorrect(float[] outputs, int o, ReadOnlySpan<int> labels, int n, int[,]? confusion)
    {
        int correct = 0;
        for (int i = 0; i < n; i++)
        {
            int p = ArgMax(outputs.AsSpan(i * o, o));
            if (p == labels[i]) correct++;
            if (confusion is not null) confusion[labels[i], p]++;
        }
        return correct;
    }

    private static void Check(ITrainableNetwork model, Dataset data, string name)
    {
        if (data.FeatureSize != model.InputSize)
            throw new ArgumentException($"{name} has {data.FeatureSize} features per sample; the model takes {model.InputSize}", name);
        if (data.Count == 0) throw new ArgumentException($"{name} is empty", name);
        bool wantsLabels = model.LossKind == LossKind.SoftmaxCrossEntropy;
        if (wantsLabels && data.Labels is null)
            throw new ArgumentException($"{name} has float targets but the model's loss ({model.LossKind}) takes class labels", name);
        if (!wantsLabels && data.Targets is null)
            throw new ArgumentException($"{name} has class labels but the model's loss ({model.LossKind}) takes float targets", name);
        if (!wantsLabels && data.TargetSize != model.OutputSize)
            throw new ArgumentException($"{name} has {data.TargetSize} targets per sample; the model outputs {model.OutputSize}", name);
    }

    private static string Fmt(float v) => float.IsNaN(v) ? "  -   " : v.ToString("F4", System.Globalization.CultureInfo.InvariantCulture);
}
