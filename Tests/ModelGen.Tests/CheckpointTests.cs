using System;
using System.IO;
using System.Linq;
using System.Threading;
using ModelGen.Data;
using ModelGen.Tests.Models;
using ModelGen.Training;
using Xunit;

namespace ModelGen.Tests;

/// <summary>Resumable training and whole-set validation before the first step.</summary>
public sealed class CheckpointTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("modelgen-ckpt-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A small classification set for GcDropout (6 features, 3 classes), with structure to learn.</summary>
    private static Dataset Data(int count, ulong seed)
    {
        var rng = new Rng(seed);
        var x = new float[count * 6];
        var y = new int[count];
        for (int i = 0; i < count; i++)
        {
            y[i] = rng.NextInt(3);
            for (int f = 0; f < 6; f++) x[i * 6 + f] = (float)rng.NextGaussian() + (f % 3 == y[i] ? 1.5f : 0f);
        }
        return new Dataset(x, 6, y);
    }

    private static TrainOptions Options(int epochs, string? checkpoint) => new()
    {
        Epochs = epochs,
        BatchSize = 8,
        Seed = 42,
        Optimizer = new Adam(0.01f),
        Schedule = new StepDecay(0.01f, everyEpochs: 2, gamma: 0.5f).WithWarmup(10),
        Augment = static (Span<float> x, int n, ref Rng rng) => { for (int i = 0; i < x.Length; i++) x[i] += (float)(rng.NextGaussian() * 0.05); },
        Checkpoint = checkpoint,
        Log = null,
    };

    /// <summary>Dropout masks, Adam's moments and step count, a warm-up + step schedule, shuffling and augmentation all
    /// carry state across epochs: stopping after 2 epochs and resuming in a fresh model (another seed) must end
    /// bit-identical to 5 uninterrupted epochs, history included (before checkpoints there was no way to resume).</summary>
    [Fact]
    public void Stop_and_resume_gives_bit_identical_parameters_and_history()
    {
        var train = Data(61, 1);
        var test = Data(20, 2);
        using var straight = new GcDropout(8, seed: 3);
        var expected = Trainer.Fit(straight, train, test, Options(5, null));

        string path = Path.Combine(_dir, "run.ckpt");
        using (var first = new GcDropout(8, seed: 3))
            Trainer.Fit(first, train, test, Options(2, path));
        using var resumed = new GcDropout(8, seed: 99);   // everything comes from the checkpoint
        var log = new StringWriter();
        var options = Options(5, path);
        options.Log = log;
        var history = Trainer.Fit(resumed, train, test, options);

        Assert.Contains("resumed from", log.ToString());
        Assert.Equal(straight.Parameters.ToArray(), resumed.Parameters.ToArray());
        Assert.Equal(straight.OptimizerState.StepCount, resumed.OptimizerState.StepCount);
        Assert.Equal(expected.Epochs.Count, history.Epochs.Count);
        for (int e = 0; e < expected.Epochs.Count; e++)
        {
            Assert.Equal(expected.Epochs[e].TrainLoss, history.Epochs[e].TrainLoss);
            Assert.Equal(expected.Epochs[e].TestLoss, history.Epochs[e].TestLoss);
            Assert.Equal(expected.Epochs[e].LearningRate, history.Epochs[e].LearningRate);
        }
    }

    [Fact]
    public void A_run_cancelled_mid_epoch_resumes_from_the_last_finished_epoch_bit_identically()
    {
        using var straight = new ServeNetTrainable(8, seed: 5);   // BatchNorm running statistics are part of the state
        var data = ImageData(40, 6);
        var options = new TrainOptions { Epochs = 3, BatchSize = 8, Seed = 7, Optimizer = new Sgd(0.05f, momentum: 0.9f), Log = null };
        Trainer.Fit(straight, data, null, options);

        string path = Path.Combine(_dir, "cancel.ckpt");
        using var cts = new CancellationTokenSource();
        using (var interrupted = new ServeNetTrainable(8, seed: 5))
        {
            var o = new TrainOptions { Epochs = 3, BatchSize = 8, Seed = 7, Optimizer = new Sgd(0.05f, momentum: 0.9f), Checkpoint = path, Log = new CancelAfter(2, cts) };
            Assert.ThrowsAny<OperationCanceledException>(() => Trainer.Fit(interrupted, data, null, o, cts.Token));
        }
        using var resumed = new ServeNetTrainable(8, seed: 11);
        Trainer.Fit(resumed, data, null, new TrainOptions { Epochs = 3, BatchSize = 8, Seed = 7, Optimizer = new Sgd(0.05f, momentum: 0.9f), Checkpoint = path, Log = null });
        Assert.Equal(straight.Parameters.ToArray(), resumed.Parameters.ToArray());
    }

    private static Dataset ImageData(int count, ulong seed)
    {
        var rng = new Rng(seed);
        var x = Enumerable.Range(0, count * ServeNetTrainable.InputSize).Select(_ => (float)rng.NextGaussian()).ToArray();
        var y = Enumerable.Range(0, count).Select(i => i % 5).ToArray();
        return new Dataset(x, ServeNetTrainable.InputSize, y);
    }

    /// <summary>A log that cancels the run once <c>n</c> epoch lines have been written (the next epoch is then cut short).</summary>
    private sealed class CancelAfter(int n, CancellationTokenSource cts) : StringWriter
    {
        private int _lines;
        public override void WriteLine(string? value) { if (++_lines == n) cts.Cancel(); }
    }

    [Fact]
    public void A_checkpoint_of_other_options_or_another_model_is_refused_and_changes_nothing()
    {
        var train = Data(30, 8);
        string path = Path.Combine(_dir, "other.ckpt");
        using (var m = new GcDropout(8, seed: 1)) Trainer.Fit(m, train, null, Options(1, path));

        using var net = new GcDropout(8, seed: 2);
        var before = net.Parameters.ToArray();
        var other = Options(3, path);
        other.BatchSize = 4;
        var e = Assert.Throws<InvalidDataException>(() => Trainer.Fit(net, train, null, other));
        Assert.Contains("batch=8", e.Message);
        Assert.Contains("batch=4", e.Message);
        var sgd = Options(3, path);
        sgd.Optimizer = new Sgd(0.1f);
        Assert.Contains("optimiser Adam", Assert.Throws<InvalidDataException>(() => Trainer.Fit(net, train, null, sgd)).Message);
        Assert.Equal(before, net.Parameters.ToArray());

        using var relu = new GcRelu(8, seed: 1);
        var reluData = new Dataset(new float[5 * 5], 5, new int[5]);
        Assert.Contains("written for ModelGen.Tests.Models.GcDropout", Assert.Throws<InvalidDataException>(() => Trainer.Fit(relu, reluData, null, Options(2, path))).Message);

        string weights = Path.Combine(_dir, "weights.safetensors");
        net.Save(weights);
        Assert.Contains("not a ModelGen training checkpoint", Assert.Throws<InvalidDataException>(() => Trainer.Fit(net, train, null, Options(2, weights))).Message);
    }

    // ── The whole set is checked before the first step ──────────────────────────────────────────────────

    [Fact]
    public void A_bad_label_deep_in_the_set_is_found_before_the_first_step_and_named_by_its_index()
    {
        var train = Data(600, 9);
        train.Labels![500] = 3;   // GcDropout has 3 classes
        using var net = new GcDropout(8, seed: 1);
        var before = net.Parameters.ToArray();
        var e = Assert.Throws<ArgumentException>(() => Trainer.Fit(net, train, null, Options(1, null)));
        Assert.Contains("train sample 500 has label 3; the model's 3 outputs are classes 0..2", e.Message);
        Assert.Equal(before, net.Parameters.ToArray());   // no step was taken (before: 62 steps, then an error naming index 4 of a batch)
        Assert.Equal(0, net.OptimizerState.StepCount);
        var ev = Assert.Throws<ArgumentException>(() => Trainer.Evaluate(net, train));
        Assert.Contains("data sample 500 has label 3", ev.Message);
    }

    [Fact]
    public void Non_finite_features_and_targets_the_loss_cannot_take_are_named()
    {
        var train = Data(40, 10);
        train.Features[7 * 6 + 2] = float.NaN;
        using var net = new GcDropout(8, seed: 1);
        Assert.Contains("train sample 7 has NaN at feature 2", Assert.Throws<ArgumentException>(() => Trainer.Fit(net, train, null, Options(1, null))).Message);

        using var bce = new GcBce(8, seed: 1);
        var targets = new float[10];
        targets[4] = 2f;
        var set = new Dataset(new float[10 * GcBce.InputSize], GcBce.InputSize, targets, 1);
        Assert.Contains("sample 4 has target 2; BinaryCrossEntropy targets must be in [0, 1]",
            Assert.Throws<ArgumentException>(() => Trainer.Fit(bce, set, null, new TrainOptions { Epochs = 1, BatchSize = 4, Log = null })).Message);
    }
}
