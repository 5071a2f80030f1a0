using System;

namespace ModelGen.Training;

/// <summary>A constant rate.</summary>
public sealed class ConstantRate(float rate) : LearningRateSchedule
{
    /// <inheritdoc/>
    public override float Rate(int epoch, long step) => rate;
}
