using System;
using System.Globalization;
using System.IO;
using Mnist;
using ModelGen;
using ModelGen.Data;
using ModelGen.Training;

// Trains the MLP on the 60,000 MNIST training images and evaluates on the 10,000 test images.
// Options: --epochs N  --batch N  --lr X  --seed N  --train N (use the first N training images)  --save FILE
int epochs = 10, batch = 64, seed = 42, trainCount = 60000;
float lr = 0.1f;
string save = "mnist.safetensors";
for (int i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "--epochs": epochs = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--batch": batch = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--lr": lr = float.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--seed": seed = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--train": trainCount = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--save": save = Next(); break;
        default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
    }
}

string dir = Path.Combine(AppContext.BaseDirectory, "data", "mnist");
var train = Idx.Load(Path.Combine(dir, "train-images-idx3-ubyte.gz"), Path.Combine(dir, "train-labels-idx1-ubyte.gz"));
var test = Idx.Load(Path.Combine(dir, "t10k-images-idx3-ubyte.gz"), Path.Combine(dir, "t10k-labels-idx1-ubyte.gz"));
if (trainCount < train.Count) train = train.Slice(0, trainCount);

Console.WriteLine(MnistMlp.Summary);
using var model = new MnistMlp(maxBatch: Math.Max(batch, 256), seed: seed);
Console.WriteLine($"SIMD width: {model.Width}; {train.Count} training / {test.Count} test images; SGD lr {lr}, batch {batch}, {epochs} epochs");

var history = Trainer.Fit(model, train, test, new TrainOptions
{
    Epochs = epochs,
    BatchSize = batch,
    Optimizer = new Sgd(lr),
    Seed = (ulong)seed,
});

var result = Trainer.Evaluate(model, test);
model.Save(save);
Console.WriteLine($"saved weights to {Path.GetFullPath(save)}");
history.SaveSvg("mnist-history.svg", "MnistMlp on MNIST");
Console.WriteLine($"curves: {history.Diagnose()} (plot: {Path.GetFullPath("mnist-history.svg")})");
Console.WriteLine("confusion matrix (rows: true digit, columns: predicted):");
for (int r = 0; r < 10; r++)
{
    var line = new System.Text.StringBuilder($"  {r}:");
    for (int c = 0; c < 10; c++) line.Append(CultureInfo.InvariantCulture, $"{result.Confusion![r, c],5}");
    Console.WriteLine(line.ToString());
}
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"test loss: {result.Loss:F4}"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"test accuracy: {result.Accuracy:F4}"));
return 0;
