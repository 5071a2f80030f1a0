using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Text;
using CharLm;
using ModelGen;
using ModelGen.Data;
using ModelGen.Training;

// A character-level LSTM language model on the shipped corpus (the King James Bible, then Jane Austen's novels): the
// text as one stream of 28 symbols, the last 5 % held out. Training cuts the rest into 32 parallel streams and walks
// them in 64-character pieces with the model Stateful (truncated backpropagation through time); the held-out tail is
// scored the same way, in bits per character. Then text is sampled at two temperatures from a one-step twin.
// An epoch here is --chars training characters: each continues the 32 streams where the last one stopped (wrapping
// round at their ends), the state carried on; the defaults walk about 80 % of the training text once.
// Options: --epochs N  --chars N (training characters per epoch)  --lr X  --seed N  --threads N
int epochs = 4, seed = 1, threads = 1;
long charsPerEpoch = 1_500_000;
float lr = 2e-3f;
for (int i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "--epochs": epochs = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--chars": charsPerEpoch = long.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--lr": lr = float.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--seed": seed = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--threads": threads = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
    }
}

const int Streams = 32, T = CharLstm.Steps;
static int Id(char ch) => ch == '\n' ? 0 : ch == ' ' ? 1 : ch - 'a' + 2;
static char Symbol(int id) => id == 0 ? '\n' : id == 1 ? ' ' : (char)('a' + id - 2);

var lines = Vocabulary.ReadLines(Path.Combine(AppContext.BaseDirectory, "data", "text", "kjv_austen.txt.gz"));
var ids = new List<int>();
foreach (var line in lines)
{
    foreach (char ch in line) ids.Add(Id(ch));
    ids.Add(0);
}
int held = ids.Count / 20;
var train = ids.GetRange(0, ids.Count - held).ToArray();
var test = ids.GetRange(ids.Count - held, held).ToArray();

Console.WriteLine(CharLstm.Summary);
Console.WriteLine($"{ids.Count:N0} characters: {train.Length:N0} to train, the last {test.Length:N0} held out; {Streams} streams of {T}-character pieces");
using var model = new CharLstm(maxBatch: Streams, seed: seed) { Threads = threads, Stateful = true };
var adam = new Adam(lr);
var schedule = new StepDecay(lr, 1, 0.5f);
var x = new float[Streams * T];
var y = new int[Streams * T];

// Piece k of stream s: characters [s·L + k·T, s·L + k·T + T) in, the next character at each step as its label.
static void Piece(int[] text, int streams, int k, float[] x, int[] y)
{
    int length = (text.Length - 1) / streams;
    for (int s = 0; s < streams; s++)
        for (int t = 0; t < T; t++)
        {
            int at = s * length + k * T + t;
            x[s * T + t] = text[at];
            y[s * T + t] = text[at + 1];
        }
}

double BitsPerChar(int[] text, int streams)
{
    int pieces = (text.Length - 1) / streams / T;
    var xe = new float[streams * T];
    var ye = new int[streams * T];
    model.ResetStates();
    double nats = 0;
    for (int k = 0; k < pieces; k++)
    {
        Piece(text, streams, k, xe, ye);
        model.Forward(xe);
        nats += model.ComputeLoss(ye);
    }
    return nats / pieces / Math.Log(2);
}

var history = new History();
var clock = Stopwatch.StartNew();
int streamPieces = (train.Length - 1) / Streams / T;
int trainPieces = (int)Math.Max(1, Math.Min(streamPieces, charsPerEpoch / (Streams * T)));
int at = 0;   // the next piece of every stream
model.ResetStates();
for (int epoch = 1; epoch <= epochs; epoch++)
{
    var sw = Stopwatch.StartNew();
    adam.LearningRate = schedule.Rate(epoch - 1, 0);
    double nats = 0;
    for (int k = 0; k < trainPieces; k++, at++)
    {
        if (at == streamPieces) { at = 0; model.ResetStates(); }   // the streams' ends: start them over
        Piece(train, Streams, at, x, y);
        model.ZeroGrad();
        model.Forward(x, training: true);
        nats += model.Backward(y);
        model.ClipGradientNorm(0.25f);   // the word_language_model example's clip
        model.Step(adam);
        if ((k + 1) % 500 == 0)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  epoch {epoch} piece {k + 1}/{trainPieces}  train {nats / (k + 1) / Math.Log(2):F3} bits/char  {(k + 1) * Streams * T / sw.Elapsed.TotalSeconds:F0} chars/s"));
    }
    double trainBpc = nats / trainPieces / Math.Log(2);
    var carried = new float[Streams * 256 * 2];   // the streams' states, kept across the held-out scoring
    model.GetState(nameof(CharLstm.Rnn), carried.AsSpan(0, Streams * 256), carried.AsSpan(Streams * 256));
    double testBpc = BitsPerChar(test, 16);
    model.SetState(nameof(CharLstm.Rnn), carried.AsSpan(0, Streams * 256), carried.AsSpan(Streams * 256));
    double seconds = sw.Elapsed.TotalSeconds;
    history.Epochs.Add(new EpochStats(epoch, (float)trainBpc, float.NaN, (float)testBpc, float.NaN, seconds, trainPieces * Streams * T / seconds, adam.LearningRate));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"epoch {epoch}/{epochs}  train {trainBpc:F3} bits/char  held-out {testBpc:F3} bits/char  lr {adam.LearningRate:G3}  {seconds:F0} s"));
}
double total = clock.Elapsed.TotalSeconds;
model.Save("char-lstm.safetensors");
history.SaveSvg("char-lstm-history.svg", "character LSTM: bits per character (train, held-out tail)");

// Generation: the one-step twin with the trained parameters, primed with a prompt, then one character per call.
using var step = new CharLstmStep(maxBatch: 1) { Stateful = true };
model.Parameters.CopyTo(step.Parameters);
var rng = new Rng((ulong)seed);
string Sample(string prompt, float temperature, int length)
{
    step.ResetStates();
    var one = new float[1];
    var logits = new float[CharLstm.Symbols];
    foreach (char ch in prompt) { one[0] = Id(ch); step.Predict(one, logits); }
    var text = new StringBuilder(prompt);
    var p = new double[CharLstm.Symbols];
    for (int i = 0; i < length; i++)
    {
        double max = double.NegativeInfinity, sum = 0;
        foreach (float v in logits) max = Math.Max(max, v / temperature);
        for (int c = 0; c < p.Length; c++) sum += p[c] = Math.Exp(logits[c] / temperature - max);
        double u = rng.NextDouble() * sum;
        int next = 0;
        while (next < p.Length - 1 && (u -= p[next]) > 0) next++;
        text.Append(Symbol(next));
        one[0] = next;
        step.Predict(one, logits);
    }
    return text.ToString().Replace('\n', '|');
}
foreach (float temperature in new[] { 0.5f, 1.0f })
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"sample, temperature {temperature}: {Sample("and it came to pass that ", temperature, 200)}"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"result: training time {total:F0} s ({total / epochs:F0} s per epoch)"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"result: held-out bits per character {history.Epochs[^1].TestLoss:F3}"));
return 0;
