using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Runtime.CompilerServices;
using System.Threading;
using ModelGen.Kernels;

namespace ModelGen.Text;

/// <summary>The settings of <see cref="Word2Vec.Train"/>, named and defaulted as the original C tool's options.</summary>
public sealed class Word2VecOptions
{
    /// <summary><c>-size</c>: the vector dimension.</summary>
    public int Size { get; set; } = 100;
    /// <summary><c>-window</c>: the largest distance to a context word (each position draws a window of 1…Window).</summary>
    public int Window { get; set; } = 5;
    /// <summary><c>-negative</c>: noise words per positive pair.</summary>
    public int Negative { get; set; } = 5;
    /// <summary><c>-sample</c>: the frequent-word subsampling threshold (0: off).</summary>
    public double Sample { get; set; } = 1e-3;
    /// <summary><c>-min-count</c>: words seen fewer times are dropped.</summary>
    public int MinCount { get; set; } = 5;
    /// <summary><c>-iter</c>: passes over the corpus.</summary>
    public int Iterations { get; set; } = 5;
    /// <summary><c>-cbow 1</c>: CBOW (predict a word from the mean of its context) instead of skip-gram.</summary>
    public bool Cbow { get; set; }
    /// <summary><c>-alpha</c>: the starting learning rate; null takes the tool's default (0.025 skip-gram, 0.05 CBOW).
    /// It decays linearly to <c>alpha·1e-4</c> over the training words.</summary>
    public float? Alpha { get; set; }
    /// <summary><c>-threads</c>: 1 is deterministic (the same vectors for a seed); more run Hogwild as the tool does.</summary>
    public int Threads { get; set; } = 1;
    /// <summary>The width of the dot products and updates over the vector dimension (default: the widest this machine
    /// accelerates); the widths differ by rounding only.</summary>
    public SimdWidth Width { get; set; } = Simd.Best;
    /// <summary>The seed of the initial vectors, windows, subsampling and noise draws.</summary>
    public ulong Seed { get; set; } = 1;
    /// <summary>Progress (words/s/thread) every 100,000 words per thread, like the tool's; null: quiet.</summary>
    public TextWriter? Log { get; set; }
}

/// <summary>
/// word2vec (Mikolov et al. 2013) with negative sampling, as the original C tool trains it: the vocabulary sorted by
/// frequency with <c>&lt;/s&gt;</c> (the line ends) first, frequent words subsampled with keep probability
/// <c>(√(f/(s·N)) + 1)·s·N/f</c>, noise drawn from the unigram distribution raised to 0.75, a window shrunk at random at
/// each position, skip-gram (each context word's vector predicts the centre word) or CBOW (the context's mean predicts
/// it), <c>k</c> noise words per pair, and the learning rate decayed linearly to <c>alpha·1e-4</c>. The update of a pair
/// with input vector <c>u</c>: for the word and each noise word <c>w</c> with label 1 / 0,
/// <c>g = (label − σ(u·v_w))·alpha</c>, <c>e += g·v_w</c>, <c>v_w += g·u</c>; then <c>u += e</c>. Dot products and updates
/// run over the vector dimension with AVX-512 / AVX2.
/// </summary>
public static class Word2Vec
{
    private const int MaxSentence = 1000;   // the tool's MAX_SENTENCE_LENGTH: longer lines are cut into pieces
    private const int TableSize = 1 << 23;

