using System;
using System.IO;
using System.Linq;
using System.Threading;
using ModelGen.Data;
using ModelGen.Tests.Harness;
using ModelGen.Tests.Models;
using Xunit;
using ModelGen.Training;

namespace ModelGen.Tests;

public class TrainingTests
{
    private static readonly Lazy<(Dataset Train, Dataset Test)> s_mnist = new(() =>
    {
        string dir = Path.Combine(AppContext.BaseDirectory, "data", "mnist");
        var train = Idx.Load(Path.Combine(dir, "train-images-idx3-ubyte.gz"), Path.Combine(dir, "train-labels-idx1-ubyte.gz"));
        var test = Idx.Load(Path.Combine(dir, "t10k-images-idx3-ubyte.gz"), Path.Combine(dir, "t10k-labels-idx1-ubyte.gz"));
        return (train.Slice(0, 2000), test.Slice(0, 2000));
    });

    [Fact]
    public void Training_on_2000_real_digits_lowers_the_loss_and_beats_85_percent()
    {
        var (train, test) = s_mnist.Value;
        using var model = new SampleMlp(maxBatch: 64, seed: 1);
        var before = Trainer.Evaluate(model, test);
        var history = Trainer.Fit(model, train, test, new TrainOptions { Epochs = 8, BatchSize = 32, Optimizer = new Sgd(0.1f), Log = null });
        Assert.Equal(8, history.Epochs.Count);
        Assert.True(history.Epochs[^1].TrainLoss < history.Epochs[0].TrainLoss / 2, "train loss did not halve");
        Assert.True(history.Epochs[^1].TestLoss < before.Loss / 3, $"test loss {history.Epochs[^1].TestLoss} vs {before.Loss} before training");
        var after = Trainer.Evaluate(model, test);
        Assert.True(after.Accuracy > 0.85f, $"test accuracy {after.Accuracy}");
        Assert.Equal(test.Count, Enumerable.Range(0, 10).Sum(r => Enumerable.Range(0, 10).Sum(c => after.Confusion![r, c])));
        Assert.Equal(after.Accuracy, Enumerable.Range(0, 10).Sum(i => after.Confusion![i, i]) / (float)test.Count, 5);
    }

    [Fact]
    public void Same_seed_gives_bit_identical_training()
    {
        var (train, _) = s_mnist.Value;
        var small = train.Slice(0, 300);
        float[] Train()
        {
            using var model = new SampleMlp(maxBatch: 32, seed: 11);
            Trainer.Fit(model, small, null, new TrainOptions { Epochs = 2, BatchSize = 32, Optimizer = new Sgd(0.05f), Seed = 5, Log = null });
            return model.Parameters.ToArray();
        }
        Assert.Equal(Train(), Train());
        using var other = new SampleMlp(maxBatch: 32, seed: 12);
        using var same = new SampleMlp(maxBatch: 32, seed: 11);
        Assert.NotEqual(other.Parameters.ToArray(), same.Parameters.ToArray());
    }

    /// <summary>Loss after N SGD steps equals an independent double-precision computation of the same steps.</summary>
    [Fact]
    public void Sgd_trajectory_matches_an_independent_double_precision_reference()
    {
        using var net = new GcWide(maxBatch: 8, seed: 21);
        var reference = new ReferenceNet(net, GradientCheckTests.LayersOf(net));
        var p = net.Parameters.ToArray().Select(v => (double)v).ToArray();
        var rng = new Rng(4);
        const float lr = 0.2f;
        var sgd = new Sgd(lr);
        for (int step = 0; step < 10; step++)
        {
            var x = Enumerable.Range(0, 8 * 37).Select(_ => (float)rng.NextGaussian()).ToArray();
            var labels = Enumerable.Range(0, 8).Select(_ => rng.NextInt(19)).ToArray();
            double refLoss = reference.Loss(p, x, 8, labels, null);
            var g = reference.NumericGradient(p, x, 8, labels, null);
            for (int i = 0; i < p.Length; i++) p[i] -= lr * g[i];
            float loss = net.TrainStep(x, labels, sgd);
            Assert.True(Math.Abs(loss - refLoss) < 1e-4 * Math.Max(1, Math.Abs(refLoss)), $"step {step}: loss {loss}, reference {refLoss}");
        }
        var final = net.Parameters.ToArray();
        for (int i = 0; i < p.Length; i++) Assert.True(Math.Abs(final[i] - p[i]) < 1e-4, $"parameter {i}: {final[i]} vs reference {p[i]}");
    }

    [Fact]
    public void Predict_and_a_training_step_allocate_nothing()
    {
        using var model = new SampleMlp(maxBatch: 64, seed: 1);
        var x = new float[64 * 784];
        var y = new float[64 * 10];
        var labels = new int[64];
        var sgd = new Sgd(0.01f);
        model.Predict(x.AsSpan(0, 784), y.AsSpan(0, 10));
        model.Predict(x, y);
        model.TrainStep(x, labels, sgd);
        Assert.Equal(0, Allocations.SteadyState(() =>
        {
            for (int i = 0; i < 10; i++)
            {
                model.Predict(x.AsSpan(0, 784), y.AsSpan(0, 10));
                model.Predict(x, y);
                model.TrainStep(x, labels, sgd);
            }
        }));
    }

    [Fact]
    public void Batch_one_prediction_equals_the_same_sample_in_a_batch()
    {
        using var model = new SampleMlp(maxBatch: 40, seed: 3);
        var rng = new Rng(1);
        var x = Enumerable.Range(0, 40 * 784).Select(_ => rng.NextFloat()).ToArray();
        var all = new float[40 * 10];
        model.Predict(x, all);
        var one = new float[10];
        for (int s = 0; s < 40; s += 13)
        {
            model.Predict(x.AsSpan(s * 784, 784), one);
            SimdWidthTests.AssertClose(all.AsSpan(s * 10, 10).ToArray(), one, $"sample {s}");
        }
    }

