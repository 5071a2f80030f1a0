using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using Cifar;
using Mnist;
using MnistCnn;
using ModelGen;
using ModelGen.Cuda;
using ModelGen.Data;
using ModelGen.Training;

// The GPU check (run by gpu/check.sh on a machine with an NVIDIA GPU; published NativeAOT, no SDK needed there):
// device info, every module's PTX written out for the machine's own ptxas, numerics of each GPU twin against the C#
// path (rel. L2 < 1e-4), MNIST training on the GPU, throughput. Results go to OUT (argument 1) as gpu-results.md.
string outDir = args.Length > 0 ? args[0] : "gpu-out";
Directory.CreateDirectory(Path.Combine(outDir, "ptx"));
var report = new List<string> { $"# GPU check, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC", "" };
void Say(string line) { Console.WriteLine(line); report.Add(line); }
void Save() => File.WriteAllLines(Path.Combine(outDir, "gpu-results.md"), report);

var status = CudaStatus.Query();
Say($"- CUDA: {status}");
File.WriteAllText(Path.Combine(outDir, "ptx", "MnistMlp.ptx"), MnistMlp.Cuda.PtxText);
File.WriteAllText(Path.Combine(outDir, "ptx", "Gemm4096.ptx"), Gemm4096.Cuda.PtxText);
File.WriteAllText(Path.Combine(outDir, "ptx", "LeNet.ptx"), LeNet.Cuda.PtxText);
File.WriteAllText(Path.Combine(outDir, "ptx", "W2.ptx"), W2.Cuda.PtxText);
File.WriteAllText(Path.Combine(outDir, "ptx", "ResNet20Gray.ptx"), ResNet20Gray.Cuda.PtxText);
File.WriteAllText(Path.Combine(outDir, "ptx", "GptCheck.ptx"), GptCheck.Cuda.PtxText);
File.WriteAllText(Path.Combine(outDir, "ptx", "RnnCheck.ptx"), RnnCheck.Cuda.PtxText);
if (status.State != CudaState.Ready) { Say("- no GPU: nothing more to check"); Save(); return 2; }

int failures = 0;
using var driver = CudaDriver.Open();
Say($"- device: {driver.Description}");

// ── Numerics: twin vs C# path, outputs poisoned first (a kernel that skips an element leaves NaN) ──
foreach (int batch in new[] { 1, 37, 256 })
{
    using var cpu = new MnistMlp(batch, 7);
    using var gpu = new MnistMlp.Cuda(driver, batch, 7);
    var rng = new Random(batch);
    var x = Enumerable.Range(0, batch * 784).Select(_ => (float)rng.NextDouble()).ToArray();
    var labels = Enumerable.Range(0, batch).Select(_ => rng.Next(10)).ToArray();
    var yc = new float[batch * 10];
    var yg = Enumerable.Repeat(float.NaN, batch * 10).ToArray();
    cpu.Predict(x, yc); gpu.Predict(x, yg);
    double e1 = RelL2(yc, yg);
    cpu.Forward(x, true); gpu.Forward(x, true); cpu.ZeroGrad(); gpu.ZeroGrad();
    var dxc = new float[batch * 784]; var dxg = new float[batch * 784];
    cpu.Backward(labels, dxc); gpu.Backward(labels, dxg);
    double e2 = RelL2(cpu.Gradients, gpu.Gradients), e3 = RelL2(dxc, dxg);
    bool ok = e1 < 1e-4 && e2 < 1e-4 && e3 < 1e-4;
    if (!ok) failures++;
    Say($"- MnistMlp batch {batch}: output {e1:E1}, gradients {e2:E1}, input gradient {e3:E1} — {(ok ? "PASS" : "FAIL")}");
}

// ── Numerics of the CNNs (LeNet, W2, ResNet-20) ──
Compare("LeNet", b => new LeNet(b, 3), b => new LeNet.Cuda(driver, b, 3), 16);
Compare("W2", b => new W2(b, 3), b => new W2.Cuda(driver, b, 3), 8);
Compare("ResNet20Gray", b => new ResNet20Gray(b, 3), b => new ResNet20Gray.Cuda(driver, b, 3), 8);
// The Transformer kinds (embeddings, layer norm, attention, GELU, dropout off in inference, a tied head): token ids in,
// a class per step out.
Compare("GptCheck", b => new GptCheck(b, 3), b => new GptCheck.Cuda(driver, b, 3), 5, tokens: GptCheck.Symbols);
// The recurrent kinds: LSTM over every step, a bidirectional GRU, an RNN, backward through 32 steps.
Compare("RnnCheck", b => new RnnCheck(b, 3), b => new RnnCheck.Cuda(driver, b, 3), 9);

