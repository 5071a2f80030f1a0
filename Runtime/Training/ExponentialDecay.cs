using System;

namespace ModelGen.Training;

/// <summary>Exponential decay: <c>a = base^epoch · a₀</c> (the note's <c>0.95^epoch · a₀</c> by default).</summary>
public sealed class ExponentialDecay(float initial, float @base = 0.95f) : LearningRateSchedule
{
    /// <inheritdoc/>
    public override float Rate(int epoch, long step) => (float)(Math.Pow(@base, epoch) * initial);
}
