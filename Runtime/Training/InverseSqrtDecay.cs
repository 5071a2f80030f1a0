using System;

namespace ModelGen.Training;

/// <summary>Inverse square root: <c>a = k / √(epoch + 1)</c> (the note's <c>k/√epoch</c> with epochs counted from 1).</summary>
public sealed class InverseSqrtDecay(float k) : LearningRateSchedule
{
    /// <inheritdoc/>
    public override float Rate(int epoch, long step) => (float)(k / Math.Sqrt(epoch + 1.0));
}
