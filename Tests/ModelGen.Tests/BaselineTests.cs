using System;
using System.IO;
using System.Linq;
using ModelGen.Baselines;
using ModelGen.Data;
using ModelGen.Tests.Models;
using Xunit;
using ModelGen.Training;

namespace ModelGen.Tests;

public class BaselineTests
{
    /// <summary>Brute force in double: the k nearest by the plain definition of the distance, majority vote, ties to the nearest.</summary>
    private static int[] BruteForce(Dataset train, Dataset test, int k, Distance metric)
    {
        var result = new int[test.Count];
        for (int q = 0; q < test.Count; q++)
        {
            var d = Enumerable.Range(0, train.Count).Select(j =>
            {
                double s = 0;
                for (int f = 0; f < train.FeatureSize; f++)
                {
                    double diff = test.Features[q * test.FeatureSize + f] - train.Features[j * train.FeatureSize + f];
                    s += metric == Distance.L1 ? Math.Abs(diff) : diff * diff;
                }
                return (s, label: train.Labels![j]);
            }).OrderBy(t => t.s).Take(k).ToList();
            var votes = d.GroupBy(t => t.label).Select(g => (g.Key, g.Count())).ToList();
            int top = votes.Max(v => v.Item2);
            result[q] = d.First(t => votes.Any(v => v.Key == t.label && v.Item2 == top)).label;
        }
        return result;
    }

    [Theory]
    [InlineData(1, Distance.L2, true)]
    [InlineData(3, Distance.L2, true)]
    [InlineData(5, Distance.L1, true)]
    [InlineData(3, Distance.L2, false)]
    [InlineData(4, Distance.L1, false)]
    public void Knn_agrees_with_brute_force(int k, Distance metric, bool vectorized)
    {
        var train = TrainingToolkitTests.Blobs(203, 37, 4, 5);   // neither count is a multiple of a tile
        var test = TrainingToolkitTests.Blobs(71, 37, 4, 6);
        var knn = new KNearestNeighbors(k, metric) { Vectorized = vectorized }.Fit(train);
        Assert.Equal(BruteForce(train, test, k, metric), knn.Predict(test));
    }

    [Fact]
    public void Knn_on_real_digits_beats_90_percent()
    {
        string dir = Path.Combine(AppContext.BaseDirectory, "data", "mnist");
        var train = Idx.Load(Path.Combine(dir, "train-images-idx3-ubyte.gz"), Path.Combine(dir, "train-labels-idx1-ubyte.gz")).Slice(0, 3000);
        var test = Idx.Load(Path.Combine(dir, "t10k-images-idx3-ubyte.gz"), Path.Combine(dir, "t10k-labels-idx1-ubyte.gz")).Slice(0, 500);
        Assert.True(new KNearestNeighbors(3).Fit(train).Score(test) > 0.88f);
        Assert.Throws<ArgumentException>(() => new KNearestNeighbors(5).Fit(train.Slice(0, 3)));
        Assert.Throws<InvalidOperationException>(() => new KNearestNeighbors(1).Predict(test));
    }

    /// <summary>Quantile regression on y = 2x + N(0,1): the fitted line is the 0.9-quantile, 2x + 1.2816, and
    /// about 90% of fresh targets fall below it.</summary>
    [Fact]
    public void Quantile_loss_learns_the_quantile_and_covers_tau()
    {
        Dataset Make(int n, ulong seed)
        {
            var rng = new Rng(seed);
            var x = new float[n]; var y = new float[n];
            for (int i = 0; i < n; i++) { x[i] = (float)(rng.NextDouble() * 4 - 2); y[i] = 2 * x[i] + (float)rng.NextGaussian(); }
            return new Dataset(x, 1, y, 1);
        }
        var train = Make(4000, 1); var test = Make(5000, 2);
        using var model = new QuantileLine(maxBatch: 64, seed: 1);
        Trainer.Fit(model, train, null, new TrainOptions { Epochs = 40, BatchSize = 64, Optimizer = new Adam(0.05f), Schedule = new InverseTimeDecay(0.05f, 0.2f), Log = null });
        Assert.InRange(model.Line.Weight[0], 1.9f, 2.1f);
        Assert.InRange(model.Line.Bias[0], 1.18f, 1.38f);   // Φ⁻¹(0.9) = 1.2816
        var pred = new float[1];
        int below = 0;
        for (int i = 0; i < test.Count; i++)
        {
            model.Predict(test.Features.AsSpan(i, 1), pred);
            if (test.Targets![i] < pred[0]) below++;
        }
        Assert.InRange(below / (double)test.Count, 0.88, 0.92);
    }

