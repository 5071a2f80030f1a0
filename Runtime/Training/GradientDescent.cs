using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Threading;
using ModelGen.Data;

namespace ModelGen.Training;

/// <summary>How many samples make one gradient step.</summary>
public enum GradientDescent
{
    /// <summary><see cref="TrainOptions.BatchSize"/> samples per step.</summary>
    MiniBatch,
    /// <summary>One sample per step.</summary>
    Stochastic,
    /// <summary>One step per epoch on the gradient of the whole training set (accumulated in chunks of the model's <c>MaxBatch</c>).</summary>
    FullBatch,
}

/// <summary>Transforms a training batch in place (e.g. <see cref="Data.Augment.RandomCropFlip"/>) with the trainer's seeded generator.</summary>
public delegate void BatchTransform(Span<float> features, int count, ref Rng rng);