// ── MNIST training on the GPU ──
string dir = Path.Combine(AppContext.BaseDirectory, "data", "mnist");
var train = Idx.Load(Path.Combine(dir, "train-images-idx3-ubyte.gz"), Path.Combine(dir, "train-labels-idx1-ubyte.gz"));
var test = Idx.Load(Path.Combine(dir, "t10k-images-idx3-ubyte.gz"), Path.Combine(dir, "t10k-labels-idx1-ubyte.gz"));
using (var model = new MnistMlp.Cuda(driver, 256, 42))
{
    var sw = Stopwatch.StartNew();
    var h = Trainer.Fit(model, train, test, new TrainOptions { Epochs = 5, BatchSize = 64, Optimizer = new Sgd(0.1f), Seed = 42, Log = null });
    double perEpoch = sw.Elapsed.TotalSeconds / 5;
    var last = h.Epochs[^1];
    Say($"- MNIST MLP on the GPU: 5 epochs, {perEpoch:F2} s/epoch, test accuracy {last.TestAccuracy:P2}");
}

using (var cnn = new LeNet.Cuda(driver, 256, 42))
{
    var sw = Stopwatch.StartNew();
    var h = Trainer.Fit(cnn, train, test, new TrainOptions { Epochs = 3, BatchSize = 64, Optimizer = new Sgd(0.05f, 0.9f), Seed = 42, Log = null });
    var last = h.Epochs[^1];
    if (last.TestAccuracy < 0.99f) failures++;
    Say($"- MNIST LeNet on the GPU: 3 epochs, {sw.Elapsed.TotalSeconds / 3:F2} s/epoch, test accuracy {last.TestAccuracy:P2} (target ≥ 99 %)");
}

// ── W2 training step, GPU against the C# path on this machine's CPU (batch 256) ──
{
    const int b = 256;
    var rng = new Random(5);
    var x = Enumerable.Range(0, b * 3 * 32 * 32).Select(_ => (float)rng.NextDouble()).ToArray();
    var y = Enumerable.Range(0, b).Select(_ => rng.Next(10)).ToArray();
    double Step(ITrainableNetwork m, int reps)
    {
        var opt = new Sgd(0.01f, 0.9f);
        m.Forward(x, true); m.ZeroGrad(); m.Backward(y); m.Step(opt);
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < reps; i++) { m.Forward(x, true); m.ZeroGrad(); m.Backward(y); m.Step(opt); }
        return sw.Elapsed.TotalSeconds / reps;
    }
    using var gpuW2 = new W2.Cuda(driver, b, 1);
    using var cpuW2 = new W2(b, 1);
    double g = Step(gpuW2, 10), c = Step(cpuW2, 2);
    Say(string.Create(CultureInfo.InvariantCulture, $"- W2 training step, batch {b}: GPU {g * 1e3:F2} ms, CPU {c * 1e3:F1} ms ({Environment.ProcessorCount} cores): {c / g:F1}× (target ≥ 20×)"));
}

// ── CUDA graphs: a launch-bound training step (RnnCheck: 32 steps, one to three launches per step and layer) ──
{
    const int b = 16;
    var rng = new Random(6);
    using var rnn = new RnnCheck.Cuda(driver, b, 1);
    var x = Enumerable.Range(0, b * RnnCheck.InputSize).Select(_ => (float)rng.NextDouble()).ToArray();
    var y = Enumerable.Range(0, b).Select(_ => rng.Next(RnnCheck.OutputSize)).ToArray();
    double Step(bool graphs)
    {
        rnn.UseGraphs = graphs;
        var opt = new Sgd(0.01f);
        for (int i = 0; i < 3; i++) { rnn.Forward(x, true); rnn.ZeroGrad(); rnn.Backward(y); rnn.Step(opt); }
        const int reps = 20;
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < reps; i++) { rnn.Forward(x, true); rnn.ZeroGrad(); rnn.Backward(y); rnn.Step(opt); }
        return sw.Elapsed.TotalSeconds / reps;
    }
    double eager = Step(false), graph = Step(true);
    Say(string.Create(CultureInfo.InvariantCulture, $"- RnnCheck training step, batch {b}: {eager * 1e3:F2} ms launching kernel by kernel, {graph * 1e3:F2} ms as CUDA graphs ({eager / graph:F2}×)"));
}

// ── Throughput (host overhead and the input upload included; kernels synchronised) ──
using (var mlp = new MnistMlp.Cuda(driver, 4096, 1))
    Throughput("MnistMlp inference, batch 4096", 4096, 784, (x, b) => { mlp.Forward(x); return mlp.RepeatForward; }, 2.0 * 235_146 * 4096);
