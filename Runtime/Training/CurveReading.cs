using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace ModelGen.Training;

/// <summary>The five readings of the train/test loss curves in the study note, plus divergence to NaN.</summary>
public enum CurveReading
{
    /// <summary>Too few epochs to read a trend.</summary>
    NotEnoughEpochs,
    /// <summary>Both losses falling: keep training.</summary>
    StillLearning,
    /// <summary>Train loss falling, test loss flat or rising: the model memorises the training set.</summary>
    Overfitting,
    /// <summary>Train loss flat, test loss falling: the data are suspect (split, leakage, a test set unlike the training set).</summary>
    DataProblem,
    /// <summary>Both flat: lower the learning rate or the batch size.</summary>
    Plateau,
    /// <summary>Losses rising (or NaN/∞): the architecture or the hyper-parameters are wrong.</summary>
    Diverging,
}
