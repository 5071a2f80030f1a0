using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using ModelGen.IO;

using ModelGen.Kernels;

namespace ModelGen.Text;

/// <summary>Word vectors: the words (most frequent first, as word2vec writes them) and one row of <see cref="Dimension"/>
/// floats each; cosine neighbours, analogies, the questions-words evaluation, and the word2vec text and binary formats.</summary>
public sealed class WordVectors
{
    private readonly Dictionary<string, int> _ids;
    private float[]? _unit;

    /// <summary>Vectors for <paramref name="words"/>, row-major in <paramref name="vectors"/>.</summary>
    /// <exception cref="ArgumentException">The vectors are not one row of <paramref name="dimension"/> per word, or a word repeats.</exception>
    public WordVectors(string[] words, float[] vectors, int dimension, long[]? counts = null)
    {
        ArgumentNullException.ThrowIfNull(words);
        ArgumentNullException.ThrowIfNull(vectors);
        if (dimension < 1 || vectors.LongLength != (long)words.Length * dimension)
            throw new ArgumentException($"{words.Length} words of dimension {dimension} need {(long)words.Length * dimension} floats, got {vectors.LongLength}", nameof(vectors));
        Words = words; Vectors = vectors; Dimension = dimension; Counts = counts;
        _ids = new Dictionary<string, int>(words.Length, StringComparer.Ordinal);
        for (int i = 0; i < words.Length; i++)
            if (!_ids.TryAdd(words[i], i)) throw new ArgumentException($"word '{words[i]}' appears twice (rows {_ids[words[i]]} and {i})", nameof(words));
    }

    /// <summary>The words, in row order.</summary>
    public string[] Words { get; }
    /// <summary>The vectors, row-major <c>[words, Dimension]</c>.</summary>
    public float[] Vectors { get; }
    /// <summary>Floats per vector.</summary>
    public int Dimension { get; }
    /// <summary>How often each word occurred in training (null when loaded from a file).</summary>
    public long[]? Counts { get; }
    /// <summary>Training speed: words processed per second per thread (0 when loaded).</summary>
    public double WordsPerSecondPerThread { get; init; }

    /// <summary>The row of <paramref name="word"/>, or −1.</summary>
    public int IndexOf(string word) => _ids.TryGetValue(word, out int i) ? i : -1;

    /// <summary>The vector of <paramref name="word"/>.</summary>
    /// <exception cref="KeyNotFoundException">The word is not in the vocabulary.</exception>
    public ReadOnlySpan<float> this[string word] => Vectors.AsSpan(Row(word) * Dimension, Dimension);

    private int Row(string word) => _ids.TryGetValue(word, out int i) ? i : throw new KeyNotFoundException($"'{word}' is not in the vocabulary of {Words.Length} words");

    /// <summary>The vectors scaled to unit length (computed once), in <c>compute-accuracy</c>'s float arithmetic as the
    /// benchmark builds it (gcc 12, <c>-O3 -march=native</c>, AVX-512) — see <see cref="SquaredLength"/> —, the square
    /// root rounded to float, each element divided by it: its evaluation and ours see the same bits.</summary>
    private float[] Unit()
    {
        if (_unit is not null) return _unit;
        var u = (float[])Vectors.Clone();
        for (int i = 0; i < Words.Length; i++)
        {
            var row = u.AsSpan(i * Dimension, Dimension);
            float len = MathF.Sqrt(SquaredLength(row));
            if (len > 0) foreach (ref float v in row) v /= len;
        }
        return _unit = u;
    }

