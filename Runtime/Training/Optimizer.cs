using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ModelGen.Training;

/// <summary>
/// Updates parameters from their gradients. An optimiser holds only hyper-parameters; its per-parameter state
/// (momentum, Adam's moments) lives with the model (<see cref="OptimizerState"/>), allocated once.
/// </summary>
public abstract class Optimizer
{
    private float _lr;

    /// <summary>Creates an optimiser with the given learning rate.</summary>
    protected Optimizer(float learningRate) => LearningRate = learningRate;

    /// <summary>The step size; a schedule may change it between steps.</summary>
    public float LearningRate
    {
        get => _lr;
        set
        {
            if (!(value >= 0f) || float.IsInfinity(value))
                throw new ArgumentOutOfRangeException(nameof(value), value, "learning rate must be finite and ≥ 0");
            _lr = value;
        }
    }

    /// <summary>How many parameter-sized state buffers the optimiser needs (0, 1 or 2).</summary>
    public virtual int StateSlots => 0;

    /// <summary>One update. <paramref name="state"/> holds <see cref="StateSlots"/> parameter-sized buffers, zero at
    /// the first step; <paramref name="step"/> counts updates from 1; <paramref name="width"/> is the code path
    /// (the model's <c>Width</c>: the scalar path is the reference the vector paths are tested against).</summary>
    public abstract void Update(Span<float> parameters, ReadOnlySpan<float> gradients, Span<float> state, long step, IReadOnlyList<TensorInfo> tensors, SimdWidth width);

    /// <summary>One update on the widest path this machine accelerates.</summary>
    public void Update(Span<float> parameters, ReadOnlySpan<float> gradients, Span<float> state, long step, IReadOnlyList<TensorInfo> tensors) =>
        Update(parameters, gradients, state, step, tensors, Simd.Best);

    /// <summary>Whether <see cref="UpdateRange"/> is this optimiser's update: a parameter's new value reads only its own
    /// gradient and state, so the block can be updated in ranges, on several threads, with the same bits. True for the
    /// built-in optimisers (exactly these types: a subclass may override <c>Update</c>).</summary>
    internal virtual bool UpdatesRanges => false;

    /// <summary>The update of the parameters [<paramref name="start"/>, <paramref name="end"/>) of the block: the spans
    /// are the whole block (as <c>Update</c> gets them), <paramref name="start"/> a multiple of 16 and
    /// <paramref name="end"/> one too or the block's end, so every element takes the vector or scalar path it takes in
    /// the whole block's update.</summary>
    internal virtual void UpdateRange(Span<float> parameters, ReadOnlySpan<float> gradients, Span<float> state, long step, IReadOnlyList<TensorInfo> tensors, SimdWidth width, int start, int end) =>
        throw new NotSupportedException($"{GetType().Name} updates the whole block only");

    /// <summary>The span lengths every update relies on. Updates then run raw over the whole parameter block (tensors
    /// and the padding between them, by design), so they do not go through the checked build's per-tensor checks.</summary>
    internal static void Check(Span<float> p, ReadOnlySpan<float> g, Span<float> state, int slots)
    {
        if (g.Length != p.Length) throw new ArgumentException("parameters and gradients differ in length");
        if (state.Length < slots * p.Length) throw new ArgumentException($"optimizer state holds {state.Length} floats, needs {slots} × {p.Length}");
    }
}
