using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ModelGen.Training;

/// <summary>Per-model optimiser state: allocated once for the optimiser that first steps the model, and reset
/// (zeroed, step count 0) when a different optimiser instance takes over.</summary>
public sealed class OptimizerState : IDisposable
{
    private Optimizer? _owner;
    private Arena? _state;
    private long _step;

    /// <summary>Updates so far with the current optimiser.</summary>
    public long StepCount => _step;

    /// <summary>One update of <paramref name="parameters"/> by <paramref name="optimizer"/>.</summary>
    public void Step(Optimizer optimizer, Span<float> parameters, ReadOnlySpan<float> gradients, IReadOnlyList<TensorInfo> tensors, SimdWidth width)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        if (!ReferenceEquals(optimizer, _owner))
        {
            _state?.Dispose();
            _state = optimizer.StateSlots > 0 ? new Arena((long)optimizer.StateSlots * parameters.Length) : null;
            _owner = optimizer;
            _step = 0;
        }
        _step++;
        var state = _state is null ? Span<float>.Empty : _state.Span(0, optimizer.StateSlots * parameters.Length);
        optimizer.Update(parameters, gradients, state, _step, tensors, Simd.Validate(width));
    }

    /// <summary>Frees the state.</summary>
    public void Dispose() { _state?.Dispose(); _state = null; _owner = null; }
}
