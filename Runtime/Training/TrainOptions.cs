using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Threading;
using ModelGen.Data;

namespace ModelGen.Training;

/// <summary>Options of <see cref="Trainer.Fit"/>.</summary>
public sealed class TrainOptions
{
    /// <summary>Passes over the training set.</summary>
    public int Epochs { get; set; } = 10;
    /// <summary>Samples per update in <see cref="GradientDescent.MiniBatch"/> mode (at most the model's <c>MaxBatch</c>).</summary>
    public int BatchSize { get; set; } = 32;
    /// <summary>Mini-batch, stochastic (batch 1) or full-batch gradient descent.</summary>
    public GradientDescent Mode { get; set; } = GradientDescent.MiniBatch;
    /// <summary>The optimiser.</summary>
    public Optimizer Optimizer { get; set; } = new Sgd(0.01f);
    /// <summary>Learning-rate schedule; null keeps the optimiser's rate.</summary>
    public LearningRateSchedule? Schedule { get; set; }
    /// <summary>Reshuffle the training set each epoch.</summary>
    public bool Shuffle { get; set; } = true;
    /// <summary>Seed of the shuffling.</summary>
    public ulong Seed { get; set; }
    /// <summary>Stop at the first NaN/∞ loss and record where it appeared (<see cref="History.NonFinite"/>).</summary>
    public bool StopOnNonFinite { get; set; } = true;
    /// <summary>Where the progress line of each epoch goes (null: nowhere).</summary>
    public TextWriter? Log { get; set; } = Console.Out;
    /// <summary>Gradient clipping by global norm before every update (PyTorch's <c>clip_grad_norm_(max_norm)</c>, see
    /// <see cref="NetworkExtensions.ClipGradientNorm"/>): the remedy for exploding gradients in recurrent networks.
    /// Null: no clipping.</summary>
    public float? ClipGradientNorm { get; set; }
    /// <summary>Applied to every training batch before the forward pass (data augmentation); null: none.</summary>
    public BatchTransform? Augment { get; set; }
    /// <summary>A checkpoint file (as Keras's <c>BackupAndRestore</c>): after every epoch <see cref="Trainer.Fit"/> writes
    /// the parameters, the optimiser's state and update count, the schedule's position, the random streams and the
    /// history to it, atomically; when it exists at the start, <c>Fit</c> resumes from it, and the run ends with
    /// parameters bit-identical to an uninterrupted one. It must come from the same model class and the same
    /// options (batch size, mode, seed, shuffling, optimiser type); the file is kept at the end. Null: no checkpoints.</summary>
    public string? Checkpoint { get; set; }
}