    /// <summary>Huber is robust: a few wild outliers barely move its fit, while they drag an MSE fit.</summary>
    [Fact]
    public void Huber_fit_resists_outliers()
    {
        var rng = new Rng(3);
        int n = 500;
        var x = new float[n]; var y = new float[n];
        for (int i = 0; i < n; i++) { x[i] = (float)(rng.NextDouble() * 2 - 1); y[i] = 3 * x[i] + 0.1f * (float)rng.NextGaussian(); }
        for (int i = 0; i < 25; i++) y[i] += 50f;   // 5% outliers
        var data = new Dataset(x, 1, y, 1);
        using var model = new HuberLine(maxBatch: 50, seed: 1);
        Trainer.Fit(model, data, null, new TrainOptions { Epochs = 200, BatchSize = 50, Optimizer = new Adam(0.05f), Log = null });
        Assert.InRange(model.Line.Weight[0], 2.7f, 3.3f);
        Assert.InRange(model.Line.Bias[0], -0.2f, 0.6f);     // an MSE fit would put the bias near 2.5
    }

    [Fact]
    public void Csv_reads_tables_and_names_bad_cells()
    {
        string dir = Directory.CreateTempSubdirectory("modelgen-csv-").FullName;
        try
        {
            string good = Path.Combine(dir, "t.csv");
            File.WriteAllText(good, "1,2,0\n3,4,1\n\n5,6,1\n");
            var d = Csv.LoadClassification(good, scale: 2f);
            Assert.Equal(3, d.Count);
            Assert.Equal(new[] { 0.5f, 1f, 1.5f, 2f, 2.5f, 3f }, d.Features);
            Assert.Equal(new[] { 0, 1, 1 }, d.Labels);
            string ws = Path.Combine(dir, "w.txt");
            File.WriteAllText(ws, "1  2.5\t3\n4 5 6\n");
            Assert.Equal(2, Csv.ReadRows(ws, separator: null).Count);
            File.WriteAllText(good, "1,2,0\n3,x,1\n");
            var e = Assert.Throws<InvalidDataException>(() => Csv.ReadRows(good));
            Assert.Contains(":2: column 2 is 'x'", e.Message);
            File.WriteAllText(good, "1,2,0\n3,1\n");
            Assert.Contains("2 columns, expected 3", Assert.Throws<InvalidDataException>(() => Csv.ReadRows(good)).Message);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Shipped_digits_load_and_split_reproducibly()
    {
        var digits = Csv.LoadClassification(Path.Combine(AppContext.BaseDirectory, "data", "sklearn", "digits.csv.gz"), scale: 16f);
        Assert.Equal(1797, digits.Count);
        Assert.Equal(64, digits.FeatureSize);
        Assert.InRange(digits.Features.Max(), 0.99f, 1f);
        var (a, b) = digits.Split(0.8, seed: 42);
        var (c, _) = digits.Split(0.8, seed: 42);
        Assert.Equal(1438, a.Count);
        Assert.Equal(359, b.Count);
        Assert.Equal(a.Labels, c.Labels);
    }

    [Fact]
    public void Standardizer_uses_training_statistics()
    {
        var x = new float[] { 1, 10, 3, 10, 5, 10 };
        var s = Standardizer.Fit(x, 2);
        Assert.Equal(new[] { 3f, 10f }, s.Mean);
        Assert.Equal(1f, s.Std[1]);   // a constant feature keeps σ = 1
        var y = (float[])x.Clone();
        s.Apply(y);
        Assert.Equal(0f, y[2], 6);
        Assert.Equal(0f, y[1], 6);
        s.Invert(y);
        Assert.Equal(x, y);
    }
}
