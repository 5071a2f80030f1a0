using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ModelGen.Kernels;

/// <summary>What a matrix kernel does with its accumulator tile when the reduction is done.
/// Bias and the piecewise-linear activations are fused into the store (one pass over the output).</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public enum Epilogue
{
    /// <summary><c>C = acc</c></summary>
    Store = 0,
    /// <summary><c>C += acc</c> (gradients are always accumulated)</summary>
    Accumulate = 1,
    /// <summary><c>C = acc + bias[row]</c></summary>
    Bias = 2,
    /// <summary><c>C = max(0, acc + bias[row])</c></summary>
    BiasRelu = 3,
    /// <summary><c>C = leaky(acc + bias[row], alpha)</c></summary>
    BiasLeakyRelu = 4,
}
