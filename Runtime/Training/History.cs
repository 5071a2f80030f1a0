using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace ModelGen.Training;

/// <summary>The per-epoch record of a training run.</summary>
public sealed class History
{
    /// <summary>One entry per finished epoch.</summary>
    public List<EpochStats> Epochs { get; } = new();

    /// <summary>Set when training stopped on a NaN or an infinity.</summary>
    public NonFiniteEvent? NonFinite { get; internal set; }

    /// <summary>
    /// Reads the train and test loss curves as the study note does: the relative least-squares slope of each over
    /// the last <paramref name="window"/> epochs counts as falling below <c>−flat</c>, rising above <c>+flat</c>,
    /// flat in between. Both falling → still learning; train falling while test is flat or rising → overfitting;
    /// train flat while test falls → a data problem; both flat → plateau; train rising (or NaN/∞) → diverging.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="window"/> is below 2.</exception>
    public Diagnosis Diagnose(int window = 5, double flat = 0.01)
    {
        if (NonFinite is not null)
            return new Diagnosis(CurveReading.Diverging, double.NaN, double.NaN, 0,
                $"Training met {NonFinite}. Lower the learning rate, check the inputs for NaN, or check the architecture (initialisation, activations).");
        if (window < 2) throw new ArgumentOutOfRangeException(nameof(window), window, "window must be ≥ 2");
        if (Epochs.Count < window)
            return new Diagnosis(CurveReading.NotEnoughEpochs, double.NaN, double.NaN, Epochs.Count, $"Need {window} epochs to read a trend; have {Epochs.Count}.");
        var last = Epochs.Skip(Epochs.Count - window).ToList();
        double train = RelativeSlope(last.Select(e => (double)e.TrainLoss).ToList());
        double test = RelativeSlope(last.Select(e => (double)e.TestLoss).ToList());
        int tr = Trend(train, flat), te = double.IsNaN(test) ? 2 : Trend(test, flat); // −1 falling, 0 flat, +1 rising, 2 unknown
        (CurveReading r, string advice) = (tr, te) switch
        {
            (1, _) => (CurveReading.Diverging, "The training loss rises: lower the learning rate or revisit the architecture and its hyper-parameters."),
            (-1, -1) or (-1, 2) => (CurveReading.StillLearning, "Both losses still fall: train for more epochs."),
            (-1, _) => (CurveReading.Overfitting, "The model fits the training set but no longer improves on the test set: add data or augmentation, L2 or dropout, use a smaller model, or stop earlier."),
            (0, -1) => (CurveReading.DataProblem, "The test loss falls while the training loss does not: check the split (leakage, a test set unlike the training set, too small a test set)."),
            (0, 1) => (CurveReading.Overfitting, "The test loss rises while the training loss stays: the model memorises; regularise or stop earlier."),
            _ => (CurveReading.Plateau, "Both losses are flat: lower the learning rate or the batch size (or use a schedule) to get out of the plateau."),
        };
        return new Diagnosis(r, train, test, window, advice);
    }

    private static int Trend(double slope, double flat) => double.IsNaN(slope) ? 0 : slope < -flat ? -1 : slope > flat ? 1 : 0;

    /// <summary>Least-squares slope of <paramref name="y"/> against 0..n−1, divided by the mean of |y|.</summary>
    internal static double RelativeSlope(IReadOnlyList<double> y)
    {
        if (y.Any(v => !double.IsFinite(v))) return double.NaN;
        int n = y.Count;
        double mx = (n - 1) / 2.0, my = y.Average(), sxy = 0, sxx = 0;
        for (int i = 0; i < n; i++) { sxy += (i - mx) * (y[i] - my); sxx += (i - mx) * (i - mx); }
        double scale = y.Average(Math.Abs);
        return scale == 0 ? 0 : sxy / sxx / scale;
    }
}
