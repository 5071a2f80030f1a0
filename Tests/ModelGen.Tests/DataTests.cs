using System;
using System.IO;
using System.IO.Compression;
using ModelGen.Data;
using Xunit;

namespace ModelGen.Tests;

public sealed class DataTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("modelgen-idx-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Reads_the_shipped_mnist_files()
    {
        string dir = Path.Combine(AppContext.BaseDirectory, "data", "mnist");
        var test = Idx.Load(Path.Combine(dir, "t10k-images-idx3-ubyte.gz"), Path.Combine(dir, "t10k-labels-idx1-ubyte.gz"));
        Assert.Equal(10000, test.Count);
        Assert.Equal(784, test.FeatureSize);
        var counts = new int[10];
        foreach (var l in test.Labels!) counts[l]++;
        Assert.Equal(new[] { 980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009 }, counts); // from the data's README
        Assert.InRange(test.Features[0], 0f, 1f);
    }

    private string Write(string name, byte[] bytes, bool gz)
    {
        string path = Path.Combine(_dir, name + (gz ? ".gz" : ""));
        if (!gz) { File.WriteAllBytes(path, bytes); return path; }
        using var f = File.Create(path);
        using var z = new GZipStream(f, CompressionLevel.Fastest);
        z.Write(bytes);
        return path;
    }

    private static byte[] Images(int count, int rows, int cols, int dataBytes)
    {
        var b = new byte[16 + dataBytes];
        void Put(int o, int v) { b[o] = (byte)(v >> 24); b[o + 1] = (byte)(v >> 16); b[o + 2] = (byte)(v >> 8); b[o + 3] = (byte)v; }
        Put(0, 0x803); Put(4, count); Put(8, rows); Put(12, cols);
        for (int i = 16; i < b.Length; i++) b[i] = (byte)i;
        return b;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Reads_plain_and_gzipped_files(bool gz)
    {
        var images = Idx.ReadImages(Write("img", Images(2, 2, 3, 12), gz), out int rows, out int cols);
        Assert.Equal((2, 3), (rows, cols));
        Assert.Equal(12, images.Length);
        Assert.Equal(16 / 255f, images[0]);
    }

    [Fact]
    public void Truncated_image_file_names_the_sizes()
    {
        var e = Assert.Throws<InvalidDataException>(() => Idx.ReadImages(Write("img", Images(3, 28, 28, 100), true), out _, out _));
        Assert.Contains("3 images of 28x28", e.Message);
    }

    [Fact]
    public void Wrong_magic_is_rejected()
    {
        var bytes = Images(1, 1, 1, 1);
        bytes[3] = 0x01;
        var e = Assert.Throws<InvalidDataException>(() => Idx.ReadImages(Write("img", bytes, false), out _, out _));
        Assert.Contains("magic", e.Message);
        Assert.Contains("offset 0", e.Message);
    }

    [Fact]
    public void Labels_and_images_must_agree()
    {
        var labels = new byte[8 + 3];
        labels[2] = 0x08; labels[3] = 0x01; labels[7] = 3;
        var e = Assert.Throws<InvalidDataException>(() => Idx.Load(Write("img", Images(2, 1, 1, 2), false), Write("lbl", labels, false)));
        Assert.Contains("2 images", e.Message);
    }

    [Fact]
    public void Not_gzip_is_a_clear_error()
    {
        string path = Path.Combine(_dir, "x.gz");
        File.WriteAllText(path, "not gzip at all");
        var e = Assert.Throws<InvalidDataException>(() => Idx.ReadLabels(path));
        Assert.Contains("gzip", e.Message);
    }

    [Fact]
    public void An_IDX_label_that_is_not_a_class_names_its_byte_offset_and_sample()
    {
        var labels = new byte[8 + 600];
        labels[2] = 0x08; labels[3] = 0x01; labels[6] = 0x02; labels[7] = 0x58;   // 600 labels
        labels[8 + 500] = 200;
        var e = Assert.Throws<InvalidDataException>(() => Idx.ReadLabels(Write("lbl", labels, false)));
        Assert.Contains("label 200 at byte offset 508 (sample 500) is not one of the 10 classes", e.Message);
        Assert.Equal(200, Idx.ReadLabels(Write("lbl2", labels, false), classes: 256)[500]);   // a 256-class set says so
    }

    [Fact]
    public void A_CSV_label_too_large_for_a_class_index_is_rejected_not_saturated()
    {
        string path = Path.Combine(_dir, "big.csv");
        File.WriteAllText(path, "0.5,1\n0.25,1e12\n");
        var e = Assert.Throws<InvalidDataException>(() => Csv.LoadClassification(path));
        Assert.Contains("row 2 has label 1E+12, not a class index", e.Message);
    }

    [Fact]
    public void A_one_column_CSV_says_what_a_classification_table_needs()
    {
        string path = Path.Combine(_dir, "one.csv");
        File.WriteAllText(path, "1\n2\n");
        var e = Assert.Throws<InvalidDataException>(() => Csv.LoadClassification(path));
        Assert.Contains("rows have 1 column; a classification table needs feature columns and the label in the last column", e.Message);
    }
}
