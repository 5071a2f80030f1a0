using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Text;

namespace ModelGen.Data;

/// <summary>
/// Word ids for an <c>[Embedding]</c>: id 0 is padding (<c>MaskZero</c>), id 1 stands for every word outside the
/// vocabulary, then the words by decreasing frequency (ties in ordinal order, so the ids do not depend on the order the
/// text was read in). Words are what <see cref="Tokenize"/> gives: runs of characters other than white space.
/// </summary>
public sealed class Vocabulary
{
    /// <summary>The padding id (masked by an embedding with <c>MaskZero</c>).</summary>
    public const int Padding = 0;
    /// <summary>The id of every word that is not in the vocabulary.</summary>
    public const int Unknown = 1;

    private readonly string[] _words;
    private readonly Dictionary<string, int> _ids;

    private Vocabulary(string[] words)
    {
        _words = words;
        _ids = new Dictionary<string, int>(words.Length, StringComparer.Ordinal);
        for (int i = 2; i < words.Length; i++) _ids.Add(words[i], i);
    }

    /// <summary>The <paramref name="maxSize"/> − 2 most frequent words of <paramref name="lines"/> that occur at least
    /// <paramref name="minCount"/> times, after the two reserved ids.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxSize"/> is below 3 or <paramref name="minCount"/> below 1.</exception>
    public static Vocabulary Build(IEnumerable<string> lines, int maxSize, int minCount = 1)
    {
        ArgumentNullException.ThrowIfNull(lines);
        if (maxSize < 3) throw new ArgumentOutOfRangeException(nameof(maxSize), maxSize, "a vocabulary holds padding, unknown and at least one word");
        if (minCount < 1) throw new ArgumentOutOfRangeException(nameof(minCount), minCount, "minCount must be at least 1");
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var line in lines)
            foreach (var word in Tokenize(line))
                counts[word] = counts.TryGetValue(word, out int c) ? c + 1 : 1;
        var ranked = new List<KeyValuePair<string, int>>();
        foreach (var kv in counts) if (kv.Value >= minCount) ranked.Add(kv);
        ranked.Sort((a, b) => a.Value != b.Value ? b.Value.CompareTo(a.Value) : string.CompareOrdinal(a.Key, b.Key));
        int n = Math.Min(ranked.Count, maxSize - 2);
        var words = new string[n + 2];
        words[Padding] = "<pad>";
        words[Unknown] = "<unk>";
        for (int i = 0; i < n; i++) words[i + 2] = ranked[i].Key;
        return new Vocabulary(words);
    }

    /// <summary>Ids, the two reserved ones included (the embedding's vocabulary size).</summary>
    public int Count => _words.Length;

    /// <summary>The word of <paramref name="id"/> (<c>&lt;pad&gt;</c>, <c>&lt;unk&gt;</c> for the reserved ids).</summary>
    public string this[int id] => _words[id];

    /// <summary>The id of <paramref name="word"/>, or <see cref="Unknown"/>.</summary>
    public int IdOf(string word) => _ids.TryGetValue(word, out int id) ? id : Unknown;

    /// <summary>The first <c>ids.Length</c> words of <paramref name="line"/> as ids (floats, as the network input takes
    /// them), padded with <see cref="Padding"/> after the last word. Returns the number of words written.</summary>
    public int Encode(string line, Span<float> ids)
    {
        int n = 0;
        foreach (var word in Tokenize(line))
        {
            if (n == ids.Length) break;
            ids[n++] = IdOf(word);
        }
        ids.Slice(n).Fill(Padding);
        return n;
    }

    /// <summary>The words of <paramref name="line"/>: maximal runs of non-white-space characters.</summary>
    public static IEnumerable<string> Tokenize(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        int i = 0;
        while (i < line.Length)
        {
            while (i < line.Length && char.IsWhiteSpace(line[i])) i++;
            int start = i;
            while (i < line.Length && !char.IsWhiteSpace(line[i])) i++;
            if (i > start) yield return line.Substring(start, i - start);
        }
    }

    /// <summary>The lines of a UTF-8 text file, plain or gzip-compressed (<c>.gz</c>).</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">A <c>.gz</c> file is not gzip data.</exception>
    public static List<string> ReadLines(string path)
    {
        using var file = File.OpenRead(path);
        using Stream s = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionMode.Decompress) : file;
        using var reader = new StreamReader(s, Encoding.UTF8);
        var lines = new List<string>();
        for (string? line; (line = reader.ReadLine()) is not null;) lines.Add(line);
        return lines;
    }
}
