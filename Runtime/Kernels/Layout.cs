using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ModelGen.Kernels;

/// <summary>
/// Moves between the user's sample-major layout <c>[batch, features]</c> and the feature-major panels
/// <c>[features, ld]</c> the batched kernels work on (ld = batch rounded up to 16; padding columns are zero).
/// Feature-major keeps the batch in the vector lanes, so even a 10-wide layer fills whole vectors.
/// </summary>
public static class Layout
{
    /// <summary><c>dst[f·ld + b] = src[b·features + f]</c>; columns <c>[batch, ld)</c> set to 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ToFeatureMajor(ReadOnlySpan<float> src, int batch, int features, ref float dst, int ld)
    {
        if (src.Length < batch * features) throw new ArgumentException($"input holds {src.Length} floats, expected {batch}×{features}");
        ref float s = ref MemoryMarshal.GetReference(src);
        if (ld == 1) { Unsafe.CopyBlockUnaligned(ref Unsafe.As<float, byte>(ref dst), ref Unsafe.As<float, byte>(ref s), (uint)(features * sizeof(float))); return; }
        // 8×8 blocks keep both sides' cache lines hot.
        for (int f0 = 0; f0 < features; f0 += 8)
        {
            int fe = Math.Min(f0 + 8, features);
            for (int b0 = 0; b0 < batch; b0 += 8)
            {
                int be = Math.Min(b0 + 8, batch);
                for (int f = f0; f < fe; f++)
                {
                    ref float d = ref Unsafe.Add(ref dst, (nint)f * ld);
                    for (int b = b0; b < be; b++) Unsafe.Add(ref d, b) = Unsafe.Add(ref s, (nint)b * features + f);
                }
            }
            for (int f = f0; f < fe; f++)
                for (int b = batch; b < ld; b++) Unsafe.Add(ref dst, (nint)f * ld + b) = 0f;
        }
    }

    /// <summary><c>dst[b·features + f] = src[f·ld + b]</c> for <c>b &lt; batch</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ToSampleMajor(ref float src, int features, int ld, int batch, Span<float> dst)
    {
        if (dst.Length < batch * features) throw new ArgumentException($"output holds {dst.Length} floats, expected {batch}×{features}");
        ref float d = ref MemoryMarshal.GetReference(dst);
        if (ld == 1) { Unsafe.CopyBlockUnaligned(ref Unsafe.As<float, byte>(ref d), ref Unsafe.As<float, byte>(ref src), (uint)(features * sizeof(float))); return; }
        for (int b0 = 0; b0 < batch; b0 += 8)
        {
            int be = Math.Min(b0 + 8, batch);
            for (int f0 = 0; f0 < features; f0 += 8)
            {
                int fe = Math.Min(f0 + 8, features);
                for (int b = b0; b < be; b++)
                {
                    ref float row = ref Unsafe.Add(ref d, (nint)b * features);
                    for (int f = f0; f < fe; f++) Unsafe.Add(ref row, f) = Unsafe.Add(ref src, (nint)f * ld + b);
                }
            }
        }
    }
}
