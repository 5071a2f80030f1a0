using System;
using System.IO;

namespace ModelGen.Data;

/// <summary>
/// CIFAR-10 in its binary format: files of records <c>1 label byte + 3,072 pixel bytes</c> (1,024 red, then green,
/// then blue, each row-major 32×32) — already the <c>[3, 32, 32]</c> channel-major order the networks take.
/// Training: <c>data_batch_1.bin</c> … <c>data_batch_5.bin</c> (50,000 images); test: <c>test_batch.bin</c> (10,000).
/// </summary>
public static class Cifar10
{
    /// <summary>Bytes per record.</summary>
    public const int RecordSize = 1 + 3 * 32 * 32;

    /// <summary>Class names, by label.</summary>
    public static readonly string[] Classes = { "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck" };

    /// <summary>How to get the data (it cannot be downloaded at run time).</summary>
    public const string HowToObtain =
        "CIFAR-10 is not shipped with ModelGen. Download the binary version (cifar-10-binary.tar.gz, https://www.cs.toronto.edu/~kriz/cifar.html), " +
        "extract it, and pass the folder holding data_batch_1.bin … data_batch_5.bin and test_batch.bin.";

    /// <summary>The training set (the five data batches) or the test set from <paramref name="dir"/>, pixels scaled to [0, 1].</summary>
    /// <exception cref="System.IO.FileNotFoundException">A batch file is missing (the message says where CIFAR-10 comes from).</exception>
    /// <exception cref="System.IO.InvalidDataException">A batch file is truncated or holds a label that is not 0..9 (the message names the byte offset).</exception>
    public static Dataset Load(string dir, bool train)
    {
        var files = train
            ? new[] { "data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin" }
            : new[] { "test_batch.bin" };
        foreach (var f in files)
            if (!File.Exists(Path.Combine(dir, f)))
                throw new FileNotFoundException($"{Path.Combine(dir, f)} not found. {HowToObtain}", Path.Combine(dir, f));
        var parts = Array.ConvertAll(files, f => Read(Path.Combine(dir, f)));
        int count = 0;
        foreach (var p in parts) count += p.Labels!.Length;
        var x = new float[(long)count * 3072];
        var y = new int[count];
        int at = 0;
        foreach (var p in parts)
        {
            Array.Copy(p.Features, 0, x, (long)at * 3072, p.Features.Length);
            Array.Copy(p.Labels!, 0, y, at, p.Labels!.Length);
            at += p.Labels!.Length;
        }
        return new Dataset(x, 3072, y);
    }

    /// <summary>One file of records; a truncated file or a bad label is an error naming the file and byte offset.</summary>
    /// <exception cref="System.IO.FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="System.IO.InvalidDataException">The file is truncated or holds a label that is not 0..9 (the message names the byte offset).</exception>
    public static Dataset Read(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length == 0 || bytes.Length % RecordSize != 0)
            throw new InvalidDataException($"{path}: {bytes.Length} bytes is not a whole number of {RecordSize}-byte CIFAR-10 records " +
                $"(the last record, at byte offset {bytes.Length / RecordSize * RecordSize}, is truncated)");
        int n = bytes.Length / RecordSize;
        var x = new float[(long)n * 3072];
        var y = new int[n];
        for (int i = 0; i < n; i++)
        {
            int o = i * RecordSize;
            if (bytes[o] > 9) throw new InvalidDataException($"{path}: record {i} (byte offset {o}) has label {bytes[o]}; CIFAR-10 labels are 0..9");
            y[i] = bytes[o];
            for (int p = 0; p < 3072; p++) x[(long)i * 3072 + p] = bytes[o + 1 + p] * (1f / 255f);
        }
        return new Dataset(x, 3072, y);
    }
}
