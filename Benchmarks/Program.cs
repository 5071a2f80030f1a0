using System;
using System.Diagnostics;
using System.Linq;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using ModelGen.Benchmarks;
using ModelGen.Training;
using static Interleaved;

// BenchmarkDotNet, in process (TorchSharp's native libraries are loaded once), one thread.
//   dotnet run -c Release --project Benchmarks -- --filter '*W1*'
// `--quick` prints rough Stopwatch medians instead (for tuning, not for reporting).
if (args.Contains("--quick")) { Quick.Run(); return; }
if (args.Contains("--targets")) { Targets.Run(args); return; }   // every issue-9 target ratio in one process, calls interleaved round by round
if (args.Contains("--tile-ceiling")) { TileCeiling.Run(); return; }
if (args.Contains("--study-b1")) { ModelGen.Benchmarks.StudyB1.Run(); return; }   // W1 Hidden1 at batch 1: GEMV over W against a sweep of Wᵀ
if (args.Contains("--torch-grad-check")) { TorchGradCheck.Run(); return; }   // TorchSharp's float32 convolution gradients against float64 (PERF.md's trap)   // W1's in-place tile against the FMA peak, its data in L1 and as W1 reads it
if (Array.IndexOf(args, "--w2v-answers") is int wa and >= 0)   // --w2v-answers <vec.bin> <questions> <section>: each question of one section alone, right or not (a diagnostic)
{
    var v = ModelGen.Text.WordVectors.Load(args[wa + 1]);
    var qs = System.IO.File.ReadAllLines(args[wa + 2]);
    string section = args[wa + 3];
    bool inside = false;
    foreach (var q in qs)
    {
        if (q.StartsWith(':')) { inside = q.Substring(1).Trim() == section; continue; }
        if (!inside) continue;
        var res = v.EvaluateAnalogies(new[] { ": " + section, q });
        Console.WriteLine($"Q {q.ToUpperInvariant()} {(res.Sections[0].Seen == 0 ? "unseen" : res.Sections[0].Correct == 1 ? "right" : "wrong")}");
        if (args.Contains("near") && res.Sections[0].Seen == 1)
        {
            var w = q.Split(' ');
            foreach (var (word, cos) in v.Analogy(w[0].ToLowerInvariant(), w[1].ToLowerInvariant(), w[2].ToLowerInvariant(), 3)) Console.WriteLine($"    {word} {cos:G9}");
        }
    }
    return;
}
if (args.Contains("--word2vec")) { Word2VecRun.Run(args); return; }   // the C tool and ModelGen's word2vec in one run
if (Array.IndexOf(args, "--rss") is int r and >= 0)   // --rss <w1|w2> <modelgen|ort|torch>: peak RSS of one framework alone running batch-64 inference
{
    bool w2 = args[r + 1] == "w2";
    string who = args[r + 2];
    int batch = 64;
    var rng = new ModelGen.Rng(1);
    var x = new float[batch * (w2 ? 3072 : 784)];
    for (int i = 0; i < x.Length; i++) x[i] = rng.NextFloat();
    var y = new float[batch * 10];
    if (who == "modelgen" || who == "ort")
    {
        int maxBatch = who == "ort" ? 1 : batch;   // for ONNX Runtime the model only provides the weights to export
        ModelGen.INetwork model = w2 ? new Cifar.W2(maxBatch, seed: 1) : new Mnist.MnistMlp(maxBatch, seed: 1);
        if (who == "modelgen") for (int i = 0; i < 20; i++) model.Predict(x, y);
        else { using var ort = new ModelGen.Benchmarks.OrtRunner(model, batch, 1, x, y); model.Dispose(); for (int i = 0; i < 20; i++) ort.Run(); }
    }
    else
    {
        TorchSharp.torch.set_num_threads(1);
        var net = w2
            ? TorchSharp.torch.nn.Sequential(("c1", TorchSharp.torch.nn.Conv2d(3, 32, 3, padding: 1)), ("r1", TorchSharp.torch.nn.ReLU()), ("c2", TorchSharp.torch.nn.Conv2d(32, 32, 3, padding: 1)), ("r2", TorchSharp.torch.nn.ReLU()), ("p1", TorchSharp.torch.nn.MaxPool2d(2)),
                ("c3", TorchSharp.torch.nn.Conv2d(32, 64, 3, padding: 1)), ("r3", TorchSharp.torch.nn.ReLU()), ("c4", TorchSharp.torch.nn.Conv2d(64, 64, 3, padding: 1)), ("r4", TorchSharp.torch.nn.ReLU()), ("p2", TorchSharp.torch.nn.MaxPool2d(2)),
                ("f", TorchSharp.torch.nn.Flatten()), ("d1", TorchSharp.torch.nn.Linear(4096, 256)), ("r5", TorchSharp.torch.nn.ReLU()), ("d2", TorchSharp.torch.nn.Linear(256, 10)))
            : TorchSharp.torch.nn.Sequential(("fc1", TorchSharp.torch.nn.Linear(784, 256)), ("relu1", TorchSharp.torch.nn.ReLU()), ("fc2", TorchSharp.torch.nn.Linear(256, 128)), ("relu2", TorchSharp.torch.nn.ReLU()), ("fc3", TorchSharp.torch.nn.Linear(128, 10)));
        using var t = TorchSharp.torch.tensor(x, w2 ? new long[] { batch, 3, 32, 32 } : new long[] { batch, 784 });
        using var mode = TorchSharp.torch.inference_mode();
        for (int i = 0; i < 20; i++) { using var o = net.forward(t); }
    }
    string hwm = System.IO.File.ReadAllLines("/proc/self/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
    Console.WriteLine($"{(w2 ? "W2" : "W1")} batch {batch} inference, {who} alone: peak RSS {hwm.Substring(6).Trim()}");
    return;
}
if (args.Contains("--cold"))   // the first Predict of a fresh process (JIT of the generated code) against ONNX Runtime's first Run
{
    bool w2 = args.Contains("w2");
    var jitc = System.Runtime.JitInfo.GetCompilationTime(currentThread: true);
    var swc = Stopwatch.StartNew();
    ModelGen.INetwork model = w2 ? new Cifar.W2(maxBatch: 1, seed: 1) : new Mnist.MnistMlp(maxBatch: 1, seed: 1);
    double construct = swc.Elapsed.TotalMilliseconds;
    double constructJit = (System.Runtime.JitInfo.GetCompilationTime(currentThread: true) - jitc).TotalMilliseconds;
    swc.Restart();
    using (ModelGen.INetwork again = w2 ? new Cifar.W2(maxBatch: 1, seed: 2) : new Mnist.MnistMlp(maxBatch: 1, seed: 2)) { }
    double constructAgain = swc.Elapsed.TotalMilliseconds;
    var x = new float[model.InputSize];
    var y = new float[model.OutputSize];
    var oy = new float[model.OutputSize];
    using var ort = new ModelGen.Benchmarks.OrtRunner(model, 1, 1, x, oy);   // session created (graph optimised) before timing, as the model is
    var jit0 = System.Runtime.JitInfo.GetCompilationTime(currentThread: true);
    long methods0 = System.Runtime.JitInfo.GetCompiledMethodCount(currentThread: true);
    var sw = Stopwatch.StartNew();
    model.Predict(x, y);
    double first = sw.Elapsed.TotalMilliseconds;
    double jit = (System.Runtime.JitInfo.GetCompilationTime(currentThread: true) - jit0).TotalMilliseconds;
    long methods = System.Runtime.JitInfo.GetCompiledMethodCount(currentThread: true) - methods0;
    sw.Restart();
    model.Predict(x, y);
    double second = sw.Elapsed.TotalMilliseconds;
    sw.Restart();
    ort.Run();
    double ortFirst = sw.Elapsed.TotalMilliseconds;
    Console.WriteLine($"{(w2 ? "W2" : "W1")} batch 1, fresh process: ModelGen first Predict {first:F2} ms ({jit:F2} ms JIT of {methods} methods; second {second:F3} ms), ONNX Runtime first Run {ortFirst:F2} ms; construction: ModelGen {construct:F2} ms ({constructJit:F2} ms JIT; a second model {constructAgain:F2} ms), ONNX Runtime session {ort.SessionMilliseconds:F2} ms");
    model.Dispose();
    return;
}
if (args.Contains("--cold-methods"))   // JIT time of each generated method compiled alone, in order (reflection: a diagnostic)
{
    bool w2 = args.Contains("w2");
    var t = w2 ? typeof(Cifar.W2) : typeof(Mnist.MnistMlp);
    var flags = System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.DeclaredOnly;
    var pre = args.Contains("pre") ? new[] { typeof(ModelGen.Kernels.Gemm) } : Array.Empty<Type>();
    foreach (var type in pre.Concat(new[] { t }))
    foreach (var mi in type.GetMethods(flags))
    {
        if (mi.IsAbstract || mi.ContainsGenericParameters || !(mi.Name.Contains("V512") || mi.Name.Contains("Forward"))) continue;
        var j0 = System.Runtime.JitInfo.GetCompilationTime(true);
        var sw = Stopwatch.StartNew();
        System.Runtime.CompilerServices.RuntimeHelpers.PrepareMethod(mi.MethodHandle);
        Console.WriteLine($"{(System.Runtime.JitInfo.GetCompilationTime(true) - j0).TotalMilliseconds,7:F2} ms JIT ({sw.Elapsed.TotalMilliseconds,7:F2} wall)  {type.Name}.{mi.Name}");
    }
    return;
}
if (Array.IndexOf(args, "--aot-startup") is int at and >= 0)   // --aot-startup <MnistAot binary> <weights>: spawn → first inference → exit
{
    string exe = args[at + 1], weights = args[at + 2];
    var times = new double[31];
    for (int i = 0; i < times.Length; i++)
    {
        var sw = Stopwatch.StartNew();
        using var p = Process.Start(new ProcessStartInfo(exe, new[] { weights, "--once" }) { RedirectStandardOutput = true })!;
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        times[i] = sw.Elapsed.TotalMilliseconds;
        if (p.ExitCode != 0) throw new InvalidOperationException($"{exe} exited with {p.ExitCode}");
    }
    Array.Sort(times);
    Console.WriteLine($"NativeAOT MnistAot spawn → first inference → exit: median {times[15]:F1} ms, p10 {times[3]:F1} ms, max {times[30]:F1} ms");
    return;
}
if (args.Contains("--ab-w2"))   // W2 with and without Winograd (and ONNX Runtime), calls interleaved: on a noisy host the ratios of neighbouring calls hold
{
    var c = new W2Benchmarks();
    c.Setup();
    var cases = new (string Name, Action Run)[]
    {
        ("ModelGen b1", c.ModelGen_Batch1), ("direct b1", c.ModelGenDirect_Batch1), ("ORT b1", c.Ort_Batch1),
        ("ModelGen b64", c.ModelGen_Batch64), ("direct b64", c.ModelGenDirect_Batch64), ("ORT b64", c.Ort_Batch64),
        ("ModelGen train32", () => c.ModelGen_Train32()), ("direct train32", () => c.ModelGenDirect_Train32()),
    };
    int rounds = 40;
    var times = cases.Select(_ => new System.Collections.Generic.List<double>()).ToArray();
    for (int round = 0; round < rounds + 3; round++)
        for (int i = 0; i < cases.Length; i++)
        {
            int reps = cases[i].Name.Contains("b1") ? 20 : 1;
            long t0 = Stopwatch.GetTimestamp();
            for (int k = 0; k < reps; k++) cases[i].Run();
            if (round >= 3) times[i].Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds / reps);
        }
    for (int i = 0; i < cases.Length; i++) Console.WriteLine($"{cases[i].Name,-18} median {Median(times[i]),9:F3} ms");
    foreach (var (a, b) in new[] { (0, 1), (0, 2), (3, 4), (3, 5), (6, 7) })
        Console.WriteLine($"{cases[a].Name} / {cases[b].Name}: median of per-round ratios {Median(times[a].Zip(times[b], (x, y) => x / y)):F3}");
    return;
}
if (args.Contains("--study-rows"))   // W1's first layer without the input's transposition (rows in place, copied, blocked), against the generated path
{
    Mnist.MnistMlp.StudyRows();
    return;
}
if (args.Contains("--w1-warm-cold"))   // W1 batch 256, ModelGen and ONNX Runtime: 10 calls in a row, one call after the other's, after batch 1; then each alone
{
    var c = new W1Benchmarks();
    c.Setup();
    var cases = new (string Name, Action Run, int Reps)[]
    {
        ("MG b256 x10", c.ModelGen_Batch256, 10), ("ORT b256 x10", c.Ort_Batch256, 10),
        ("MG b256 x1", c.ModelGen_Batch256, 1), ("ORT b256 x1", c.Ort_Batch256, 1),
        ("MG b1 x50", c.ModelGen_Batch1, 50), ("MG b256 after b1", c.ModelGen_Batch256, 1),
        ("ORT b1 x50", c.Ort_Batch1, 50), ("ORT b256 after b1", c.Ort_Batch256, 1),
    };
    var times = Interleaved.Times(cases, 100);
    for (int i = 0; i < cases.Length; i++) Console.WriteLine($"{cases[i].Name,-18} median {Median(times[i]),9:F2} us");
    for (int rep = 0; rep < 3; rep++)
    {
        var alone = Interleaved.Times(cases, 100, new[] { new[] { 0 }, new[] { 1 }, new[] { 0 }, new[] { 1 } });
        Console.WriteLine($"alone (phases MG, ORT, MG, ORT; x10 calls): MG {Quantile(alone[0].Take(100), 0.5):F1} / {Quantile(alone[0].Skip(100), 0.5):F1} us, ORT {Quantile(alone[1].Take(100), 0.5):F1} / {Quantile(alone[1].Skip(100), 0.5):F1} us");
    }
    return;
}
if (args.Contains("--ab-w1"))   // W1 against ONNX Runtime and the FMA peak, calls interleaved: ratios of neighbouring calls on a noisy host
{
    var c = new W1Benchmarks();
    c.Setup();
    var (w1Parameters, w1Start) = Stream.Aligned();
    var cases = new (string Name, Action Run, int Reps)[]
    {
        ("FMA peak", () => Peak.Run(PeakBenchmarks.Iterations), 1),
        ("ModelGen b1", c.ModelGen_Batch1, 50), ("ORT b1", c.Ort_Batch1, 50),
        ("ModelGen b256", c.ModelGen_Batch256, 1), ("ORT b256", c.Ort_Batch256, 1),
        ("read W1's parameters", () => Stream.Sum(w1Parameters, w1Start), 50),
    };
    int rounds = args.Contains("long") ? 300 : 100;
    var times = Interleaved.Times(cases, rounds);
    double peakFlops = 16.0 * 16 * 2 * PeakBenchmarks.Iterations;   // per call of Peak.Run
    double w1Flops = 2.0 * 256 * (784 * 256 + 256 * 128 + 128 * 10);
    for (int i = 0; i < cases.Length; i++) Console.WriteLine($"{cases[i].Name,-16} median {Median(times[i]),9:F2} us");
    Console.WriteLine($"FMA peak (median): {peakFlops / Median(times[0]) / 1e3:F1} GFLOP/s");
    Console.WriteLine($"ModelGen b256, median per-round fraction of that round's peak: {Median(times[3].Zip(times[0], (t, p) => (w1Flops / t) / (peakFlops / p))):P1}");
    foreach (var (a, b) in new[] { (1, 2), (3, 4) })
        Console.WriteLine($"{cases[a].Name} / {cases[b].Name}: median of per-round ratios {Median(times[a].Zip(times[b], (x, y) => x / y)):F3}");
    long allocated = GC.GetAllocatedBytesForCurrentThread();
    for (int i = 0; i < 1000; i++) c.ModelGen_Batch256();
    Console.WriteLine($"ModelGen b256 after the rounds: {(GC.GetAllocatedBytesForCurrentThread() - allocated) / 1000.0:F1} bytes allocated per call over 1,000 calls");
    // Batch 1 streams the parameters once: the plain read of as many bytes is its floor on this core.
    Console.WriteLine($"reading W1's {Stream.W1Parameters * 4 / 1024.0:F1} KB of parameters: {Median(times[5]):F2} us ({Stream.W1Parameters * 4 / Median(times[5]) / 1e3:F1} GB/s); "
        + $"ModelGen b1 / that: {Median(times[1].Zip(times[5], (x, y) => x / y)):F2}, ORT b1 / that: {Median(times[2].Zip(times[5], (x, y) => x / y)):F2} "
        + $"(a 0.6 x ORT target needs {0.6 * Median(times[2].Zip(times[5], (x, y) => x / y)):F2})");
    return;
}
if (args.Contains("--ab-conv"))   // one 3×3 convolution, Winograd against direct, batch 32, calls interleaved
{
    var pairs = new (string Name, ModelGen.INetwork W, ModelGen.INetwork D)[]
    {
        ("8 channels 32×32", new Conv8W(32, 1), new Conv8D(32, 1)),
        ("16 channels 32×32", new Conv16W(32, 1), new Conv16D(32, 1)),
        ("128 channels 8×8", new Conv128W(32, 1), new Conv128D(32, 1)),
    };
    foreach (var (name, w, d) in pairs)
    {
        w.Parameters.CopyTo(d.Parameters);
        var x = new float[32 * w.InputSize];
        var rng = new ModelGen.Rng(1);
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextFloat();
        var y = new float[32 * w.OutputSize];
        var ratios = new System.Collections.Generic.List<double>();
        for (int round = 0; round < 43; round++)
        {
            long t0 = Stopwatch.GetTimestamp(); w.Predict(x, y); double tw = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            t0 = Stopwatch.GetTimestamp(); d.Predict(x, y); double td = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            if (round >= 3) ratios.Add(tw / td);
        }
        ratios.Sort();
        Console.WriteLine($"{name}: Winograd / direct, median of per-round ratios {ratios[ratios.Count / 2]:F3}");
    }
    return;
}
if (args.Contains("--parts")) { Parts.Run(); return; }
if (args.Contains("--layers-w2"))   // per-layer times of a W2 training step (reflection: a diagnostic, not a benchmark)
{
    bool infer = args.Contains("infer");   // `--layers-w2 infer`: the forward layers of batch-64 inference (`infer b1`: batch 1)
    int batch = infer ? (args.Contains("b1") ? 1 : 64) : 32;
    if (args.FirstOrDefault(a => a.StartsWith("batch=")) is { } bs) batch = int.Parse(bs[6..]);   // `batch=8`: another batch
    int threads = args.Contains("x2") ? 2 : 1;   // `--layers-w2 x2`: over two threads
    // `--layers-w2 direct`: W2 with its convolutions direct beside it, each layer of the two timed in turn
    var models = new System.Collections.Generic.List<ModelGen.ITrainableNetwork> { new Cifar.W2(batch, 1) { Threads = threads } };
    if (args.Contains("direct")) models.Add(new W2Direct(batch, 1) { Threads = threads });
    var rng = new ModelGen.Rng(1);
    var x = new float[batch * 3072];
    for (int i = 0; i < x.Length; i++) x[i] = rng.NextFloat();
    var labels = new int[batch];
    var flags = System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance;
    var workspaces = new System.Collections.Generic.List<object>();
    foreach (var m in models)
    {
        for (int i = 0; i < 3; i++) ModelGen.NetworkExtensions.TrainStep(m, x, labels, new ModelGen.Training.Sgd(0.01f));
        if (infer) m.Forward(x, training: false);
        else { m.ZeroGrad(); m.Forward(x, training: true); m.Backward(labels); }
        workspaces.Add(m.GetType().GetField("_main", flags)!.GetValue(m)!);   // the model's own workspace, as Forward/Backward left it
    }
    var pt = new double[9];   // the FMA peak now: the host's speed moves between runs, so each layer is also given as % of it
    for (int i = 0; i < pt.Length; i++) { var sw = Stopwatch.StartNew(); Peak.Run(PeakBenchmarks.Iterations * 10); pt[i] = sw.Elapsed.TotalSeconds; }
    Array.Sort(pt);
    double peak = PeakBenchmarks.Iterations * 10 * 16 * 32.0 / pt[4] / 1e9;
    Console.WriteLine($"FMA peak {peak:F0} GFLOP/s");
    var flops = new System.Collections.Generic.Dictionary<string, double>   // forward FLOPs per sample (W2.Summary)
        { ["Conv1"] = 1_769_472, ["Conv2"] = 18_874_368, ["Conv3"] = 9_437_184, ["Conv4"] = 18_874_368, ["Hidden"] = 2_097_152, ["Logits"] = 5_120 };
    foreach (var name in new[] { "Conv1", "Conv2", "Pool1", "Conv3", "Conv4", "Pool2", "Flat", "Hidden", "Logits" })
        for (int k = 0; k < models.Count; k++)
        {
            var m = models[k];
            var ws = workspaces[k];
            var f = m.GetType().GetMethod(name + "_Forward_V512", flags)!;
            var b = m.GetType().GetMethod(name + "_Backward_V512", flags)!;
            int ld = ModelGen.Simd.PanelStride(batch);
            int reps = Math.Max(5, 400 / batch);   // small batches: many calls, past reflection's first slow invocations
            double T(Action a) { for (int i = 0; i < reps / 8 + 1; i++) a(); var sw = Stopwatch.StartNew(); for (int i = 0; i < reps; i++) a(); return sw.Elapsed.TotalMilliseconds / reps; }
            if (args.FirstOrDefault(a => a.StartsWith("repeat=")) is { } rep)   // `repeat=Conv1`: that layer's forward for ~3 s, for perf record
            {
                if (rep != "repeat=" + name) continue;
                var sw3 = Stopwatch.StartNew();
                while (sw3.ElapsedMilliseconds < 3000) f.Invoke(m, new object[] { ws, batch, ld });
            }
            double tf = T(() => f.Invoke(m, new object[] { ws, batch, ld }));
            double tb = infer ? 0 : T(() => b.Invoke(m, new object[] { ws, batch, batch, ld }));
            double gf = (flops.TryGetValue(name, out var fl) ? fl : 0) * batch / tf / 1e6;
            string who = models.Count > 1 ? (k == 0 ? " " : "d") : "";
            Console.WriteLine($"{name,-8}{who} forward {tf,7:F2} ms" + (gf > 1 ? $" ({gf:F0} GFLOP/s, {100 * gf / peak:F0} % of peak)" : "") + $"   backward {tb,7:F2} ms");
        }
    if (infer)   // the whole call, for the time outside the layers (input layout, output copy)
        foreach (var m in models)
        {
            var y = new float[batch * 10];
            var t = new double[21];
            for (int i = 0; i < t.Length; i++) { var sw = Stopwatch.StartNew(); m.Predict(x, y); t[i] = sw.Elapsed.TotalMilliseconds; }
            Array.Sort(t);
            Console.WriteLine($"Predict {m.GetType().Name} whole call {t[10],7:F2} ms (median of 21)");
        }
    if (infer && batch == 1)   // batch 1 reads the dense layer's 4 MB of weights once: more than L2, so from L3 or memory
    {
        const int hidden = 4096 * 256;
        var (big, start) = Stream.Aligned(hidden);
        var t = new double[21];
        for (int i = 0; i < t.Length; i++) { var sw = Stopwatch.StartNew(); Stream.Sum(big, start, hidden); t[i] = sw.Elapsed.TotalMilliseconds; }
        Array.Sort(t);
        Console.WriteLine($"a plain read of Hidden's 4 MB of weights {t[10],7:F2} ms ({hidden * 4 / t[10] / 1e6:F1} GB/s; median of 21)");
    }
    return;
}
if (args.Contains("--step-w2"))   // W2 training steps at batch 32 on one thread (medians of 41), with the FMA peak around them: to compare builds
{
    var m = new Cifar.W2(32, 1);
    var (x, labels, _) = W2Setup.Prepare(m, 32, i => i % 10);
    var sgd = new ModelGen.Training.Sgd(0.01f);
    double Peak1() { var pt = new double[9]; for (int i = 0; i < pt.Length; i++) { var sw = Stopwatch.StartNew(); Peak.Run(PeakBenchmarks.Iterations * 10); pt[i] = sw.Elapsed.TotalSeconds; } Array.Sort(pt); return PeakBenchmarks.Iterations * 10 * 16 * 32.0 / pt[4] / 1e9; }
    for (int i = 0; i < 10; i++) ModelGen.NetworkExtensions.TrainStep(m, x, labels, sgd);
    double p0 = Peak1();
    var t = new double[41];
    for (int i = 0; i < t.Length; i++) { long s0 = Stopwatch.GetTimestamp(); ModelGen.NetworkExtensions.TrainStep(m, x, labels, sgd); t[i] = (Stopwatch.GetTimestamp() - s0) * 1e3 / Stopwatch.Frequency; }
    double p1 = Peak1();
    Array.Sort(t);
    double gflops = 3 * 51.1e6 * 32 / t[20] / 1e6;   // direct-equivalent: three times the forward's 51.1 MFLOP per sample
    Console.WriteLine($"W2 training step, batch 32: median {t[20]:F2} ms (p25 {t[10]:F2}, p75 {t[30]:F2}); {gflops:F0} GFLOP/s direct-equivalent, {100 * gflops / Math.Max(p0, p1):F0} % of the peak ({p0:F0} before, {p1:F0} after)");
    return;
}
if (args.Contains("--ab-dense"))   // W2's dense products in several loop orders, alternated in one process
{
    var pt = new double[9];
    for (int i = 0; i < pt.Length; i++) { var sw = Stopwatch.StartNew(); Peak.Run(PeakBenchmarks.Iterations * 10); pt[i] = sw.Elapsed.TotalSeconds; }
    Array.Sort(pt);
    double peak = PeakBenchmarks.Iterations * 10 * 16 * 32.0 / pt[4] / 1e9;
    Console.WriteLine($"FMA peak {peak:F0} GFLOP/s");
    Cifar.W2.AbDense(peak);
    return;
}
if (args.Contains("--dense-w2"))   // W2's dense layer (4096 → 256, 4 MB of weights) at batch 32 and 64: forward, backward and its parts (medians)
{
    var flags = System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance;
    var pt = new double[9];
    for (int i = 0; i < pt.Length; i++) { var sw = Stopwatch.StartNew(); Peak.Run(PeakBenchmarks.Iterations * 10); pt[i] = sw.Elapsed.TotalSeconds; }
    Array.Sort(pt);
    double peak = PeakBenchmarks.Iterations * 10 * 16 * 32.0 / pt[4] / 1e9;
    Console.WriteLine($"FMA peak {peak:F0} GFLOP/s");
    foreach (int batch in new[] { 32, 64 })
    {
        var m = new Cifar.W2(batch, 1);
        var (x, labels, ws) = W2Setup.Prepare(m, batch, i => i % 10);
        int ld = ModelGen.Simd.PanelStride(batch);
        var t = typeof(Cifar.W2);
        var f = t.GetMethod("Hidden_Forward_V512", flags)!;
        var b = t.GetMethod("Hidden_Backward_V512", flags)!;
        var bp = t.GetMethod("Hidden_BackwardPart_V512", flags)!;
        double T(Action a) { for (int i = 0; i < 10; i++) a(); var r = new double[41]; for (int i = 0; i < r.Length; i++) { long s0 = Stopwatch.GetTimestamp(); a(); r[i] = (Stopwatch.GetTimestamp() - s0) * 1e3 / Stopwatch.Frequency; } Array.Sort(r); return r[20]; }
        double flops = 2.0 * 4096 * 256 * batch;
        string G(double ms, double mult) => $"{ms,6:F3} ms ({mult * flops / ms / 1e6:F0} GFLOP/s, {100 * mult * flops / ms / 1e6 / peak:F0} %)";
        double tf = T(() => f.Invoke(m, new object[] { ws, batch, ld }));
        double tb = T(() => b.Invoke(m, new object[] { ws, batch, batch, ld }));
        double tp = T(() => bp.Invoke(m, new object[] { ws, ws, 0, 1 }));
        Console.WriteLine($"batch {batch}: forward {G(tf, 1)}   backward {G(tb, 2)}   its products {G(tp, 2)}");
    }
    foreach (int batch in new[] { 32, 64 })   // LeNet's dense layer (1568 → 128, 784 KB of weights: L2)
    {
        var m = new MnistCnn.LeNet(batch, 1);
        var rng = new ModelGen.Rng(1);
        var x = new float[batch * 784];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextFloat();
        var labels = new int[batch];
        for (int i = 0; i < 3; i++) ModelGen.NetworkExtensions.TrainStep(m, x, labels, new ModelGen.Training.Sgd(0.01f));
        m.ZeroGrad(); m.Forward(x, training: true); m.Backward(labels);
        var ws = typeof(MnistCnn.LeNet).GetField("_main", flags)!.GetValue(m)!;
        var bp = typeof(MnistCnn.LeNet).GetMethod("Hidden_BackwardPart_V512", flags)!;
        double T(Action a) { for (int i = 0; i < 10; i++) a(); var r = new double[41]; for (int i = 0; i < r.Length; i++) { long s0 = Stopwatch.GetTimestamp(); a(); r[i] = (Stopwatch.GetTimestamp() - s0) * 1e3 / Stopwatch.Frequency; } Array.Sort(r); return r[20]; }
        double tp = T(() => bp.Invoke(m, new object[] { ws, ws, 0, 1 }));
        double flops = 4.0 * 1568 * 128 * batch;
        Console.WriteLine($"LeNet batch {batch}: the dense backward's products {tp,6:F3} ms ({flops / tp / 1e6:F0} GFLOP/s, {100 * flops / tp / 1e6 / peak:F0} %)");
    }
    return;
}
if (args.Contains("--weights-w2"))   // the weight-gradient parts of W2's four convolutions on one thread, 100 rounds: medians and 10th percentiles
{
    var m = new Cifar.W2(32, 1);
    var (_, _, ws) = W2Setup.Prepare(m, 32, i => i % 10);
    var flags = System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance;
    var parts = new[] { "Conv1", "Conv2", "Conv3", "Conv4" }.Select(l => typeof(Cifar.W2).GetMethod(l + "_WeightsPart_V512", flags)!).ToArray();
    var tt = new double[4][];
    for (int i = 0; i < 4; i++) tt[i] = new double[100];
    for (int round = 0; round < 100; round++)
        for (int i = 0; i < 4; i++) { long s0 = Stopwatch.GetTimestamp(); parts[i].Invoke(m, new object[] { ws, ws, 0, 1 }); tt[i][round] = (Stopwatch.GetTimestamp() - s0) * 1e3 / Stopwatch.Frequency; }
    for (int i = 0; i < 4; i++) { Array.Sort(tt[i]); Console.WriteLine($"Conv{i + 1} weights: median {tt[i][50]:F2} ms, p10 {tt[i][10]:F2}"); }
    return;
}
if (args.Contains("--sparse-gemv"))   // W2's batch-1 dense layer: row-major GEMV against a column sweep of Wᵀ that skips zero inputs; `whole`: the generated Predict with the skip on and off
{
    if (args.Contains("whole")) ModelGen.Benchmarks.SparseGemv.WholeCall(); else ModelGen.Benchmarks.SparseGemv.Run();
    return;
}
if (args.Contains("--wino-parts"))   // W2's Conv2 forward split into input transforms, products and output transforms (medians)
{
    var m = new Cifar.W2(32, 1);
    var (x, _, _) = W2Setup.Prepare(m, 32, i => i % 10);
    m.Forward(x, training: true);   // the training forward's path (no pooling fused)
    for (int i = 0; i < 5; i++) m.WinoParts(32, 21);
    return;
}
if (args.Contains("--layers-w1train"))   // W1's training step at batch 64, part by part on one thread (medians of 201): where the step's time goes
{
    const int batch = 64;
    var m = new Mnist.MnistMlp(batch, 1);
    var x = new float[batch * 784];
    var labels = new int[batch];
    var rng = new ModelGen.Rng(1);
    for (int i = 0; i < x.Length; i++) x[i] = rng.NextFloat();
    for (int i = 0; i < batch; i++) labels[i] = rng.NextInt(10);
    var sgd = new ModelGen.Training.Sgd(0.01f);
    for (int i = 0; i < 50; i++) ModelGen.NetworkExtensions.TrainStep(m, x, labels, sgd);
    var flags = System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance;
    var ws = (ModelGen.Workspace)typeof(Mnist.MnistMlp).GetField("_main", flags)!.GetValue(m)!;
    int ld = ModelGen.Simd.PanelStride(batch);
    double T(Action a) { for (int i = 0; i < 20; i++) a(); var t = new double[201]; for (int r = 0; r < t.Length; r++) { long s0 = Stopwatch.GetTimestamp(); a(); t[r] = (Stopwatch.GetTimestamp() - s0) * 1e6 / Stopwatch.Frequency; } Array.Sort(t); return t[100]; }
    for (int round = 0; round < 3; round++)
    {
        double sum = 0;
        foreach (var layer in m.Layers)
        {
            var f = typeof(Mnist.MnistMlp).GetMethod(layer.Name + "_Forward_V512", flags)!;
            var b = typeof(Mnist.MnistMlp).GetMethod(layer.Name + "_Backward_V512", flags)!;
            var fa = new object[] { ws, batch, ld };
            var ba = new object[] { ws, batch, batch, ld };
            double tf = T(() => f.Invoke(m, fa)), tb = T(() => b.Invoke(m, ba));
            sum += tf + tb;
            Console.Write($"{layer.Name} {tf,5:F1} + {tb,5:F1} us   ");
        }
        double tz = T(m.ZeroGrad), ts = T(() => m.Step(sgd)), tfw = T(() => m.Forward(x, training: true)), tbw = T(() => m.Backward(labels));
        double whole = T(() => ModelGen.NetworkExtensions.TrainStep(m, x, labels, sgd));
        Console.WriteLine($"\nlayers {sum:F1} us; ZeroGrad {tz:F1}, Step {ts:F1}, Forward {tfw:F1}, Backward {tbw:F1}, TrainStep {whole:F1} us");
    }
    return;
}
if (args.Contains("--layers-w1"))   // W1 batch 256 (b1: batch 1 [max256]) inference: each layer's forward and the whole Predict (medians), for where the time goes
{
    int batch = args.Contains("b1") ? 1 : 256;
    var m = new Mnist.MnistMlp(args.Contains("max256") ? 256 : batch, 1);   // max256: the batch-1 path of a model built for 256 samples (a larger workspace)
    var rng = new ModelGen.Rng(1);
    var x = new float[batch * 784];
    for (int i = 0; i < x.Length; i++) x[i] = rng.NextFloat();
    var y = new float[batch * 10];
    for (int i = 0; i < 50; i++) m.Predict(x, y);
    var flags = System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance;
    var ws = (ModelGen.Workspace)typeof(Mnist.MnistMlp).GetField("_main", flags)!.GetValue(m)!;
    int n = batch == 1 ? 1 : batch, ld = ModelGen.Simd.PanelStride(n);
    double T(Action a) { for (int i = 0; i < 20; i++) a(); var t = new double[101]; for (int r = 0; r < t.Length; r++) { long s0 = Stopwatch.GetTimestamp(); a(); t[r] = (Stopwatch.GetTimestamp() - s0) * 1e6 / Stopwatch.Frequency; } Array.Sort(t); return t[50]; }
    for (int round = 0; round < 3; round++)
    {
        double sum = 0;
        foreach (var layer in m.Layers)
        {
            var f = typeof(Mnist.MnistMlp).GetMethod(layer.Name + "_Forward_V512", flags)!.CreateDelegate<Action<Mnist.MnistMlp, ModelGen.Workspace, int, int>>();
            // As Predict runs them: the caller's input pinned (Hidden1 reads it in place).
            double tf = T(() => ws.WithInput(x, (f, m, n, ld), static (c, w) => c.f(c.m, w, c.n, c.ld)));
            sum += tf;
            Console.Write($"{layer.Name} {tf,6:F1} us   ");
        }
        double whole = T(() => m.Predict(x, y));
        var panel = new float[784 * ld];
        double tin = T(() => ModelGen.Kernels.Layout.ToFeatureMajor(x, batch, 784, ref panel[0], ld));
        var flat = new float[784 * ld];
        double tcopy = T(() => x.AsSpan().CopyTo(flat));
        Console.WriteLine($"layers {sum:F1} us, Predict {whole:F1} us (outside the layers {whole - sum:F1} us; the training forward's transposition of the input {tin:F1} us, a plain copy of it {tcopy:F1} us)");
    }
    return;
}
if (args.Contains("--seq-w2"))   // W2 training steps at batch 32 on one thread, each backward layer timed in the step's own order (what the cache holds as a real step runs), medians of 41
{
    const int batch = 32;
    var m = new Cifar.W2(batch, 1);
    var (x, labels, _) = W2Setup.Prepare(m, batch, _ => 0);
    var flags = System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance;
    var ws = typeof(Cifar.W2).GetField("_main", flags)!.GetValue(m)!;
    int ld = ModelGen.Simd.PanelStride(batch);
    var names = new[] { "Logits", "Hidden", "Flat", "Pool2", "Conv4", "Conv3", "Pool1", "Conv2", "Conv1" };
    var methods = names.Select(n => typeof(Cifar.W2).GetMethod(n + "_Backward_V512", flags)!).ToArray();
    var opt = new ModelGen.Training.Sgd(0.01f, 0.9f);
    var t = new double[names.Length + 3][];
    for (int i = 0; i < t.Length; i++) t[i] = new double[41];
    var args4 = new object[] { ws, batch, batch, ld };
    for (int rep = -5; rep < 41; rep++)
    {
        var sw = Stopwatch.StartNew();
        m.Step(opt); double st = sw.Elapsed.TotalMilliseconds;
        m.ZeroGrad(); double z = sw.Elapsed.TotalMilliseconds;
        m.Forward(x, training: true); double f = sw.Elapsed.TotalMilliseconds;
        if (rep >= 0) { t[0][rep] = st; t[1][rep] = z - st; t[2][rep] = f - z; }
        for (int i = 0; i < methods.Length; i++)
        {
            double a = sw.Elapsed.TotalMilliseconds;
            methods[i].Invoke(m, args4);
            if (rep >= 0) t[3 + i][rep] = sw.Elapsed.TotalMilliseconds - a;
        }
    }
    var labelsOut = new[] { "Step", "ZeroGrad", "Forward" }.Concat(names.Select(n => n + " backward")).ToArray();
    double sum = 0;
    for (int i = 0; i < t.Length; i++) { Array.Sort(t[i]); sum += t[i][20]; Console.WriteLine($"{labelsOut[i],-18} {t[i][20],6:F3} ms"); }
    Console.WriteLine($"sum of medians {sum:F2} ms");
    return;
}
if (args.Contains("--parts-w2"))   // each split phase of a W2 training step's layers: one part of 1, then parts 0 and 1 of 2 on this thread
{
    const int batch = 32;
    var m = new Cifar.W2(args.Contains("max64") ? 64 : batch, 1);
    var (x, labels, ws) = W2Setup.Prepare(m, batch, _ => 0);
    var flags = System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance;
    double T(Action a) { a(); a(); var t = new double[7]; for (int r = 0; r < t.Length; r++) { var sw = Stopwatch.StartNew(); a(); t[r] = sw.Elapsed.TotalMilliseconds; } Array.Sort(t); return t[3]; }
    foreach (var method in typeof(Cifar.W2).GetMethods(flags).Where(mi => mi.Name.Contains("Part_V512")).OrderBy(mi => mi.MetadataToken))
    {
        double one = T(() => method.Invoke(m, new object[] { ws, ws, 0, 1 }));
        double p0 = T(() => method.Invoke(m, new object[] { ws, ws, 0, 2 }));
        double p1 = T(() => method.Invoke(m, new object[] { ws, ws, 1, 2 }));
        Console.WriteLine($"{method.Name,-28} one part {one,6:F2} ms   two parts {p0,6:F2} + {p1,6:F2} ms   (sum / one: {(p0 + p1) / one:F2})");
    }
    {   // each layer's whole forward and backward (parts and what runs between them) on one thread and on two, the two models' calls alternated
        var m2 = new Cifar.W2(args.Contains("max64") ? 64 : batch, 1) { Threads = 2 };
        for (int i = 0; i < 3; i++) ModelGen.NetworkExtensions.TrainStep(m2, x, labels, new ModelGen.Training.Sgd(0.01f));
        m2.ZeroGrad(); m2.Forward(x, training: true); m2.Backward(labels);
        var ws2 = typeof(Cifar.W2).GetField("_main", flags)!.GetValue(m2)!;
        int ld = ModelGen.Simd.PanelStride(batch);
        double sum1 = 0, sum2 = 0;
        foreach (var method in typeof(Cifar.W2).GetMethods(flags).Where(mi => mi.Name.EndsWith("_Forward_V512") || mi.Name.EndsWith("_Backward_V512")).OrderBy(mi => mi.MetadataToken))
        {
            bool fwd = method.Name.Contains("Forward");
            var t1 = new double[5]; var t2 = new double[5];
            for (int rep = 0; rep < 5; rep++)
            {
                t1[rep] = T(() => method.Invoke(m, fwd ? new object[] { ws, batch, ld } : new object[] { ws, batch, batch, ld }));
                t2[rep] = T(() => method.Invoke(m2, fwd ? new object[] { ws2, batch, ld } : new object[] { ws2, batch, batch, ld }));
            }
            Array.Sort(t1); Array.Sort(t2);
            sum1 += t1[2]; sum2 += t2[2];
            Console.WriteLine($"{method.Name,-28} one thread {t1[2],6:F2} ms   two {t2[2],6:F2} ms   ({t1[2] / t2[2]:F2}×)");
        }
        Console.WriteLine($"all layers: one thread {sum1:F2} ms, two {sum2:F2} ms ({sum1 / sum2:F2}×)");
    }
    foreach (int threads in new[] { 1, 2 })
    {
        m.Threads = threads;
        var opt = new ModelGen.Training.Sgd(0.01f, 0.9f);
        double f = T(() => m.Forward(x, training: true)), b = T(() => m.Backward(labels)), z = T(() => m.ZeroGrad()), st = T(() => m.Step(opt));
        double all = T(() => ModelGen.NetworkExtensions.TrainStep(m, x, labels, opt));
        long bytes = GC.GetTotalAllocatedBytes(precise: true);
        for (int i = 0; i < 20; i++) ModelGen.NetworkExtensions.TrainStep(m, x, labels, opt);
        bytes = GC.GetTotalAllocatedBytes(precise: true) - bytes;
        Console.WriteLine($"{threads} thread(s): {bytes / 20.0:F0} bytes allocated per step, all threads");
        Console.WriteLine($"{threads} thread(s): forward {f:F2} ms, backward {b:F2} ms, ZeroGrad {z:F2} ms, Step (momentum) {st:F2} ms; TrainStep {all:F2} ms");
    }
    return;
}
if (args.Contains("--layers-gpt"))   // per-layer times of a TinyGpt training step at batch 8 (reflection: a diagnostic, not a benchmark)
{
    var m = new TinyGpt.Gpt(8, 1);
    var rng = new ModelGen.Rng(1);
    var x = new float[8 * TinyGpt.Gpt.Context];
    var labels = new int[x.Length];
    for (int i = 0; i < x.Length; i++) { x[i] = rng.NextInt(TinyGpt.Gpt.Symbols); labels[i] = rng.NextInt(TinyGpt.Gpt.Symbols); }
    for (int i = 0; i < 3; i++) ModelGen.NetworkExtensions.TrainStep(m, x, labels, new ModelGen.Training.AdamW(1e-3f));
    m.ZeroGrad(); m.Forward(x, training: true); m.Backward(labels);
    var flags = System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance;
    var ws = typeof(TinyGpt.Gpt).GetField("_main", flags)!.GetValue(m)!;
    int n = ModelGen.Simd.SequencePanelWidth(8, TinyGpt.Gpt.Context), ld = ModelGen.Simd.SequenceStride(n, TinyGpt.Gpt.Context);
    var byKind = new System.Collections.Generic.Dictionary<string, (double F, double B)>();
    foreach (var layer in m.Layers)
    {
        var f = typeof(TinyGpt.Gpt).GetMethod(layer.Name + "_Forward_V512", flags)!;
        var b = typeof(TinyGpt.Gpt).GetMethod(layer.Name + "_Backward_V512", flags)!;
        double T(Action a) { a(); var sw = Stopwatch.StartNew(); for (int i = 0; i < 5; i++) a(); return sw.Elapsed.TotalMilliseconds / 5; }
        double tf = T(() => f.Invoke(m, new object[] { ws, n, ld }));
        double tb = T(() => b.Invoke(m, new object[] { ws, 8, n, ld }));
        string kind = layer.Type.ToString() + (layer.Type == ModelGen.LayerType.Dense ? "(" + layer.OutputShape[1] + ")" : "");
        byKind[kind] = byKind.TryGetValue(kind, out var sum) ? (sum.F + tf, sum.B + tb) : (tf, tb);
    }
    foreach (var (kind, (tf, tb)) in byKind.OrderByDescending(k => k.Value.F + k.Value.B))
        Console.WriteLine($"{kind,-22} forward {tf,7:F2} ms   backward {tb,7:F2} ms   (all layers of the kind)");
    return;
}
// A batch-1 Predict called for a few seconds, for perf record; prints the median call.
static void ProfileCalls(string what, Action call, int milliseconds)
{
    var t = new double[200_000];
    int n = 0;
    var sw = Stopwatch.StartNew();
    while (sw.ElapsedMilliseconds < milliseconds && n < t.Length) { long a = Stopwatch.GetTimestamp(); call(); t[n++] = (Stopwatch.GetTimestamp() - a) * 1e6 / Stopwatch.Frequency; }
    Array.Sort(t, 0, n);
    Console.WriteLine($"{what}: median {t[n / 2]:F2} us over {n} calls");
}
if (args.Contains("--profile-w3b1"))   // batch-1 W3 Predict for ~5 s
{
    var b = new W3Benchmarks();
    b.Setup();
    ProfileCalls("W3 batch 1", b.ModelGen_Batch1, 5000);
    b.Cleanup();
    return;
}
if (args.Contains("--profile-w1b1"))   // batch-1 W1 Predict for ~3 s
{
    var b = new W1Benchmarks();
    b.Setup();
    ProfileCalls("W1 batch 1", b.ModelGen_Batch1, 3000);
    return;
}
if (args.Contains("--filters"))   // Winograd filter transforms of a 64 → 64 layer (W2's Conv4) and the end of its weight gradient: medians of 200 calls
{
    var w = new float[64 * 64 * 9];
    var u = new float[16 * 64 * 64];
    var rng = new ModelGen.Rng(1);
    for (int i = 0; i < w.Length; i++) w[i] = rng.NextFloat();
    var t = new double[200];
    for (int i = 0; i < t.Length; i++) { long a = Stopwatch.GetTimestamp(); ModelGen.Kernels.Winograd.Filters(ref w[0], 64, 64, ref u[0]); t[i] = (Stopwatch.GetTimestamp() - a) * 1e6 / Stopwatch.Frequency; }
    Array.Sort(t);
    Console.WriteLine($"Winograd.Filters 64 × 64: median {t[100]:F1} us");
    // the end of a 64 × 64 layer's weight gradient at batch 32 (two sample groups): M summed, transformed back onto dW
    var m = new float[2 * 16 * 4112];
    for (int i = 0; i < m.Length; i++) m[i] = rng.NextFloat();
    var dw = new float[64 * 64 * 9];
    for (int i = 0; i < t.Length; i++) { long a = Stopwatch.GetTimestamp(); ModelGen.Kernels.Winograd.AddWeightGradients(ref m[0], 2, 16 * 4112, 64, 64, 4112, ref dw[0]); t[i] = (Stopwatch.GetTimestamp() - a) * 1e6 / Stopwatch.Frequency; }
    Array.Sort(t);
    Console.WriteLine($"Winograd.AddWeightGradients 64 × 64, 2 groups: median {t[100]:F1} us");
    return;
}
if (args.Contains("--peak2"))   // the FMA peak on one thread and on two at once (rounds alternated): do the two cores double it?
{
    double Flops(int n) => 16.0 * 16 * 2 * n;
    int n = PeakBenchmarks.Iterations * 10;
    var one = new System.Collections.Generic.List<double>(); var two = new System.Collections.Generic.List<double>();
    using var go = new System.Threading.Barrier(2);
    for (int round = 0; round < 45; round++)
    {
        long t0 = Stopwatch.GetTimestamp();
        Peak.Run(n);
        double t1 = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        var other = new System.Threading.Thread(() => { go.SignalAndWait(); Peak.Run(n); });
        other.Start();
        go.SignalAndWait();
        t0 = Stopwatch.GetTimestamp();
        Peak.Run(n);
        other.Join();
        double t2 = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        if (round >= 5) { one.Add(Flops(n) / t1 / 1e9); two.Add(2 * Flops(n) / t2 / 1e9); }
    }
    one.Sort(); two.Sort();
    Console.WriteLine($"FMA peak, one thread: median {one[one.Count / 2]:F1} GFLOP/s; two threads at once: median {two[two.Count / 2]:F1} GFLOP/s ({two[two.Count / 2] / one[one.Count / 2]:F2}×)");
    return;
}
if (args.Contains("--steady-infer"))   // the same, but each case called back to back (300 calls, median): the team's threads never sleep between calls
{
    var w1 = new W1Benchmarks(); w1.Setup();
    var w2 = new W2Benchmarks(); w2.Setup();
    var cases = new (string Name, Action Run, int Calls)[]
    {
        ("W1 ModelGen 1t", w1.ModelGen_Batch256, 400), ("W1 ModelGen 2t", w1.ModelGen_Batch256_2Threads, 400),
        ("W2 ModelGen 1t", w2.ModelGen_Batch64, 30), ("W2 ModelGen 2t", w2.ModelGen_Batch64_2Threads, 30),
    };
    for (int rep = 0; rep < 3; rep++)
        foreach (var c in cases)
        {
            var t = new double[c.Calls];
            for (int k = 0; k < c.Calls; k++) { long t0 = Stopwatch.GetTimestamp(); c.Run(); t[k] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds * 1000; }
            Array.Sort(t);
            Console.WriteLine($"{c.Name,-16} median {t[t.Length / 2],9:F1} us (10th pct {t[t.Length / 10],9:F1}, 90th {t[t.Length * 9 / 10],9:F1}, mean {t.Average(),9:F1})");
        }
    w1.Cleanup(); w2.Cleanup();
    return;
}
if (args.Contains("--alloc"))   // bytes allocated per call, on this thread and in the process, after warm-up (BenchmarkDotNet's "Allocated" column averages its whole run)
{
    var w3 = new W3Benchmarks(); w3.Setup();
    var w1 = new W1Benchmarks(); w1.Setup();
    foreach (var (name, run) in new (string, Action)[] { ("W3 train 16", () => w3.ModelGen_Train16()), ("W3 batch 1", w3.ModelGen_Batch1),
                                                         ("W1 batch 256", w1.ModelGen_Batch256), ("W1 train 64", () => w1.ModelGen_TrainStep64()) })
    {
        for (int i = 0; i < 50; i++) run();
        long t0 = GC.GetAllocatedBytesForCurrentThread(), p0 = GC.GetTotalAllocatedBytes(true);
        for (int i = 0; i < 1000; i++) run();
        long t1 = GC.GetAllocatedBytesForCurrentThread(), p1 = GC.GetTotalAllocatedBytes(true);
        Console.WriteLine($"{name,-14}: {(t1 - t0) / 1000.0:F1} B/call on this thread, {(p1 - p0) / 1000.0:F1} B/call in the process");
    }
    return;
}
if (args.Contains("--ab-w3-train"))   // W3's training step (b) against TorchSharp's, steps interleaved in rounds with the FMA peak (medians of per-round ratios)
{
    var c = new W3Benchmarks(); c.Setup();
    int Reps = args.Contains("reps30") ? 30 : 10;   // steps per case and round
    var cases = new (string Name, Action Run, int Reps)[]
    {
        ("FMA peak", () => Peak.Run(PeakBenchmarks.Iterations), 1),
        ("ModelGen train 16", () => c.ModelGen_Train16(), Reps), ("Torch train 16", c.Torch_Train16, Reps),
    };
    int rounds = args.Contains("long") ? 300 : 100;
    var times = Interleaved.Times(cases, rounds);
    for (int i = 0; i < cases.Length; i++) Console.WriteLine($"{cases[i].Name,-18} median {Median(times[i]),9:F1} us  (quartiles {Quantile(times[i], 0.25):F1}–{Quantile(times[i], 0.75):F1})");
    var ratios = times[1].Zip(times[2], (x, y) => x / y).ToArray();
    Console.WriteLine($"FMA peak (median): {16.0 * 16 * 2 * PeakBenchmarks.Iterations / Median(times[0]) / 1e3:F1} GFLOP/s");
    Console.WriteLine($"ModelGen / Torch: median of per-round ratios {Median(ratios):F3} (quartiles {Quantile(ratios, 0.25):F3}–{Quantile(ratios, 0.75):F3}, {ratios.Length} rounds)");
    c.Cleanup();
    return;
}
if (args.Contains("--ab-w3"))   // W3 batch 1 against ONNX Runtime and TorchSharp, and the floors under it, calls interleaved (medians of per-round ratios)
{
    var c = new W3Benchmarks(); c.Setup();
    const int whh = 4 * 128 * 128;   // W_hh: every step multiplies the state by all of it (256 KB: beyond L1, in L2)
    var (hh, hhStart) = Stream.Aligned(whh);
    var (l1, l1Start) = Stream.Aligned(8 * 1024);   // 32 KB: stays in L1
    var cases = new (string Name, Action Run, int Reps)[]
    {
        ("FMA peak", () => Peak.Run(PeakBenchmarks.Iterations), 1),
        ("ModelGen b1", c.ModelGen_Batch1, 20), ("ORT b1", c.Ort_Batch1, 20), ("Torch b1", c.Torch_Batch1, 5),
        ("read W_hh 32×", () => { for (int t = 0; t < 32; t++) Stream.Sum(hh, hhStart, whh); }, 20),
        ("read 32 KB 256×", () => { for (int t = 0; t < 256; t++) Stream.Sum(l1, l1Start, 8 * 1024); }, 20),
    };
    int rounds = args.Contains("long") ? 300 : 100;
    var times = Interleaved.Times(cases, rounds);
    for (int i = 0; i < cases.Length; i++) Console.WriteLine($"{cases[i].Name,-16} median {Median(times[i]),9:F2} us");
    double bytes = 32.0 * whh * 4;
    Console.WriteLine($"FMA peak (median): {16.0 * 16 * 2 * PeakBenchmarks.Iterations / Median(times[0]) / 1e3:F1} GFLOP/s");
    Console.WriteLine($"W_hh streamed 32 times ({bytes / 1e6:F1} MB): plain read {bytes / Median(times[4]) / 1e3:F1} GB/s, from L1 {bytes / Median(times[5]) / 1e3:F1} GB/s; "
        + $"ModelGen b1 {bytes / Median(times[1]) / 1e3:F1} GB/s, ORT b1 {bytes / Median(times[2]) / 1e3:F1} GB/s");
    foreach (var (a, b) in new[] { (1, 2), (1, 3), (4, 2), (5, 2), (1, 4) })
        Console.WriteLine($"{cases[a].Name} / {cases[b].Name}: median of per-round ratios {Median(times[a].Zip(times[b], (x, y) => x / y)):F3}");
    c.Cleanup();
    return;
}
if (args.Contains("--ab-threads-infer"))   // W1 batch 256 and W2 batch 64 inference on one thread and two, ModelGen and ONNX Runtime, calls interleaved (medians of per-round ratios)
{
    var w1 = new W1Benchmarks(); w1.Setup();
    var w2 = new W2Benchmarks(); w2.Setup();
    var cases = new (string Name, Action Run, int Reps)[]
    {
        ("W1 ModelGen 1t", w1.ModelGen_Batch256, 2), ("W1 ModelGen 2t", w1.ModelGen_Batch256_2Threads, 2),
        ("W1 ORT 1t", w1.Ort_Batch256, 2), ("W1 ORT 2t", w1.Ort_Batch256_2Threads, 2),
        ("W2 ModelGen 1t", w2.ModelGen_Batch64, 1), ("W2 ModelGen 2t", w2.ModelGen_Batch64_2Threads, 1),
        ("W2 ORT 1t", w2.Ort_Batch64, 1), ("W2 ORT 2t", w2.Ort_Batch64_2Threads, 1),
    };
    int rounds = args.Contains("long") ? 200 : 60;
    // ONNX Runtime's two-thread pool spins for milliseconds after each Run, on the core ModelGen's second thread needs:
    // ModelGen's calls are interleaved with each other first, then ONNX Runtime's with each other.
    var times = Interleaved.Times(cases, rounds, new[] { new[] { 0, 1, 4, 5 }, new[] { 2, 3, 6, 7 } });
    for (int i = 0; i < cases.Length; i++) Console.WriteLine($"{cases[i].Name,-16} median {Median(times[i]),9:F1} us");
    foreach (var (a, b, what) in new[] { (0, 1, "W1 ModelGen 2-thread speed-up"), (2, 3, "W1 ORT 2-thread speed-up"), (1, 3, "W1 2t ModelGen/ORT (time, phases apart)"),
                                         (4, 5, "W2 ModelGen 2-thread speed-up"), (6, 7, "W2 ORT 2-thread speed-up"), (5, 7, "W2 2t ModelGen/ORT (time, phases apart)") })
        Console.WriteLine($"{what,-32} median of per-round ratios {Median(times[a].Zip(times[b], (x, y) => x / y)):F3}");
    w1.Cleanup(); w2.Cleanup();
    return;
}
if (args.Contains("--ab-pool-fusion"))   // W2 (pools fused into its Winograd output transforms), W2-BN (after the folded BatchNorms) and LeNet (into its direct convolutions) inference, pools fused and apart on one model, calls alternated (medians of per-round ratios)
{
    var rng = new ModelGen.Rng(1);
    float[] R(int n) { var a = new float[n]; for (int i = 0; i < n; i++) a[i] = rng.NextFloat(); return a; }
    using var w2 = new Cifar.W2(64, 1);
    using var lenet = new MnistCnn.LeNet(64, 1);
    using var w2bn = new ModelGen.Benchmarks.W2Bn(64, 1);
    var x64 = R(64 * 3072); var y64 = new float[640];
    var x1 = R(3072); var y1 = new float[10];
    var m64 = R(64 * 784); var m1 = R(784);
    const int rounds = 40;
    foreach (var (name, fuse, run, reps) in new (string, Action<bool>, Action, int)[]
    {
        ("W2 batch 64", on => w2.FusePooling = on, () => w2.Predict(x64, y64), 3), ("W2 batch 1", on => w2.FusePooling = on, () => w2.Predict(x1, y1), 100),
        ("W2-BN batch 64", on => w2bn.FusePooling = on, () => w2bn.Predict(x64, y64), 3), ("W2-BN batch 1", on => w2bn.FusePooling = on, () => w2bn.Predict(x1, y1), 100),
        ("LeNet batch 64", on => lenet.FusePooling = on, () => lenet.Predict(m64, y64), 10), ("LeNet batch 1", on => lenet.FusePooling = on, () => lenet.Predict(m1, y1), 200),
    })
    {
        var on = new double[rounds]; var off = new double[rounds]; var ratio = new double[rounds];
        for (int round = -3; round < rounds; round++)   // three rounds of warm-up
        {
            double Time(bool f) { fuse(f); run(); long t0 = Stopwatch.GetTimestamp(); for (int k = 0; k < reps; k++) run(); return Stopwatch.GetElapsedTime(t0).TotalMilliseconds * 1000 / reps; }
            double apart = Time(false), fused = Time(true);
            if (round >= 0) { off[round] = apart; on[round] = fused; ratio[round] = fused / apart; }
        }
        Array.Sort(on); Array.Sort(off); Array.Sort(ratio);
        Console.WriteLine($"{name}: pools apart {off[rounds / 2],9:F1} us, fused {on[rounds / 2],9:F1} us; fused / apart per round: median {ratio[rounds / 2]:F3} (quartiles {ratio[rounds / 4]:F3}–{ratio[3 * rounds / 4]:F3})");
    }
    return;
}
if (args.Contains("--ab-threads-w2"))   // W2 training steps on one thread and on two, alternated step by step: the two-thread speed-up per round (medians)
{
    var rng = new ModelGen.Rng(1);
    var x = new float[32 * 3072];
    for (int i = 0; i < x.Length; i++) x[i] = rng.NextFloat();
    var labels = new int[32];
    for (int i = 0; i < 32; i++) labels[i] = rng.NextInt(10);
    var one = new Cifar.W2(32, 1);
    var two = new Cifar.W2(32, 1) { Threads = 2 };
    var o1 = new ModelGen.Training.Sgd(0.01f, 0.9f);
    var o2 = new ModelGen.Training.Sgd(0.01f, 0.9f);
    for (int i = 0; i < 40; i++) { ModelGen.NetworkExtensions.TrainStep(one, x, labels, o1); ModelGen.NetworkExtensions.TrainStep(two, x, labels, o2); }
    int rounds = 60;
    var t1 = new double[rounds]; var t2 = new double[rounds]; var ratio = new double[rounds];
    for (int k = 0; k < rounds; k++)
    {
        long a = Stopwatch.GetTimestamp();
        ModelGen.NetworkExtensions.TrainStep(one, x, labels, o1);
        long b = Stopwatch.GetTimestamp();
        ModelGen.NetworkExtensions.TrainStep(two, x, labels, o2);
        long c = Stopwatch.GetTimestamp();
        t1[k] = (b - a) * 1e3 / Stopwatch.Frequency; t2[k] = (c - b) * 1e3 / Stopwatch.Frequency; ratio[k] = t1[k] / t2[k];
    }
    Array.Sort(t1); Array.Sort(t2); Array.Sort(ratio);
    Console.WriteLine($"W2 training step, batch 32: one thread {t1[rounds / 2]:F2} ms, two {t2[rounds / 2]:F2} ms; speed-up per round: median {ratio[rounds / 2]:F2}× (quartiles {ratio[rounds / 4]:F2}–{ratio[3 * rounds / 4]:F2})");
    return;
}
if (args.Contains("--profile-w2train"))   // W2 training steps (batch 32) for ~5 s, for perf record; `x2`: on two threads
{
    var m = new Cifar.W2(32, 1) { Threads = args.Contains("x2") ? 2 : 1 };
    var rng = new ModelGen.Rng(1);
    var x = new float[32 * 3072];
    for (int i = 0; i < x.Length; i++) x[i] = rng.NextFloat();
    var labels = new int[32];
    if (!args.Contains("zerolabels")) for (int i = 0; i < 32; i++) labels[i] = rng.NextInt(10);   // `zerolabels`: every label 0 (a degenerate batch)
    var opt = new ModelGen.Training.Sgd(0.01f, 0.9f);
    int seconds = args.Contains("long") ? 30 : 5;   // `long`: 30 s, the step times of every second printed (the samples get memorised)
    var sw = Stopwatch.StartNew();
    var t = new System.Collections.Generic.List<double>();
    int printed = 0, mark = 0;
    while (sw.ElapsedMilliseconds < seconds * 1000)
    {
        if (args.Contains("long") && sw.ElapsedMilliseconds >= (printed + 1) * 1000)
        {
            var sec = t.Skip(mark).Append(0).Order().ToArray();
            float loss = ModelGen.NetworkExtensions.TrainStep(m, x, labels, opt);
            int denormal = 0;
            foreach (float v in m.Gradients) if (float.IsSubnormal(v)) denormal++;
            Console.WriteLine($"second {++printed}: {sec.Length - 1} steps, median {sec[sec.Length / 2]:F1} ms, max {sec[^1]:F1} ms; loss {loss:G3}, subnormal gradients {denormal}");
            mark = t.Count;
        }
        long a = Stopwatch.GetTimestamp();
        ModelGen.NetworkExtensions.TrainStep(m, x, labels, opt);
        t.Add((Stopwatch.GetTimestamp() - a) * 1e3 / Stopwatch.Frequency);
    }
    var last = t.Skip(t.Count / 2).Order().ToArray();
    Console.WriteLine($"W2 training step: {sw.Elapsed.TotalMilliseconds / t.Count:F2} ms per step over {t.Count} steps, median of the last half {last[last.Length / 2]:F2} ms, {m.Threads} thread(s)");
    if (args.Contains("first")) Console.WriteLine("first steps (ms): " + string.Join(" ", t.Take(40).Select(v => v.ToString("F0"))));
    return;
}
if (args.Contains("--profile-w1b256"))   // batch-256 W1 Predict for ~5 s, for perf record
{
    var b = new W1Benchmarks();
    b.Setup();
    var sw = Stopwatch.StartNew();
    int n = 0;
    while (sw.ElapsedMilliseconds < 5000) { b.ModelGen_Batch256(); n++; }
    Console.WriteLine($"W1 batch 256: {sw.Elapsed.TotalMilliseconds * 1000 / n:F1} us per call over {n} calls");
    return;
}
if (args.Contains("--diag-w1"))
{
    foreach (int th in new[] { 1, 2, 1, 2 })
    {
        var m = new Mnist.MnistMlp(64, 1) { Threads = th };
        var rng = new ModelGen.Rng(1);
        var x = new float[64 * 784];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextFloat();
        var labels = new int[64];
        var sgd = new ModelGen.Training.Sgd(0.01f);
        double tf = 0, tb = 0, ts = 0;
        for (int it = 0; it < 3000; it++)
        {
            long a = Stopwatch.GetTimestamp(); m.ZeroGrad(); m.Forward(x, training: true);
            long b = Stopwatch.GetTimestamp(); m.Backward(labels);
            long c = Stopwatch.GetTimestamp(); m.Step(sgd);
            long d = Stopwatch.GetTimestamp();
            if (it >= 1000) { tf += b - a; tb += c - b; ts += d - c; }
        }
        double us = 1e6 / Stopwatch.Frequency / 2000;
        Console.WriteLine($"threads {th}: forward {tf * us:F1} backward {tb * us:F1} step {ts * us:F1} us");
    }
    return;
}
if (args.Contains("--denormal-w3"))   // W3's training step as BDN runs it (one batch, SGD 0.01), 4000 steps: step time and subnormal gradients as the batch is memorised
{
    var b = new W3Benchmarks();
    b.Setup();
    var m = (ModelGen.ITrainableNetwork)typeof(W3Benchmarks).GetField("_model", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.GetValue(b)!;
    var t = new double[200];
    for (int chunk = 0; chunk < 20; chunk++)
    {
        float loss = 0;
        for (int i = 0; i < 200; i++) { long a = Stopwatch.GetTimestamp(); loss = b.ModelGen_Train16(); t[i] = Stopwatch.GetElapsedTime(a).TotalMilliseconds; }
        Array.Sort(t);
        int sub = 0, zero = 0;
        foreach (float v in m.Gradients) { if (float.IsSubnormal(v)) sub++; else if (v == 0f) zero++; }
        Console.WriteLine($"steps {chunk * 200 + 200,5}: median {t[100]:F2} ms, loss {loss:G3}, subnormal gradients {sub} of {m.Gradients.Length} (zero {zero})");
    }
    return;
}
if (args.Contains("--w3-odd"))   // W3's training step at 32 steps and at 31 (a sequence row of an odd number of cache lines), alternated: time per step of the sequence
{
    var rng = new ModelGen.Rng(1);
    var x = new float[16 * 32 * 64];
    for (int i = 0; i < x.Length; i++) x[i] = rng.NextFloat();
    var labels = new int[16];
    for (int i = 0; i < 16; i++) labels[i] = rng.NextInt(10);
    var m32 = new ModelGen.Benchmarks.W3(16, 1);
    var m31 = new ModelGen.Benchmarks.W3Odd(16, 1);
    var x31 = new float[16 * 31 * 64];
    for (int b = 0; b < 16; b++) Array.Copy(x, b * 32 * 64, x31, b * 31 * 64, 31 * 64);
    var sgd = new ModelGen.Training.Sgd(0.01f);
    var t32 = new System.Collections.Generic.List<double>(); var t31 = new System.Collections.Generic.List<double>();
    for (int it = 0; it < 400; it++)
    {
        long a = Stopwatch.GetTimestamp(); ModelGen.NetworkExtensions.TrainStep(m32, x, labels, sgd);
        long b = Stopwatch.GetTimestamp(); ModelGen.NetworkExtensions.TrainStep(m31, x31, labels, sgd);
        long c = Stopwatch.GetTimestamp();
        if (it >= 50) { t32.Add((b - a) * 1e3 / Stopwatch.Frequency); t31.Add((c - b) * 1e3 / Stopwatch.Frequency); }
    }
    t32.Sort(); t31.Sort();
    Console.WriteLine($"W3 training step batch 16: 32 steps {t32[t32.Count / 2]:F3} ms ({t32[t32.Count / 2] / 32 * 1000:F1} us/step), 31 steps {t31[t31.Count / 2]:F3} ms ({t31[t31.Count / 2] / 31 * 1000:F1} us/step)");
    return;
}
if (args.Contains("--tiles-w3")) { W3Tiles.Run(args.SkipWhile(a => a != "--tiles-w3").Skip(1).FirstOrDefault()); return; }   // W3's per-step products alone, per layout and tile height, against the in-run FMA peak
if (args.Contains("--diag-w3"))   // W3's training step split into forward, backward and update (Stopwatch medians of sums)
{
    var m = new ModelGen.Benchmarks.W3(16, 1);
    var rng = new ModelGen.Rng(1);
    var x = new float[16 * 32 * 64];
    for (int i = 0; i < x.Length; i++) x[i] = rng.NextFloat();
    var labels = new int[16];
    var sgd = new ModelGen.Training.Sgd(0.01f);
    for (int round = 0; round < 3; round++)
    {
        double tf = 0, tb = 0, ts = 0;
        for (int it = 0; it < 600; it++)
        {
            long a = Stopwatch.GetTimestamp(); m.ZeroGrad(); m.Forward(x, training: true);
            long b = Stopwatch.GetTimestamp(); m.Backward(labels);
            long c = Stopwatch.GetTimestamp(); m.Step(sgd);
            long d = Stopwatch.GetTimestamp();
            if (it >= 100) { tf += b - a; tb += c - b; ts += d - c; }
        }
        double us = 1e6 / Stopwatch.Frequency / 500;
        Console.WriteLine($"W3 train batch 16: forward {tf * us:F1} backward {tb * us:F1} step {ts * us:F1} us");
    }
    return;
}
if (args.Contains("--profile-w2"))   // a steady loop of W2 training steps, for perf record
{
    var w2 = new W2Benchmarks();
    w2.Setup();
    for (int i = 0; i < 150; i++) w2.ModelGen_Train32();
    return;
}
var config = DefaultConfig.Instance
    .AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithWarmupCount(8).WithIterationCount(20).WithId("inproc"))
    .WithOptions(ConfigOptions.DisableOptimizationsValidator);
