using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Threading;
using ModelGen.Data;

namespace ModelGen.Training;

/// <summary>Training and evaluation of generated networks.</summary>
public static class Trainer
{
    /// <summary>
    /// Trains <paramref name="model"/> on <paramref name="train"/> for <see cref="TrainOptions.Epochs"/> epochs,
    /// evaluating on <paramref name="test"/> (may be null) after each. Deterministic for a given model seed and
    /// <see cref="TrainOptions.Seed"/>. Stops early, recording where, when a loss turns NaN/∞.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="model"/>, <paramref name="train"/> or <paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentException">A set does not fit the model (the message names the set and the sample: a label that is not a class, a non-finite feature, a target the loss cannot take), or it is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="TrainOptions.BatchSize"/> is outside 1..<c>MaxBatch</c>, or <see cref="TrainOptions.Epochs"/> is negative.</exception>
    /// <exception cref="System.IO.InvalidDataException"><see cref="TrainOptions.Checkpoint"/> exists but cannot be resumed from (another model, optimiser or options; a damaged file); nothing was changed.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled; with <see cref="TrainOptions.Checkpoint"/> a later call resumes from the last finished epoch.</exception>
    public static History Fit(ITrainableNetwork model, Dataset train, Dataset? test, TrainOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(options);
        Check(model, train, nameof(train));
        if (test is not null) Check(model, test, nameof(test));
        int bs = options.Mode switch
        {
            GradientDescent.Stochastic => 1,
            GradientDescent.FullBatch => Math.Min(model.MaxBatch, train.Count),
            _ => options.BatchSize,
        };
        if (bs <= 0 || bs > model.MaxBatch)
            throw new ArgumentOutOfRangeException(nameof(options), options.BatchSize, $"BatchSize must be in 1..{model.MaxBatch} (the model's maxBatch)");
        if (options.Epochs < 0) throw new ArgumentOutOfRangeException(nameof(options), options.Epochs, "Epochs must be ≥ 0");
        if (options.ClipGradientNorm is { } maxNorm && (!(maxNorm > 0f) || float.IsInfinity(maxNorm)))
            throw new ArgumentOutOfRangeException(nameof(options), maxNorm, "ClipGradientNorm must be positive and finite (or null: no clipping)");

        var run = new Run(model, train, bs, options.Mode == GradientDescent.FullBatch, options.Augment, options.Seed);
        var rng = new Rng(options.Seed);
        var history = new History();
        long step = 0;
        int first = 1;
        if (options.Checkpoint is { } checkpoint && File.Exists(checkpoint))
        {
            var resumed = Checkpoint.Restore(checkpoint, model, options, bs);
            history = resumed.History;
            step = resumed.Step;
            first = resumed.Epoch + 1;
            run.AugmentRandom = resumed.AugmentRandom;
            if (options.Shuffle) for (int e = 1; e < first; e++) rng.Shuffle(run.Order);   // the shuffles those epochs made
            options.Log?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"resumed from {checkpoint}: {resumed.Epoch} epochs ({step} steps) done"));
        }
        for (int epoch = first; epoch <= options.Epochs && history.NonFinite is null; epoch++)
        {
            var sw = Stopwatch.StartNew();
            if (options.Shuffle) rng.Shuffle(run.Order);
            double lossSum = 0; long correct = 0;
            if (options.Mode == GradientDescent.FullBatch)
            {
                if (options.Schedule is not null) options.Optimizer.LearningRate = options.Schedule.Rate(epoch - 1, step);
                float loss = run.FullBatchGradient(ref correct, cancellationToken);
                step++;
                if (!Finite(model, options, history, epoch, step, loss)) break;
                if (options.ClipGradientNorm is { } clip) model.ClipGradientNorm(clip);
                model.Step(options.Optimizer);
                lossSum = (double)loss * train.Count;
            }
            else
            {
                for (int start = 0; start < train.Count; start += bs)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    if (options.Schedule is not null) options.Optimizer.LearningRate = options.Schedule.Rate(epoch - 1, step);
                    int n = Math.Min(bs, train.Count - start);
                    model.ZeroGrad();
                    float loss = run.Batch(start, n, ref correct);
                    step++;
                    if (!Finite(model, options, history, epoch, step, loss)) break;
                    if (options.ClipGradientNorm is { } clip) model.ClipGradientNorm(clip);
                    model.Step(options.Optimizer);
                    lossSum += (double)loss * n;
                }
                if (history.NonFinite is not null) break;
            }
            double seconds = sw.Elapsed.TotalSeconds;
            float trainLoss = (float)(lossSum / train.Count);
            float trainAcc = HasAccuracy(model.LossKind) ? (float)correct / Scored(train) : float.NaN;
            var ev = test is not null ? EvaluateChecked(model, test) : new Evaluation(float.NaN, float.NaN, null);   // checked once, before the first epoch
            var stats = new EpochStats(epoch, trainLoss, trainAcc, ev.Loss, ev.Accuracy, seconds, train.Count / seconds, options.Optimizer.LearningRate);
            history.Epochs.Add(stats);
            options.Log?.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"epoch {epoch,3}/{options.Epochs}  train loss {trainLoss:F4}  train acc {Fmt(trainAcc)}  test loss {Fmt(ev.Loss)}  test acc {Fmt(ev.Accuracy)}  lr {options.Optimizer.LearningRate:G4}  {seconds:F1}s  {stats.SamplesPerSecond:F0} samples/s"));
            if (options.Checkpoint is not null) Checkpoint.Save(options.Checkpoint, model, options, bs, epoch, step, run.AugmentRandom, history);
        }
        if (history.NonFinite is not null) options.Log?.WriteLine("stopped: " + history.NonFinite);
        return history;
    }

    private static bool Finite(ITrainableNetwork model, TrainOptions options, History history, int epoch, long step, float loss)
    {
        if (float.IsFinite(loss) || !options.StopOnNonFinite) return true;
        history.NonFinite = new NonFiniteEvent(epoch, step, model.FindNonFinite() ?? "loss", loss);
        return false;
    }

    /// <summary>Batch assembly (shuffled order → contiguous buffers), reused for the whole run.</summary>
    private sealed class Run
    {
        private readonly ITrainableNetwork _model;
        private readonly Dataset _data;
        private readonly float[] _x, _targets, _outputs;
        private readonly int[] _labels;
        private readonly BatchTransform? _augment;
        public Rng AugmentRandom;
        public readonly int[] Order;

        public Run(ITrainableNetwork model, Dataset data, int batch, bool fullBatch, BatchTransform? augment, ulong seed)
        {
            _model = model; _data = data; _augment = augment;
            AugmentRandom = new Rng(seed ^ 0xA5A5A5A5DEADBEEFUL);
            Order = new int[data.Count];
            for (int i = 0; i < Order.Length; i++) Order[i] = i;
            _x = new float[batch * data.FeatureSize];
            _labels = new int[batch * model.LabelsPerSample];
            _targets = new float[batch * Math.Max(data.TargetSize, 1)];
            _outputs = new float[batch * model.OutputSize];
        }

        /// <summary>Forward + backward on samples Order[start..start+n); gradients are added to the model's.</summary>
        public float Batch(int start, int n, ref long correct)
        {
            int f = _data.FeatureSize, t = _data.TargetSize;
            for (int i = 0; i < n; i++)
            {
                int s = Order[start + i];
                Array.Copy(_data.Features, (long)s * f, _x, (long)i * f, f);
                if (_data.Labels is not null) Array.Copy(_data.Labels, (long)s * _data.LabelsPerSample, _labels, (long)i * _data.LabelsPerSample, _data.LabelsPerSample);
                else Array.Copy(_data.Targets!, (long)s * t, _targets, (long)i * t, t);
            }
            _augment?.Invoke(_x.AsSpan(0, n * f), n, ref AugmentRandom);
            _model.Forward(_x.AsSpan(0, n * f), training: true);
            float loss = _data.Labels is not null ? _model.Backward(_labels.AsSpan(0, n * _data.LabelsPerSample)) : _model.Backward(_targets.AsSpan(0, n * t));
            if (HasAccuracy(_model.LossKind))
            {
                _model.GetOutput(_outputs.AsSpan(0, n * _model.OutputSize));
                correct += CountCorrect(_model.LossKind, _outputs, _model.OutputSize, _labels, _targets, n, _model.LabelsPerSample, null);
            }
            return loss;
        }

        /// <summary>The mean gradient over the whole set, chunk by chunk: Σ (n_c/N)·∇L_c, left in the model's gradients.
        /// The gradients hold S/n_c between chunks (S = Σ n_c·∇L_c so far), so a backward adds the next chunk's mean in place:
        /// equal chunks need no extra pass, and a sparse table's touched rows stay recorded (ZeroGrad runs once).</summary>
        public float FullBatchGradient(ref long correct, CancellationToken ct)
        {
            double loss = 0;
            int chunk = _outputs.Length / _model.OutputSize, total = _data.Count, previous = 0;
            _model.ZeroGrad();
            for (int start = 0; start < total; start += chunk)
            {
                ct.ThrowIfCancellationRequested();
                int n = Math.Min(chunk, total - start);
                if (previous != 0 && previous != n) Scale(_model.Gradients, (float)previous / n);
                loss += (double)n / total * Batch(start, n, ref correct);
                previous = n;
            }
            Scale(_model.Gradients, (float)previous / total);
            return (float)loss;
        }

        private static void Scale(Span<float> values, float factor)
        {
            if (factor == 1f) return;
            foreach (ref float v in values) v *= factor;
        }
    }

    /// <summary>Mean loss, accuracy and confusion matrix of <paramref name="model"/> on <paramref name="data"/> (inference mode).
    /// Every sample is checked first (finite features, labels that are classes of the model, targets the loss accepts).</summary>
    /// <exception cref="ArgumentException">The data does not fit the model; the message names the sample.</exception>
    public static Evaluation Evaluate(ITrainableNetwork model, Dataset data)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        Check(model, data, nameof(data));
        return EvaluateChecked(model, data);
    }

    /// <summary><see cref="Evaluate"/> on a set already checked against the model.</summary>
    private static Evaluation EvaluateChecked(ITrainableNetwork model, Dataset data)
    {
        int bs = model.MaxBatch, f = data.FeatureSize, o = model.OutputSize, t = data.TargetSize;
        var outputs = new float[bs * o];
        bool acc = HasAccuracy(model.LossKind);
        int perSample = model.LabelsPerSample;
        int classes = model.LossKind.TakesLabels() ? o / perSample : 2;
        int[,]? confusion = acc ? new int[classes, classes] : null;
        double lossSum = 0; long correct = 0;
        for (int start = 0; start < data.Count; start += bs)
        {
            int n = Math.Min(bs, data.Count - start);
            model.Forward(data.Features.AsSpan(start * f, n * f));
            var labels = data.Labels is not null ? data.Labels.AsSpan(start * perSample, n * perSample) : default;
            var targets = data.Targets is not null ? data.Targets.AsSpan(start * t, n * t) : default;
            lossSum += (double)(data.Labels is not null ? model.ComputeLoss(labels) : model.ComputeLoss(targets)) * n;
            if (acc)
            {
                model.GetOutput(outputs.AsSpan(0, n * o));
                correct += CountCorrect(model.LossKind, outputs, o, labels, targets, n, perSample, confusion);
            }
        }
        return new Evaluation((float)(lossSum / data.Count), acc ? (float)correct / Scored(data) : float.NaN, confusion);
    }

    /// <summary>Index of the largest of a sample's outputs.</summary>
    public static int ArgMax(ReadOnlySpan<float> row)
    {
        int best = 0;
        for (int i = 1; i < row.Length; i++) if (row[i] > row[best]) best = i;
        return best;
    }

    private static bool HasAccuracy(LossKind k) => k.TakesLabels() || k is LossKind.BinaryCrossEntropy or LossKind.Hinge;

    /// <summary>The predictions accuracy is counted over: the samples, or with labels per step the labelled steps.</summary>
    private static long Scored(Dataset data)
    {
        if (data.Labels is null || data.LabelsPerSample == 1) return data.Count;
        long n = 0;
        foreach (int label in data.Labels) if (label != Kernels.Losses.IgnoreLabel) n++;
        return Math.Max(n, 1);
    }

    /// <summary>Correct predictions: arg-max for class labels (per step with <paramref name="perSample"/> labels per
    /// sample, skipping ignored steps); the sign of the logit/score for binary losses.</summary>
    private static int CountCorrect(LossKind kind, float[] outputs, int o, ReadOnlySpan<int> labels, ReadOnlySpan<float> targets, int n, int perSample, int[,]? confusion)
    {
        int correct = 0;
        if (kind.TakesLabels() && perSample > 1)
        {
            int classes = o / perSample;
            for (int i = 0; i < n * perSample; i++)
            {
                int truth = labels[i];
                if (truth == Kernels.Losses.IgnoreLabel) continue;
                int predicted = ArgMax(outputs.AsSpan(i * classes, classes));
                if (predicted == truth) correct++;
                if (confusion is not null) confusion[truth, predicted]++;
            }
            return correct;
        }
        for (int i = 0; i < n; i++)
        {
            int truth, predicted;
            if (kind.TakesLabels()) { truth = labels[i]; predicted = ArgMax(outputs.AsSpan(i * o, o)); }
            else
            {
                truth = kind == LossKind.Hinge ? (targets[i] > 0f ? 1 : 0) : (targets[i] >= 0.5f ? 1 : 0);
                predicted = outputs[i] > 0f ? 1 : 0;
            }
            if (predicted == truth) correct++;
            if (confusion is not null) confusion[truth, predicted]++;
        }
        return correct;
    }

    private static void Check(ITrainableNetwork model, Dataset data, string name)
    {
        if (data.FeatureSize != model.InputSize)
            throw new ArgumentException($"{name} has {data.FeatureSize} features per sample; the model takes {model.InputSize}", name);
        if (data.Count == 0) throw new ArgumentException($"{name} is empty", name);
        bool wantsLabels = model.LossKind.TakesLabels();
        if (wantsLabels && data.Labels is null)
            throw new ArgumentException($"{name} has float targets but the model's loss ({model.LossKind}) takes class labels", name);
        if (!wantsLabels && data.Targets is null)
            throw new ArgumentException($"{name} has class labels but the model's loss ({model.LossKind}) takes float targets", name);
        if (!wantsLabels && data.TargetSize != model.OutputSize)
            throw new ArgumentException($"{name} has {data.TargetSize} targets per sample; the model outputs {model.OutputSize}", name);
        // Every sample, before the first step: a bad one found half-way through an epoch would cost the steps taken so
        // far and name only its place in a batch.
        var features = data.Features;
        for (long i = 0; i < features.LongLength; i++)
            if (!float.IsFinite(features[i]))
                throw new ArgumentException($"{name} sample {i / data.FeatureSize} has {features[i]} at feature {i % data.FeatureSize}; features must be finite", name);
        foreach (var layer in model.Layers)
            if (layer.Type == LayerType.Embedding && layer.Inputs[0] == "(input)")
            {
                int vocabulary = (int)layer.Options["vocabulary"];
                int bad = Kernels.Embedding.FindInvalid(features, vocabulary);
                if (bad >= 0)
                    throw new ArgumentException($"{name} sample {bad / data.FeatureSize} has {features[bad]} at step {bad % data.FeatureSize}, which is not a token id of {layer.Name}: ids are whole numbers in [0, {vocabulary})", name);
            }
        if (data.Labels is { } labels)
        {
            int perSample = model.LabelsPerSample;
            if (data.LabelsPerSample != perSample)
                throw new ArgumentException(perSample == 1
                    ? $"{name} has {data.LabelsPerSample} labels per sample; the model takes one"
                    : $"{name} has {data.LabelsPerSample} labels per sample; the model's output is a sequence of {perSample} steps and takes one label per step", name);
            int classes = model.OutputSize / perSample;
            for (int i = 0; i < labels.Length; i++)
                if ((uint)labels[i] >= (uint)classes && !(perSample > 1 && labels[i] == Kernels.Losses.IgnoreLabel))
                    throw new ArgumentException(perSample == 1
                        ? $"{name} sample {i} has label {labels[i]}; the model's {model.OutputSize} outputs are classes 0..{model.OutputSize - 1}"
                        : $"{name} sample {i / perSample} has label {labels[i]} at step {i % perSample}; the model has {classes} classes per step (0..{classes - 1}), and {Kernels.Losses.IgnoreLabel} skips a step", name);
        }
        else
        {
            var targets = data.Targets!;
            for (int i = 0; i < targets.Length; i++)
            {
                float t = targets[i];
                string? problem = !float.IsFinite(t) ? "targets must be finite"
                    : model.LossKind == LossKind.BinaryCrossEntropy && !(t >= 0f && t <= 1f) ? "BinaryCrossEntropy targets must be in [0, 1]"
                    : model.LossKind == LossKind.Hinge && t != 1f && t != -1f ? "Hinge targets must be −1 or +1"
                    : null;
                if (problem is not null)
                    throw new ArgumentException($"{name} sample {i / data.TargetSize} has target {t}" + (data.TargetSize > 1 ? $" at output {i % data.TargetSize}" : "") + $"; {problem}", name);
            }
        }
    }

    private static string Fmt(float v) => float.IsNaN(v) ? "  -   " : v.ToString("F4", CultureInfo.InvariantCulture);
}
