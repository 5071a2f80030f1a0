using System;
using System.IO;
using System.Linq;
using System.Xml.Linq;
using ModelGen.Data;
using ModelGen.Tests.Models;
using Xunit;
using ModelGen.Training;

namespace ModelGen.Tests;

/// <summary>Optimisers, schedules, gradient-descent modes, dropout, curve diagnosis, NaN detection, plots.</summary>
public class TrainingToolkitTests
{
    // ── Optimisers against hand-written double-precision updates ───────────────────────────────────────────

    private static (float[] P, float[] G) Vectors(int n, ulong seed)
    {
        var rng = new Rng(seed);
        return (Enumerable.Range(0, n).Select(_ => (float)rng.NextGaussian()).ToArray(), Enumerable.Range(0, n).Select(_ => (float)rng.NextGaussian()).ToArray());
    }

    private static readonly TensorInfo[] OneWeight = { new("w", new[] { 37 }, 0, 37, true) };

    [Theory]
    [InlineData(0f, false)]
    [InlineData(0.9f, false)]
    [InlineData(0.9f, true)]
    public void Sgd_and_momentum_match_the_formula(float mu, bool nesterov)
    {
        var (p, g0) = Vectors(37, 1);
        var sgd = new Sgd(0.1f, mu, nesterov);
        var state = new float[37 * sgd.StateSlots];
        double[] rp = p.Select(v => (double)v).ToArray(), rv = new double[37];
        for (int step = 1; step <= 4; step++)
        {
            var g = g0.Select(v => v * step).ToArray();
            sgd.Update(p, g, state, step, OneWeight);
            for (int i = 0; i < 37; i++)
            {
                rv[i] = mu * rv[i] + g[i];
                double d = mu == 0 ? g[i] : nesterov ? g[i] + mu * rv[i] : rv[i];
                rp[i] -= 0.1 * d;
            }
        }
        for (int i = 0; i < 37; i++) Assert.Equal(rp[i], p[i], 4);
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(0.1f)]
    public void Adam_and_AdamW_match_the_bias_corrected_formula(float decay)
    {
        var (p, g0) = Vectors(37, 2);
        Adam adam = decay > 0 ? new AdamW(0.01f, decay) : new Adam(0.01f);
        var state = new float[2 * 37];
        double[] rp = p.Select(v => (double)v).ToArray(), m = new double[37], v = new double[37];
        for (int t = 1; t <= 5; t++)
        {
            var g = g0.Select(x => x * (1 + 0.3f * t)).ToArray();
            adam.Update(p, g, state, t, OneWeight);
            for (int i = 0; i < 37; i++)
            {
                rp[i] -= 0.01 * decay * rp[i];
                m[i] = 0.9 * m[i] + 0.1 * g[i];
                v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i];
                double mh = m[i] / (1 - Math.Pow(0.9, t)), vh = v[i] / (1 - Math.Pow(0.999, t));
                rp[i] -= 0.01 * mh / (Math.Sqrt(vh) + 1e-8);
            }
        }
        for (int i = 0; i < 37; i++) Assert.Equal(rp[i], p[i], 4);
    }

    [Fact]
    public void AdamW_decays_weights_but_not_biases()
    {
        var p = new float[] { 1, 1, 1, 1 };
        var tensors = new[] { new TensorInfo("w", new[] { 2 }, 0, 2, true), new TensorInfo("b", new[] { 2 }, 2, 2, false) };
        new AdamW(0.1f, 0.5f).Update(p, new float[4], new float[8], 1, tensors);
        Assert.Equal(new[] { 0.95f, 0.95f, 1f, 1f }, p);
    }

    [Fact]
    public void Optimizer_state_lives_with_the_model_and_resets_for_a_new_optimizer()
    {
        using var net = new GcRelu(4, 1);
        var x = new float[4 * 5]; x[3] = 1;
        int[] y = { 1, 2, 3, 0 };
        var adam = new Adam(0.01f);
        net.TrainStep(x, y, adam);
        net.TrainStep(x, y, adam);
        using var fresh = new GcRelu(4, 1);
        var other = new Adam(0.01f);
        fresh.TrainStep(x, y, other);
        fresh.TrainStep(x, y, other);
        Assert.Equal(net.Parameters.ToArray(), fresh.Parameters.ToArray());
        // Allocation happens once, on the first step: later steps allocate nothing.
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 5; i++) net.TrainStep(x, y, adam);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    // ── Learning-rate schedules pinned to hand-computed values ────────────────────────────────────────────

    [Fact]
    public void Schedules_follow_the_note_exactly()
    {
        var stair = new StepDecay(0.1f, everyEpochs: 3, gamma: 0.5f);            // halve every 3 epochs
        Assert.Equal(new[] { 0.1f, 0.1f, 0.1f, 0.05f, 0.05f, 0.05f, 0.025f }, Enumerable.Range(0, 7).Select(e => stair.Rate(e, 0)));
        var exp = new ExponentialDecay(0.2f);                                    // 0.95^epoch · a0
        Assert.Equal(0.2f, exp.Rate(0, 0));
        Assert.Equal(0.19f, exp.Rate(1, 0), 6);
        Assert.Equal(0.1805f, exp.Rate(2, 0), 6);
        Assert.Equal((float)(Math.Pow(0.95, 10) * 0.2), exp.Rate(10, 0), 6);
        var exp9 = new ExponentialDecay(1f, 0.9f);
        Assert.Equal(0.729f, exp9.Rate(3, 0), 6);
        var isqrt = new InverseSqrtDecay(0.6f);                                   // k / √epoch, epochs from 1
        Assert.Equal(0.6f, isqrt.Rate(0, 0), 6);
        Assert.Equal(0.3f, isqrt.Rate(3, 0), 6);
        Assert.Equal(0.2f, isqrt.Rate(8, 0), 6);
        var inv = new InverseTimeDecay(0.1f, decayRate: 0.5f);                    // a0 / (1 + decay·epoch)
        Assert.Equal(0.1f, inv.Rate(0, 0), 6);
        Assert.Equal(0.05f, inv.Rate(2, 0), 6);
        Assert.Equal(0.025f, inv.Rate(6, 0), 6);
        var perStep = new StepDecay(1f, 100).PerStep();                          // counts steps, not epochs
        Assert.Equal(1f, perStep.Rate(5, 99));
        Assert.Equal(0.5f, perStep.Rate(0, 100));
        var warm = new ConstantRate(0.4f).WithWarmup(4);                         // linear warm-up over 4 steps
        Assert.Equal(new[] { 0.1f, 0.2f, 0.3f, 0.4f, 0.4f }, Enumerable.Range(0, 5).Select(s => warm.Rate(0, s)));
        var cos = new CosineDecay(0.5f, steps: 8, minimum: 0.1f);               // η_min + ½(η₀ − η_min)(1 + cos(π·t/8))
        Assert.Equal(0.5f, cos.Rate(0, 0), 6);
        Assert.Equal(0.3f, cos.Rate(0, 4), 6);                                    // half-way: the mean
        Assert.Equal((float)(0.1 + 0.2 * (1 + Math.Cos(Math.PI / 8))), cos.Rate(0, 1), 6);
        Assert.Equal(0.1f, cos.Rate(0, 8), 6);
        Assert.Equal(0.1f, cos.Rate(3, 1000), 6);                                 // stays at the minimum
        var gpt = new CosineDecay(1f, 10).WithWarmup(2);                          // warm-up, then cosine
        Assert.Equal(0.5f, gpt.Rate(0, 0), 6);
        Assert.Equal((float)(0.5 * (1 + Math.Cos(Math.PI / 10))), gpt.Rate(0, 1), 6);
        Assert.Throws<ArgumentOutOfRangeException>(() => new CosineDecay(1f, 0));
    }

    [Fact]
    public void Trainer_applies_the_schedule_each_epoch()
    {
        using var net = new GcRelu(8, 1);
        var data = Blobs(40, 5, 4, 3);
        var h = Trainer.Fit(net, data, null, new TrainOptions { Epochs = 4, BatchSize = 8, Optimizer = new Sgd(1f), Schedule = new StepDecay(0.2f, 2), Log = null });
        Assert.Equal(new[] { 0.2f, 0.2f, 0.1f, 0.1f }, h.Epochs.Select(e => e.LearningRate));
    }

    // ── Gradient-descent modes ────────────────────────────────────────────────────────────────────────────

    /// <summary>Gaussian blobs: a small separable classification set.</summary>
    internal static Dataset Blobs(int count, int features, int classes, ulong seed)
    {
        var rng = new Rng(seed);
        var x = new float[count * features];
        var y = new int[count];
        for (int i = 0; i < count; i++)
        {
            y[i] = i % classes;
            for (int f = 0; f < features; f++) x[i * features + f] = (float)(rng.NextGaussian() * 0.5 + (f % classes == y[i] ? 2 : 0));
        }
        return new Dataset(x, features, y);
    }

    [Fact]
    public void Full_batch_in_chunks_equals_one_step_on_the_whole_set()
    {
        var data = Blobs(20, 5, 4, 7);
        using var chunked = new GcRelu(maxBatch: 6, seed: 2);
        using var whole = new GcRelu(maxBatch: 20, seed: 2);
        var opts = new TrainOptions { Epochs = 3, Mode = GradientDescent.FullBatch, Optimizer = new Sgd(0.5f), Shuffle = false, Log = null };
        var h1 = Trainer.Fit(chunked, data, null, opts);
        var h2 = Trainer.Fit(whole, data, null, new TrainOptions { Epochs = 3, Mode = GradientDescent.FullBatch, Optimizer = new Sgd(0.5f), Shuffle = false, Log = null });
        var a = chunked.Parameters.ToArray();
        var b = whole.Parameters.ToArray();
        for (int i = 0; i < a.Length; i++) Assert.Equal(b[i], a[i], 4);
        for (int e = 0; e < 3; e++) Assert.Equal(h2.Epochs[e].TrainLoss, h1.Epochs[e].TrainLoss, 4);
    }

    private sealed class RecordingSchedule : LearningRateSchedule
    {
        public readonly System.Collections.Generic.List<(int Epoch, long Step)> Calls = new();
        public override float Rate(int epoch, long step) { Calls.Add((epoch, step)); return 0.05f; }
    }

    [Theory]
    [InlineData(GradientDescent.Stochastic, 12)]
    [InlineData(GradientDescent.MiniBatch, 3)]
    [InlineData(GradientDescent.FullBatch, 1)]
    public void Each_mode_takes_its_number_of_steps_per_epoch(GradientDescent mode, int stepsPerEpoch)
    {
        var data = Blobs(12, 5, 4, 1);
        using var net = new GcRelu(maxBatch: 5, seed: 1);
        var schedule = new RecordingSchedule();
        var h = Trainer.Fit(net, data, null, new TrainOptions { Epochs = 2, Mode = mode, BatchSize = 4, Optimizer = new Sgd(0.1f), Schedule = schedule, Log = null });
        Assert.Equal(2 * stepsPerEpoch, schedule.Calls.Count);
        Assert.Equal(Enumerable.Range(0, 2 * stepsPerEpoch).Select(i => (long)i), schedule.Calls.Select(c => c.Step));
        Assert.Equal(stepsPerEpoch, schedule.Calls.Count(c => c.Epoch == 1));
        Assert.All(h.Epochs, e => Assert.True(e.SamplesPerSecond > 0));
    }

    // ── Dropout behaviour ─────────────────────────────────────────────────────────────────────────────────

    [Fact]
    public void Dropout_is_identity_in_inference_and_scaled_bernoulli_in_training()
    {
        using var net = new GcDropout(maxBatch: 32, seed: 4);
        var rng = new Rng(3);
        var x = Enumerable.Range(0, 32 * 6).Select(_ => (float)rng.NextGaussian()).ToArray();
        var y1 = new float[32 * 3]; var y2 = new float[32 * 3];
        net.Predict(x, y1); net.Predict(x, y2);
        Assert.Equal(y1, y2); // inference: deterministic (no mask)
        net.SeedDropout(1); net.Forward(x, training: true); var t1 = new float[96]; net.GetOutput(t1);
        net.SeedDropout(1); net.Forward(x, training: true); var t2 = new float[96]; net.GetOutput(t2);
        net.SeedDropout(2); net.Forward(x, training: true); var t3 = new float[96]; net.GetOutput(t3);
        Assert.Equal(t1, t2);          // same seed, same mask
        Assert.NotEqual(t1, t3);       // another seed, another mask
        Assert.NotEqual(y1, t1);       // training differs from inference

        // The mask itself: ~30% zeros, the rest exactly 1/(1 − 0.3).
        var mask = new float[8 * 10000];
        var drng = new Rng(9);
        ModelGen.Kernels.Dropout.Forward(Enumerable.Repeat(1f, mask.Length).ToArray(), new float[mask.Length], mask, 8, 10000, 10000, 0.3f, ref drng);
        double zeros = mask.Count(m => m == 0f) / (double)mask.Length;
        Assert.InRange(zeros, 0.29, 0.31);
        Assert.All(mask.Where(m => m != 0f), m => Assert.Equal(1f / 0.7f, m));
    }

    // ── Curve diagnosis ───────────────────────────────────────────────────────────────────────────────────

    private static History Curves(Func<int, float> train, Func<int, float> test, int epochs = 8)
    {
        var h = new History();
        for (int e = 1; e <= epochs; e++) h.Epochs.Add(new EpochStats(e, train(e), float.NaN, test(e), float.NaN, 1, 1));
        return h;
    }

    [Theory]
    [InlineData(CurveReading.StillLearning)]
    [InlineData(CurveReading.Overfitting)]
    [InlineData(CurveReading.DataProblem)]
    [InlineData(CurveReading.Plateau)]
    [InlineData(CurveReading.Diverging)]
    public void Constructed_curves_get_the_notes_reading(CurveReading expected)
    {
        var h = expected switch
        {
            CurveReading.StillLearning => Curves(e => 2f * MathF.Pow(0.8f, e), e => 2.2f * MathF.Pow(0.85f, e)),
            CurveReading.Overfitting => Curves(e => 1f * MathF.Pow(0.7f, e), e => 0.5f + 0.02f * e),
            CurveReading.DataProblem => Curves(e => 0.8f + 0.001f * (e % 2), e => 1.5f * MathF.Pow(0.85f, e)),
            CurveReading.Plateau => Curves(e => 0.9f + 0.001f * (e % 2), e => 1.0f - 0.001f * (e % 2)),
            _ => Curves(e => 0.5f * MathF.Pow(1.3f, e), e => 0.6f * MathF.Pow(1.3f, e)),
        };
        var d = h.Diagnose();
        Assert.Equal(expected, d.Reading);
        Assert.Contains("%/epoch", d.ToString());
        Assert.Equal(5, d.Window);
    }

    [Fact]
    public void Too_few_epochs_are_not_read()
    {
        var d = Curves(e => 1f / e, e => 1f / e, epochs: 3).Diagnose();
        Assert.Equal(CurveReading.NotEnoughEpochs, d.Reading);
    }

    /// <summary>A real overfitting run: a large MLP on 300 digits keeps lowering its training loss while its test loss stops improving.</summary>
    [Fact]
    public void A_large_mlp_on_a_few_hundred_digits_is_diagnosed_as_overfitting()
    {
        string dir = Path.Combine(AppContext.BaseDirectory, "data", "mnist");
        var train = Idx.Load(Path.Combine(dir, "train-images-idx3-ubyte.gz"), Path.Combine(dir, "train-labels-idx1-ubyte.gz")).Slice(0, 300);
        var test = Idx.Load(Path.Combine(dir, "t10k-images-idx3-ubyte.gz"), Path.Combine(dir, "t10k-labels-idx1-ubyte.gz")).Slice(0, 1000);
        using var net = new SampleMlp(maxBatch: 100, seed: 3);
        var h = Trainer.Fit(net, train, test, new TrainOptions { Epochs = 40, BatchSize = 20, Optimizer = new Sgd(0.1f), Log = null });
        var d = h.Diagnose();
        Assert.True(d.Reading == CurveReading.Overfitting, d.ToString());
        Assert.True(h.Epochs[^1].TrainAccuracy > 0.99f);
        Assert.True(h.Epochs[^1].TestAccuracy < h.Epochs[^1].TrainAccuracy - 0.05f);
    }

    [Fact]
    public void A_nan_during_training_stops_it_and_names_epoch_step_and_layer()
    {
        var data = Blobs(24, 5, 4, 2);
        // A NaN in the data set itself is refused before the first step (naming the sample); one that appears during
        // training — here from a broken augmentation on the third batch — stops training where it appears.
        int calls = 0;
        BatchTransform broken = (Span<float> x, int n, ref Rng rng) => { if (++calls == 3) x[1 * 5 + 2] = float.NaN; };
        using var net = new GcRelu(maxBatch: 6, seed: 1);
        var log = new StringWriter();
        var h = Trainer.Fit(net, data, null, new TrainOptions { Epochs = 3, BatchSize = 6, Shuffle = false, Optimizer = new Sgd(0.1f), Augment = broken, Log = log });
        Assert.NotNull(h.NonFinite);
        Assert.Equal(1, h.NonFinite!.Epoch);
        Assert.Equal(3, h.NonFinite.Step);
        Assert.Equal("A (output)", h.NonFinite.Location);
        Assert.Empty(h.Epochs);
        Assert.Contains("stopped: non-finite values at epoch 1, step 3, first in A (output)", log.ToString());
        Assert.Equal(CurveReading.Diverging, h.Diagnose().Reading);
        Assert.All(net.Parameters.ToArray(), v => Assert.True(float.IsFinite(v)));   // the bad step was not applied
    }

    [Fact]
    public void A_huge_learning_rate_diverges_and_is_caught()
    {
        var data = Blobs(48, 5, 4, 2);
        using var net = new GcRelu(maxBatch: 8, seed: 1);
        var h = Trainer.Fit(net, data, null, new TrainOptions { Epochs = 50, BatchSize = 8, Optimizer = new Sgd(1e18f), Log = null });
        Assert.NotNull(h.NonFinite);
        Assert.Equal(CurveReading.Diverging, h.Diagnose().Reading);
    }

    // ── Plot ──────────────────────────────────────────────────────────────────────────────────────────────

    [Fact]
    public void History_plot_is_valid_svg_with_four_curves()
    {
        var h = Curves(e => 1f / e, e => 1.2f / e);
        for (int i = 0; i < h.Epochs.Count; i++) h.Epochs[i] = h.Epochs[i] with { TrainAccuracy = 0.5f + 0.05f * i, TestAccuracy = 0.45f + 0.04f * i };
        string path = Path.Combine(Path.GetTempPath(), $"history-{Guid.NewGuid():N}.svg");
        try
        {
            h.SaveSvg(path, "test <run>");
            var doc = XDocument.Load(path);
            XNamespace svg = "http://www.w3.org/2000/svg";
            Assert.Equal(4, doc.Descendants(svg + "polyline").Count());
            Assert.Contains(doc.Descendants(svg + "text"), t => t.Value == "test <run>");
            Assert.Contains(doc.Descendants(svg + "text"), t => t.Value == "accuracy");
        }
        finally { File.Delete(path); }
    }
}