BenchmarkSwitcher.FromAssembly(typeof(W1Benchmarks).Assembly).Run(args, config);

internal static class Quick
{
    public static void Run()
    {
        var b = new W1Benchmarks();
        b.Setup();
        Time("ModelGen batch 1", b.ModelGen_Batch1, 20000);
        Time("Torch batch 1", b.Torch_Batch1, 5000);
        Time("ORT batch 1", b.Ort_Batch1, 20000);
        Time("ModelGen batch 256", b.ModelGen_Batch256, 300);
        Time("Torch batch 256", b.Torch_Batch256, 100);
        Time("ORT batch 256", b.Ort_Batch256, 300);
        Time("ORT x2 batch 256", b.Ort_Batch256_2Threads, 300);
        Time("ModelGen x2 batch 256", b.ModelGen_Batch256_2Threads, 300);
        Time("ModelGen train 64", () => b.ModelGen_TrainStep64(), 500);
        Time("ModelGen x2 train 64", () => b.ModelGen_TrainStep64_2Threads(), 500);
        Time("Torch train 64", b.Torch_TrainStep64, 100);
        var c = new W2Benchmarks();
        c.Setup();
        Console.WriteLine(Cifar.W2.Summary);
        Time("W2 ModelGen batch 1", c.ModelGen_Batch1, 200);
        Time("W2 ModelGen batch 64", c.ModelGen_Batch64, 10);
        Time("W2 ModelGen direct b1", c.ModelGenDirect_Batch1, 200);
        Time("W2 ModelGen direct b64", c.ModelGenDirect_Batch64, 10);
        Time("W2 ModelGen direct train 32", () => c.ModelGenDirect_Train32(), 10);
        Time("W2 ModelGen train 32", () => c.ModelGen_Train32(), 10);
        Time("W2 ModelGen x2 train 32", () => c.ModelGen_Train32_2Threads(), 10);
        Time("W2 Torch batch 1", c.Torch_Batch1, 50);
        Time("W2 Torch batch 64", c.Torch_Batch64, 5);
        Time("W2 ORT batch 1", c.Ort_Batch1, 200);
        Time("W2 ORT batch 64", c.Ort_Batch64, 10);
        Time("W2 ORT x2 batch 64", c.Ort_Batch64_2Threads, 10);
        Time("W2 ModelGen x2 b64", c.ModelGen_Batch64_2Threads, 10);
        var d = new W3Benchmarks();
        d.Setup();
        Time("W3 ModelGen batch 1", d.ModelGen_Batch1, 2000);
        Time("W3 ORT batch 1", d.Ort_Batch1, 2000);
        Time("W3 Torch batch 1", d.Torch_Batch1, 500);
        Time("W3 ModelGen train 16", () => d.ModelGen_Train16(), 200);
        Time("W3 Torch train 16", d.Torch_Train16, 100);
    }

