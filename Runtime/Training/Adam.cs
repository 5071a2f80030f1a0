using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ModelGen.Training;

/// <summary>
/// Adam (Kingma &amp; Ba 2015), bias-corrected: <c>m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;
/// θ ← θ − η·m̂/(√v̂ + ε)</c> with <c>m̂ = m/(1−β₁ᵗ)</c>, <c>v̂ = v/(1−β₂ᵗ)</c>. With <c>weightDecay</c> &gt; 0 it is
/// AdamW (Loshchilov &amp; Hutter 2019): <c>θ ← θ − η·λ·θ</c> first, on weights only (not biases).
/// </summary>
public class Adam : Optimizer
{
    /// <summary>Adam with the usual defaults.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A hyper-parameter is out of range (the message names it).</exception>
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
    public override void Update(Span<float> parameters, ReadOnlySpan<float> gradients, Span<float> state, long step, IReadOnlyList<TensorInfo> tensors, SimdWidth width)
    {
        Check(parameters, gradients, state, 2);
        UpdateRange(parameters, gradients, state, step, tensors, width, 0, parameters.Length);
    }

    internal override bool UpdatesRanges => GetType() == typeof(Adam) || GetType() == typeof(AdamW);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal override void UpdateRange(Span<float> parameters, ReadOnlySpan<float> gradients, Span<float> state, long step, IReadOnlyList<TensorInfo> tensors, SimdWidth width, int start, int end)
    {
        int n = end - start;
        if (WeightDecay > 0f)
        {
            float keep = 1f - LearningRate * WeightDecay;
            for (int k = 0; k < tensors.Count; k++)   // indexed: an interface foreach would allocate an enumerator every step
                if (tensors[k] is { IsWeight: true } t && Math.Max(t.Offset, start) is int a && Math.Min(t.Offset + t.Length, end) is int b && a < b)
                    foreach (ref float w in parameters.Slice(a, b - a)) w *= keep;
        }
        // η·m̂/(√v̂ + ε) = [η·√(1−β₂ᵗ)/(1−β₁ᵗ)] · m / (√v + ε·√(1−β₂ᵗ)): the bias corrections fold into two scalars.
        double c1 = 1 - Math.Pow(Beta1, step), c2 = Math.Sqrt(1 - Math.Pow(Beta2, step));
        float lrT = (float)(LearningRate * c2 / c1), epsT = (float)(Epsilon * c2);
        float b1 = Beta1, b2 = Beta2;
        ref float p = ref Unsafe.Add(ref MemoryMarshal.GetReference(parameters), start);
        ref float g = ref Unsafe.Add(ref MemoryMarshal.GetReference(gradients), start);
        ref float m = ref Unsafe.Add(ref MemoryMarshal.GetReference(state), start);
        ref float v = ref Unsafe.Add(ref MemoryMarshal.GetReference(state), parameters.Length + start);   // slot 2 starts a block further
        int i = 0;
        if (width == SimdWidth.V512)
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
        else if (width == SimdWidth.V256)
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
