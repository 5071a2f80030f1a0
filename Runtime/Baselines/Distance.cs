using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using ModelGen.Data;
using ModelGen.Kernels;

namespace ModelGen.Baselines;

/// <summary>Distance between two samples.</summary>
public enum Distance
{
    /// <summary>Manhattan: <c>Σ |a − b|</c>.</summary>
    L1,
    /// <summary>Euclidean (squared, same ranking): <c>Σ (a − b)²</c>, computed as <c>|a|² + |b|² − 2a·b</c>.</summary>
    L2,
}