    /// <summary><c>Σ x_i²</c> as gcc compiles <c>compute-accuracy</c>'s <c>len += M[a]·M[a]</c>: vectorised, the
    /// additions kept in order (no fast-math) but the squares of whole 16-float blocks — and of one 8-float block when
    /// 8 or more floats remain — rounded before they are added (<c>vmulps</c>, then <c>vaddss</c> lane by lane); the last
    /// fewer than 8 fused (<c>vfmadd231ss</c>). Summing every square fused instead moves a unit vector by an ulp or two,
    /// enough to reorder near-tied answers: a 10-seed run found one question in 756 counted differently.</summary>
    internal static float SquaredLength(ReadOnlySpan<float> x)
    {
        float sum = 0f;
        int i = 0, blocks = x.Length / 16 * 16;
        for (; i < blocks; i++) sum += x[i] * x[i];
        if (x.Length - i >= 8)
            for (int end = i + 8; i < end; i++) sum += x[i] * x[i];
        for (; i < x.Length; i++) sum = MathF.FusedMultiplyAdd(x[i], x[i], sum);
        return sum;
    }

    /// <summary><c>Σ x_i·y_i</c> summed in order with fused multiply-adds, as gcc compiles <c>compute-accuracy</c>'s distance loop (scalar: it does not vectorise that one).</summary>
    private static float OrderedDot(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        float sum = 0f;
        for (int i = 0; i < x.Length; i++) sum = MathF.FusedMultiplyAdd(x[i], y[i], sum);
        return sum;
    }

    /// <summary><c>compute-accuracy</c>'s answer to one question, bit for bit: the word (among the first
    /// <paramref name="limit"/>, the question's three excluded) with the largest dot product with the query, the first of
    /// equal ones, and none when no product is above 0 (its best distance starts at 0). The products are found with the
    /// SIMD dot product, and those within 1e-4 of the largest (far above either sum's rounding) are recomputed in the
    /// tool's order to choose between them. Returns the word's row, or −1.</summary>
    private int Answer(float[] query, int x1, int x2, int x3, int limit, float[] scores)
    {
        var u = Unit();
        float top = float.NegativeInfinity;
        for (int i = 0; i < limit; i++)
        {
            if (i == x1 || i == x2 || i == x3) continue;
            scores[i] = VectorOps.Dot(query, u.AsSpan(i * Dimension, Dimension), Simd.Best);
            top = MathF.Max(top, scores[i]);
        }
        int best = -1;
        float bestDistance = 0f;
        for (int i = 0; i < limit; i++)
        {
            if (i == x1 || i == x2 || i == x3 || scores[i] < top - 1e-4f) continue;
            float d = OrderedDot(query, u.AsSpan(i * Dimension, Dimension));
            if (d > bestDistance) { bestDistance = d; best = i; }
        }
        return best;
    }

    /// <summary>The <paramref name="k"/> words nearest to <paramref name="word"/> by cosine (itself excluded).</summary>
    public IReadOnlyList<(string Word, float Cosine)> Nearest(string word, int k = 10)
    {
        int row = Row(word);
        return Best(Unit().AsSpan(row * Dimension, Dimension).ToArray(), k, row, -1, -1);
    }

    /// <summary><c>a : b :: c : ?</c> — the <paramref name="k"/> words nearest to <c>b − a + c</c> on unit vectors (the three
    /// excluded), e.g. <c>Analogy("man", "king", "woman")</c> → queen.</summary>
    public IReadOnlyList<(string Word, float Cosine)> Analogy(string a, string b, string c, int k = 1)
    {
        int ia = Row(a), ib = Row(b), ic = Row(c);
        var u = Unit();
        var q = new float[Dimension];
        for (int d = 0; d < Dimension; d++) q[d] = u[ib * Dimension + d] - u[ia * Dimension + d] + u[ic * Dimension + d];
        return Best(q, k, ia, ib, ic);
    }

    private List<(string, float)> Best(float[] query, int k, int x1, int x2, int x3, int limit = int.MaxValue)
    {
        var u = Unit();
        double len = Math.Sqrt(VectorOps.Dot(query, query, Simd.Best));
        var best = new List<(string, float)>();
        int n = Math.Min(Words.Length, limit);
        for (int i = 0; i < n; i++)
        {
            if (i == x1 || i == x2 || i == x3) continue;
            float cos = (float)(VectorOps.Dot(query, u.AsSpan(i * Dimension, Dimension), Simd.Best) / (len > 0 ? len : 1));
            if (best.Count == k && cos <= best[^1].Item2) continue;
            int at = best.Count;
            while (at > 0 && best[at - 1].Item2 < cos) at--;
            best.Insert(at, (Words[i], cos));
            if (best.Count > k) best.RemoveAt(k);
        }
        return best;
    }

