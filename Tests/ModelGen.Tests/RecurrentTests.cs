using System;
using System.Linq;
using ModelGen.Tests.Models;
using ModelGen.Training;
using Xunit;

namespace ModelGen.Tests;

/// <summary>Recurrent layers beyond the gradient checks: what a workspace keeps between calls, and clipping.</summary>
public class RecurrentTests
{
    private static float[] Random(int n, int seed)
    {
        var rng = new Rng((ulong)seed);
        return Enumerable.Range(0, n).Select(_ => (float)rng.NextGaussian()).ToArray();
    }

    private static ITrainableNetwork Make(string model) => model switch
    {
        nameof(GcLstm) => new GcLstm(64, 3),
        nameof(GcLstmStacked) => new GcLstmStacked(64, 3),
        nameof(GcOddPanels) => new GcOddPanels(64, 3),
        _ => new GcGru(64, 3),
    };

    /// <summary>A larger Predict before a training step (the service evaluates, then trains on) changes none of the
    /// step's gradients: the weight and bias gradients sum over whole sequence panels, whose padding columns hold
    /// whatever the larger call left there. (Found by the MNIST LSTM sample, which collapsed after its first
    /// evaluation.)</summary>
    [Theory]
    [InlineData(nameof(GcLstm), SimdWidth.V512)]
    [InlineData(nameof(GcLstmStacked), SimdWidth.V256)]
    [InlineData(nameof(GcGru), SimdWidth.V512)]
    [InlineData(nameof(GcGru), SimdWidth.Scalar)]
    public void Gradients_do_not_depend_on_what_an_earlier_larger_batch_left(string model, SimdWidth width)
    {
        if (!Simd.IsSupported(width)) return;
        float[] Gradients(bool predictFirst)
        {
            using var net = Make(model);
            net.Width = width;
            if (predictFirst)
            {
                var big = Random(60 * net.InputSize, 7).Select(v => v * 50f).ToArray();   // saturating inputs: large leftovers
                net.Predict(big, new float[60 * net.OutputSize]);
            }
            var x = Random(20 * net.InputSize, 8);   // 20 samples: 32 columns computed, a panel stride of 48
            net.ZeroGrad();
            net.Forward(x, training: true);
            net.Backward(Enumerable.Range(0, 20).Select(i => i % 2).ToArray());
            return net.Gradients.ToArray();
        }
        Assert.True(Gradients(false).AsSpan().SequenceEqual(Gradients(true)), $"{model} {width}: gradients changed after a batch-60 Predict");
    }

    [Fact]
    public void Clipping_scales_the_global_norm_down_to_the_limit_as_pytorch_does()
    {
        using var net = new GcLstm(8, 1);
        var x = Random(8 * GcLstm.InputSize, 2).Select(v => v * 10f).ToArray();
        net.ZeroGrad();
        net.Forward(x, training: true);
        net.Backward(new[] { 0, 1, 2, 0, 1, 2, 0, 1 });
        var before = net.Gradients.ToArray();
        double norm = Math.Sqrt(before.Sum(v => (double)v * v));
        float limit = (float)(norm / 4);
        Assert.Equal(norm, net.ClipGradientNorm(limit), 6);
        var after = net.Gradients.ToArray();
        Assert.Equal(limit, Math.Sqrt(after.Sum(v => (double)v * v)), 4);
        for (int i = 0; i < after.Length; i++) Assert.Equal(before[i] * (float)(limit / (norm + 1e-6)), after[i]);
        Assert.Equal(limit, net.ClipGradientNorm(limit * 2), 4);   // under the limit: returned, nothing scaled
        Assert.True(after.AsSpan().SequenceEqual(net.Gradients));
        Assert.Throws<ArgumentOutOfRangeException>(() => net.ClipGradientNorm(0f));
        Assert.Throws<ArgumentOutOfRangeException>(() => Trainer.Fit(net, new Data.Dataset(x, GcLstm.InputSize, new[] { 0, 1, 2, 0, 1, 2, 0, 1 }), null,
            new TrainOptions { ClipGradientNorm = float.NaN, Log = null }));
    }

    /// <summary>Batch 1 runs step-major with the gates in the vector lanes and packed weights: each sample's output
    /// equals the same sample's in a batch, and still after a training step changed the weights (repacked).</summary>
    [Theory]
    [InlineData(nameof(GcLstm), SimdWidth.V512)]
    [InlineData(nameof(GcLstm), SimdWidth.Scalar)]
    [InlineData(nameof(GcLstmStacked), SimdWidth.V256)]
    [InlineData(nameof(GcGru), SimdWidth.V512)]
    [InlineData(nameof(GcGru), SimdWidth.V256)]
    [InlineData(nameof(GcGruLast), SimdWidth.Scalar)]
    [InlineData(nameof(GcOddPanels), SimdWidth.V512)]
    [InlineData(nameof(GcOddPanels), SimdWidth.V256)]
    public void Batch_one_equals_the_sample_in_a_batch_before_and_after_training(string model, SimdWidth width)
    {
        if (!Simd.IsSupported(width)) return;
        using var net = model == nameof(GcGruLast) ? new GcGruLast(64, 4) : Make(model);
        net.Width = width;
        BatchOneEqualsTheBatch(net, Random(7 * net.InputSize, 9), $"{model} {width}");
    }