    /// <summary>Trains word vectors on <paramref name="lines"/> (words separated by white space; each line ends with
    /// <c>&lt;/s&gt;</c>).</summary>
    /// <exception cref="ArgumentException">An option is out of range, or no word reaches <c>MinCount</c>.</exception>
    public static WordVectors Train(IReadOnlyList<string> lines, Word2VecOptions options)
    {
        ArgumentNullException.ThrowIfNull(lines);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Size < 1 || options.Window < 1 || options.Negative < 1 || options.MinCount < 1 || options.Iterations < 1 || options.Threads < 1 || !(options.Sample >= 0))
            throw new ArgumentException("Size, Window, Negative, MinCount, Iterations and Threads must be at least 1, Sample at least 0", nameof(options));
        Simd.Validate(options.Width);
        var vocab = Vocab.Build(lines, options.MinCount);
        if (vocab.Count < 2) throw new ArgumentException($"no word occurs {options.MinCount} times or more", nameof(lines));
        var corpus = vocab.Encode(lines, out var lineStarts);
        int dim = options.Size;
        float alpha0 = options.Alpha ?? (options.Cbow ? 0.05f : 0.025f);
        var syn0 = new float[(long)vocab.Count * dim];
        var syn1 = new float[(long)vocab.Count * dim];
        var init = new Rng(options.Seed);
        for (long i = 0; i < syn0.LongLength; i++) syn0[i] = (float)((init.NextDouble() - 0.5) / dim);
        var table = NoiseTable(vocab.Counts);
        long trainWords = vocab.TrainWords;
        long total = options.Iterations * trainWords + 1;
        long done = 0;
        var clock = Stopwatch.StartNew();
        var state = new Shared(syn0, syn1, table, vocab.Counts, trainWords, total, alpha0, options);
        if (options.Threads == 1) Worker(state, corpus, 0, trainWords, options.Seed, ref done, clock);
        else
        {
            // As the tool splits its file: thread k starts at byte k/N of the text (here: the first line from there on)
            // and each epoch reads trainWords/N words from there, or to the end — it may run into the next thread's part.
            long bytes = 0;
            var lineBytes = new long[lines.Count + 1];
            for (int i = 0; i < lines.Count; i++) lineBytes[i + 1] = bytes += System.Text.Encoding.UTF8.GetByteCount(lines[i]) + 1;
            var threads = new Thread[options.Threads];
            for (int k = 0; k < threads.Length; k++)
            {
                int part = k;
                int line = Array.BinarySearch(lineBytes, bytes / threads.Length * part);
                int start = lineStarts[Math.Min(line < 0 ? ~line : line, lines.Count)];
                threads[k] = new Thread(() =>
                    Worker(state, corpus, start, trainWords / threads.Length, options.Seed + (ulong)part * 0x9E3779B97F4A7C15UL, ref done, clock))
                { IsBackground = true, Name = $"word2vec {part}" };
                threads[k].Start();
            }
            foreach (var t in threads) t.Join();
        }
        double seconds = clock.Elapsed.TotalSeconds;
        return new WordVectors(vocab.Words, syn0, dim, vocab.Counts)
        {
            WordsPerSecondPerThread = options.Iterations * trainWords / seconds / options.Threads,
        };
    }

    private sealed class Shared
    {
        public readonly float[] Syn0, Syn1;
        public readonly int[] Table;
        public readonly long[] Counts;
        public readonly long TrainWords, Total;
        public readonly float Alpha0;
        public readonly Word2VecOptions Options;
        public Shared(float[] syn0, float[] syn1, int[] table, long[] counts, long trainWords, long total, float alpha0, Word2VecOptions o)
        {
            Syn0 = syn0; Syn1 = syn1; Table = table; Counts = counts; TrainWords = trainWords; Total = total; Alpha0 = alpha0; Options = o;
        }
    }

    /// <summary>One thread's share of the corpus (ids, <c>−1</c> ends a line), every iteration. Optimised from the first
    /// call: it is one long loop, which tiered compilation would otherwise run unoptimised until on-stack replacement.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Worker(Shared s, int[] corpus, int start, long share, ulong seed, ref long done, Stopwatch clock)
    {
        var o = s.Options;
        int dim = o.Size, window = o.Window;
        var rng = new Rng(seed ^ 0xD1B54A32D192ED03UL);
        var sentence = new int[MaxSentence];
        var hidden = new float[dim];
        var error = new float[dim];
        var targets = new int[o.Negative + 1];
        var width = o.Width;
        double threshold = o.Sample * s.TrainWords;
        long local = 0, reported = 0;
        float alpha = s.Alpha0;
        for (int iter = 0; iter < o.Iterations; iter++)
        {
            int at = start;
            long read = 0;   // words of this epoch so far
            while (at < corpus.Length && read < share)
            {
                // A sentence: the next line's words (cut at MaxSentence), frequent ones subsampled.
                int n = 0;
                while (at < corpus.Length && n < MaxSentence)
                {
                    int w = corpus[at++];
                    local++;
                    read++;
                    if (w < 0) break;
                    if (threshold > 0 && KeepProbability(s.Counts[w], threshold) < rng.NextDouble()) continue;
                    sentence[n++] = w;
                }
                if (local - reported >= 10000)
                {
                    long all = Interlocked.Add(ref done, local - reported);
                    reported = local;
                    alpha = Math.Max(s.Alpha0 * (1 - all / (float)s.Total), s.Alpha0 * 1e-4f);
                    if (o.Log is not null && all / 100000 != (all - 10000) / 100000)
                        o.Log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"alpha {alpha:F6}  progress {100.0 * all / s.Total:F1}%  words/thread/sec {all / clock.Elapsed.TotalSeconds / o.Threads / 1000:F1}k"));
                }
                for (int pos = 0; pos < n; pos++)
                {
                    int b = rng.NextInt(window);   // the window shrinks to window − b at this position
                    if (o.Cbow)
                    {
                        Array.Clear(hidden);
                        int count = 0;
                        for (int a = b; a < window * 2 + 1 - b; a++)
                        {
                            if (a == window) continue;
                            int c = pos - window + a;
                            if (c < 0 || c >= n) continue;
                            VectorOps.Axpy(1f, s.Syn0.AsSpan(sentence[c] * dim, dim), hidden, width);
                            count++;
                        }
                        if (count == 0) continue;
                        VectorOps.Scale(hidden, 1f / count, width);
                        Array.Clear(error);
                        VectorOps.NegativeSamplingStep(hidden, s.Syn1, Targets(s, sentence[pos], targets, ref rng), alpha, error, width);
                        for (int a = b; a < window * 2 + 1 - b; a++)
                        {
                            if (a == window) continue;
                            int c = pos - window + a;
                            if (c < 0 || c >= n) continue;
                            VectorOps.Axpy(1f, error, s.Syn0.AsSpan(sentence[c] * dim, dim), width);
                        }
                    }
                    else
                        for (int a = b; a < window * 2 + 1 - b; a++)
                        {
                            if (a == window) continue;
                            int c = pos - window + a;
                            if (c < 0 || c >= n) continue;
                            var input = s.Syn0.AsSpan(sentence[c] * dim, dim);
                            Array.Clear(error);
                            VectorOps.NegativeSamplingStep(input, s.Syn1, Targets(s, sentence[pos], targets, ref rng), alpha, error, width);
                            VectorOps.Axpy(1f, error, input, width);
                        }
                }
            }
        }
        Interlocked.Add(ref done, local - reported);
    }

    /// <summary>The targets of one pair: <paramref name="word"/>, then <c>Negative</c> draws from the noise table, a draw
    /// of the word itself skipped (so fewer may remain) and a draw of <c>&lt;/s&gt;</c> replaced by a uniform word, as the
    /// tool does.</summary>
    private static ReadOnlySpan<int> Targets(Shared s, int word, int[] targets, ref Rng rng)
    {
        int n = 0;
        targets[n++] = word;
        for (int d = 0; d < s.Options.Negative; d++)
        {
            int target = s.Table[rng.NextInt(TableSize)];
            if (target == 0) target = 1 + rng.NextInt(s.Counts.Length - 1);
            if (target != word) targets[n++] = target;
        }
        return targets.AsSpan(0, n);
    }

    /// <summary>word2vec's subsampling: a word seen <paramref name="count"/> times is kept with probability
    /// <c>(√(f/t) + 1)·t/f</c>, <c>t = sample·trainWords</c> (above 1: always).</summary>
    internal static double KeepProbability(long count, double threshold) => (Math.Sqrt(count / threshold) + 1) * threshold / count;

    /// <summary>The noise distribution: word i fills a share count_i^0.75 / Σ count^0.75 of the table's slots.</summary>
    internal static int[] NoiseTable(long[] counts)
    {
        var table = new int[TableSize];
        double total = 0;
        for (int i = 0; i < counts.Length; i++) total += Math.Pow(counts[i], 0.75);
        int word = 0;
        double cumulative = Math.Pow(counts[0], 0.75) / total;
        for (int k = 0; k < TableSize; k++)
        {
            table[k] = word;
            if ((k + 1.0) / TableSize > cumulative && word < counts.Length - 1)
            {
                word++;
                cumulative += Math.Pow(counts[word], 0.75) / total;
            }
        }
        return table;
    }

    internal static int TableLength => TableSize;

    /// <summary>The vocabulary as the tool builds it: <c>&lt;/s&gt;</c> first, then the words seen at least MinCount times by
    /// decreasing count (ties: ordinal order).</summary>
    internal sealed class Vocab
    {
        public readonly string[] Words;
        public readonly long[] Counts;
        public readonly Dictionary<string, int> Ids;
        public int Count => Words.Length;
        /// <summary>The words training counts: every kept word and one <c>&lt;/s&gt;</c> per line.</summary>
        public long TrainWords { get; }

        private Vocab(string[] words, long[] counts)
        {
            Words = words; Counts = counts;
            Ids = new Dictionary<string, int>(words.Length, StringComparer.Ordinal);
            for (int i = 0; i < words.Length; i++) Ids[words[i]] = i;
            long t = 0;
            foreach (long c in counts) t += c;
            TrainWords = t;
        }

        public static Vocab Build(IReadOnlyList<string> lines, int minCount)
        {
            var counts = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var line in lines)
                foreach (var w in Data.Vocabulary.Tokenize(line))
                    counts[w] = counts.TryGetValue(w, out long c) ? c + 1 : 1;
            var kept = new List<KeyValuePair<string, long>>();
            foreach (var kv in counts) if (kv.Value >= minCount && kv.Key != "</s>") kept.Add(kv);
            kept.Sort((a, b) => a.Value != b.Value ? b.Value.CompareTo(a.Value) : string.CompareOrdinal(a.Key, b.Key));
            var words = new string[kept.Count + 1];
            var n = new long[kept.Count + 1];
            words[0] = "</s>";
            n[0] = lines.Count + (counts.TryGetValue("</s>", out long s) ? s : 0);
            for (int i = 0; i < kept.Count; i++) { words[i + 1] = kept[i].Key; n[i + 1] = kept[i].Value; }
            return new Vocab(words, n);
        }

        /// <summary>The corpus as ids, each line's words then <c>−1</c> (its <c>&lt;/s&gt;</c>, which ends a sentence);
        /// words outside the vocabulary are skipped.</summary>
        public int[] Encode(IReadOnlyList<string> lines, out int[] lineStarts)
        {
            var ids = new List<int>();
            lineStarts = new int[lines.Count + 1];
            for (int i = 0; i < lines.Count; i++)
            {
                var line = lines[i];
                lineStarts[i] = ids.Count;
                foreach (var w in Data.Vocabulary.Tokenize(line))
                    if (Ids.TryGetValue(w, out int id)) ids.Add(id);
                ids.Add(-1);
            }
            lineStarts[lines.Count] = ids.Count;
            return ids.ToArray();
        }
    }
}
