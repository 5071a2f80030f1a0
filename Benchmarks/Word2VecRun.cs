using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text.RegularExpressions;
using ModelGen.Data;
using ModelGen.Text;

namespace ModelGen.Benchmarks;

/// <summary>
/// <c>--word2vec [--peer DIR] [--seeds N] [--first-seed S] [--threads 1,2] [--iters 1,5] [--modes skip-gram,cbow]</c>: the original C tool (built from <c>../shared/peers/word2vec</c>
/// into a temporary folder with its own build line, never into the project) and ModelGen's word2vec in the same run, on
/// the shipped corpus with the issue's settings (<c>-size 100 -window 5 -negative 5 -hs 0 -sample 1e-4 -min-count 5</c>),
/// skip-gram and CBOW, 1 then 2 threads, several seeds: words/s/thread (the tool's own last progress reading; ModelGen's
/// over the whole run) and analogy top-1 (the tool's <c>compute-accuracy</c> on its vectors; ModelGen's evaluation, which
/// counts as it does). Both at <c>-iter 1</c> and <c>-iter 5</c>. The peer's newest word2vec.c never clears its end-of-file
/// flag when it rewinds for the next epoch, so with <c>-iter 5</c> it trains about one epoch; the copy built here gets the
/// one-line fix (<c>eof = 0;</c> beside the rewind, as the older code's <c>feof</c> test behaved), which changes nothing
/// else, so its <c>-iter 5</c> is five epochs. The tool has no seed option; the copy built here reads one from
/// <c>W2V_SEED</c> (seed 1 is the tool unchanged), so both sides are averaged over the same seeds. Every run also checks the formats both ways: <c>compute-accuracy</c> on ModelGen's binary
/// file counts what ModelGen's evaluation counts, and ModelGen's evaluation of the tool's file counts what
/// <c>compute-accuracy</c> counts.
/// </summary>
internal static class Word2VecRun
{
    public static void Run(string[] args)
    {
        string Arg(string name, string fallback) => Array.IndexOf(args, name) is int i and >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        string root = FindRoot();
        string peer = Path.GetFullPath(Arg("--peer", Path.Combine(root, "..", "shared", "peers", "word2vec")));
        int seeds = int.Parse(Arg("--seeds", "3"), CultureInfo.InvariantCulture);
        int firstSeed = int.Parse(Arg("--first-seed", "1"), CultureInfo.InvariantCulture);
        var threadCounts = Arg("--threads", "1,2").Split(',').Select(t => int.Parse(t, CultureInfo.InvariantCulture)).ToArray();
        var iters = Arg("--iters", "1,5").Split(',').Select(t => int.Parse(t, CultureInfo.InvariantCulture)).ToArray();
        var modes = Arg("--modes", "skip-gram,cbow").Split(',').Select(m => m switch
        {
            "skip-gram" => false,
            "cbow" => true,
            _ => throw new ArgumentException($"--modes: '{m}' is neither skip-gram nor cbow"),
        }).ToArray();
        string tmp = Directory.CreateTempSubdirectory("modelgen-w2v-bench-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(tmp, "word2vec.c"), Patch(File.ReadAllText(Path.Combine(peer, "word2vec.c"))));
            Sh("gcc", "-O3 -march=native -funroll-loops -pthread word2vec.c -o word2vec -lm", tmp);
            Sh("gcc", $"-O3 -march=native \"{Path.Combine(peer, "compute-accuracy.c")}\" -o compute-accuracy -lm", tmp);
            string data = Path.Combine(root, "Samples", "data", "text");
            Gunzip(Path.Combine(data, "kjv_austen.txt.gz"), Path.Combine(tmp, "corpus.txt"));
            Gunzip(Path.Combine(data, "questions-words.txt.gz"), Path.Combine(tmp, "questions.txt"));
            var lines = Vocabulary.ReadLines(Path.Combine(tmp, "corpus.txt"));
            var questions = Vocabulary.ReadLines(Path.Combine(tmp, "questions.txt"));
            Console.WriteLine($"word2vec on {lines.Count:N0} lines; peer {peer}; seeds {firstSeed}-{firstSeed + seeds - 1}; FMA-free workload (memory-bound)");
            Console.WriteLine("| mode | iter | threads | C tool words/s/thread | ModelGen words/s/thread | ratio | C tool top-1 (family) | ModelGen top-1 (family) |");
            Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- |");
            foreach (int iter in iters)
                foreach (bool cbow in modes)
                    foreach (int threads in threadCounts)
                    {
                        var c = new List<(double Speed, double Top1, double Family)>();
                        var m = new List<(double Speed, double Top1, double Family)>();
                        for (int s = firstSeed; s < firstSeed + seeds; s++)
                        {
                            c.Add(RunTool(tmp, cbow, iter, threads, s));
                            CrossCheck(WordVectors.Load(Path.Combine(tmp, "vec.bin")), tmp, questions, "the tool's file read by ModelGen");
                            var v = Word2Vec.Train(lines, new Word2VecOptions
                            {
                                Size = 100, Window = 5, Negative = 5, Sample = 1e-4, MinCount = 5, Iterations = iter, Cbow = cbow, Threads = threads, Seed = (ulong)s,
                            });
                            var r = v.EvaluateAnalogies(questions);
                            m.Add((v.WordsPerSecondPerThread, 100 * r.Accuracy, 100 * (r.Section("family")?.Accuracy ?? 0)));
                            v.SaveBinary(Path.Combine(tmp, "vec.bin"));
                            CrossCheck(v, tmp, questions, "ModelGen's file read by compute-accuracy");
                            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                                $"  seed {s}: C tool {c[^1].Top1:F2} % ({c[^1].Family:F1} %), ModelGen {m[^1].Top1:F2} % ({m[^1].Family:F1} %)"));
                        }
                        double cs = c.Average(x => x.Speed), ms = m.Average(x => x.Speed);
                        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"| {(cbow ? "CBOW" : "skip-gram")} | {iter} | {threads} | {cs / 1000:F0} k | {ms / 1000:F0} k | {ms / cs:F2} × | {c.Average(x => x.Top1):F2} ± {StandardError(c.Select(x => x.Top1)):F2} % ({c.Average(x => x.Family):F1} %) | {m.Average(x => x.Top1):F2} ± {StandardError(m.Select(x => x.Top1)):F2} % ({m.Average(x => x.Family):F1} %) |"));
                    }
        }
        finally { Directory.Delete(tmp, recursive: true); }
        Console.WriteLine($"formats: {_agreements} evaluations of one file by both compute-accuracy and ModelGen counted the same questions right");
    }

    private static int _agreements;

    /// <summary>The standard error of a mean over seeds (the sample standard deviation / √n; 0 for one seed).</summary>
    private static double StandardError(IEnumerable<double> values)
    {
        var v = values.ToArray();
        if (v.Length < 2) return 0;
        double mean = v.Average(), ss = v.Sum(x => (x - mean) * (x - mean));
        return Math.Sqrt(ss / (v.Length - 1) / v.Length);
    }

    /// <summary>The two changes to the tool's source: the end-of-file flag cleared at each epoch's rewind, and a seed read
    /// from <c>W2V_SEED</c> (default 1, which leaves the tool exactly as it is): the initial vectors' generator starts at
    /// the seed instead of 1 and thread i's at <c>i + 7919·(seed − 1)</c> instead of i, so that its accuracy can be
    /// averaged over seeds as ModelGen's is.</summary>
    private static string Patch(string source)
    {
        string Replace(string text, string from, string to, string what) =>
            text.Contains(from, StringComparison.Ordinal) ? text.Replace(from, to, StringComparison.Ordinal) : throw new InvalidOperationException($"word2vec.c: {what} to patch was not found");
        source = Replace(source, "      sentence_length = 0;\n      fseek(fi,", "      sentence_length = 0;\n      eof = 0;\n      fseek(fi,", "the epoch rewind");
        source = Replace(source, "  unsigned long long next_random = 1;\n", "  unsigned long long next_random = Seed();\n", "InitNet's generator");
        source = Replace(source, "  unsigned long long next_random = (long long)id;\n", "  unsigned long long next_random = (long long)id + 7919ULL * (Seed() - 1);\n", "the threads' generator");
        return Replace(source, "void InitNet() {", "static unsigned long long Seed() { const char *s = getenv(\"W2V_SEED\"); return s ? strtoull(s, 0, 10) : 1; }\n\nvoid InitNet() {", "InitNet");
    }

    /// <summary>compute-accuracy on <c>vec.bin</c> and ModelGen's evaluation of <paramref name="v"/> (the same vectors)
    /// must count the same questions seen and right, section by section.</summary>
    private static void CrossCheck(WordVectors v, string dir, IReadOnlyList<string> questions, string what)
    {
        string acc = Sh(Path.Combine(dir, "compute-accuracy"), "vec.bin 30000", dir, string.Join('\n', questions) + "\n");
        var tool = Regex.Matches(acc, @"\((\d+) / (\d+)\)").Select(x => (Right: int.Parse(x.Groups[1].Value, CultureInfo.InvariantCulture), Seen: int.Parse(x.Groups[2].Value, CultureInfo.InvariantCulture))).ToArray();
        // compute-accuracy prints a section without questions in the vocabulary as (0 / 1).
        var ours = v.EvaluateAnalogies(questions).Sections.Select(x => (Right: x.Correct, Seen: Math.Max(1, x.Seen))).ToArray();
        if (!tool.SequenceEqual(ours))
            throw new InvalidOperationException($"{what}: compute-accuracy counted {string.Join(", ", tool)}, ModelGen {string.Join(", ", ours)}");
        _agreements++;
    }

    private static (double Speed, double Top1, double Family) RunTool(string dir, bool cbow, int iter, int threads, int seed)
    {
        string output = Sh(Path.Combine(dir, "word2vec"),
            $"-train corpus.txt -output vec.bin -binary 1 -size 100 -window 5 -negative 5 -hs 0 -sample 1e-4 -min-count 5 -iter {iter} -threads {threads} -cbow {(cbow ? 1 : 0)}", dir,
            environment: ("W2V_SEED", seed.ToString(CultureInfo.InvariantCulture)));
        var speeds = Regex.Matches(output, @"Words/thread/sec:\s*([0-9.]+)k");
        double speed = speeds.Count > 0 ? double.Parse(speeds[^1].Groups[1].Value, CultureInfo.InvariantCulture) * 1000 : double.NaN;
        string acc = Sh(Path.Combine(dir, "compute-accuracy"), "vec.bin 30000", dir, File.ReadAllText(Path.Combine(dir, "questions.txt")));
        var totals = Regex.Matches(acc, @"Total accuracy:\s*([0-9.]+) %");   // printed after every section, cumulative: the last is the total
        var total = totals.Count > 0 ? totals[^1] : Match.Empty;
        var family = Regex.Match(acc, @"family:\s*ACCURACY TOP1:\s*([0-9.]+) %");
        return (speed, total.Success ? double.Parse(total.Groups[1].Value, CultureInfo.InvariantCulture) : double.NaN,
            family.Success ? double.Parse(family.Groups[1].Value, CultureInfo.InvariantCulture) : double.NaN);
    }

    private static string Sh(string file, string arguments, string dir, string? stdin = null, (string Name, string Value)? environment = null)
    {
        var psi = new ProcessStartInfo(file, arguments) { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = stdin is not null };
        if (environment is { } e) psi.Environment[e.Name] = e.Value;
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        if (stdin is not null) { p.StandardInput.Write(stdin); p.StandardInput.Close(); }
        var err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {arguments} failed ({p.ExitCode}): {err.Result}");
        return output + err.Result;
    }

    private static void Gunzip(string from, string to)
    {
        using var src = new GZipStream(File.OpenRead(from), CompressionMode.Decompress);
        using var dst = File.Create(to);
        src.CopyTo(dst);
    }

    internal static string FindRoot()   // the repository (ModelGen.slnx) above the binaries, else the current directory
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "ModelGen.slnx"))) return d.FullName;
        return Directory.GetCurrentDirectory();
    }
}
