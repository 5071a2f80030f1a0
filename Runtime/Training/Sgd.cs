using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ModelGen.Training;

/// <summary>
/// Stochastic gradient descent, optionally with momentum (PyTorch's convention):
/// <c>v ← μv + g;  θ ← θ − η·v</c>, or with Nesterov <c>θ ← θ − η·(g + μv)</c>; plain <c>θ ← θ − η·g</c> when μ = 0.
/// </summary>
public sealed class Sgd : Optimizer
{
    /// <summary>SGD with learning rate η, momentum μ (0: none) and optional Nesterov momentum.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The learning rate is negative or not finite, or the momentum is outside [0, 1).</exception>
    /// <exception cref="ArgumentException">Nesterov without momentum.</exception>
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
    public override void Update(Span<float> parameters, ReadOnlySpan<float> gradients, Span<float> state, long step, IReadOnlyList<TensorInfo> tensors, SimdWidth width)
    {
        Check(parameters, gradients, state, StateSlots);
        UpdateRange(parameters, gradients, state, step, tensors, width, 0, parameters.Length);
    }

    internal override bool UpdatesRanges => true;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal override void UpdateRange(Span<float> parameters, ReadOnlySpan<float> gradients, Span<float> state, long step, IReadOnlyList<TensorInfo> tensors, SimdWidth width, int start, int end)
    {
        ref float p = ref Unsafe.Add(ref MemoryMarshal.GetReference(parameters), start);
        ref float g = ref Unsafe.Add(ref MemoryMarshal.GetReference(gradients), start);
        int n = end - start, i = 0;
        float lr = LearningRate, mu = Momentum;
        if (mu == 0f)
        {
            if (width == SimdWidth.V512)
                for (var k = Vector512.Create(-lr); i + 16 <= n; i += 16)
                    Vector512.FusedMultiplyAdd(k, Vector512.LoadUnsafe(ref g, (nuint)i), Vector512.LoadUnsafe(ref p, (nuint)i)).StoreUnsafe(ref p, (nuint)i);
            else if (width == SimdWidth.V256)
                for (var k = Vector256.Create(-lr); i + 8 <= n; i += 8)
                    Vector256.FusedMultiplyAdd(k, Vector256.LoadUnsafe(ref g, (nuint)i), Vector256.LoadUnsafe(ref p, (nuint)i)).StoreUnsafe(ref p, (nuint)i);
            for (; i < n; i++) Unsafe.Add(ref p, i) -= lr * Unsafe.Add(ref g, i);
            return;
        }
        ref float v = ref Unsafe.Add(ref MemoryMarshal.GetReference(state), start);
        float nest = Nesterov ? 1f : 0f;
        if (width == SimdWidth.V512)
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
