using System;
using System.Globalization;
using System.IO;
using Cifar;
using ModelGen;
using ModelGen.Data;
using ModelGen.Training;

// Trains the VGG-style workload W2 and ResNet-20 on CIFAR-10 when it is given (--cifar <dir>), with per-channel
// standardisation and random crop + flip augmentation; otherwise on Fashion-MNIST (the shipped 10,000-image file,
// split 8,000 / 2,000), saying so. Options: --cifar DIR  --epochs N  --train N (use the first N training images)
string? cifarDir = null;
int epochs = 3, trainLimit = int.MaxValue;
for (int i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "--cifar": cifarDir = Next(); break;
        case "--epochs": epochs = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--train": trainLimit = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
    }
}

Dataset train, test;
string dataName;
bool cifar = cifarDir is not null && File.Exists(Path.Combine(cifarDir, "test_batch.bin"));
if (cifar)
{
    train = Cifar10.Load(cifarDir!, train: true);
    test = Cifar10.Load(cifarDir!, train: false);
    dataName = "CIFAR-10";
}
else
{
    Console.WriteLine(cifarDir is null ? "No --cifar <dir> given." : $"No CIFAR-10 binary files in {cifarDir}.");
    Console.WriteLine(Cifar10.HowToObtain);
    Console.WriteLine("Training on Fashion-MNIST instead (the shipped test file, split 8,000 / 2,000).");
    string dir = Path.Combine(AppContext.BaseDirectory, "data", "fashion-mnist");
    var all = Idx.Load(Path.Combine(dir, "t10k-images-idx3-ubyte.gz"), Path.Combine(dir, "t10k-labels-idx1-ubyte.gz"));
    train = all.Slice(0, 8000);
    test = all.Slice(8000, 2000);
    dataName = "Fashion-MNIST";
}
if (trainLimit < train.Count) train = train.Slice(0, trainLimit);
int channels = cifar ? 3 : 1, side = cifar ? 32 : 28;
var norm = ChannelStandardizer.Fit(train, channels);
norm.Apply(train);
norm.Apply(test);
Console.WriteLine($"data: {dataName}, {train.Count} training / {test.Count} test images of [{channels},{side},{side}], standardised per channel");

void Run(string name, ITrainableNetwork model, string summary)
{
    using (model)
    {
        Console.WriteLine();
        Console.WriteLine(summary);
        var h = Trainer.Fit(model, train, test, new TrainOptions
        {
            Epochs = epochs, BatchSize = 64, Optimizer = new Adam(2e-3f), Schedule = new ExponentialDecay(2e-3f, 0.7f), Seed = 1,
            Augment = cifar ? (Span<float> x, int n, ref Rng rng) => Augment.RandomCropFlip(x, n, 3, 32, 32, 4, ref rng) : null,
        });
        var ev = Trainer.Evaluate(model, test);
        h.SaveSvg($"cifar-{name}.svg", $"{name} on {dataName}");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"result: {dataName} {name} test accuracy: {ev.Accuracy:F4}"));
    }
}

if (cifar)
{
    Run("W2", new W2(64, 1), W2.Summary);
    Run("ResNet-20", new Zoo.ResNet20(64, 1), Zoo.ResNet20.Summary.Split('\n')[^1]);
}
else
{
    Run("W2", new W2Gray(64, 1), W2Gray.Summary);
    Run("ResNet-20", new ResNet20Gray(64, 1), "ResNet-20 (28x28 grey): " + ResNet20Gray.Summary.Split('\n')[^1]);
}
return 0;
