using System;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using ModelGen;
using MG = global::ModelGen.Kernels;

namespace Cifar;

/// <summary>`--wino-parts`: W2's Conv2 forward (32 → 32 channels, 32 × 32, Winograd, two blocks of 8 tile rows per
/// sample) split into its three phases — input transforms, the 16 products, output transforms — each timed alone over
/// the batch, then the three interleaved block by block as the layer runs them (each phase's time summed), then the
/// layer itself. This file is part of the partial class: the generated V512 tiles and workspace offsets.</summary>
partial class W2
{
    internal void WinoParts(int batch, int reps)
    {
        var ws = _main;
        void Input(int b, int t0) => MG.Winograd.Input(ref ws.Ref(_conv1Out + (long)b * 33280), 32, 32, 32, 1040, 1, 1, 16, t0, t0 + 8, ref ws.Ref(_winov), 144, 4624, ref ws.Ref(_winot), SimdWidth.V512);
        void Products()
        {
            ref float u = ref ws.Ref(_conv2Wino);
            ref float v = ref ws.Ref(_winov);
            ref float m = ref ws.Ref(_winom);
            for (int xi = 0; xi < 16; xi++)
            {
                ref float ux = ref MG.Mem.Add(ref u, xi * 1024);
                ref float vx = ref MG.Mem.Add(ref v, xi * 4624);
                ref float mx = ref MG.Mem.Add(ref m, xi * 4624);
                for (int j = 0; j < 128; j += 64)
                {
                    for (int r = 0; r < 30; r += 6)
                        Tile6x4r_V512(ref MG.Mem.Add(ref ux, r * 32), 32, 1, ref MG.Mem.Add(ref vx, j), 144, ref MG.Mem.Add(ref mx, r * 144 + j), 144, 32, ref Unsafe.NullRef<float>(), MG.Epilogue.Store, 0f, false);
                    Tile2x4r_V512(ref MG.Mem.Add(ref ux, 30 * 32), 32, 1, ref MG.Mem.Add(ref vx, j), 144, ref MG.Mem.Add(ref mx, 30 * 144 + j), 144, 32, ref Unsafe.NullRef<float>(), MG.Epilogue.Store, 0f, false);
                }
            }
        }
        void Output(int b, int t0) => MG.Winograd.Output(ref ws.Ref(_winom), 32, 144, 16, t0, t0 + 8, 32, 32, ref ws.Ref(_conv2Out + (long)b * 33280), 1040, ref _arena.Ref(Conv2_Bias), MG.Epilogue.BiasRelu, 0f, ref ws.Ref(_winot), SimdWidth.V512);

        double Median(Action run)
        {
            var t = new double[reps];
            for (int r = 0; r < reps; r++) { long t0 = Stopwatch.GetTimestamp(); run(); t[r] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds; }
            Array.Sort(t);
            return t[reps / 2];
        }
        void Blocks(Action<int, int> phase) { for (int b = 0; b < batch; b++) for (int t0 = 0; t0 < 16; t0 += 8) phase(b, t0); }
        double input = Median(() => Blocks(Input));
        double products = Median(() => Blocks((_, _) => Products()));
        double output = Median(() => Blocks(Output));
        double layer = Median(() => Conv2_ForwardPart_V512(ws, ws, 0, 1));
        var sum = new double[3][];
        for (int p = 0; p < 3; p++) sum[p] = new double[reps];
        for (int r = 0; r < reps; r++)
            Blocks((b, t0) =>
            {
                long a0 = Stopwatch.GetTimestamp(); Input(b, t0);
                long a1 = Stopwatch.GetTimestamp(); Products();
                long a2 = Stopwatch.GetTimestamp(); Output(b, t0);
                long a3 = Stopwatch.GetTimestamp();
                sum[0][r] += (a1 - a0) * 1e3 / Stopwatch.Frequency; sum[1][r] += (a2 - a1) * 1e3 / Stopwatch.Frequency; sum[2][r] += (a3 - a2) * 1e3 / Stopwatch.Frequency;
            });
        foreach (var s in sum) Array.Sort(s);
        double flops = 16.0 * 32 * 32 * 256 * 2 * batch;
        Console.WriteLine($"Conv2 forward, batch {batch}: alone — input transforms {input:F2} ms, products {products:F2} ms ({flops / products / 1e6:F0} GFLOP/s), output transforms {output:F2} ms (sum {input + products + output:F2}); " +
            $"interleaved — {sum[0][reps / 2]:F2}, {sum[1][reps / 2]:F2}, {sum[2][reps / 2]:F2} ms (sum {sum[0][reps / 2] + sum[1][reps / 2] + sum[2][reps / 2]:F2}); the layer {layer:F2} ms");
    }
}
