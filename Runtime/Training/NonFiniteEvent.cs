using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace ModelGen.Training;

/// <summary>Where training met a NaN or an infinity.</summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="Step">1-based optimiser step in the run.</param>
/// <param name="Location">The first layer (forward order) holding it, e.g. <c>"Hidden2 (output)"</c>, or <c>"loss"</c>.</param>
/// <param name="Loss">The loss of that step.</param>
public sealed record NonFiniteEvent(int Epoch, long Step, string Location, float Loss)
{
    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"non-finite values at epoch {Epoch}, step {Step}, first in {Location} (loss {Loss})");
}
