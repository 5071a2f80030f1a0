using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ModelGen.Training;

/// <summary>AdamW: Adam with decoupled weight decay on the weights (default λ = 0.01, as PyTorch).</summary>
public sealed class AdamW : Adam
{
    /// <summary>AdamW with the usual defaults.</summary>
    public AdamW(float learningRate = 1e-3f, float weightDecay = 0.01f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f)
        : base(learningRate, beta1, beta2, epsilon, weightDecay) { }
}
