using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using ModelGen;
using ModelGen.Data;
using ModelGen.Training;
using MnistRnn;

// Trains an LSTM(128) on MNIST read row by row (28 steps of 28 pixels) and evaluates on the 10,000 test images.
// Options: --epochs N  --batch N  --lr X  --train N (first N training images)  --seed N  --threads N
int epochs = 4, batch = 64, seed = 1, trainCount = 60000, threads = 1;
float lr = 2e-3f;
for (int i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "--epochs": epochs = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--batch": batch = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--lr": lr = float.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--train": trainCount = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--seed": seed = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--threads": threads = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
    }
}
string dir = Path.Combine(AppContext.BaseDirectory, "data", "mnist");
var train = Idx.Load(Path.Combine(dir, "train-images-idx3-ubyte.gz"), Path.Combine(dir, "train-labels-idx1-ubyte.gz"));
var test = Idx.Load(Path.Combine(dir, "t10k-images-idx3-ubyte.gz"), Path.Combine(dir, "t10k-labels-idx1-ubyte.gz"));
if (trainCount < train.Count) train = train.Slice(0, trainCount);

Console.WriteLine(MnistLstm.Summary);
using var model = new MnistLstm(maxBatch: Math.Max(batch, 256), seed: seed) { Threads = threads };
Console.WriteLine($"SIMD width: {model.Width}; Adam lr {lr} (halved every 2 epochs), batch {batch}, {epochs} epochs, full backpropagation through time, gradients clipped to norm 1");
var clock = Stopwatch.StartNew();
var history = Trainer.Fit(model, train, test, new TrainOptions
{
    Epochs = epochs, BatchSize = batch, Optimizer = new Adam(lr), Schedule = new StepDecay(lr, 2, 0.5f), Seed = (ulong)seed,
    ClipGradientNorm = 1f,   // clip_grad_norm_(1.0): the usual guard against exploding gradients in recurrent networks
});
double seconds = clock.Elapsed.TotalSeconds;
var result = Trainer.Evaluate(model, test);
model.Save("mnist-lstm.safetensors");
history.SaveSvg("mnist-lstm-history.svg", "LSTM(128) on MNIST rows");
Console.WriteLine($"curves: {history.Diagnose()}");
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"result: training time {seconds:F0} s ({seconds / epochs:F0} s per epoch)"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"result: test loss {result.Loss:F4}"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"result: test accuracy {result.Accuracy:F4}"));
return 0;
