using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using Baselines;
using ModelGen;
using ModelGen.Baselines;
using ModelGen.Data;
using ModelGen.Training;

// The note's baselines side by side: k-nearest neighbours, a linear softmax classifier, a linear SVM
// (multi-class hinge + L2) and an MLP, on sklearn's 8x8 digits (fixed 80/20 split), MNIST (60,000 / 10,000)
// and Fashion-MNIST (the shipped 10,000-image test file, fixed 8,000 / 2,000 split).
// Options: --mnist-train N (use N MNIST training images; default all), --k K (default 3), --epochs E.
int mnistTrain = 60000, k = 3, epochs = 15;
for (int i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "--mnist-train": mnistTrain = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--k": k = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--epochs": epochs = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
    }
}

string data = Path.Combine(AppContext.BaseDirectory, "data");
var digits = Csv.LoadClassification(Path.Combine(data, "sklearn", "digits.csv.gz"), scale: 16f).Split(0.8, seed: 42);
var mnistAll = Idx.Load(Path.Combine(data, "mnist", "train-images-idx3-ubyte.gz"), Path.Combine(data, "mnist", "train-labels-idx1-ubyte.gz"));
var mnist = (Train: mnistTrain < mnistAll.Count ? mnistAll.Slice(0, mnistTrain) : mnistAll,
             Test: Idx.Load(Path.Combine(data, "mnist", "t10k-images-idx3-ubyte.gz"), Path.Combine(data, "mnist", "t10k-labels-idx1-ubyte.gz")));
var fashionAll = Idx.Load(Path.Combine(data, "fashion-mnist", "t10k-images-idx3-ubyte.gz"), Path.Combine(data, "fashion-mnist", "t10k-labels-idx1-ubyte.gz"));
var fashion = (Train: fashionAll.Slice(0, 8000), Test: fashionAll.Slice(8000, 2000));

var rows = new List<(string Data, string Method, float Acc, double Train, double Infer)>();
void Run(string name, Dataset train, Dataset test, Func<ITrainableNetwork> softmax, Func<ITrainableNetwork> svm, Func<ITrainableNetwork> mlp, float mlpRate)
{
    Console.WriteLine($"── {name}: {train.Count} training / {test.Count} test samples, {train.FeatureSize} features");
    var sw = Stopwatch.StartNew();
    var knn = new KNearestNeighbors(k, Distance.L2).Fit(train);
    double fit = sw.Elapsed.TotalSeconds;
    sw.Restart();
    float knnAcc = knn.Score(test);
    rows.Add((name, $"kNN (k={k}, L2)", knnAcc, fit, sw.Elapsed.TotalSeconds));

    Net(name, "linear softmax", softmax(), train, test, new Sgd(0.1f, momentum: 0.9f), new StepDecay(0.1f, 5, 0.5f));
    Net(name, "linear SVM (hinge + L2)", svm(), train, test, new Sgd(0.01f, momentum: 0.9f), new StepDecay(0.01f, 5, 0.5f));
    var history = Net(name, "MLP", mlp(), train, test, new Adam(mlpRate), new ExponentialDecay(mlpRate, 0.9f));
    string plot = $"baselines-{name}-mlp.svg";
    history.SaveSvg(plot, $"MLP on {name}");
    Console.WriteLine($"   MLP curves: {history.Diagnose()}  (plot: {plot})");
}

History Net(string data, string method, ITrainableNetwork model, Dataset train, Dataset test, Optimizer opt, LearningRateSchedule schedule)
{
    using (model)
    {
        var sw = Stopwatch.StartNew();
        var h = Trainer.Fit(model, train, test, new TrainOptions { Epochs = epochs, BatchSize = 64, Optimizer = opt, Schedule = schedule, Seed = 1, Log = null });
        double t = sw.Elapsed.TotalSeconds;
        sw.Restart();
        var ev = Trainer.Evaluate(model, test);
        rows.Add((data, method, ev.Accuracy, t, sw.Elapsed.TotalSeconds));
        return h;
    }
}

Run("digits", digits.Train, digits.Test, () => new DigitsSoftmax(256, 1), () => new DigitsSvm(256, 1), () => new DigitsMlp(256, 1), mlpRate: 5e-3f);
Run("mnist", mnist.Train, mnist.Test, () => new ImageSoftmax(256, 1), () => new ImageSvm(256, 1), () => new ImageMlp(256, 1), mlpRate: 1e-3f);
Run("fashion-mnist", fashion.Train, fashion.Test, () => new ImageSoftmax(256, 1), () => new ImageSvm(256, 1), () => new ImageMlp(256, 1), mlpRate: 1e-3f);

Console.WriteLine();
Console.WriteLine($"{"data set",-14} {"method",-26} {"test accuracy",13} {"train s",9} {"inference s",12}");
foreach (var r in rows)
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{r.Data,-14} {r.Method,-26} {r.Acc,13:F4} {r.Train,9:F2} {r.Infer,12:F2}"));
Console.WriteLine();
foreach (var r in rows)
{
    string method = r.Method.StartsWith("kNN", StringComparison.Ordinal) ? "knn" : r.Method.StartsWith("linear softmax", StringComparison.Ordinal) ? "softmax"
        : r.Method.StartsWith("linear SVM", StringComparison.Ordinal) ? "svm" : "mlp";
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"result: {r.Data} {method} test accuracy: {r.Acc:F4}"));
}
return 0;
