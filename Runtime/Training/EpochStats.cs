using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace ModelGen.Training;

/// <summary>One epoch's figures.</summary>
public sealed record EpochStats(int Epoch, float TrainLoss, float TrainAccuracy, float TestLoss, float TestAccuracy,
    double Seconds, double SamplesPerSecond, float LearningRate = float.NaN);
