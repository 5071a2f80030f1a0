using System;

namespace ModelGen.Training;

/// <summary>Staircase decay: <c>a = a₀·γ^⌊epoch / t⌋</c> — the note's "halve every t epochs" is γ = 0.5.</summary>
public sealed class StepDecay : LearningRateSchedule
{
    private readonly float _a0, _gamma;
    private readonly int _every;

    /// <summary>Multiply <paramref name="initial"/> by <paramref name="gamma"/> every <paramref name="everyEpochs"/> epochs.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A hyper-parameter is out of range (the message names it).</exception>
    public StepDecay(float initial, int everyEpochs, float gamma = 0.5f)
    {
        if (everyEpochs < 1) throw new ArgumentOutOfRangeException(nameof(everyEpochs), everyEpochs, "t must be ≥ 1");
        _a0 = initial; _every = everyEpochs; _gamma = gamma;
    }

    /// <inheritdoc/>
    public override float Rate(int epoch, long step) => (float)(_a0 * Math.Pow(_gamma, epoch / _every));
}