    private static void Time(string name, Action a, int n)
    {
        for (int i = 0; i < n; i++) a();
        var t = new double[n];
        for (int i = 0; i < n; i++) { long s = Stopwatch.GetTimestamp(); a(); t[i] = (Stopwatch.GetTimestamp() - s) * 1e6 / Stopwatch.Frequency; }
        Array.Sort(t);
        Console.WriteLine($"{name,-22} median {t[n / 2],9:F1} us   p10 {t[n / 10],9:F1} us");
    }
}

internal static class Parts
{
    public static void Run()
    {
        var x = new float[256 * 784];
        var dst = new float[784 * 256];
        var t = new double[200];
        for (int r = 0; r < 200; r++)
        {
            long s = Stopwatch.GetTimestamp();
            ModelGen.Kernels.Layout.ToFeatureMajor(x, 256, 784, ref dst[0], 256);
            t[r] = (Stopwatch.GetTimestamp() - s) * 1e6 / Stopwatch.Frequency;
        }
        Array.Sort(t);
        Console.WriteLine($"transpose 256x784: {t[100]:F1} us");
    }
}

/// <summary>
/// The A/B modes' loop: every case in turn (its <c>Reps</c> calls) per round, <c>rounds</c> + 5 rounds, the first five
/// dropped as warm-up; each case's time per call (µs) per round. On a host whose speed moves by tens of percent within
/// seconds, ratios of neighbouring calls (medians of per-round ratios) are the steady figure.
/// </summary>
internal static class Interleaved
{
    /// <summary>The rounds over all <paramref name="cases"/>, or over each of <paramref name="phases"/> (case indices)
    /// in turn — cases that must not run beside each other in separate phases. With <paramref name="warm"/> each case
    /// is called once untimed before its timed calls in every round: the times are of calls whose data and threads the
    /// case's own call has just warmed, as in BenchmarkDotNet's back-to-back loop, while the rounds still alternate.</summary>
    public static System.Collections.Generic.List<double>[] Times((string Name, Action Run, int Reps)[] cases, int rounds, int[][]? phases = null, bool warm = false)
    {
        var times = cases.Select(_ => new System.Collections.Generic.List<double>()).ToArray();
        foreach (var phase in phases ?? new[] { Enumerable.Range(0, cases.Length).ToArray() })
            for (int round = 0; round < rounds + 5; round++)
                foreach (int i in phase)
                {
                    if (warm) cases[i].Run();
                    long t0 = Stopwatch.GetTimestamp();
                    for (int k = 0; k < cases[i].Reps; k++) cases[i].Run();
                    if (round >= 5) times[i].Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds * 1000 / cases[i].Reps);
                }
        return times;
    }

    public static double Median(System.Collections.Generic.IEnumerable<double> v) => Quantile(v, 0.5);

    /// <summary>The value at fraction <paramref name="q"/> of the sorted values (the median: the upper one of an even count).</summary>
    public static double Quantile(System.Collections.Generic.IEnumerable<double> v, double q)
    {
        var a = v.OrderBy(x => x).ToArray();
        return q == 0.5 ? a[a.Length / 2] : a[(int)(q * (a.Length - 1))];
    }
}
