using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Threading;
using ModelGen.Data;

namespace ModelGen.Training;

/// <summary>Loss, accuracy and confusion matrix of a model on a data set.</summary>
/// <param name="Loss">Mean loss (including any L2 penalty).</param>
/// <param name="Accuracy">Fraction classified correctly (NaN for regression).</param>
/// <param name="Confusion">Counts <c>[true class, predicted class]</c> (null for regression).</param>
public sealed record Evaluation(float Loss, float Accuracy, int[,]? Confusion);
