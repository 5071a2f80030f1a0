using System;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ModelGen.Kernels;

namespace Mnist;

/// <summary>`--study-rows`: W1's first layer (784 → 256, batch 256) without the input's transposition, against the generated
/// path (<c>Layout.ToFeatureMajor</c> into the input panel, then <c>Yᵀ = W·Xᵀ</c> with the batch in the lanes), alternated in
/// one process, per-round ratios; each variant is checked bit for bit against the generated layer first.
/// <list type="bullet">
/// <item>"rows in place": <c>Y = X·Wᵀ</c> straight from the row-major input, tiles of 16 samples × 16 units (16 accumulators;
/// the samples broadcast from X's rows at constant displacements, Wᵀ packed in 16-unit panels), each tile transposed in
/// registers and stored into the output panel with the bias and the ReLU — no pass over the input at all;</item>
/// <item>"copy + rows": the same after copying the input into a buffer of its own (what a workspace would hold: the
/// generated layers reach the input only through the workspace, also from the other threads);</item>
/// <item>"blocked transposition": the generated kernel, the input transposed one K block at a time into a small panel.</item>
/// </list>
/// Measured 2026-12-03 (Intel Xeon, noisy): rows in place 0.93–1.02 × the generated path, copy + rows 1.06–1.09 ×,
/// blocked (56 steps) 1.06–1.08 ×, (112) 1.13–1.14 ×; tried and dropped before: 8 samples × 48 or 32 units (B rows 272
/// apart) 1.19–1.30 ×, 16 × 16 in K blocks (partial sums parked between blocks) 0.93–0.99 ×, 6 × 64 tiles on the rows
/// into a sample-major buffer then transposed ≈ 1.0 ×.</summary>
partial class MnistMlp
{
    /// <summary>16 samples × 16 units over all 784 steps: x rows 784 apart (constant displacements), B a 16-unit panel
    /// of Wᵀ; the tile transposed in registers and stored into the panel y[u, b0 + 0..16) with bias and ReLU.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile16T(ref float a, ref float b, ref float y, nint ld, ref float bias, int k)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default, c8 = default, c9 = default, c10 = default, c11 = default, c12 = default, c13 = default, c14 = default, c15 = default;
        for (nint p = 0; p < k; p++, a = ref Unsafe.Add(ref a, 1), b = ref Unsafe.Add(ref b, 16))
        {
            var bv = Vector512.LoadUnsafe(ref b);
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref a, 0)), bv, c0);
            c1 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref a, 784)), bv, c1);
            c2 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref a, 1568)), bv, c2);
            c3 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref a, 2352)), bv, c3);
            c4 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref a, 3136)), bv, c4);
            c5 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref a, 3920)), bv, c5);
            c6 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref a, 4704)), bv, c6);
            c7 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref a, 5488)), bv, c7);
            c8 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref a, 6272)), bv, c8);
            c9 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref a, 7056)), bv, c9);
            c10 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref a, 7840)), bv, c10);
            c11 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref a, 8624)), bv, c11);
            c12 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref a, 9408)), bv, c12);
            c13 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref a, 10192)), bv, c13);
            c14 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref a, 10976)), bv, c14);
            c15 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref a, 11760)), bv, c15);
        }
        Store16T(c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15, ref y, ld, ref bias);
    }

    /// <summary>Rows r0…r15 (samples; lanes: units) transposed (unpack pairs, unpack quads, then two 128-bit lane shuffles)
    /// and stored as 16 rows of the output panel.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store16T(Vector512<float> r0, Vector512<float> r1, Vector512<float> r2, Vector512<float> r3, Vector512<float> r4, Vector512<float> r5, Vector512<float> r6, Vector512<float> r7,
        Vector512<float> r8, Vector512<float> r9, Vector512<float> r10, Vector512<float> r11, Vector512<float> r12, Vector512<float> r13, Vector512<float> r14, Vector512<float> r15, ref float y, nint ld, ref float bias)
    {
        var t00 = Avx512F.UnpackLow(r0, r1); var t01 = Avx512F.UnpackHigh(r0, r1); var t02 = Avx512F.UnpackLow(r2, r3); var t03 = Avx512F.UnpackHigh(r2, r3);
        var u00 = Avx512F.UnpackLow(t00.AsDouble(), t02.AsDouble()).AsSingle(); var u01 = Avx512F.UnpackHigh(t00.AsDouble(), t02.AsDouble()).AsSingle();
        var u02 = Avx512F.UnpackLow(t01.AsDouble(), t03.AsDouble()).AsSingle(); var u03 = Avx512F.UnpackHigh(t01.AsDouble(), t03.AsDouble()).AsSingle();
        var t10 = Avx512F.UnpackLow(r4, r5); var t11 = Avx512F.UnpackHigh(r4, r5); var t12 = Avx512F.UnpackLow(r6, r7); var t13 = Avx512F.UnpackHigh(r6, r7);
        var u10 = Avx512F.UnpackLow(t10.AsDouble(), t12.AsDouble()).AsSingle(); var u11 = Avx512F.UnpackHigh(t10.AsDouble(), t12.AsDouble()).AsSingle();
        var u12 = Avx512F.UnpackLow(t11.AsDouble(), t13.AsDouble()).AsSingle(); var u13 = Avx512F.UnpackHigh(t11.AsDouble(), t13.AsDouble()).AsSingle();
        var t20 = Avx512F.UnpackLow(r8, r9); var t21 = Avx512F.UnpackHigh(r8, r9); var t22 = Avx512F.UnpackLow(r10, r11); var t23 = Avx512F.UnpackHigh(r10, r11);
        var u20 = Avx512F.UnpackLow(t20.AsDouble(), t22.AsDouble()).AsSingle(); var u21 = Avx512F.UnpackHigh(t20.AsDouble(), t22.AsDouble()).AsSingle();
        var u22 = Avx512F.UnpackLow(t21.AsDouble(), t23.AsDouble()).AsSingle(); var u23 = Avx512F.UnpackHigh(t21.AsDouble(), t23.AsDouble()).AsSingle();
        var t30 = Avx512F.UnpackLow(r12, r13); var t31 = Avx512F.UnpackHigh(r12, r13); var t32 = Avx512F.UnpackLow(r14, r15); var t33 = Avx512F.UnpackHigh(r14, r15);
        var u30 = Avx512F.UnpackLow(t30.AsDouble(), t32.AsDouble()).AsSingle(); var u31 = Avx512F.UnpackHigh(t30.AsDouble(), t32.AsDouble()).AsSingle();
        var u32 = Avx512F.UnpackLow(t31.AsDouble(), t33.AsDouble()).AsSingle(); var u33 = Avx512F.UnpackHigh(t31.AsDouble(), t33.AsDouble()).AsSingle();
        var v0 = Avx512F.Shuffle4x128(u00, u10, 0x44); var w0 = Avx512F.Shuffle4x128(u20, u30, 0x44);
        var v0h = Avx512F.Shuffle4x128(u00, u10, 0xEE); var w0h = Avx512F.Shuffle4x128(u20, u30, 0xEE);
        Out(Avx512F.Shuffle4x128(v0, w0, 0x88), ref y, 0, ld, ref bias);
        Out(Avx512F.Shuffle4x128(v0, w0, 0xDD), ref y, 4, ld, ref bias);
        Out(Avx512F.Shuffle4x128(v0h, w0h, 0x88), ref y, 8, ld, ref bias);
        Out(Avx512F.Shuffle4x128(v0h, w0h, 0xDD), ref y, 12, ld, ref bias);
        var v1 = Avx512F.Shuffle4x128(u01, u11, 0x44); var w1 = Avx512F.Shuffle4x128(u21, u31, 0x44);
        var v1h = Avx512F.Shuffle4x128(u01, u11, 0xEE); var w1h = Avx512F.Shuffle4x128(u21, u31, 0xEE);
        Out(Avx512F.Shuffle4x128(v1, w1, 0x88), ref y, 1, ld, ref bias);
        Out(Avx512F.Shuffle4x128(v1, w1, 0xDD), ref y, 5, ld, ref bias);
        Out(Avx512F.Shuffle4x128(v1h, w1h, 0x88), ref y, 9, ld, ref bias);
        Out(Avx512F.Shuffle4x128(v1h, w1h, 0xDD), ref y, 13, ld, ref bias);
        var v2 = Avx512F.Shuffle4x128(u02, u12, 0x44); var w2 = Avx512F.Shuffle4x128(u22, u32, 0x44);
        var v2h = Avx512F.Shuffle4x128(u02, u12, 0xEE); var w2h = Avx512F.Shuffle4x128(u22, u32, 0xEE);
        Out(Avx512F.Shuffle4x128(v2, w2, 0x88), ref y, 2, ld, ref bias);
        Out(Avx512F.Shuffle4x128(v2, w2, 0xDD), ref y, 6, ld, ref bias);
        Out(Avx512F.Shuffle4x128(v2h, w2h, 0x88), ref y, 10, ld, ref bias);
        Out(Avx512F.Shuffle4x128(v2h, w2h, 0xDD), ref y, 14, ld, ref bias);
        var v3 = Avx512F.Shuffle4x128(u03, u13, 0x44); var w3 = Avx512F.Shuffle4x128(u23, u33, 0x44);
        var v3h = Avx512F.Shuffle4x128(u03, u13, 0xEE); var w3h = Avx512F.Shuffle4x128(u23, u33, 0xEE);
        Out(Avx512F.Shuffle4x128(v3, w3, 0x88), ref y, 3, ld, ref bias);
        Out(Avx512F.Shuffle4x128(v3, w3, 0xDD), ref y, 7, ld, ref bias);
        Out(Avx512F.Shuffle4x128(v3h, w3h, 0x88), ref y, 11, ld, ref bias);
        Out(Avx512F.Shuffle4x128(v3h, w3h, 0xDD), ref y, 15, ld, ref bias);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Out(Vector512<float> v, ref float y, nint u, nint ld, ref float bias) =>
        Vector512.Max(v + Vector512.Create(Unsafe.Add(ref bias, u)), Vector512<float>.Zero).StoreUnsafe(ref Unsafe.Add(ref y, u * ld));

    /// <summary>Y[256, n] from the rows of x: per 16 samples (their 50 KB of x reused), every 16-unit panel of Wᵀ.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows(float[] x, float[] wP16, float[] bias, ref float y, int ld, int n)
    {
        for (int b0 = 0; b0 < n; b0 += 16)
            for (int j = 0; j < 256; j += 16)
                Tile16T(ref x[b0 * 784], ref wP16[j * 784], ref Unsafe.Add(ref y, j * ld + b0), ld, ref bias[j], 784);
    }

    /// <summary>The generated layer's kernel, the input transposed one K block of <paramref name="kb"/> steps at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BlockedPanel(float[] x, float[] w, float[] bias, float[] blk, ref float y, int ld, int n, int kb)
    {
        for (int k0 = 0; k0 < 784; k0 += kb)
        {
            int kn = Math.Min(kb, 784 - k0);
            Layout.Transpose(ref x[k0], n, kn, 784, ref blk[0], ld);
            var ek = k0 + kb < 784 ? Epilogue.Store : Epilogue.BiasRelu;
            for (int j = 0; j < n; j += 64)
            {
                for (int r = 0; r < 252; r += 6)
                    Tile6x4r_V512(ref w[r * 784 + k0], 784, 1, ref blk[j], ld, ref Unsafe.Add(ref y, r * ld + j), ld, kn, ref bias[r], ek, 0f, k0 != 0);
                Tile4x4r_V512(ref w[252 * 784 + k0], 784, 1, ref blk[j], ld, ref Unsafe.Add(ref y, 252 * ld + j), ld, kn, ref bias[252], ek, 0f, k0 != 0);
            }
        }
    }

    public static void StudyRows()
    {
        const int n = 256;
        var m = new MnistMlp(n, 1);
        var rng = new ModelGen.Rng(1);
        var x = new float[n * 784];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextFloat();
        m.Predict(x, new float[n * 10]);
        var ws = m._main;
        int ld = ModelGen.Simd.PanelStride(n);
        var w = m.Parameters.Slice(0, 256 * 784).ToArray();
        var bias = m.Parameters.Slice(256 * 784, 256).ToArray();
        var wT = new float[784 * 256];
        Layout.Transpose(ref w[0], 256, 784, 784, ref wT[0], 256);
        var wP16 = new float[784 * 256];   // 16-unit panels of Wᵀ: panel q holds Wᵀ[k, 16q + i] at q·784·16 + k·16 + i
        for (int q = 0; q < 16; q++) for (int k = 0; k < 784; k++) for (int i = 0; i < 16; i++) wP16[q * 784 * 16 + k * 16 + i] = wT[k * 256 + q * 16 + i];
        var y = new float[256 * ld];
        var copy = new float[x.Length];
        var blk = new float[112 * ld];
        // What the layer did before it read the input in place (and still does in a training forward): the input
        // transposed into the panel, then the panel product.
        void Generated() { Layout.ToFeatureMajor(x, n, 784, ref ws.Ref(m._input), ld); m.Hidden1_ForwardPart_V512(ws, ws, 0, 1); }
        // The generated in-place path, as Predict runs it.
        void InPlace() => ws.WithInput(x, m, static (model, w) => model.Hidden1_Forward_V512(w, w.N, w.Ld));
        var cases = new (string Name, Action Run, int Reps)[]
        {
            ("generated", Generated, 1),
            ("generated in place", InPlace, 1),
            ("rows in place", () => Rows(x, wP16, bias, ref y[0], ld, n), 1),
            ("copy + rows", () => { x.AsSpan().CopyTo(copy); Rows(copy, wP16, bias, ref y[0], ld, n); }, 1),
            ("blocked 56", () => BlockedPanel(x, w, bias, blk, ref y[0], ld, n, 56), 1),
            ("blocked 112", () => BlockedPanel(x, w, bias, blk, ref y[0], ld, n, 112), 1),
            ("generated, input panel ready", () => m.Hidden1_ForwardPart_V512(ws, ws, 0, 1), 1),
        };
        ws.Training = false; ws.N = n; ws.Ld = ld; ws.Batch = n;   // as the Predict above left them
        var panelOut = new float[256 * ld];
        Generated();
        ws.Span(m._hidden1Out, 256 * ld).CopyTo(panelOut);
        InPlace();
        int differIn = 0;
        for (int u = 0; u < 256; u++) for (int b = 0; b < n; b++) if (BitConverter.SingleToInt32Bits(panelOut[u * ld + b]) != BitConverter.SingleToInt32Bits(ws.Ref(m._hidden1Out + u * ld + b))) differIn++;
        Console.WriteLine($"generated in place: {differIn} of {256 * n} outputs differ from the panel product's bits");
        for (int c = 2; c < cases.Length - 1; c++)
        {
            Array.Clear(y);
            Generated(); cases[c].Run();
            int differ = 0;
            for (int u = 0; u < 256; u++) for (int b = 0; b < n; b++) if (BitConverter.SingleToInt32Bits(y[u * ld + b]) != BitConverter.SingleToInt32Bits(ws.Ref(m._hidden1Out + u * ld + b))) differ++;
            Console.WriteLine($"{cases[c].Name}: {differ} of {256 * n} outputs differ from the generated layer's bits");
        }
        for (int rep = 0; rep < 3; rep++)
        {
            var times = Interleaved.Times(cases, 200);
            Console.WriteLine(string.Join("  ", cases.Select((c, i) => $"{c.Name} {Interleaved.Median(times[i]):F0} us")));
            Console.WriteLine("  per-round ratio to generated: " + string.Join(", ", cases.Skip(1).Select((c, i) => $"{c.Name} {Interleaved.Median(times[i + 1].Zip(times[0], (a, b) => a / b)):F3}")));
        }
    }
}
