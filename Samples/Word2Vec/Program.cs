using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using ModelGen.Data;
using ModelGen.Text;

// word2vec on the shipped corpus (the King James Bible and Jane Austen's novels, 1.52 M words) with the settings of the
// benchmark: -size 100 -window 5 -negative 5 -hs 0 -sample 1e-4 -min-count 5 -iter 5, skip-gram then CBOW; nearest
// neighbours, analogies, and the questions-words evaluation (compute-accuracy's top-1 over the questions in vocabulary).
// Options: --iter N  --threads N (1: deterministic; more: Hogwild as the C tool)  --seed N  --mode sg|cbow|both  --save
int iter = 5, threads = 1;
ulong seed = 1;
string mode = "both";
bool save = false;
for (int i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "--iter": iter = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--threads": threads = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--seed": seed = ulong.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--mode": mode = Next(); break;
        case "--save": save = true; break;
        default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
    }
}
string dir = Path.Combine(AppContext.BaseDirectory, "data", "text");
var lines = Vocabulary.ReadLines(Path.Combine(dir, "kjv_austen.txt.gz"));
var questions = Vocabulary.ReadLines(Path.Combine(dir, "questions-words.txt.gz"));
Console.WriteLine($"{lines.Count:N0} lines, {lines.Sum(l => l.Count(c => c == ' ') + 1):N0} words; {threads} thread(s)");

foreach (bool cbow in mode switch { "sg" => new[] { false }, "cbow" => new[] { true }, _ => new[] { false, true } })
{
    string name = cbow ? "cbow" : "skip-gram";
    var clock = Stopwatch.StartNew();
    var vectors = Word2Vec.Train(lines, new Word2VecOptions
    {
        Size = 100, Window = 5, Negative = 5, Sample = 1e-4, MinCount = 5, Iterations = iter, Cbow = cbow, Threads = threads, Seed = seed,
    });
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}: vocabulary {vectors.Words.Length:N0}, trained in {clock.Elapsed.TotalSeconds:F1} s"));
    foreach (var word in new[] { "king", "elizabeth", "sword", "love" })
        Console.WriteLine($"  nearest to {word}: {string.Join(", ", vectors.Nearest(word, 6).Select(x => x.Word))}");
    foreach (var (a, b, c) in new[] { ("man", "king", "woman"), ("son", "father", "daughter"), ("brother", "sister", "he") })
        Console.WriteLine($"  {a} : {b} :: {c} : {vectors.Analogy(a, b, c)[0].Word}");
    var report = vectors.EvaluateAnalogies(questions);
    foreach (var s in report.Sections.Where(s => s.Seen > 0))
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {s.Name,-28} {s.Correct,5} / {s.Seen,5}  {100 * s.Accuracy,6:F2} %"));
    if (save) vectors.SaveBinary($"{name}.bin");
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"result: {name} analogy top-1: {100 * report.Accuracy:F2} % of {report.Seen} questions (family {100 * (report.Section("family")?.Accuracy ?? 0):F1} %)"));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"result: {name} words/s/thread: {vectors.WordsPerSecondPerThread:F0}"));
}
return 0;
