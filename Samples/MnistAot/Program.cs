using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using Mnist;
using ModelGen;
using ModelGen.Data;
using ModelGen.Training;

// NativeAOT inference: loads weights saved by Samples/Mnist, classifies the 10,000 MNIST test images one at
// a time (batch 1, the embedded case) and reports accuracy and per-sample latency.
// usage: MnistAot [weights.safetensors] [--once]
// --once: load the weights, classify one fixed input, print the time since the process started, and exit
// (the start-up cost of an embedded service: spawn → first result → exit).
bool once = Array.IndexOf(args, "--once") >= 0;
string weights = Array.Find(args, a => !a.StartsWith("--", StringComparison.Ordinal)) ?? "mnist.safetensors";
if (Directory.Exists(weights) || !File.Exists(weights))
{
    Console.Error.WriteLine($"weights file '{weights}' not found: train first with `dotnet run -c Release --project Samples/Mnist` (it writes mnist.safetensors), then pass its path.");
    return 1;
}
// A file that is not MnistMlp's weights: say what is wrong with it, without a stack trace.
MnistMlp? Open()
{
    try { return MnistMlp.FromFile(weights, maxBatch: 1); }   // no random initialisation first
    catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException or ArgumentException)
    {
        Console.Error.WriteLine($"cannot use '{weights}' as MnistMlp's weights: {e.Message}");
        Console.Error.WriteLine("train with `dotnet run -c Release --project Samples/Mnist` (it writes mnist.safetensors), then pass its path.");
        return null;
    }
}

if (once)
{
    using var first = Open();
    if (first is null) return 1;
    var input = new float[MnistMlp.InputSize];
    for (int i = 0; i < input.Length; i++) input[i] = (i % 28) / 28f;
    var logits = new float[MnistMlp.OutputSize];
    first.Predict(input, logits);
    Console.WriteLine($"first inference: class {Trainer.ArgMax(logits)}");   // the benchmark times spawn → this → exit
    return 0;
}
string dir = Path.Combine(AppContext.BaseDirectory, "data", "mnist");
var test = Idx.Load(Path.Combine(dir, "t10k-images-idx3-ubyte.gz"), Path.Combine(dir, "t10k-labels-idx1-ubyte.gz"));

using var model = Open();
if (model is null) return 1;
var output = new float[MnistMlp.OutputSize];
var times = new long[test.Count];
int correct = 0;
for (int pass = 0; pass < 2; pass++) // the first pass warms caches; the second is measured
{
    correct = 0;
    for (int i = 0; i < test.Count; i++)
    {
        var x = test.Features.AsSpan(i * MnistMlp.InputSize, MnistMlp.InputSize);
        long t0 = Stopwatch.GetTimestamp();
        model.Predict(x, output);
        times[i] = Stopwatch.GetTimestamp() - t0;
        if (Trainer.ArgMax(output) == test.Labels![i]) correct++;
    }
}
Array.Sort(times);
double us(long ticks) => ticks * 1e6 / Stopwatch.Frequency;
double mean = 0;
foreach (var t in times) mean += us(t);
mean /= times.Length;
Console.WriteLine($"SIMD width: {model.Width} (Vector512 accelerated: {System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated}, Vector256: {System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated})");
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"test accuracy: {(float)correct / test.Count:F4}"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"latency: {us(times[times.Length / 2]):F1} us/sample (batch 1, median; mean {mean:F1}, p99 {us(times[times.Length * 99 / 100]):F1})"));
return 0;