using (var gemm = new Gemm4096.Cuda(driver, 4096, 1))
    Throughput("GEMM 4096³ (Dense 4096 → 4096 at batch 4096)", 4096, 4096, (x, b) => { gemm.Forward(x); return gemm.RepeatForward; }, 2.0 * 4096 * 4096 * 4096);
Save();
return failures == 0 ? 0 : 1;

void Throughput(string what, int batch, int inputs, Func<float[], int, Action> make, double flops)
{
    var x = new float[batch * inputs];
    var run = make(x, batch);
    run();
    const int reps = 10;
    var sw = Stopwatch.StartNew();
    float ms = driver.Time(() => { for (int i = 0; i < reps; i++) run(); });
    double wall = sw.Elapsed.TotalSeconds / reps, s = ms / 1e3 / reps;
    Say(string.Create(CultureInfo.InvariantCulture, $"- {what}: {s * 1e3:F2} ms device time per forward ({wall * 1e3:F2} ms wall), {flops / s / 1e12:F2} TFLOP/s"));
}

void Compare(string name, Func<int, ITrainableNetwork> cpuOf, Func<int, ITrainableNetwork> gpuOf, int batch, int tokens = 0)
{
    using var cpu = cpuOf(batch);
    using var gpu = gpuOf(batch);
    var rng = new Random(batch);
    var x = Enumerable.Range(0, batch * cpu.InputSize).Select(_ => tokens > 0 ? rng.Next(tokens) : (float)rng.NextDouble()).ToArray();
    int per = cpu.LabelsPerSample;
    var labels = Enumerable.Range(0, batch * per).Select(_ => rng.Next(cpu.OutputSize / per)).ToArray();
    var yc = new float[batch * cpu.OutputSize];
    var yg = Enumerable.Repeat(float.NaN, batch * cpu.OutputSize).ToArray();
    cpu.Predict(x, yc); gpu.Predict(x, yg);
    cpu.Forward(x, true); gpu.Forward(x, true); cpu.ZeroGrad(); gpu.ZeroGrad();
    cpu.Backward(labels); gpu.Backward(labels);
    double e1 = RelL2(yc, yg), e2 = RelL2(cpu.Gradients, gpu.Gradients);
    // The same passes again: the second time a shape is seen its launches are recorded as a CUDA graph and replayed.
    Array.Fill(yg, float.NaN);
    gpu.Predict(x, yg);
    gpu.Forward(x, true); gpu.ZeroGrad(); gpu.Backward(labels);
    double e3 = RelL2(yc, yg), e4 = RelL2(cpu.Gradients, gpu.Gradients);
    bool ok = e1 < 1e-4 && e2 < 1e-4 && e3 < 1e-4 && e4 < 1e-4;
    if (!ok) failures++;
    Say($"- {name} batch {batch}: output {e1:E1}, gradients {e2:E1}; as graphs {e3:E1}, {e4:E1} — {(ok ? "PASS" : "FAIL")}");
}

static double RelL2(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
{
    double num = 0, den = 0;
    for (int i = 0; i < a.Length; i++) { double d = a[i] - b[i]; num += double.IsNaN(d) ? double.PositiveInfinity : d * d; den += (double)a[i] * a[i]; }
    return Math.Sqrt(num / Math.Max(den, 1e-30));
}

/// <summary>One square GEMM: 4096 → 4096 at batch 4096 is C[4096,4096] = X·Wᵀ + b.</summary>
[Network(4096, InferenceOnly = true)]
public partial class Gemm4096
{
    [Dense(4096)] public partial Layer Out { get; }
}

/// <summary>The Transformer kinds on the GPU: a two-block character GPT (width 96, 3 heads of 32, 64 steps) whose head
/// shares the token table.</summary>
[Network(64)]
public partial class GptCheck
{
    public const int Symbols = 50;
    [Embedding(Symbols, 96, Sparse = false)] public partial Layer Tok { get; }
    [PositionEmbedding] public partial Layer Pos { get; }
    [TransformerBlock(96, 3)] public partial Layer B0 { get; }
    [TransformerBlock(96, 3)] public partial Layer B1 { get; }
    [LayerNorm] public partial Layer LnF { get; }
    [Dense(Symbols, TiedTo = nameof(Tok))] public partial Layer Head { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}

/// <summary>The recurrent kinds on the GPU: W3's LSTM (64 features, hidden 128, 32 steps) returning every step, a
/// bidirectional GRU and a ReLU RNN on top, a class per sample.</summary>
[Network(32, 64)]
public partial class RnnCheck
{
    [Lstm(128, ReturnSequences = true)] public partial Layer L { get; }
    [Gru(48, ReturnSequences = true, Bidirectional = true)] public partial Layer G { get; }
    [Rnn(40, Nonlinearity = "relu")] public partial Layer R { get; }
    [Dense(10)] public partial Layer Out { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}
