using System;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using ModelGen.Kernels;
using MG = global::ModelGen.Kernels;

namespace Cifar;

/// <summary>`--ab-dense`: W2's dense layer (4096 → 256) products in several loop orders, in one process, alternated —
/// the generated V512 tiles of W2 called directly (this file is part of the partial class).</summary>
partial class W2
{
    private const int DIn = 4096, DUnits = 256;   // the dense layer: 4096 inputs, 256 outputs

    private delegate void Tile(ref float a, nint ars, nint aks, ref float b, nint ldb, ref float c, nint ldc, int k, ref float bias, Epilogue epi, float alpha, bool resume);

    private static Tile RowTile(int mr, int nv) => (mr, nv) switch
    {
        (6, 4) => Tile6x4r_V512, (4, 4) => Tile4x4r_V512, (6, 2) => Tile6x2r_V512, (4, 2) => Tile4x2r_V512,
        _ => throw new ArgumentException($"{mr}x{nv}"),
    };

    private static Tile ColumnTile(int mr, int nv) => (mr, nv) switch
    {
        (6, 4) => Tile6x4c_V512, (6, 2) => Tile6x2c_V512, (4, 4) => Tile4x4c_V512, (4, 2) => Tile4x2c_V512,
        _ => throw new ArgumentException($"{mr}x{nv}"),
    };

    /// <summary>Y[256, n] = W·X in K blocks of <paramref name="kb"/> (4096: one block).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Forward(float[] w, float[] x, float[] y, float[] bias, int n, int kb)
    {
        int nv = n / 16;
        var t6 = RowTile(6, nv); var t4 = RowTile(4, nv);
        for (int k0 = 0; k0 < DIn; k0 += kb)
        {
            var ek = k0 + kb < DIn ? Epilogue.Store : Epilogue.BiasRelu;
            for (int r = 0; r < 252; r += 6)
                t6(ref w[r * DIn + k0], DIn, 1, ref x[k0 * n], n, ref y[r * n], n, kb, ref bias[r], ek, 0f, k0 != 0);
            t4(ref w[252 * DIn + k0], DIn, 1, ref x[k0 * n], n, ref y[252 * n], n, kb, ref bias[252], ek, 0f, k0 != 0);
        }
    }

    /// <summary>dW[256, 4096] += dz·xs: column blocks outer (the generated order before) or rows outer.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Weights(float[] dz, float[] xs, float[] dw, int n, bool rowsOuter)
    {
        var t6 = RowTile(6, 4); var t4 = RowTile(4, 4);
        if (!rowsOuter)
            for (int j = 0; j < DIn; j += 64)
            {
                for (int r = 0; r < 252; r += 6)
                    t6(ref dz[r * n], n, 1, ref xs[j], DIn, ref dw[r * DIn + j], DIn, n, ref Unsafe.NullRef<float>(), Epilogue.Accumulate, 0f, false);
                t4(ref dz[252 * n], n, 1, ref xs[j], DIn, ref dw[252 * DIn + j], DIn, n, ref Unsafe.NullRef<float>(), Epilogue.Accumulate, 0f, false);
            }
        else
        {
            for (int r = 0; r < 252; r += 6)
                for (int j = 0; j < DIn; j += 64)
                    t6(ref dz[r * n], n, 1, ref xs[j], DIn, ref dw[r * DIn + j], DIn, n, ref Unsafe.NullRef<float>(), Epilogue.Accumulate, 0f, false);
            for (int j = 0; j < DIn; j += 64)
                t4(ref dz[252 * n], n, 1, ref xs[j], DIn, ref dw[252 * DIn + j], DIn, n, ref Unsafe.NullRef<float>(), Epilogue.Accumulate, 0f, false);
        }
    }

    /// <summary>dx[4096, n] = Wᵀ·dz in K blocks of <paramref name="kb"/> (256: one block).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void InputGradient(float[] w, float[] dz, float[] dx, int n, int kb)
    {
        int nv = n / 16;
        var t6 = ColumnTile(6, nv); var t4 = ColumnTile(4, nv);
        for (int k0 = 0; k0 < DUnits; k0 += kb)
        {
            for (int r = 0; r < 4092; r += 6)
                t6(ref w[k0 * DIn + r], 1, DIn, ref dz[k0 * n], n, ref dx[r * n], n, kb, ref Unsafe.NullRef<float>(), Epilogue.Store, 0f, k0 != 0);
            t4(ref w[k0 * DIn + 4092], 1, DIn, ref dz[k0 * n], n, ref dx[4092 * n], n, kb, ref Unsafe.NullRef<float>(), Epilogue.Store, 0f, k0 != 0);
        }
    }

    public static void AbDense(double peak)
    {
        foreach (int n in new[] { 32, 64 })
        {
            var rng = new ModelGen.Rng(3);
            float[] R(int len) { var a = GC.AllocateArray<float>(len, pinned: true); for (int i = 0; i < len; i++) a[i] = rng.NextFloat() - 0.5f; return a; }
            float[] w = R(DUnits * DIn), x = R(DIn * n), y = R(DUnits * n), bias = R(DUnits), dz = R(DUnits * n), xs = R(n * DIn), dw = R(DUnits * DIn), dx = R(DIn * n);
            var cases = new (string Name, Action Run, double Flops)[]
            {
                ("forward K 128", () => Forward(w, x, y, bias, n, 128), 2.0 * DIn * DUnits * n),
                ("forward K 512", () => Forward(w, x, y, bias, n, 512), 2.0 * DIn * DUnits * n),
                ("forward K 1024", () => Forward(w, x, y, bias, n, 1024), 2.0 * DIn * DUnits * n),
                ("forward K 4096", () => Forward(w, x, y, bias, n, 4096), 2.0 * DIn * DUnits * n),
                ("dW columns outer", () => Weights(dz, xs, dw, n, false), 2.0 * DIn * DUnits * n),
                ("dW rows outer", () => Weights(dz, xs, dw, n, true), 2.0 * DIn * DUnits * n),
                ("dx K 128", () => InputGradient(w, dz, dx, n, 128), 2.0 * DIn * DUnits * n),
                ("dx K 256", () => InputGradient(w, dz, dx, n, 256), 2.0 * DIn * DUnits * n),
                ("dx K 64", () => InputGradient(w, dz, dx, n, 64), 2.0 * DIn * DUnits * n),
                ("dx K 32", () => InputGradient(w, dz, dx, n, 32), 2.0 * DIn * DUnits * n),
                ("dx K 16", () => InputGradient(w, dz, dx, n, 16), 2.0 * DIn * DUnits * n),
            };
            const int rounds = 31;
            var t = new double[cases.Length][];
            for (int c = 0; c < cases.Length; c++) { t[c] = new double[rounds]; for (int i = 0; i < 5; i++) cases[c].Run(); }
            for (int round = 0; round < rounds; round++)
                for (int c = 0; c < cases.Length; c++)
                {
                    long s0 = Stopwatch.GetTimestamp();
                    cases[c].Run();
                    t[c][round] = (Stopwatch.GetTimestamp() - s0) * 1e3 / Stopwatch.Frequency;
                }
            Console.WriteLine($"batch {n}");
            for (int c = 0; c < cases.Length; c++)
            {
                Array.Sort(t[c]);
                double ms = t[c][rounds / 2];
                Console.WriteLine($"  {cases[c].Name,-18} {ms,7:F3} ms  (p25 {t[c][rounds / 4]:F3}, {cases[c].Flops / ms / 1e6:F0} GFLOP/s, {100 * cases[c].Flops / ms / 1e6 / peak:F0} % of peak)");
            }
        }
    }
}