    [Fact]
    public void Bad_arguments_are_clear_errors()
    {
        using var model = new SampleMlp(maxBatch: 4, seed: 1);
        var e1 = Assert.Throws<ArgumentException>(() => model.Predict(new float[783], new float[10]));
        Assert.Contains("784", e1.Message);
        var e2 = Assert.Throws<ArgumentException>(() => model.Predict(new float[5 * 784], new float[50]));
        Assert.Contains("maxBatch = 4", e2.Message);
        var e3 = Assert.Throws<ArgumentException>(() => model.Predict(new float[784], new float[9]));
        Assert.Contains("output", e3.Message);
        model.Forward(new float[784]);
        Assert.Throws<InvalidOperationException>(() => model.Backward(new[] { 1 }));
        model.Forward(new float[2 * 784], training: true);
        var e4 = Assert.Throws<ArgumentOutOfRangeException>(() => model.Backward(new[] { 1, 10 }));
        Assert.Contains("sample 1", e4.Message);
        Assert.Throws<InvalidOperationException>(() => ((ITrainableNetwork)model).Backward(new float[20]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SampleMlp(maxBatch: 0));
        Assert.Throws<PlatformNotSupportedException>(() => { if (!Simd.IsSupported(SimdWidth.V512)) model.Width = SimdWidth.V512; else throw new PlatformNotSupportedException(); });
    }

    [Fact]
    public void Trainer_checks_its_inputs_and_can_be_cancelled()
    {
        var (train, test) = s_mnist.Value;
        using var model = new SampleMlp(maxBatch: 16, seed: 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => Trainer.Fit(model, train, test, new TrainOptions { BatchSize = 32, Log = null }));
        var regression = new Dataset(new float[784 * 2], 784, new float[20], 10);
        Assert.Throws<ArgumentException>(() => Trainer.Fit(model, regression, null, new TrainOptions { BatchSize = 16, Log = null }));
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.Throws<OperationCanceledException>(() => Trainer.Fit(model, train, test, new TrainOptions { BatchSize = 16, Log = null }, cts.Token));
    }

    [Fact]
    public void Trainer_logs_one_line_per_epoch()
    {
        var (train, test) = s_mnist.Value;
        using var model = new SampleMlp(maxBatch: 64, seed: 1);
        var log = new StringWriter();
        var h = Trainer.Fit(model, train.Slice(0, 256), test.Slice(0, 100), new TrainOptions { Epochs = 3, BatchSize = 64, Log = log });
        var lines = log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("epoch   1/3  train loss", lines[0]);
        Assert.Contains("samples/s", lines[2]);
        Assert.All(h.Epochs, e => Assert.True(e.SamplesPerSecond > 0));
    }

    [Fact]
    public void Inference_only_network_predicts_and_refuses_training()
    {
        using var net = new InferenceOnlyNet(maxBatch: 2, seed: 1);
        Assert.IsNotAssignableFrom<ITrainableNetwork>(net);
        var y = new float[4];
        net.Predict(new float[16], y);
        Assert.All(y, v => Assert.True(float.IsFinite(v)));
        Assert.Throws<InvalidOperationException>(() => net.Forward(new float[8], training: true));
        Assert.Contains("inference only", InferenceOnlyNet.Summary);
    }

    /// <summary>An inference-only LSTM has no training buffers (the kept tanh(c), the gradients): its forward must run
    /// without them, at batch 1 and batched, and give what the trainable network with the same weights gives.</summary>
    [Fact]
    public void Inference_only_lstm_predicts_what_its_trainable_twin_predicts()
    {
        using var net = new InferenceOnlyLstm(maxBatch: 5, seed: 1);
        using var twin = new LstmTwinTrainable(maxBatch: 5, seed: 1);
        Assert.IsNotAssignableFrom<ITrainableNetwork>(net);
        net.Parameters.CopyTo(twin.Parameters);
        var rng = new Rng(7);
        var x = new float[5 * 18];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextFloat() - 0.5f;
        foreach (int batch in new[] { 1, 5 })
        {
            var y = new float[batch * 2];
            var yt = new float[batch * 2];
            net.Predict(x.AsSpan(0, batch * 18), y);
            twin.Predict(x.AsSpan(0, batch * 18), yt);
            Assert.Equal(yt, y);
            Assert.All(y, v => Assert.True(float.IsFinite(v)));
        }
    }

    [Fact]
    public void Summary_and_layers_report_shapes_and_counts()
    {
        Assert.Equal(235146, SampleMlp.ParameterCount);
        Assert.Contains("Hidden1  Dense(256), Relu  [256]         200,960           401,408", SampleMlp.Summary);
        Assert.Contains("Total parameters: 235,146", SampleMlp.Summary);
        using var m = new SampleMlp();
        Assert.Equal(200704, m.Hidden1.Weight.Length);
        Assert.Equal(new[] { 256 }, m.Hidden1.OutputShape);
        Assert.Equal("Hidden1", m.Hidden1.Name);
        Assert.Equal(LossKind.SoftmaxCrossEntropy, m.Loss.Kind);
        Assert.Equal(new[] { "Hidden1.weight", "Hidden1.bias", "Hidden2.weight", "Hidden2.bias", "Logits.weight", "Logits.bias" }, m.Tensors.Select(t => t.Name));
    }
}
