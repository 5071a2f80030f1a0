using System;
using System.Collections.Generic;
using System.Linq;
using static Interleaved;

namespace ModelGen.Benchmarks;

/// <summary>`--targets [rounds=N] [runs=N]`: every ratio issue 9 sets a target for, in one process, calls interleaved
/// round by round — ModelGen, ONNX Runtime, TorchSharp and the FMA peak each called once per round, so a slow spell of a
/// shared host falls on all of them and the per-round ratios hold where BenchmarkDotNet's rows, measured minutes apart,
/// drift by ±10 %. The cases are the BenchmarkDotNet classes' own (<see cref="W1Benchmarks"/>, <see cref="W2Benchmarks"/>:
/// the same models, weights, inputs and ONNX Runtime sessions). ONNX Runtime's two-thread sessions run in a phase of their
/// own after the others: their pool spins for milliseconds after each <c>Run</c>, on the core ModelGen's second thread
/// needs. Each line: the median of the per-round ratios, its quartiles, and whether it meets the target.</summary>
internal static class Targets
{
    public static void Run(string[] args)
    {
        int rounds = Arg(args, "rounds", 60), runs = Arg(args, "runs", 1);
        bool cold = args.Contains("cold");   // `cold`: no untimed call before each case's timed ones (each round's first call finds the caches holding the other cases' data)
        var w1 = new W1Benchmarks(); w1.Setup();
        var w2 = new W2Benchmarks(); w2.Setup();
        var w2t = new W2Benchmarks(); w2t.Setup();   // the training cases on models of their own: a step changes the weights, and the next Predict would repack them
        var cases = new (string Name, Action Run, int Reps)[]
        {
            ("FMA peak", () => Peak.Run(PeakBenchmarks.Iterations), 2),                                         // 0
            ("W1 b1 ModelGen", w1.ModelGen_Batch1, 50), ("W1 b1 ORT", w1.Ort_Batch1, 50),                       // 1, 2
            ("W1 b256 ModelGen", w1.ModelGen_Batch256, 2), ("W1 b256 ORT", w1.Ort_Batch256, 2),                 // 3, 4
            ("W1 b256 ModelGen 2t", w1.ModelGen_Batch256_2Threads, 2),                                          // 5
            ("W2 b1 ModelGen", w2.ModelGen_Batch1, 5), ("W2 b1 ORT", w2.Ort_Batch1, 5),                         // 6, 7
            ("W2 b64 ModelGen", w2.ModelGen_Batch64, 1), ("W2 b64 ORT", w2.Ort_Batch64, 1),                     // 8, 9
            ("W2 b64 ModelGen 2t", w2.ModelGen_Batch64_2Threads, 1),                                            // 10
            ("W2 train ModelGen", () => w2t.ModelGen_Train32(), 1), ("W2 train ModelGen 2t", () => w2t.ModelGen_Train32_2Threads(), 1),   // 11, 12
            ("W2 train TorchSharp", w2t.Torch_Train32, 1),                                                       // 13
            ("W1 b256 ORT 2t", w1.Ort_Batch256_2Threads, 2), ("W2 b64 ORT 2t", w2.Ort_Batch64_2Threads, 1),     // 14, 15
        };
        var phases = new[] { Enumerable.Range(0, 14).ToArray(), new[] { 14, 15 } };
        double peakFlops = 16.0 * 16 * 2 * PeakBenchmarks.Iterations;   // per call of Peak.Run
        double w1Flops = 2.0 * 256 * (784 * 256 + 256 * 128 + 128 * 10);   // W1's forward at batch 256
        double trainFlops = 3 * 51.1e6 * 32;                            // W2's step, direct-equivalent: three times the forward's 51.1 MFLOP per sample
        Console.WriteLine($"{Environment.ProcessorCount} cores, {rounds} rounds per run, {(cold ? "no warm-up call" : "one untimed call before each case's timed ones")}; medians of per-round ratios (quartiles)");
        for (int run = 0; run < runs; run++)
        {
            var t = Times(cases, rounds, phases, warm: !cold);
            double Med(int i) => Median(t[i]);
            Console.WriteLine($"run {run + 1}: FMA peak {peakFlops / Med(0) / 1e3:F1} GFLOP/s; medians (us): " + string.Join(", ", cases.Skip(1).Select((c, i) => $"{c.Name} {Med(i + 1):F1}")));
            void Ratio(string what, IEnumerable<double> r, double target, bool atMost, string unit = "")
            {
                var a = r.ToArray();
                double m = Median(a);
                bool ok = atMost ? m <= target : m >= target;
                Console.WriteLine($"  {what,-48} {m,7:F3}{unit} ({Quantile(a, 0.25):F3}–{Quantile(a, 0.75):F3})   target {(atMost ? "≤" : "≥")} {target}{unit}   {(ok ? "met" : "MISSED")}");
            }
            IEnumerable<double> Over(int a, int b) => t[a].Zip(t[b], (x, y) => x / y);
            Ratio("W1 batch 1, ModelGen / ONNX Runtime", Over(1, 2), 0.6, true);
            Ratio("W1 batch 256, ModelGen / ONNX Runtime", Over(3, 4), 0.95, true);
            // Where the batch-256 target sits against the core: both libraries' fractions of the round's FMA peak, and
            // the fraction ModelGen needs for 0.95 × ONNX Runtime's time.
            var mgPeak = t[3].Zip(t[0], (s, p) => w1Flops / s / (peakFlops / p)).ToArray();
            var ortPeak = t[4].Zip(t[0], (s, p) => w1Flops / s / (peakFlops / p)).ToArray();
            Console.WriteLine($"  {"  W1 batch 256 at the round's peak: ModelGen",-48} {Median(mgPeak),7:P1}, ONNX Runtime {Median(ortPeak):P1}; 0.95 × ONNX Runtime's time needs ModelGen at {Median(ortPeak) / 0.95:P1}");
            Ratio("W1 batch 256, two threads' speed-up", Over(3, 5), 1.8, false, "×");
            Ratio("W2 batch 1, ModelGen / ONNX Runtime", Over(6, 7), 0.8, true);
            Ratio("W2 batch 64, ModelGen / ONNX Runtime", Over(8, 9), 1.0, true);
            Ratio("W2 batch 64, two threads' speed-up", Over(8, 10), 1.8, false, "×");
            Ratio("W2 training step, fraction of the round's peak", t[11].Zip(t[0], (s, p) => trainFlops / s / (peakFlops / p)), 0.75, false);
            Ratio("W2 training step, ModelGen / TorchSharp", Over(11, 13), 0.5, true);
            Ratio("W2 training step, two threads' speed-up", Over(11, 12), 1.8, false, "×");
            // ONNX Runtime's two-thread calls ran in their own phase: ratios of medians.
            foreach (var (what, a, b) in new[] { ("W1 batch 256, 2 threads, ModelGen / ORT (medians)", 5, 14), ("W2 batch 64, 2 threads, ModelGen / ORT (medians)", 10, 15) })
            {
                double m = Med(a) / Med(b);
                Console.WriteLine($"  {what,-48} {m,7:F3}                 target ≤ 1   {(m <= 1 ? "met" : "MISSED")}");
            }
        }
        w1.Cleanup(); w2.Cleanup(); w2t.Cleanup();
    }

    private static int Arg(string[] args, string name, int fallback) =>
        args.FirstOrDefault(a => a.StartsWith(name + "=", StringComparison.Ordinal)) is string s ? int.Parse(s.Substring(name.Length + 1)) : fallback;
}
