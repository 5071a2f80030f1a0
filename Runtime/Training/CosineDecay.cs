using System;

namespace ModelGen.Training;

/// <summary>
/// Cosine decay over optimiser steps (PyTorch's <c>CosineAnnealingLR</c> without restarts, counted in steps as GPT
/// training does): <c>η = η_min + ½(η₀ − η_min)(1 + cos(π·min(step, steps)/steps))</c>, then <c>η_min</c> for good.
/// Combine with <see cref="LearningRateSchedule.WithWarmup"/> for the usual warm-up then cosine.
/// </summary>
public sealed class CosineDecay : LearningRateSchedule
{
    private readonly float _initial, _minimum;
    private readonly long _steps;

    /// <param name="initial">η₀, the rate at step 0.</param>
    /// <param name="steps">Steps over which the rate falls to <paramref name="minimum"/>.</param>
    /// <param name="minimum">η_min.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> is below 1, or a rate is negative or not finite.</exception>
    public CosineDecay(float initial, long steps, float minimum = 0f)
    {
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, "cosine decay needs at least one step");
        if (!(initial >= 0f) || !(minimum >= 0f) || float.IsInfinity(initial) || float.IsInfinity(minimum))
            throw new ArgumentOutOfRangeException(nameof(initial), $"rates must be finite and ≥ 0, got {initial} and {minimum}");
        _initial = initial; _steps = steps; _minimum = minimum;
    }

    /// <inheritdoc/>
    public override float Rate(int epoch, long step) =>
        (float)(_minimum + 0.5 * (_initial - _minimum) * (1 + Math.Cos(Math.PI * Math.Min(Math.Max(step, 0), _steps) / _steps)));
}
