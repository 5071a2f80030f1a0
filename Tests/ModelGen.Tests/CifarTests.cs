using System;
using System.IO;
using System.Linq;
using ModelGen.Data;
using Xunit;

namespace ModelGen.Tests;

public sealed class CifarTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("modelgen-cifar-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Writes <paramref name="n"/> records: label i % 10, pixel p of record i = (i + p) % 256.</summary>
    private string WriteBatch(string name, int n, int firstIndex = 0)
    {
        var bytes = new byte[n * Cifar10.RecordSize];
        for (int i = 0; i < n; i++)
        {
            int o = i * Cifar10.RecordSize;
            bytes[o] = (byte)((firstIndex + i) % 10);
            for (int p = 0; p < 3072; p++) bytes[o + 1 + p] = (byte)((firstIndex + i + p) % 256);
        }
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void Reads_the_binary_format_channel_major()
    {
        var d = Cifar10.Read(WriteBatch("test_batch.bin", 3));
        Assert.Equal(3, d.Count);
        Assert.Equal(3072, d.FeatureSize);
        Assert.Equal(new[] { 0, 1, 2 }, d.Labels);
        Assert.Equal((1 + 1024) % 256 / 255f, d.Features[3072 + 1024]);   // record 1, first green pixel
    }

    [Fact]
    public void Loads_five_training_batches_in_order()
    {
        for (int b = 1; b <= 5; b++) WriteBatch($"data_batch_{b}.bin", 4, (b - 1) * 4);
        var train = Cifar10.Load(_dir, train: true);
        Assert.Equal(20, train.Count);
        Assert.Equal(Enumerable.Range(0, 20).Select(i => i % 10), train.Labels);
    }

    [Fact]
    public void Truncated_file_names_the_offset()
    {
        string path = WriteBatch("test_batch.bin", 2);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^100]);
        var e = Assert.Throws<InvalidDataException>(() => Cifar10.Read(path));
        Assert.Contains("byte offset 3073", e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void Bad_label_names_the_record()
    {
        string path = WriteBatch("test_batch.bin", 2);
        var bytes = File.ReadAllBytes(path);
        bytes[Cifar10.RecordSize] = 42;
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<InvalidDataException>(() => Cifar10.Read(path));
        Assert.Contains("record 1 (byte offset 3073) has label 42", e.Message);
    }

    [Fact]
    public void Missing_data_says_how_to_obtain_it()
    {
        var e = Assert.Throws<FileNotFoundException>(() => Cifar10.Load(_dir, train: false));
        Assert.Contains("cifar-10-binary", e.Message);
    }

    [Fact]
    public void Channel_standardisation_gives_zero_mean_unit_variance_per_channel()
    {
        var d = Cifar10.Read(WriteBatch("test_batch.bin", 7));
        var s = ChannelStandardizer.Fit(d, 3);
        s.Apply(d);
        for (int c = 0; c < 3; c++)
        {
            var v = Enumerable.Range(0, d.Count).SelectMany(i => d.Features.Skip(i * 3072 + c * 1024).Take(1024)).Select(x => (double)x).ToList();
            Assert.Equal(0, v.Average(), 4);
            Assert.Equal(1, Math.Sqrt(v.Select(x => x * x).Average()), 3);
        }
    }

    [Fact]
    public void Random_crop_and_flip_is_seeded_and_only_shifts_or_mirrors()
    {
        const int C = 2, H = 6, W = 5, pad = 2;
        var img = Enumerable.Range(0, C * H * W).Select(i => (float)(i + 1)).ToArray();
        var a = Enumerable.Repeat(img, 20).SelectMany(x => x).ToArray();
        var b = (float[])a.Clone();
        var r1 = new Rng(5); var r2 = new Rng(5);
        Augment.RandomCropFlip(a, 20, C, H, W, pad, ref r1);
        Augment.RandomCropFlip(b, 20, C, H, W, pad, ref r2);
        Assert.Equal(a, b);   // same seed, same augmentation
        bool sawFlip = false, sawShift = false;
        for (int i = 0; i < 20; i++)
        {
            var got = a.AsSpan(i * C * H * W, C * H * W).ToArray();
            bool matched = false;
            for (int dy = -pad; dy <= pad && !matched; dy++)
                for (int dx = -pad; dx <= pad && !matched; dx++)
                    foreach (bool flip in new[] { false, true })
                    {
                        bool ok = true;
                        for (int c = 0; c < C && ok; c++)
                            for (int y = 0; y < H && ok; y++)
                                for (int x = 0; x < W && ok; x++)
                                {
                                    int sy = y + dy, sx = (flip ? W - 1 - x : x) + dx;
                                    float expect = sy >= 0 && sy < H && sx >= 0 && sx < W ? img[(c * H + sy) * W + sx] : 0f;
                                    ok = got[(c * H + y) * W + x] == expect;
                                }
                        if (ok) { matched = true; sawFlip |= flip; sawShift |= dy != 0 || dx != 0; break; }
                    }
            Assert.True(matched, $"image {i} is not a padded crop / flip of the original");
        }
        Assert.True(sawFlip && sawShift);
    }
}
