using System;

namespace ModelGen.Training;

/// <summary>1/t decay: <c>a = a₀ / (1 + decayRate·epoch)</c>.</summary>
public sealed class InverseTimeDecay(float initial, float decayRate) : LearningRateSchedule
{
    /// <inheritdoc/>
    public override float Rate(int epoch, long step) => (float)(initial / (1.0 + decayRate * epoch));
}
