using System;

namespace ModelGen;

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
        public WarmupSchedule(LearningRateSchedule inner, long steps)
        {
            if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, "warm-up needs at least one step");
            _inner = inner; _steps = steps;
        }
        public override float Rate(int epoch, long step) =>
            step < _steps ? _inner.Rate(epoch, step) * (step + 1) / _steps : _inner.Rate(epoch, step);
    }
}

/// <summary>A constant rate.</summary>
public sealed class ConstantRate(float rate) : LearningRateSchedule
{
    /// <inheritdoc/>
    public override float Rate(int epoch, long step) => rate;
}

/// <summary>Staircase decay: <c>a = a₀·γ^⌊epoch / t⌋</c> — the note's "halve every t epochs" is γ = 0.5.</summary>
public sealed class StepDecay : LearningRateSchedule
{
    private readonly float _a0, _gamma;
    private readonly int _every;

    /// <summary>Multiply <paramref name="initial"/> by <paramref name="gamma"/> every <paramref name="everyEpochs"/> epochs.</summary>
    public StepDecay(float initial, int everyEpochs, float gamma = 0.5f)
    {
        if (everyEpochs < 1) throw new ArgumentOutOfRangeException(nameof(everyEpochs), everyEpochs, "t must be ≥ 1");
        _a0 = initial; _every = everyEpochs; _gamma = gamma;
    }

    /// <inheritdoc/>
    public override float Rate(int epoch, long step) => (float)(_a0 * Math.Pow(_gamma, epoch / _every));
}

/// <summary>Exponential decay: <c>a = base^epoch · a₀</c> (the note's <c>0.95^epoch · a₀</c> by default).</summary>
public sealed class ExponentialDecay(float initial, float @base = 0.95f) : LearningRateSchedule
{
    /// <inheritdoc/>
    public override float Rate(int epoch, long step) => (float)(Math.Pow(@base, epoch) * initial);
}

/// <summary>Inverse square root: <c>a = k / √(epoch + 1)</c> (the note's <c>k/√epoch</c> with epochs counted from 1).</summary>
public sealed class InverseSqrtDecay(float k) : LearningRateSchedule
{
    /// <inheritdoc/>
    public override float Rate(int epoch, long step) => (float)(k / Math.Sqrt(epoch + 1.0));
}

/// <summary>1/t decay: <c>a = a₀ / (1 + decayRate·epoch)</c>.</summary>
public sealed class InverseTimeDecay(float initial, float decayRate) : LearningRateSchedule
{
    /// <inheritdoc/>
    public override float Rate(int epoch, long step) => (float)(initial / (1.0 + decayRate * epoch));
}
