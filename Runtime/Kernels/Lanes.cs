using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ModelGen.Kernels;

/// <summary>
/// The operations of one vector register of floats, so that a kernel with the samples in the lanes is written once for
/// both widths (<see cref="Lanes512"/>, <see cref="Lanes256"/>): the JIT compiles a generic method once per struct
/// argument and inlines these, so the code is what a hand-written copy per width would be.
/// </summary>
internal interface ILanes<TV> where TV : struct
{
    static abstract int Count { get; }
    static abstract TV Zero { get; }
    static abstract TV Splat(float x);
    static abstract TV Load(ref float p, nuint offset);
    static abstract void Store(TV v, ref float p, nuint offset);
    static abstract TV Fma(TV a, TV b, TV c);
    static abstract TV Add(TV a, TV b);
    static abstract TV Sub(TV a, TV b);
    static abstract TV Mul(TV a, TV b);
    static abstract TV Div(TV a, TV b);
    static abstract TV Max(TV a, TV b);
    static abstract TV Exp(TV a);
    static abstract TV Log(TV a);
    static abstract TV Sqrt(TV a);
    /// <summary>The 8 floats <paramref name="v"/> in every 8-float part of a register (the same 8 samples' value for each
    /// feature the register holds).</summary>
    static abstract TV Repeat8(Vector256<float> v);
    /// <summary>The sum of the register's 8-float parts (partial sums over features folded into the 8 samples').</summary>
    static abstract Vector256<float> Fold8(TV v);
    /// <summary>x clamped to [lo, hi]; a NaN lane stays NaN (<c>vmaxps</c>/<c>vminps</c> return their second operand when
    /// either is NaN, so x goes second).</summary>
    static abstract TV Clamp(TV x, float lo, float hi);
    /// <summary>Each lane rounded to the nearest integer (ties to even).</summary>
    static abstract TV Round(TV x);
    /// <summary><c>x·2^n</c> for integer-valued n in [−252, 254] rounded once, into the subnormals or to ∞ where the
    /// result goes (NaN x: NaN).</summary>
    static abstract TV TimesPow2(TV x, TV n);
}

/// <summary>16 floats (AVX-512).</summary>
internal readonly struct Lanes512 : ILanes<Vector512<float>>
{
    public static int Count => 16;
    public static Vector512<float> Zero => Vector512<float>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Splat(float x) => Vector512.Create(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Load(ref float p, nuint offset) => Mem.Load512(ref p, offset);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector512<float> v, ref float p, nuint offset) => v.StoreAt(ref p, offset);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Fma(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Sub(Vector512<float> a, Vector512<float> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Mul(Vector512<float> a, Vector512<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Div(Vector512<float> a, Vector512<float> b) => a / b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Max(Vector512<float> a, Vector512<float> b) => Vector512.Max(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Exp(Vector512<float> a) => VectorExp.Exp(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Log(Vector512<float> a) => Vector512.Log(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Sqrt(Vector512<float> a) => Vector512.Sqrt(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Repeat8(Vector256<float> v) => Vector512.Create(v, v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Fold8(Vector512<float> v) => v.GetLower() + v.GetUpper();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Clamp(Vector512<float> x, float lo, float hi) => Vector512.MinNative(Vector512.Create(hi), Vector512.MaxNative(Vector512.Create(lo), x));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Round(Vector512<float> x) => Vector512.Round(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> TimesPow2(Vector512<float> x, Vector512<float> n)
    {
        // vscalefps: x·2^n rounded once, one instruction where the two exact powers take eleven (the sigmoid and tanh
        // ~25 % faster: Benchmarks --tiles-w3 cell). The same result: the first power's product is exact.
        if (Avx512F.IsSupported) return Avx512F.Scale(x, n);
        var k = Vector512.ConvertToInt32(n);
        var k1 = Vector512.ShiftRightArithmetic(k, 1);
        return x * Vector512.ShiftLeft(k1 + Vector512.Create(127), 23).AsSingle() * Vector512.ShiftLeft(k - k1 + Vector512.Create(127), 23).AsSingle();
    }
}

/// <summary>8 floats (AVX2).</summary>
internal readonly struct Lanes256 : ILanes<Vector256<float>>
{
    public static int Count => 8;
    public static Vector256<float> Zero => Vector256<float>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Splat(float x) => Vector256.Create(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Load(ref float p, nuint offset) => Mem.Load256(ref p, offset);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector256<float> v, ref float p, nuint offset) => v.StoreAt(ref p, offset);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Fma(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Sub(Vector256<float> a, Vector256<float> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Mul(Vector256<float> a, Vector256<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Div(Vector256<float> a, Vector256<float> b) => a / b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Max(Vector256<float> a, Vector256<float> b) => Vector256.Max(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Exp(Vector256<float> a) => VectorExp.Exp(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Log(Vector256<float> a) => Vector256.Log(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Sqrt(Vector256<float> a) => Vector256.Sqrt(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Repeat8(Vector256<float> v) => v;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Fold8(Vector256<float> v) => v;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Clamp(Vector256<float> x, float lo, float hi) => Vector256.MinNative(Vector256.Create(hi), Vector256.MaxNative(Vector256.Create(lo), x));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Round(Vector256<float> x) => Vector256.Round(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> TimesPow2(Vector256<float> x, Vector256<float> n)
    {
        var k = Vector256.ConvertToInt32(n);
        var k1 = Vector256.ShiftRightArithmetic(k, 1);
        return x * Vector256.ShiftLeft(k1 + Vector256.Create(127), 23).AsSingle() * Vector256.ShiftLeft(k - k1 + Vector256.Create(127), 23).AsSingle();
    }
}
