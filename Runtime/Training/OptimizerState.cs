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
    /// <exception cref="ArgumentNullException"><paramref name="optimizer"/> is null.</exception>
    /// <exception cref="ArgumentException">The gradients are not the size of the parameters.</exception>
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

    /// <summary>The optimiser's per-parameter buffers (a copy, <c>StateSlots × parameters</c>), for a checkpoint.</summary>
    internal float[] ExportSlots(int slots, int parameterCount) =>
        _state is null || slots == 0 ? new float[(long)slots * parameterCount] : _state.Span(0, slots * parameterCount).ToArray();

    /// <summary>Takes over a checkpoint's state: <paramref name="optimizer"/> continues at update <paramref name="step"/>
    /// + 1 with the given buffers, as if it had made the first <paramref name="step"/> updates itself.</summary>
    internal void Restore(Optimizer optimizer, long step, ReadOnlySpan<float> slots, int parameterCount)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        if (slots.Length != (long)optimizer.StateSlots * parameterCount)
            throw new ArgumentException($"{optimizer.GetType().Name} keeps {optimizer.StateSlots} × {parameterCount} floats of state; the checkpoint has {slots.Length}", nameof(slots));
        _state?.Dispose();
        _state = optimizer.StateSlots > 0 ? new Arena((long)optimizer.StateSlots * parameterCount) : null;
        if (_state is not null) slots.CopyTo(_state.Span(0, slots.Length));
        _owner = optimizer;
        _step = step;
    }

    /// <summary>Frees the state.</summary>
    public void Dispose() { _state?.Dispose(); _state = null; _owner = null; }
}
