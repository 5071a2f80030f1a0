using System;
using System.Linq;
using System.Runtime.CompilerServices;
using ModelGen.Kernels;

namespace Mnist;

/// <summary>`--study-rows`: W1's first layer (784 → 256, batch 256) reading the row-major input in place, against the
/// panel path it replaced at inference (<c>Layout.ToFeatureMajor</c> into the input panel, then <c>Yᵀ = W·Xᵀ</c> with the
/// batch in the lanes — what the training forward still runs), alternated in one process, per-round ratios; every
/// variant is checked bit for bit against the panel product first.
/// <list type="bullet">
/// <item>"generated in place": the generated layer as <c>Predict</c> runs it — tiles of 16 samples × 16 units from the
/// caller's rows (<c>Gemm.RowsTileV512</c>, specialised to the layer), each transposed in registers into the output panel;</item>
/// <item>"copy + in place": the same after copying the input into a buffer of its own (what a workspace would hold if
/// the layers could not reach the caller's span);</item>
/// <item>"blocked": the panel kernel, the input transposed one K block at a time into a small panel;</item>
/// </list>
/// Measured 2026-12-03 (Intel Xeon, noisy), as study code before the generator did it: in place 0.92–0.94 × (0.93–1.02
/// × with the cases in another order), copy + in place 0.99–1.09 ×, blocked (56 steps) 1.03–1.08 ×, (112) 0.91–1.14 ×
/// depending on the order of the cases; 8 samples × 48 or 32 units (B rows 272 apart) 1.19–1.30 ×, 16 × 16 in K blocks
/// (partial sums parked between blocks) 0.93–0.99 ×, 6 × 64 tiles on the rows into a sample-major buffer then
/// transposed ≈ 1.0 ×. The AVX2 counterpart (8 samples × 8 units in place, <c>Gemm.RowsTileV256</c>, against the
/// transposition + the 6 × 16 panel product; an argument <c>v256</c> ran it until the generator dropped it): 1.027–1.034 ×
/// after the eighteenth session's CI, 1.042–1.049 × the next session — so AVX2 keeps the transposition. On an AMD EPYC
/// (family 26, 1 MB L2; twentieth session): generated in place 1.066–1.105 ×, blocked 112 1.00–1.03 ×, the panel
/// product alone with the input panel ready 0.95–1.0 ×.</summary>
partial class MnistMlp
{
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
            ("copy + in place", () => { x.AsSpan().CopyTo(copy); ws.WithInput(copy, m, static (model, w) => model.Hidden1_Forward_V512(w, w.N, w.Ld)); }, 1),
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
        for (int c = 3; c < cases.Length - 1; c++)   // the blocked variants, into y
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
