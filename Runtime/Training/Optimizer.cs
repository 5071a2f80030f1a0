using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ModelGen;

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
    /// the first step; <paramref name="step"/> counts updates from 1.</summary>
    public abstract void Update(Span<float> parameters, ReadOnlySpan<float> gradients, Span<float> state, long step, IReadOnlyList<TensorInfo> tensors);

    internal static void Check(Span<float> p, ReadOnlySpan<float> g, Span<float> state, int slots)
    {
        if (g.Length != p.Length) throw new ArgumentException("parameters and gradients differ in length");
        if (state.Length < slots * p.Length) throw new ArgumentException($"optimizer state holds {state.Length} floats, needs {slots} × {p.Length}");
    }
}

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
    public void Step(Optimizer optimizer, Span<float> parameters, ReadOnlySpan<float> gradients, IReadOnlyList<TensorInfo> tensors)
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
        optimizer.Update(parameters, gradients, state, _step, tensors);
    }

    /// <summary>Frees the state.</summary>
    public void Dispose() { _state?.Dispose(); _state = null; _owner = null; }
}

/// <summary>
/// Stochastic gradient descent, optionally with momentum (PyTorch's convention):
/// <c>v ← μv + g;  θ ← θ − η·v</c>, or with Nesterov <c>θ ← θ − η·(g + μv)</c>; plain <c>θ ← θ − η·g</c> when μ = 0.
/// </summary>
public sealed class Sgd : Optimizer
{
    /// <summary>SGD with learning rate η, momentum μ (0: none) and optional Nesterov momentum.</summary>
    public Sgd(float learningRate, float momentum = 0f, bool nesterov = false) : base(learningRate)
    {
        if (!(momentum >= 0f && momentum < 1f)) throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "momentum must be in [0, 1)");
        if (nesterov && momentum == 0f) throw new ArgumentException("Nesterov momentum needs momentum > 0", nameof(nesterov));
        Momentum = momentum; Nesterov = nesterov;
    }

    /// <summary>μ.</summary>
    public float Momentum { get; }
    /// <summary>Nesterov's look-ahead form.</summary>
    public bool Nesterov { get; }
    /// <inheritdoc/>
    public override int StateSlots => Momentum > 0f ? 1 : 0;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Update(Span<float> parameters, ReadOnlySpan<float> gradients, Span<float> state, long step, IReadOnlyList<TensorInfo> tensors)
    {
        Check(parameters, gradients, state, StateSlots);
        ref float p = ref MemoryMarshal.GetReference(parameters);
        ref float g = ref MemoryMarshal.GetReference(gradients);
        int n = parameters.Length, i = 0;
        float lr = LearningRate, mu = Momentum;
        if (mu == 0f)
        {
            if (Vector512.IsHardwareAccelerated)
                for (var k = Vector512.Create(-lr); i + 16 <= n; i += 16)
                    Vector512.FusedMultiplyAdd(k, Vector512.LoadUnsafe(ref g, (nuint)i), Vector512.LoadUnsafe(ref p, (nuint)i)).StoreUnsafe(ref p, (nuint)i);
            else if (Vector256.IsHardwareAccelerated)
                for (var k = Vector256.Create(-lr); i + 8 <= n; i += 8)
                    Vector256.FusedMultiplyAdd(k, Vector256.LoadUnsafe(ref g, (nuint)i), Vector256.LoadUnsafe(ref p, (nuint)i)).StoreUnsafe(ref p, (nuint)i);
            for (; i < n; i++) Unsafe.Add(ref p, i) -= lr * Unsafe.Add(ref g, i);
            return;
        }
        ref float v = ref MemoryMarshal.GetReference(state);
        float nest = Nesterov ? 1f : 0f;
        if (Vector512.IsHardwareAccelerated)
        {
            var vmu = Vector512.Create(mu); var vlr = Vector512.Create(-lr);
            for (; i + 16 <= n; i += 16)
            {
                var gi = Vector512.LoadUnsafe(ref g, (nuint)i);
                var vi = Vector512.FusedMultiplyAdd(vmu, Vector512.LoadUnsafe(ref v, (nuint)i), gi);
                vi.StoreUnsafe(ref v, (nuint)i);
                var d = Nesterov ? Vector512.FusedMultiplyAdd(vmu, vi, gi) : vi;
                Vector512.FusedMultiplyAdd(vlr, d, Vector512.LoadUnsafe(ref p, (nuint)i)).StoreUnsafe(ref p, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            float gi = Unsafe.Add(ref g, i);
            float vi = Unsafe.Add(ref v, i) = mu * Unsafe.Add(ref v, i) + gi;
            Unsafe.Add(ref p, i) -= lr * (nest * (gi + mu * vi) + (1f - nest) * vi);
        }
    }
}

/// <summary>
/// Adam (Kingma &amp; Ba 2015), bias-corrected: <c>m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;
/// θ ← θ − η·m̂/(√v̂ + ε)</c> with <c>m̂ = m/(1−β₁ᵗ)</c>, <c>v̂ = v/(1−β₂ᵗ)</c>. With <c>weightDecay</c> &gt; 0 it is
/// AdamW (Loshchilov &amp; Hutter 2019): <c>θ ← θ − η·λ·θ</c> first, on weights only (not biases).
/// </summary>
public class Adam : Optimizer
{
    /// <summary>Adam with the usual defaults.</summary>
    public Adam(float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f, float weightDecay = 0f) : base(learningRate)
    {
        if (!(beta1 >= 0f && beta1 < 1f)) throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "β₁ must be in [0, 1)");
        if (!(beta2 >= 0f && beta2 < 1f)) throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "β₂ must be in [0, 1)");
        if (!(epsilon > 0f)) throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "ε must be > 0");
        if (!(weightDecay >= 0f)) throw new ArgumentOutOfRangeException(nameof(weightDecay), weightDecay, "weight decay must be ≥ 0");
        Beta1 = beta1; Beta2 = beta2; Epsilon = epsilon; WeightDecay = weightDecay;
    }

    /// <summary>β₁.</summary>
    public float Beta1 { get; }
    /// <summary>β₂.</summary>
    public float Beta2 { get; }
    /// <summary>ε.</summary>
    public float Epsilon { get; }
    /// <summary>Decoupled weight decay λ (AdamW); 0 for plain Adam.</summary>
    public float WeightDecay { get; }
    /// <inheritdoc/>
    public override int StateSlots => 2;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Update(Span<float> parameters, ReadOnlySpan<float> gradients, Span<float> state, long step, IReadOnlyList<TensorInfo> tensors)
    {
        Check(parameters, gradients, state, 2);
        int n = parameters.Length;
        if (WeightDecay > 0f)
        {
            float keep = 1f - LearningRate * WeightDecay;
            foreach (var t in tensors)
                if (t.IsWeight)
                    foreach (ref float w in parameters.Slice(t.Offset, t.Length)) w *= keep;
        }
        // η·m̂/(√v̂ + ε) = [η·√(1−β₂ᵗ)/(1−β₁ᵗ)] · m / (√v + ε·√(1−β₂ᵗ)): the bias corrections fold into two scalars.
        double c1 = 1 - Math.Pow(Beta1, step), c2 = Math.Sqrt(1 - Math.Pow(Beta2, step));
        float lrT = (float)(LearningRate * c2 / c1), epsT = (float)(Epsilon * c2);
        float b1 = Beta1, b2 = Beta2;
        ref float p = ref MemoryMarshal.GetReference(parameters);
        ref float g = ref MemoryMarshal.GetReference(gradients);
        ref float m = ref MemoryMarshal.GetReference(state);
        ref float v = ref Unsafe.Add(ref m, n);
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> vb1 = Vector512.Create(b1), vb1c = Vector512.Create(1f - b1), vb2 = Vector512.Create(b2), vb2c = Vector512.Create(1f - b2);
            Vector512<float> vlr = Vector512.Create(lrT), veps = Vector512.Create(epsT);
            for (; i + 16 <= n; i += 16)
            {
                var gi = Vector512.LoadUnsafe(ref g, (nuint)i);
                var mi = Vector512.FusedMultiplyAdd(vb1, Vector512.LoadUnsafe(ref m, (nuint)i), vb1c * gi);
                var vi = Vector512.FusedMultiplyAdd(vb2, Vector512.LoadUnsafe(ref v, (nuint)i), vb2c * gi * gi);
                mi.StoreUnsafe(ref m, (nuint)i);
                vi.StoreUnsafe(ref v, (nuint)i);
                (Vector512.LoadUnsafe(ref p, (nuint)i) - vlr * mi / (Vector512.Sqrt(vi) + veps)).StoreUnsafe(ref p, (nuint)i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> vb1 = Vector256.Create(b1), vb1c = Vector256.Create(1f - b1), vb2 = Vector256.Create(b2), vb2c = Vector256.Create(1f - b2);
            Vector256<float> vlr = Vector256.Create(lrT), veps = Vector256.Create(epsT);
            for (; i + 8 <= n; i += 8)
            {
                var gi = Vector256.LoadUnsafe(ref g, (nuint)i);
                var mi = Vector256.FusedMultiplyAdd(vb1, Vector256.LoadUnsafe(ref m, (nuint)i), vb1c * gi);
                var vi = Vector256.FusedMultiplyAdd(vb2, Vector256.LoadUnsafe(ref v, (nuint)i), vb2c * gi * gi);
                mi.StoreUnsafe(ref m, (nuint)i);
                vi.StoreUnsafe(ref v, (nuint)i);
                (Vector256.LoadUnsafe(ref p, (nuint)i) - vlr * mi / (Vector256.Sqrt(vi) + veps)).StoreUnsafe(ref p, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            float gi = Unsafe.Add(ref g, i);
            float mi = Unsafe.Add(ref m, i) = b1 * Unsafe.Add(ref m, i) + (1f - b1) * gi;
            float vi = Unsafe.Add(ref v, i) = b2 * Unsafe.Add(ref v, i) + (1f - b2) * gi * gi;
            Unsafe.Add(ref p, i) -= lrT * mi / (MathF.Sqrt(vi) + epsT);
        }
    }
}

/// <summary>AdamW: Adam with decoupled weight decay on the weights (default λ = 0.01, as PyTorch).</summary>
public sealed class AdamW : Adam
{
    /// <summary>AdamW with the usual defaults.</summary>
    public AdamW(float learningRate = 1e-3f, float weightDecay = 0.01f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f)
        : base(learningRate, beta1, beta2, epsilon, weightDecay) { }
}
