using System;
using System.IO;
using System.IO.Compression;

namespace ModelGen.Data;

/// <summary>
/// Reads the IDX files of MNIST and Fashion-MNIST (plain or <c>.gz</c>): a big-endian header
/// (magic <c>0x00000803</c> images / <c>0x00000801</c> labels, count, rows, cols) and uint8 data.
/// </summary>
public static class Idx
{
    /// <summary>Images as floats in [0, 1], row-major <c>[count, rows·cols]</c>.</summary>
    /// <exception cref="System.IO.FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="System.IO.InvalidDataException">The file is not IDX images (magic number), is not gzip when named .gz, or is truncated (the message names the sizes).</exception>
    public static float[] ReadImages(string path, out int rows, out int cols)
    {
        byte[] data = ReadAll(path);
        if (data.Length < 16) throw new InvalidDataException($"{path}: {data.Length} bytes is too short for an IDX image header (16 bytes)");
        int magic = BigEndian(data, 0);
        if (magic != 0x0803) throw new InvalidDataException($"{path}: magic number at offset 0 is 0x{magic:X8}, expected 0x00000803 (IDX images)");
        int count = BigEndian(data, 4);
        rows = BigEndian(data, 8);
        cols = BigEndian(data, 12);
        long expected = 16L + (long)count * rows * cols;
        if (count < 0 || rows <= 0 || cols <= 0 || data.Length < expected)
            throw new InvalidDataException($"{path}: header says {count} images of {rows}x{cols} ({expected} bytes) but the file has {data.Length} bytes");
        var images = new float[(long)count * rows * cols];
        for (long i = 0; i < images.Length; i++) images[i] = data[16 + i] * (1f / 255f);
        return images;
    }

    /// <summary>Labels as integers, each checked to be a class index below <paramref name="classes"/> (10 for MNIST and
    /// Fashion-MNIST; pass the count for other IDX sets).</summary>
    /// <exception cref="InvalidDataException">The file is not IDX labels, is truncated, or holds a label ≥ <paramref name="classes"/>
    /// (the message names the byte offset and the sample).</exception>
    public static int[] ReadLabels(string path, int classes = 10)
    {
        if (classes < 1 || classes > 256) throw new ArgumentOutOfRangeException(nameof(classes), classes, "IDX labels are bytes: 1..256 classes");
        byte[] data = ReadAll(path);
        if (data.Length < 8) throw new InvalidDataException($"{path}: {data.Length} bytes is too short for an IDX label header (8 bytes)");
        int magic = BigEndian(data, 0);
        if (magic != 0x0801) throw new InvalidDataException($"{path}: magic number at offset 0 is 0x{magic:X8}, expected 0x00000801 (IDX labels)");
        int count = BigEndian(data, 4);
        if (count < 0 || data.Length < 8L + count)
            throw new InvalidDataException($"{path}: header says {count} labels but the file has {data.Length - 8} bytes of data");
        var labels = new int[count];
        for (int i = 0; i < count; i++)
        {
            labels[i] = data[8 + i];
            if (labels[i] >= classes)
                throw new InvalidDataException($"{path}: label {labels[i]} at byte offset {8 + i} (sample {i}) is not one of the {classes} classes 0..{classes - 1}");
        }
        return labels;
    }

    /// <summary>An image file and its label file as one classification set of <paramref name="classes"/> classes.</summary>
    /// <exception cref="FileNotFoundException">A file is missing.</exception>
    /// <exception cref="InvalidDataException">A file is not IDX, is truncated, holds a label ≥ <paramref name="classes"/>, or the counts differ.</exception>
    public static Dataset Load(string imagesPath, string labelsPath, int classes = 10)
    {
        var images = ReadImages(imagesPath, out int rows, out int cols);
        var labels = ReadLabels(labelsPath, classes);
        if (images.Length / (rows * cols) != labels.Length)
            throw new InvalidDataException($"{imagesPath} holds {images.Length / (rows * cols)} images but {labelsPath} holds {labels.Length} labels");
        return new Dataset(images, rows * cols, labels);
    }

    private static int BigEndian(byte[] b, int o) => (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];

    private static byte[] ReadAll(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"IDX file not found: {path}", path);
        using var file = File.OpenRead(path);
        using var ms = new MemoryStream();
        bool gz = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase);
        try
        {
            if (gz) { using var z = new GZipStream(file, CompressionMode.Decompress); z.CopyTo(ms); }
            else file.CopyTo(ms);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: not a valid gzip stream ({e.Message})", e);
        }
        return ms.ToArray();
    }
}
