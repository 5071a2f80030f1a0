using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ModelGen;

/// <summary>Updates parameters from their gradients.</summary>
public abstract class Optimizer
{
    /// <summary>The step size; a schedule may change it between steps.</summary>
    public float LearningRate { get; set; }

    /// <summary>Creates an optimiser with the given learning rate.</summary>
    protected Optimizer(float learningRate)
    {
        if (!(learningRate > 0f) || float.IsInfinity(learningRate))
            throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "learning rate must be positive and finite");
        LearningRate = learningRate;
    }

    /// <summary>One update of <paramref name="parameters"/> from <paramref name="gradients"/> (same layout).</summary>
    public abstract void Step(Span<float> parameters, ReadOnlySpan<float> gradients, IReadOnlyList<TensorInfo> tensors);
}

/// <summary>Plain stochastic gradient descent: <c>θ ← θ − η·∇θ</c>.</summary>
public sealed class Sgd : Optimizer
{
    /// <summary>SGD with learning rate <paramref name="learningRate"/>.</summary>
    public Sgd(float learningRate) : base(learningRate) { }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Step(Span<float> parameters, ReadOnlySpan<float> gradients, IReadOnlyList<TensorInfo> tensors)
    {
        if (gradients.Length != parameters.Length) throw new ArgumentException("parameters and gradients differ in length");
        ref float p = ref MemoryMarshal.GetReference(parameters);
        ref float g = ref MemoryMarshal.GetReference(gradients);
        int n = parameters.Length, i = 0;
        float lr = LearningRate;
        if (Vector512.IsHardwareAccelerated)
        {
            var vlr = Vector512.Create(-lr);
            for (; i + 16 <= n; i += 16)
                Vector512.FusedMultiplyAdd(vlr, Vector512.LoadUnsafe(ref g, (nuint)i), Vector512.LoadUnsafe(ref p, (nuint)i)).StoreUnsafe(ref p, (nuint)i);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var vlr = Vector256.Create(-lr);
            for (; i + 8 <= n; i += 8)
                Vector256.FusedMultiplyAdd(vlr, Vector256.LoadUnsafe(ref g, (nuint)i), Vector256.LoadUnsafe(ref p, (nuint)i)).StoreUnsafe(ref p, (nuint)i);
        }
        for (; i < n; i++) Unsafe.Add(ref p, i) = MathF.FusedMultiplyAdd(-lr, Unsafe.Add(ref g, i), Unsafe.Add(ref p, i));
    }
}
