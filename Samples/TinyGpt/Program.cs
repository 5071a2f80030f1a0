using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using ModelGen;
using ModelGen.Data;
using ModelGen.Text;
using ModelGen.Training;
using TinyGpt;

// A character-level GPT on the shipped corpus (the King James Bible, then Jane Austen's novels) with the same split as
// Samples/CharLm: the text as one stream of 28 symbols, the last 5 % held out. Training draws batches of random
// 128-character windows, next character at every step (AdamW, warm-up then cosine decay, gradient clipping at 1).
// The held-out tail (its first 40,000 characters during training, all of it at the end) is scored in windows of 128 moved by 64, each character counted once with at least 64 characters
// of context (the first window: all), in bits per character. Then text is sampled with the KV cache at two
// temperatures, and the weights saved for Samples/TinyGptAot.
// Options: --steps N  --batch N  --lr X  --seed N  --threads N  --out FILE
int steps = 3500, batch = 16, seed = 1, threads = 2;
float lr = 4e-3f;
string output = "tiny-gpt.safetensors";
for (int i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "--steps": steps = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--batch": batch = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--lr": lr = float.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--seed": seed = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--threads": threads = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--out": output = Next(); break;
        default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
    }
}

const int T = Gpt.Context;
static int Id(char ch) => ch == '\n' ? 0 : ch == ' ' ? 1 : ch - 'a' + 2;
static char Symbol(int id) => id == 0 ? '\n' : id == 1 ? ' ' : (char)('a' + id - 2);

var lines = Vocabulary.ReadLines(Path.Combine(AppContext.BaseDirectory, "data", "text", "kjv_austen.txt.gz"));
var all = new System.Collections.Generic.List<int>();
foreach (var line in lines)
{
    foreach (char ch in line) all.Add(Id(ch));
    all.Add(0);
}
int held = all.Count / 20;
var train = all.GetRange(0, all.Count - held).ToArray();
var test = all.GetRange(all.Count - held, held).ToArray();

Console.WriteLine(Gpt.Summary);
Console.WriteLine($"{all.Count:N0} characters: {train.Length:N0} to train, the last {test.Length:N0} held out; batches of {batch} windows of {T}, {steps} steps, {threads} thread(s)");
using var model = new Gpt(maxBatch: batch, seed: seed) { Threads = threads };
var optimizer = new AdamW(lr, weightDecay: 0.1f, beta2: 0.99f);
var schedule = new CosineDecay(lr, steps, lr / 10).WithWarmup(Math.Max(1, steps / 15));
var x = new float[batch * T];
var y = new int[batch * T];
var rng = new Rng((ulong)seed);

double BitsPerChar(ReadOnlySpan<int> text)
{
    // Windows of T moved by T/2: each character is predicted once, with at least T/2 characters before it.
    var xe = new float[batch * T];
    var ye = new int[batch * T];
    double nats = 0;
    long counted = 0;
    int windows = (text.Length - 1 - T) / (T / 2) + 1, w = 0;
    while (w < windows)
    {
        int n = Math.Min(batch, windows - w);
        for (int b = 0; b < n; b++, w++)
            for (int t = 0; t < T; t++)
            {
                int at = w * (T / 2) + t;
                xe[b * T + t] = text[at];
                ye[b * T + t] = w > 0 && t < T / 2 ? -100 : text[at + 1];
            }
        model.Forward(xe.AsSpan(0, n * T));
        long labelled = ye.Take(n * T).Count(v => v >= 0);
        nats += model.ComputeLoss(ye.AsSpan(0, n * T)) * labelled;
        counted += labelled;
    }
    return nats / counted / Math.Log(2);
}

var history = new History();
var clock = Stopwatch.StartNew();
var window = Stopwatch.StartNew();
double nats = 0;
int every = Math.Max(1, steps / 10);
for (int step = 0; step < steps; step++)
{
    for (int b = 0; b < batch; b++)
    {
        int at = rng.NextInt(train.Length - T - 1);
        for (int t = 0; t < T; t++) { x[b * T + t] = train[at + t]; y[b * T + t] = train[at + t + 1]; }
    }
    optimizer.LearningRate = schedule.Rate(0, step);
    model.ZeroGrad();
    model.Forward(x, training: true);
    nats += model.Backward(y);
    model.ClipGradientNorm(1f);
    model.Step(optimizer);
    if ((step + 1) % every == 0)
    {
        double trainBpc = nats / every / Math.Log(2);
        double seconds = window.Elapsed.TotalSeconds;   // training only: the scoring below is not counted
        double testBpc = step + 1 == steps ? BitsPerChar(test) : BitsPerChar(test.AsSpan(0, Math.Min(test.Length, 40_000)));   // the whole tail at the end
        history.Epochs.Add(new EpochStats(history.Epochs.Count + 1, (float)trainBpc, float.NaN, (float)testBpc, float.NaN, seconds, every * batch * T / seconds, optimizer.LearningRate));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"step {step + 1}/{steps}  train {trainBpc:F3} bits/char  held-out {testBpc:F3} bits/char  lr {optimizer.LearningRate:G3}  {every * batch * T / seconds:F0} chars/s"));
        nats = 0;
        window.Restart();
    }
}
double total = clock.Elapsed.TotalSeconds;
model.Save(output);
history.SaveSvg("tiny-gpt-history.svg", $"character GPT: bits per character every {every} steps (train, held-out tail)");

// Generation with the KV cache: one token per Append, each step O(t) in attention, one pass over the weights.
string Sample(string prompt, float temperature, int length, out double tokensPerSecond)
{
    var generated = new int[length];
    var sw = Stopwatch.StartNew();
    model.Generate(prompt.Select(Id).ToArray(), generated, temperature, topK: 0, seed: (ulong)seed);
    tokensPerSecond = (prompt.Length + length) / sw.Elapsed.TotalSeconds;
    return (prompt + new string(generated.Select(Symbol).ToArray())).Replace('\n', '|');
}
double speed = 0;
foreach (float temperature in new[] { 0.5f, 1.0f })
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"sample, temperature {temperature}: {Sample("and it came to pass that ", temperature, 300, out speed)}"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"result: generation with the KV cache {speed:F0} tokens/s (one thread, batch 1)"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"result: training time {total:F0} s ({steps} steps of {batch}×{T} characters)"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"result: held-out bits per character {history.Epochs[^1].TestLoss:F3}"));
return 0;
