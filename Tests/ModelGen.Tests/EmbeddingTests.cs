using System;
using System.IO;
using System.Linq;
using ModelGen.Data;
using ModelGen.Tests.Models;
using ModelGen.Training;
using Xunit;

namespace ModelGen.Tests;

/// <summary>Token inputs: id checks, padded steps (MaskZero), and sparse tables (ZeroGrad and the optimiser touch only
/// the rows a batch used). Gradients are checked in <see cref="GradientCheckTests"/>.</summary>
public class EmbeddingTests
{
    [Theory]
    [InlineData(2.5f, "holds 2.5")]
    [InlineData(-1f, "holds -1")]
    [InlineData(9f, "holds 9")]
    [InlineData(float.NaN, "holds NaN")]
    public void A_value_that_is_not_a_token_id_is_named_by_sample_and_step(float bad, string words)
    {
        using var net = new GcEmbedGru(8, 1);
        var x = new float[3 * 7];
        for (int i = 0; i < x.Length; i++) x[i] = i % 9;
        x[1 * 7 + 4] = bad;
        var y = new float[3 * 3];
        foreach (var call in new Action[] { () => net.Predict(x, y), () => net.Forward(x, training: true) })
        {
            var e = Assert.Throws<ArgumentException>(call);
            Assert.Contains("Embed: sample 1, step 4", e.Message);
            Assert.Contains(words, e.Message);
            Assert.Contains("[0, 9)", e.Message);
        }
        var data = new Dataset(x, 7, new[] { 0, 1, 2 });
        var fit = Assert.Throws<ArgumentException>(() => Trainer.Fit(net, data, null, new TrainOptions { Epochs = 1, Log = null }));
        Assert.Contains("sample 1", fit.Message);
        Assert.Contains(float.IsNaN(bad) ? "feature 4" : "step 4", fit.Message);   // NaN fails the finite check first
    }

    /// <summary>Padding anywhere leaves the state as it was: a sequence gives bitwise the same output with its padding
    /// moved around, and an all-padding sequence gives what the zero state gives (the output layer's bias).</summary>
    [Theory]
    [InlineData(SimdWidth.Scalar)]
    [InlineData(SimdWidth.V256)]
    [InlineData(SimdWidth.V512)]
    public void Padded_steps_change_nothing(SimdWidth width)
    {
        if (!Simd.IsSupported(width)) return;
        using var net = new GcEmbedGru(8, 2) { Width = width };
        foreach (var t in net.Tensors.Where(t => !t.IsWeight))
            for (int i = 0; i < t.Length; i++) net.Parameters[t.Offset + i] = 0.1f * (i % 5) - 0.2f;
        float[] x =
        {
            3, 1, 4, 0, 0, 0, 0,
            0, 3, 0, 1, 0, 4, 0,
            0, 0, 0, 0, 3, 1, 4,
            0, 0, 0, 0, 0, 0, 0,
        };
        var y = new float[4 * 3];
        net.Predict(x, y);
        Assert.Equal(y.AsSpan(0, 3).ToArray(), y.AsSpan(3, 3).ToArray());
        Assert.Equal(y.AsSpan(0, 3).ToArray(), y.AsSpan(6, 3).ToArray());
        var bias = net.Parameters.Slice(net.Tensors.Single(t => t.Name == "Out.bias").Offset, 3).ToArray();
        Assert.Equal(bias, y.AsSpan(9, 3).ToArray());
        // Batch 1 takes the step-major path: the same padding rule.
        var one = new float[3];
        for (int s = 0; s < 4; s++)
        {
            net.Predict(x.AsSpan(s * 7, 7), one);
            for (int k = 0; k < 3; k++) Assert.Equal(y[s * 3 + k], one[k], 5);
        }
    }

    /// <summary>Masking on float sequences: a sequence padded with steps of zeros before, inside or after it gives the
    /// output of the sequence alone; an all-padding sequence gives the zero state's; the export to ONNX says why not.</summary>
    [Theory]
    [InlineData(SimdWidth.Scalar)]
    [InlineData(SimdWidth.V512)]
    public void Padded_feature_steps_change_nothing(SimdWidth width)
    {
        if (!Simd.IsSupported(width)) return;
        using var net = new GcMasking(8, 3) { Width = width };
        float[] a = { 0.5f, -1f }, b = { 2f, 0.25f }, c = { -0.7f, 0f };   // c has one zero feature: still data
        float[] Seq(params float[][] steps) => steps.SelectMany(s => s).ToArray();
        float[] z = { 0f, 0f };
        var x = Seq(a, b, c, z, z, z).Concat(Seq(z, a, z, b, c, z)).Concat(Seq(z, z, z, a, b, c)).Concat(Seq(z, z, z, z, z, z)).ToArray();
        var y = new float[4 * 2];
        net.Predict(x, y);
        // The bidirectional LSTM's reverse direction sees the padding too: carried through, it changes nothing either.
        for (int k = 0; k < 2; k++)
        {
            Assert.Equal(y[k], y[2 + k], 5);
            Assert.Equal(y[k], y[4 + k], 5);
        }
        var bias = net.Parameters.Slice(net.Tensors.Single(t => t.Name == "Out.bias").Offset, 2).ToArray();
        Assert.Equal(bias, y.AsSpan(6, 2).ToArray());
        var e = Assert.Throws<NotSupportedException>(() => net.ExportOnnx(Path.Combine(Path.GetTempPath(), $"masking-{Guid.NewGuid():N}.onnx")));
        Assert.Contains("Pad", e.Message);
    }