    /// <summary>The analogy evaluation of word2vec's <c>compute-accuracy</c> on a questions-words file (<c>: section</c>
    /// lines, then <c>a b c d</c>): words compared case-insensitively, only the <paramref name="threshold"/> most frequent
    /// words considered, a question counted only when its four words are among them; top-1 per section and in total.</summary>
    public AnalogyReport EvaluateAnalogies(IEnumerable<string> questions, int threshold = 30000)
    {
        ArgumentNullException.ThrowIfNull(questions);
        int limit = Math.Min(threshold, Words.Length);
        var lower = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < limit; i++) lower.TryAdd(Words[i].ToLowerInvariant(), i);
        var u = Unit();
        var sections = new List<AnalogySection>();
        string name = "";
        int seen = 0, correct = 0, total = 0;
        void Close() { if (name.Length > 0 || total > 0) sections.Add(new AnalogySection(name, total, seen, correct)); }
        var q = new float[Dimension];
        var scores = new float[limit];
        foreach (var line in questions)
        {
            if (line.StartsWith(':'))
            {
                Close();
                name = line.Substring(1).Trim(); seen = 0; correct = 0; total = 0;
                continue;
            }
            var w = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (w.Length != 4) continue;
            total++;
            int[] id = new int[4];
            bool all = true;
            for (int j = 0; j < 4; j++) all &= lower.TryGetValue(w[j].ToLowerInvariant(), out id[j]);
            if (!all) continue;
            seen++;
            for (int d = 0; d < Dimension; d++) q[d] = u[id[1] * Dimension + d] - u[id[0] * Dimension + d] + u[id[2] * Dimension + d];
            int answer = Answer(q, id[0], id[1], id[2], limit, scores);   // compared as the tool compares: upper-cased
            if (answer >= 0 && string.Equals(Words[answer], Words[id[3]], StringComparison.OrdinalIgnoreCase)) correct++;
        }
        Close();
        return new AnalogyReport(sections);
    }

    /// <summary>word2vec's text format: <c>words dimension</c>, then <c>word v1 … vD</c> per line.</summary>
    public void SaveText(string path) => AtomicFile.Write(path, "save word vectors to", s =>
    {
        using var w = new StreamWriter(s, new UTF8Encoding(false), 1 << 16, leaveOpen: true);
        w.Write(string.Create(CultureInfo.InvariantCulture, $"{Words.Length} {Dimension}\n"));
        for (int i = 0; i < Words.Length; i++)
        {
            w.Write(Words[i]);
            for (int d = 0; d < Dimension; d++) { w.Write(' '); w.Write(Vectors[i * Dimension + d].ToString("R", CultureInfo.InvariantCulture)); }
            w.Write('\n');
        }
    });

    /// <summary>word2vec's binary format (<c>-binary 1</c>): <c>words dimension\n</c>, then per word <c>word </c>, its
    /// floats little-endian, and <c>\n</c>.</summary>
    public void SaveBinary(string path) => AtomicFile.Write(path, "save word vectors to", s =>
    {
        using var w = new BinaryWriter(s, new UTF8Encoding(false), leaveOpen: true);
        w.Write(Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{Words.Length} {Dimension}\n")));
        var row = new byte[Dimension * 4];
        for (int i = 0; i < Words.Length; i++)
        {
            w.Write(Encoding.UTF8.GetBytes(Words[i] + " "));
            Buffer.BlockCopy(Vectors, i * Dimension * 4, row, 0, row.Length);
            if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("big-endian machines");
            w.Write(row);
            w.Write((byte)'\n');
        }
    });

    /// <summary>Reads a file in word2vec's text or binary format (told apart by the bytes after the header).</summary>
    /// <exception cref="InvalidDataException">The file is not one of them; the message says where it stops making sense.</exception>
    public static WordVectors Load(string path)
    {
        var bytes = File.ReadAllBytes(path);
        int at = 0;
        string header = ReadToken(bytes, ref at, path) + " " + ReadToken(bytes, ref at, path);
        var parts = header.Split(' ');
        if (!int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int count) || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int dim) || count < 1 || dim < 1)
            throw new InvalidDataException($"{path}: the header '{header}' is not '<words> <dimension>'");
        if (at < bytes.Length && bytes[at] == '\n') at++;
        var words = new string[count];
        var vectors = new float[(long)count * dim];
        // Binary when the bytes after the first word are not printable text.
        int probe = at;
        ReadToken(bytes, ref probe, path);
        bool binary = probe + 1 < bytes.Length && IsBinary(bytes, probe + 1, Math.Min(bytes.Length, probe + 1 + 4 * dim));
        for (int i = 0; i < count; i++)
        {
            words[i] = ReadToken(bytes, ref at, path);
            if (binary)
            {
                at++;   // the space after the word
                if (at + 4L * dim > bytes.Length) throw new InvalidDataException($"{path}: word {i} ('{words[i]}') at byte {at} needs {4 * dim} bytes of floats; the file ends at {bytes.Length}");
                Buffer.BlockCopy(bytes, at, vectors, i * dim * 4, 4 * dim);
                at += 4 * dim;
                if (at < bytes.Length && bytes[at] == '\n') at++;
            }
            else
                for (int d = 0; d < dim; d++)
                {
                    int start = at;
                    string tok = ReadToken(bytes, ref at, path);
                    if (!float.TryParse(tok, NumberStyles.Float, CultureInfo.InvariantCulture, out vectors[(long)i * dim + d]))
                        throw new InvalidDataException($"{path}: word {i} ('{words[i]}'), component {d} at byte {start}: '{tok}' is not a number");
                }
        }
        return new WordVectors(words, vectors, dim);
    }

    private static bool IsBinary(byte[] b, int from, int to)
    {
        for (int i = from; i < to; i++)
            if (b[i] < 0x20 && b[i] != (byte)'\n' && b[i] != (byte)'\r' && b[i] != (byte)'\t' || b[i] == 0x7F) return true;
        return false;
    }

    /// <summary>The next run of non-space bytes (spaces and newlines before it skipped).</summary>
    private static string ReadToken(byte[] b, ref int at, string path)
    {
        while (at < b.Length && (b[at] == ' ' || b[at] == '\n' || b[at] == '\r' || b[at] == '\t')) at++;
        int start = at;
        while (at < b.Length && b[at] != ' ' && b[at] != '\n' && b[at] != '\r' && b[at] != '\t') at++;
        if (at == start) throw new InvalidDataException($"{path}: expected a word or number at byte {start}; the file ends at {b.Length}");
        return Encoding.UTF8.GetString(b, start, at - start);
    }
}

/// <summary>One section of the analogy questions: all its questions, those whose four words are in the vocabulary, and
/// how many of those were answered right (top-1).</summary>
public sealed record AnalogySection(string Name, int Questions, int Seen, int Correct)
{
    /// <summary>Top-1 over the questions seen.</summary>
    public double Accuracy => Seen == 0 ? 0 : (double)Correct / Seen;
}

/// <summary>The analogy evaluation: per section and in total (over the questions seen, as compute-accuracy counts).</summary>
public sealed record AnalogyReport(IReadOnlyList<AnalogySection> Sections)
{
    /// <summary>Questions whose words are all in the vocabulary.</summary>
    public int Seen { get { int n = 0; foreach (var s in Sections) n += s.Seen; return n; } }
    /// <summary>Of those, answered right.</summary>
    public int Correct { get { int n = 0; foreach (var s in Sections) n += s.Correct; return n; } }
    /// <summary>Top-1 over all questions seen.</summary>
    public double Accuracy => Seen == 0 ? 0 : (double)Correct / Seen;
    /// <summary>The section named <paramref name="name"/> (e.g. <c>family</c>), or null.</summary>
    public AnalogySection? Section(string name) { foreach (var s in Sections) if (s.Name == name) return s; return null; }
}
