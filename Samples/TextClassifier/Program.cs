using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using ModelGen;
using ModelGen.Data;
using ModelGen.Training;
using TextClassifier;

// Bible or Austen? Classifies lines of the shipped corpus (31,102 King James verses, then 10,288 paragraphs of Jane
// Austen's six novels) by their first 40 words: Embedding(10002, 64, MaskZero) → GRU(64) → Dense(2). A seeded 80/20
// split of the lines; the vocabulary comes from the training lines only.
// Options: --epochs N  --batch N  --lr X  --seed N  --threads N
int epochs = 3, batch = 64, seed = 1, threads = 1;
float lr = 3e-3f;
for (int i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "--epochs": epochs = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--batch": batch = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--lr": lr = float.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--seed": seed = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--threads": threads = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
    }
}

const int BibleLines = 31102;   // the corpus: lines 1..31102 are verses, the rest Austen's paragraphs (see data/text/README)
var lines = Vocabulary.ReadLines(Path.Combine(AppContext.BaseDirectory, "data", "text", "kjv_austen.txt.gz"));
var order = Enumerable.Range(0, lines.Count).ToArray();
var rng = new Rng((ulong)seed);
rng.Shuffle(order);
int trainCount = lines.Count * 4 / 5;
var trainLines = order.Take(trainCount).ToArray();
var testLines = order.Skip(trainCount).ToArray();
var vocabulary = Vocabulary.Build(trainLines.Select(i => lines[i]), BibleOrAusten.VocabularySize, minCount: 2);

Dataset Encode(int[] which)
{
    var x = new float[which.Length * BibleOrAusten.Words];
    var labels = new int[which.Length];
    for (int k = 0; k < which.Length; k++)
    {
        vocabulary.Encode(lines[which[k]], x.AsSpan(k * BibleOrAusten.Words, BibleOrAusten.Words));
        labels[k] = which[k] < BibleLines ? 0 : 1;
    }
    return new Dataset(x, BibleOrAusten.Words, labels);
}
var train = Encode(trainLines);
var test = Encode(testLines);
double majority = Math.Max(test.Labels!.Count(l => l == 0), test.Labels!.Count(l => l == 1)) / (double)test.Count;

Console.WriteLine(BibleOrAusten.Summary);
Console.WriteLine($"{lines.Count} lines: {train.Count} to train, {test.Count} to test; vocabulary {vocabulary.Count} ids (words seen twice or more in training)");
using var model = new BibleOrAusten(maxBatch: Math.Max(batch, 256), seed: seed) { Threads = threads };
Console.WriteLine($"SIMD width: {model.Width}; Adam lr {lr}, batch {batch}, {epochs} epochs, gradients clipped to norm 1; sparse embedding updates");
var clock = Stopwatch.StartNew();
var history = Trainer.Fit(model, train, test, new TrainOptions
{
    Epochs = epochs, BatchSize = batch, Optimizer = new Adam(lr), Seed = (ulong)seed, ClipGradientNorm = 1f,
});
double seconds = clock.Elapsed.TotalSeconds;
var result = Trainer.Evaluate(model, test);
history.SaveSvg("text-classifier-history.svg", "Embedding + GRU: Bible or Austen");
Console.WriteLine($"curves: {history.Diagnose()}");

// A few lines the model has not seen, with its verdict.
var probabilities = new float[2];
var ids = new float[BibleOrAusten.Words];
foreach (string line in new[]
{
    "and the lord spake unto moses saying",
    "it is a truth universally acknowledged that a single man in possession of a good fortune must be in want of a wife",
    "she could not but smile at the thought of his letter",
    "blessed are they that mourn for they shall be comforted",
})
{
    vocabulary.Encode(line, ids);
    model.PredictProbabilities(ids, probabilities);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {(probabilities[0] > 0.5f ? "Bible " : "Austen")} {Math.Max(probabilities[0], probabilities[1]):P1}  {line}"));
}
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"result: training time {seconds:F0} s ({seconds / epochs:F1} s per epoch)"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"result: majority-class test accuracy {majority:F4}"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"result: test accuracy {result.Accuracy:F4}"));
return 0;