    /// <summary>SGD without momentum moves only rows with a gradient, so the sparse and dense tables agree bitwise (scalar
    /// path: both run the same per-element formula); with Adam a row used once keeps moving in a dense table (its
    /// moments) but stays put in a sparse one until it is used again.</summary>
    [Fact]
    public void Sparse_tables_update_only_the_rows_used()
    {
        using var sparse = new GcEmbedGru(8, 3) { Width = SimdWidth.Scalar };
        using var dense = new GcEmbedGruDense(8, 3) { Width = SimdWidth.Scalar };
        Assert.Equal(sparse.Parameters.ToArray(), dense.Parameters.ToArray());
        float[] first = { 1, 2, 3, 0, 0, 0, 0, 2, 3, 1, 1, 0, 0, 0 };
        float[] second = { 4, 5, 6, 0, 0, 0, 0, 6, 5, 4, 0, 0, 0, 0 };
        int[] labels = { 0, 2 };
        var sgd = new Sgd(0.3f);
        sparse.TrainStep(first, labels, sgd); dense.TrainStep(first, labels, sgd);
        sparse.TrainStep(second, labels, sgd); dense.TrainStep(second, labels, sgd);
        Assert.Equal(dense.Parameters.ToArray(), sparse.Parameters.ToArray());

        var table = sparse.Tensors.Single(t => t.Name == "Embed.weight");
        float[] Row(INetwork n, int r) => n.Parameters.Slice(table.Offset + r * 3, 3).ToArray();
        var adamS = new Adam(0.05f);
        var adamD = new Adam(0.05f);
        sparse.TrainStep(first, labels, adamS); dense.TrainStep(first, labels, adamD);
        var afterFirst = Row(sparse, 2);
        Assert.Equal(afterFirst, Row(dense, 2));
        sparse.TrainStep(second, labels, adamS); dense.TrainStep(second, labels, adamD);
        Assert.Equal(afterFirst, Row(sparse, 2));      // row 2 unused in the second batch: untouched
        Assert.NotEqual(afterFirst, Row(dense, 2));    // the dense table's moments moved it
        Assert.Equal(Row(dense, 7), Row(sparse, 7));   // never used: the initial values in both
        // ZeroGrad leaves every gradient zero though it clears only the rows used.
        sparse.ZeroGrad();
        Assert.All(sparse.Gradients.ToArray(), g => Assert.Equal(0f, g));
    }

    /// <summary>Full-batch descent accumulates the chunks' gradients in place, so a sparse table sees the rows of every
    /// chunk (16 + 16 + 8 samples, each chunk with ids of its own): it trains as the dense table does.</summary>
    [Fact]
    public void Full_batch_descent_updates_the_rows_of_every_chunk()
    {
        using var sparse = new GcEmbedGru(16, 4) { Width = SimdWidth.Scalar };
        using var dense = new GcEmbedGruDense(16, 4) { Width = SimdWidth.Scalar };
        var x = new float[40 * 7];
        for (int s = 0; s < 40; s++)
            for (int t = 0; t < 7; t++) x[s * 7 + t] = t > s % 7 ? 0 : 1 + (s / 16 * 3 + t) % 8;
        var labels = Enumerable.Range(0, 40).Select(i => i % 3).ToArray();
        var data = new Dataset(x, 7, labels);
        TrainOptions Options() => new() { Epochs = 2, Mode = GradientDescent.FullBatch, Optimizer = new Sgd(0.5f), Shuffle = false, Log = null };
        Trainer.Fit(sparse, data, null, Options());
        Trainer.Fit(dense, data, null, Options());
        var a = sparse.Parameters.ToArray();
        var b = dense.Parameters.ToArray();
        for (int i = 0; i < a.Length; i++) Assert.Equal(b[i], a[i], 6);
    }

    [Fact]
    public void A_training_step_on_a_sparse_table_allocates_nothing()
    {
        using var net = new GcEmbedGru(8, 5);
        float[] x = { 1, 2, 3, 0, 0, 0, 0, 2, 3, 1, 1, 0, 0, 0, 8, 7, 6, 5, 4, 3, 2 };
        int[] labels = { 0, 2, 1 };
        var adam = new Adam(0.01f);
        for (int i = 0; i < 3; i++) net.TrainStep(x, labels, adam);
        Assert.Equal(0, Allocations.SteadyState(() => { for (int i = 0; i < 5; i++) net.TrainStep(x, labels, adam); }));
    }

    /// <summary>The table saves and loads with the other tensors (PyTorch's name <c>Embed.weight</c>).</summary>
    [Fact]
    public void Saved_and_loaded_weights_reproduce_the_outputs()
    {
        using var net = new GcEmbedGru(8, 6);
        float[] x = { 1, 2, 3, 0, 0, 0, 0, 2, 3, 1, 1, 0, 0, 0 };
        net.TrainStep(x, new[] { 0, 1 }, new Adam(0.01f));
        string path = Path.Combine(Path.GetTempPath(), $"embed-{Guid.NewGuid():N}.safetensors");
        try
        {
            net.Save(path);
            using var copy = GcEmbedGru.FromFile(path, 8);
            var y1 = new float[6]; var y2 = new float[6];
            net.Predict(x, y1); copy.Predict(x, y2);
            Assert.Equal(y1, y2);
        }
        finally { File.Delete(path); }
    }
}
