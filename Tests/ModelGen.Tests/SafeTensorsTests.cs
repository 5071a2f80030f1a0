using System;
using System.Buffers.Binary;
using System.IO;
using System.Linq;
using System.Text;
using ModelGen.IO;
using ModelGen.Tests.Models;
using Xunit;

namespace ModelGen.Tests;

public sealed class SafeTensorsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("modelgen-st-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);
    private string PathOf(string name) => Path.Combine(_dir, name);

    [Fact]
    public void Round_trip_restores_every_parameter_and_the_predictions()
    {
        using var a = new GcWide(4, seed: 1);
        using var b = new GcWide(4, seed: 2);
        Assert.NotEqual(a.Parameters.ToArray(), b.Parameters.ToArray());
        a.Save(PathOf("w.safetensors"));
        b.Load(PathOf("w.safetensors"));
        Assert.Equal(a.Parameters.ToArray(), b.Parameters.ToArray());
        var x = Enumerable.Range(0, 37).Select(i => (float)Math.Cos(i)).ToArray();
        float[] ya = new float[19], yb = new float[19];
        a.Predict(x, ya); b.Predict(x, yb);
        Assert.Equal(ya, yb);
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp"));
    }

    /// <summary>The bytes follow the format exactly: checked against a header and data built by hand here.</summary>
    [Fact]
    public void File_layout_is_standard_safetensors()
    {
        using var net = new GcRelu(1, seed: 3);
        net.Save(PathOf("w.safetensors"));
        byte[] bytes = File.ReadAllBytes(PathOf("w.safetensors"));
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0UL, (8 + n) % 8);
        string header = Encoding.UTF8.GetString(bytes, 8, (int)n).TrimEnd(' ');
        Assert.Contains("\"A.weight\":{\"dtype\":\"F32\",\"shape\":[7,5],\"data_offsets\":[0,140]}", header);
        Assert.Contains("\"A.bias\":{\"dtype\":\"F32\",\"shape\":[7],\"data_offsets\":[140,168]}", header);
        Assert.Contains("\"B.weight\":{\"dtype\":\"F32\",\"shape\":[4,7],\"data_offsets\":[168,280]}", header);
        Assert.Contains("\"B.bias\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[280,296]}", header);
        Assert.Equal(8 + (long)n + 296, bytes.Length);
        float w0 = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(8 + (int)n));
        Assert.Equal(net.A.Weight[0], w0);
        float b3 = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(8 + (int)n + 280 + 12));
        Assert.Equal(net.B.Bias[3], b3);
    }

    /// <summary>A file written by another tool (keys in another order, extra metadata, no padding) loads.</summary>
    [Fact]
    public void Loads_a_file_written_by_another_writer()
    {
        using var net = new GcRelu(1, seed: 3);
        var values = Enumerable.Range(0, 35 + 7 + 28 + 4).Select(i => i * 0.5f - 3f).ToArray();
        string json = "{\"B.bias\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[280,296]},\"__metadata__\":{\"source\":\"torch\"}," +
                      "\"A.weight\":{\"dtype\":\"F32\",\"shape\":[7,5],\"data_offsets\":[0,140]},\"B.weight\":{\"dtype\":\"F32\",\"shape\":[4,7],\"data_offsets\":[168,280]}," +
                      "\"A.bias\":{\"dtype\":\"F32\",\"shape\":[7],\"data_offsets\":[140,168]}}";
        var h = Encoding.UTF8.GetBytes(json);
        var file = new byte[8 + h.Length + values.Length * 4];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)h.Length);
        h.CopyTo(file, 8);
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(file.AsSpan(8 + h.Length + 4 * i), values[i]);
        File.WriteAllBytes(PathOf("torch.safetensors"), file);
        net.Load(PathOf("torch.safetensors"));
        Assert.Equal(values.Take(35), net.A.Weight.ToArray());
        Assert.Equal(values.Skip(35).Take(7), net.A.Bias.ToArray());
        Assert.Equal(values.Skip(42).Take(28), net.B.Weight.ToArray());
        Assert.Equal(values.Skip(70), net.B.Bias.ToArray());
    }

    private void AssertRejected(Func<byte[], byte[]> corrupt, string expectedWords)
    {
        using var source = new GcRelu(1, seed: 5);
        source.Save(PathOf("good.safetensors"));
        File.WriteAllBytes(PathOf("bad.safetensors"), corrupt(File.ReadAllBytes(PathOf("good.safetensors"))));
        using var target = new GcRelu(1, seed: 6);
        var before = target.Parameters.ToArray();
        var e = Assert.Throws<InvalidDataException>(() => target.Load(PathOf("bad.safetensors")));
        Assert.Contains(expectedWords, e.Message);
        Assert.Contains("byte offset", e.Message);
        Assert.Contains("the model was not changed", e.Message);
        Assert.Equal(before, target.Parameters.ToArray());
    }

    private static byte[] ReplaceInHeader(byte[] file, string from, string to)
    {
        int n = (int)BinaryPrimitives.ReadUInt64LittleEndian(file);
        string header = Encoding.UTF8.GetString(file, 8, n);
        Assert.Contains(from, header);
        var h = Encoding.UTF8.GetBytes(header.Replace(from, to));
        var result = new byte[8 + h.Length + file.Length - 8 - n];
        BinaryPrimitives.WriteUInt64LittleEndian(result, (ulong)h.Length);
        h.CopyTo(result, 8);
        Array.Copy(file, 8 + n, result, 8 + h.Length, file.Length - 8 - n);
        return result;
    }

    [Fact] public void Truncated_data_is_rejected() => AssertRejected(f => f[..^10], "outside");
    [Fact] public void Truncated_header_is_rejected() => AssertRejected(f => f[..40], "header length");
    [Fact] public void Tiny_file_is_rejected() => AssertRejected(f => f[..5], "too short");
    [Fact] public void Corrupt_json_is_rejected() => AssertRejected(f => { f[8] = (byte)'#'; return f; }, "not valid JSON");
    [Fact] public void Wrong_shape_is_rejected() => AssertRejected(f => ReplaceInHeader(f, "\"shape\":[7,5]", "\"shape\":[5,7]"), "expected [7,5]");
    [Fact] public void Wrong_dtype_is_rejected() => AssertRejected(f => ReplaceInHeader(f, "\"A.bias\":{\"dtype\":\"F32\"", "\"A.bias\":{\"dtype\":\"F16\""), "dtype F16");
    [Fact] public void Missing_tensor_is_rejected() => AssertRejected(f => ReplaceInHeader(f, "\"B.bias\"", "\"B.other\""), "not a parameter");
    [Fact] public void Wrong_byte_count_is_rejected() => AssertRejected(f => ReplaceInHeader(f, "[280,296]", "[280,292]"), "spans 12 bytes");

    [Fact]
    public void Missing_file_is_a_clear_error()
    {
        using var net = new GcRelu(1);
        var e = Assert.Throws<FileNotFoundException>(() => net.Load(PathOf("nope.safetensors")));
        Assert.Contains("nope.safetensors", e.Message);
    }

    [Fact]
    public void Failed_save_leaves_the_existing_file_and_no_temporary()
    {
        using var net = new GcRelu(1, seed: 8);
        string path = PathOf("w.safetensors");
        net.Save(path);
        byte[] before = File.ReadAllBytes(path);
        // A tensor table that points past the parameters makes the write fail half-way through the data.
        var broken = net.Tensors.Take(2).Append(new TensorInfo("Oops", new[] { 1000 }, net.Parameters.Length - 10, 1000, true)).ToList();
        Assert.ThrowsAny<ArgumentException>(() => SafeTensors.Save(path, broken, net.Parameters));
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(_dir));
    }
}
