using System;

namespace ModelGen.Training;

/// <summary>
/// A learning-rate schedule: the rate for an epoch (counted from 0) and the optimiser step within the run
/// (counted from 0). <see cref="Trainer.Fit"/> sets <see cref="Optimizer.LearningRate"/> from it before every step.
/// </summary>
public abstract class LearningRateSchedule
{
    /// <summary>The rate at <paramref name="epoch"/> (0-based) and global <paramref name="step"/> (0-based).</summary>
    public abstract float Rate(int epoch, long step);

    /// <summary>Counts in steps instead of epochs: the schedule then reads its "epoch" argument as the step.</summary>
    public LearningRateSchedule PerStep() => new PerStepSchedule(this);

    /// <summary>Linear warm-up from 0 over the first <paramref name="steps"/> steps, then this schedule.</summary>
    public LearningRateSchedule WithWarmup(long steps) => new WarmupSchedule(this, steps);

    private sealed class PerStepSchedule(LearningRateSchedule inner) : LearningRateSchedule
    {
        public override float Rate(int epoch, long step) => inner.Rate((int)Math.Min(step, int.MaxValue), step);
    }

    private sealed class WarmupSchedule : LearningRateSchedule
    {
        private readonly LearningRateSchedule _inner;
        private readonly long _steps;
            /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> is below 1.</exception>
        public WarmupSchedule(LearningRateSchedule inner, long steps)
        {
            if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, "warm-up needs at least one step");
            _inner = inner; _steps = steps;
        }
        public override float Rate(int epoch, long step) =>
            step < _steps ? _inner.Rate(epoch, step) * (step + 1) / _steps : _inner.Rate(epoch, step);
    }
}
