using System.ComponentModel;
using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ModelGen.Kernels;

/// <summary>Element-wise activations.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public enum Activation
{
    /// <summary><c>y = x</c></summary>
    Identity = 0,
    /// <summary><c>y = max(0, x)</c>; <c>dx = dy·[y &gt; 0]</c></summary>
    Relu = 1,
    /// <summary><c>y = x &gt; 0 ? x : αx</c>; <c>dx = dy·(y &gt; 0 ? 1 : α)</c></summary>
    LeakyRelu = 2,
    /// <summary><c>y = 1/(1+e^-x)</c>; <c>dx = dy·y(1−y)</c></summary>
    Sigmoid = 3,
    /// <summary><c>y = tanh x</c>; <c>dx = dy·(1−y²)</c></summary>
    Tanh = 4,
}
