using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace ModelGen.Training;

/// <summary>A reading of the curves with its evidence: relative slopes (fraction of the mean loss per epoch,
/// least squares over the last <see cref="Window"/> epochs).</summary>
public sealed record Diagnosis(CurveReading Reading, double TrainSlope, double TestSlope, int Window, string Advice)
{
    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Reading}: train loss {Trend(TrainSlope)}, test loss {Trend(TestSlope)} over the last {Window} epochs. {Advice}");

    private static string Trend(double s) => double.IsNaN(s) ? "n/a" : $"{s * 100:+0.0;-0.0;0.0}%/epoch";
}
