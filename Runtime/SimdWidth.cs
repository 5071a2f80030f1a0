using System;
using System.Runtime.Intrinsics;

namespace ModelGen;

/// <summary>Which of the generated code paths runs. Every model has all three; the widest one the
/// machine accelerates is the default.</summary>
public enum SimdWidth
{
    /// <summary>Plain scalar loops: the reference the vector paths are tested against.</summary>
    Scalar = 1,
    /// <summary>256-bit vectors (AVX2 + FMA).</summary>
    V256 = 8,
    /// <summary>512-bit vectors (AVX-512F).</summary>
    V512 = 16,
}
