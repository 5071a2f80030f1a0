using System;
using System.Linq;
using ModelGen.Data;
using ModelGen.Tests.Models;
using ModelGen.Training;
using Xunit;

namespace ModelGen.Tests;

/// <summary>Outputs with one prediction per step (a dense layer on every step, softmax cross-entropy per step with
/// sample-major <c>[batch, steps]</c> labels, −100 skipping a step), through the trainer. Gradients: GradientCheckTests.</summary>
public class SequenceOutputTests
{
    /// <summary>The previous token at every step (step 0 has none: −100): an LSTM must carry one token across a step.</summary>
    private static Dataset PreviousToken(int count, ulong seed)
    {
        var rng = new Rng(seed);
        var x = new float[count * 6];
        var labels = new int[count * 6];
        for (int s = 0; s < count; s++)
            for (int t = 0; t < 6; t++)
            {
                x[s * 6 + t] = rng.NextInt(5);
                labels[s * 6 + t] = t == 0 ? -100 : (int)x[s * 6 + t - 1];
            }
        return new Dataset(x, 6, labels, 6);
    }

    [Fact]
    public void The_trainer_learns_a_label_per_step_and_scores_only_the_labelled_steps()
    {
        using var net = new GcCharLm(64, 7);
        Assert.Equal(6, ((ITrainableNetwork)net).LabelsPerSample);
        var train = PreviousToken(512, 1);
        var test = PreviousToken(128, 2);
        var history = Trainer.Fit(net, train, test, new TrainOptions { Epochs = 40, BatchSize = 32, Optimizer = new Adam(0.03f), Log = null });
        var ev = Trainer.Evaluate(net, test);
        Assert.True(ev.Accuracy > 0.95f, $"accuracy {ev.Accuracy} after 40 epochs (loss {ev.Loss})");
        Assert.True(history.Epochs[^1].TrainLoss < history.Epochs[0].TrainLoss / 4);
        // The confusion matrix counts the 5 labelled steps of every sample, per class of a step.
        Assert.Equal(128 * 5, ev.Confusion!.Cast<int>().Sum());
        Assert.Equal(5, ev.Confusion!.GetLength(0));
    }

    [Fact]
    public void Outputs_are_per_step_and_probabilities_sum_to_one_at_every_step()
    {
        using var net = new GcCharLm(4, 8);
        float[] x = { 1, 2, 3, 4, 0, 1, 4, 4, 3, 2, 1, 0 };
        var logits = new float[2 * 30];
        var p = new float[2 * 30];
        net.Predict(x, logits);
        net.PredictProbabilities(x, p);
        for (int row = 0; row < 12; row++)
        {
            Assert.Equal(1.0, p.AsSpan(row * 5, 5).ToArray().Sum(), 5);
            Assert.Equal(Trainer.ArgMax(logits.AsSpan(row * 5, 5)), Trainer.ArgMax(p.AsSpan(row * 5, 5)));
        }
        // Batch 1 (its own path: the steps are the GEMM's columns) gives what the batch gives.
        var one = new float[30];
        net.Predict(x.AsSpan(6, 6), one);
        for (int i = 0; i < 30; i++) Assert.Equal(logits[30 + i], one[i], 5);
    }

    [Fact]
    public void Labels_that_do_not_fit_the_steps_are_named()
    {
        using var net = new GcCharLm(4, 9);
        var x = new float[2 * 6];
        var one = new Dataset(x, 6, new[] { 1, 2 });
        var e = Assert.Throws<ArgumentException>(() => Trainer.Fit(net, one, null, new TrainOptions { Epochs = 1, Log = null }));
        Assert.Contains("one label per step", e.Message);
        var labels = Enumerable.Repeat(1, 12).ToArray();
        labels[9] = 5;
        var bad = new Dataset(x, 6, labels, 6);
        e = Assert.Throws<ArgumentException>(() => Trainer.Fit(net, bad, null, new TrainOptions { Epochs = 1, Log = null }));
        Assert.Contains("sample 1 has label 5 at step 3", e.Message);
        net.Forward(x, training: true);
        var r = Assert.Throws<ArgumentOutOfRangeException>(() => net.Backward(labels));
        Assert.Contains("sample 1, step 3", r.Message);
        Assert.Throws<ArgumentException>(() => net.Backward(new[] { 1, 2 }));
    }
}