    /// <summary>Each of the 7 samples of <paramref name="x"/> predicted alone equals it predicted in the batch, before and
    /// after a training step moved the weights (batch 1 must repack them).</summary>
    private static void BatchOneEqualsTheBatch(ITrainableNetwork net, float[] x, string what)
    {
        for (int round = 0; round < 2; round++)
        {
            var all = new float[7 * net.OutputSize];
            net.Predict(x, all);
            var one = new float[net.OutputSize];
            for (int s = 0; s < 7; s++)
            {
                net.Predict(x.AsSpan(s * net.InputSize, net.InputSize), one);
                for (int k = 0; k < one.Length; k++)
                    Assert.True(Math.Abs(one[k] - all[s * net.OutputSize + k]) <= 1e-5f + 1e-5f * Math.Abs(all[s * net.OutputSize + k]),
                        $"{what} round {round} sample {s}: batch 1 gives {one[k]}, the batch {all[s * net.OutputSize + k]}");
            }
            net.TrainStep(x, Enumerable.Range(0, 7).Select(i => i % 2).ToArray(), new Sgd(0.5f));   // the weights move: batch 1 must repack
        }
    }

    /// <summary>Wider layers on the batch-1 path (hidden sizes 33, 64 and 70, over the 128-column tiles of the recurrent
    /// product with tails of every width): each sample's output equals the same sample's in a batch — both directions,
    /// padded steps — before and after a training step moved the weights, and a stateful stream of two pieces gives
    /// what the whole sequence gives.</summary>
    [Theory]
    [InlineData(SimdWidth.V512)]
    [InlineData(SimdWidth.V256)]
    [InlineData(SimdWidth.Scalar)]
    public void Wide_layers_at_batch_one_equal_the_batch(SimdWidth width)
    {
        if (!Simd.IsSupported(width)) return;
        using var wide = new GcWideRecurrent(8, 5) { Width = width };
        using var even = new GcWideEven(8, 6) { Width = width };
        var x = Random(7 * GcWideRecurrent.InputSize, 11);
        for (int k = 4 * 2; k < 6 * 2; k++) x[1 * GcWideRecurrent.InputSize + k] = 0f;   // sample 1: the last two steps are padding
        for (int k = 3 * 2; k < 6 * 2; k++) x[4 * GcWideRecurrent.InputSize + k] = 0f;   // sample 4: the last three
        var xe = Random(7 * GcWideEven.InputSize, 12);
        BatchOneEqualsTheBatch(wide, x, $"{nameof(GcWideRecurrent)} {width}");
        BatchOneEqualsTheBatch(even, xe, $"{nameof(GcWideEven)} {width}");

        using var whole = new GcWideEvenLong(1, 6) { Width = width };
        even.Parameters.CopyTo(whole.Parameters);
        var xl = Random(GcWideEvenLong.InputSize, 13);
        var expected = new float[2];
        whole.Predict(xl, expected);
        even.Stateful = true;
        var y = new float[2];
        even.Predict(xl.AsSpan(0, GcWideEven.InputSize), y);
        even.Predict(xl.AsSpan(GcWideEven.InputSize, GcWideEven.InputSize), y);
        for (int i = 0; i < 2; i++) Assert.Equal(expected[i], y[i], 5);
    }

    /// <summary>Training steps and batch-1 predictions of a stacked recurrent model allocate nothing once warm, and two
    /// models trained alike end bit for bit alike.</summary>
    [Fact]
    public void Recurrent_training_allocates_nothing_and_is_deterministic()
    {
        var x = Random(16 * GcGru.InputSize, 4);
        var labels = Enumerable.Range(0, 16).Select(i => i % 3).ToArray();
        float[] Train(bool checkAllocations)
        {
            using var net = new GcGru(16, 9);
            var adam = new Adam(1e-2f);
            var y = new float[3];
            for (int i = 0; i < 3; i++) { net.TrainStep(x, labels, adam); net.Predict(x.AsSpan(0, GcGru.InputSize), y); }
            if (checkAllocations)
                Assert.Equal(0, Allocations.SteadyState(() =>
                {
                    for (int i = 0; i < 5; i++) { net.TrainStep(x, labels, adam); net.Predict(x.AsSpan(0, GcGru.InputSize), y); }
                }));
            else
                for (int i = 0; i < 15; i++) { net.TrainStep(x, labels, adam); net.Predict(x.AsSpan(0, GcGru.InputSize), y); }
            return net.Parameters.ToArray();
        }
        Assert.True(Train(true).AsSpan().SequenceEqual(Train(false)));
    }

    /// <summary>Several threads predicting on one recurrent model at once (batch 1 with its packed weights in each
    /// workspace, and odd batches) get bitwise the single-thread results, also after training moved the weights.</summary>
    [Fact]
    public void Concurrent_predictions_on_a_recurrent_model_agree_with_one_thread()
    {
        using var net = new GcGru(64, 5);
        ServingTests.CheckConcurrentPredict(net, threads: 4, callsPerThread: 60);
        var x = Random(9 * GcGru.InputSize, 6);
        net.TrainStep(x, Enumerable.Range(0, 9).Select(i => i % 3).ToArray(), new Sgd(0.3f));
        ServingTests.CheckConcurrentPredict(net, threads: 4, callsPerThread: 60);
    }
}
