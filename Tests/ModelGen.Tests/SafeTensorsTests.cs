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

    [Fact] public void Truncated_data_is_rejected() => AssertRejected(f => f[..^10], "truncated");
    [Fact] public void Truncated_header_is_rejected() => AssertRejected(f => f[..40], "header length");
    [Fact] public void Tiny_file_is_rejected() => AssertRejected(f => f[..5], "too short");
    [Fact] public void Corrupt_json_is_rejected() => AssertRejected(f => { f[8] = (byte)'#'; return f; }, "not valid JSON");
    [Fact] public void Wrong_shape_is_rejected() => AssertRejected(f => ReplaceInHeader(f, "\"shape\":[7,5]", "\"shape\":[5,7]"), "expected [7,5]");
    [Fact] public void Wrong_dtype_is_rejected() => AssertRejected(f => ReplaceInHeader(f, "\"A.bias\":{\"dtype\":\"F32\"", "\"A.bias\":{\"dtype\":\"F16\""), "F16 [7]: 14 bytes");
    [Fact] public void Missing_tensor_is_rejected() => AssertRejected(f => ReplaceInHeader(f, "\"B.bias\"", "\"B.other\""), "not a parameter");
    [Fact] public void Wrong_byte_count_is_rejected() => AssertRejected(f => ReplaceInHeader(f, "[280,296]", "[280,292]"), "spanning 12 bytes");

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

    // ── The layout of the data: the reference implementation's rules ─────────────────────────────────────

    /// <summary>A safetensors file from (name, dtype, shape, data_offsets) and raw data bytes.</summary>
    private string Write(string name, byte[] data, params (string Name, string DType, int[] Shape, long Begin, long End)[] tensors)
    {
        string json = "{" + string.Join(",", tensors.Select(t =>
            $"\"{t.Name}\":{{\"dtype\":\"{t.DType}\",\"shape\":[{string.Join(",", t.Shape)}],\"data_offsets\":[{t.Begin},{t.End}]}}")) + "}";
        var h = Encoding.UTF8.GetBytes(json);
        var file = new byte[8 + h.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)h.Length);
        h.CopyTo(file, 8);
        data.CopyTo(file, 8 + h.Length);
        File.WriteAllBytes(PathOf(name), file);
        return PathOf(name);
    }

    private static byte[] F32(params float[] v) { var b = new byte[v.Length * 4]; for (int i = 0; i < v.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(4 * i), v[i]); return b; }

    /// <summary>GcRelu's four tensors in F32: A.weight [7,5] 140 bytes, A.bias [7] 28, B.weight [4,7] 112, B.bias [4] 16.</summary>
    private static (string, string, int[], long, long)[] Layout(long aw = 0, long ab = 140, long bw = 168, long bb = 280) => new[]
    {
        ("A.weight", "F32", new[] { 7, 5 }, aw, aw + 140), ("A.bias", "F32", new[] { 7 }, ab, ab + 28),
        ("B.weight", "F32", new[] { 4, 7 }, bw, bw + 112), ("B.bias", "F32", new[] { 4 }, bb, bb + 16),
    };

    private static void AssertRejects(string path, params string[] words)
    {
        using var net = new GcRelu(1, seed: 6);
        var before = net.Parameters.ToArray();
        var e = Assert.Throws<InvalidDataException>(() => net.Load(path));
        foreach (var w in words) Assert.Contains(w, e.Message);
        Assert.Contains("the model was not changed", e.Message);
        Assert.Equal(before, net.Parameters.ToArray());
    }

    [Fact]
    public void A_file_laid_out_by_hand_in_any_order_loads() =>
        new GcRelu(1).Load(Write("ok.safetensors", F32(new float[74]), Layout(aw: 156, ab: 0, bw: 28, bb: 140)));

    [Fact]
    public void Overlapping_data_offsets_are_rejected_naming_both_tensors()
    {
        // B.bias over the start of A.weight (and a gap where B.bias should be, so the sizes still add up).
        var t = Layout();
        t[3] = ("B.bias", "F32", new[] { 4 }, 0, 16);
        AssertRejects(Write("overlap.safetensors", F32(new float[74]), t), "overlap", "'B.bias'", "'A.weight'");
    }

    [Fact]
    public void Trailing_bytes_after_the_data_are_rejected() =>
        AssertRejects(Write("trailing.safetensors", F32(new float[75]), Layout()), "4 bytes after the last tensor");

    [Fact]
    public void A_gap_between_tensors_is_rejected()
    {
        var t = Layout(bb: 284);
        AssertRejects(Write("gap.safetensors", F32(new float[75]), t), "data bytes [280, 284) belong to no tensor");
    }

    [Fact]
    public void Reversed_data_offsets_are_rejected_as_such()
    {
        var t = Layout();
        t[1] = ("A.bias", "F32", new[] { 7 }, 168, 140);
        AssertRejects(Write("reversed.safetensors", F32(new float[74]), t), "reversed data_offsets [168, 140]");
    }

    [Fact]
    public void An_unknown_dtype_is_rejected()
    {
        var t = Layout();
        t[3] = ("B.bias", "Q4", new[] { 4 }, 280, 296);
        AssertRejects(Write("dtype.safetensors", F32(new float[74]), t), "unknown dtype 'Q4'");
    }

    // ── Other precisions, and subsets ───────────────────────────────────────────────────────────────────

    [Theory]
    [InlineData("F16")]
    [InlineData("BF16")]
    [InlineData("F64")]
    public void F16_BF16_and_F64_convert_on_load_when_asked(string dtype)
    {
        using var source = new GcRelu(1, seed: 9);
        var values = source.Parameters.ToArray();
        int size = dtype == "F64" ? 8 : 2;
        var tensors = source.Tensors;
        var data = new byte[tensors.Sum(t => t.Length) * size];
        var layout = new (string, string, int[], long, long)[tensors.Count];
        long at = 0;
        var expected = new float[values.Length];
        for (int k = 0; k < tensors.Count; k++)
        {
            var t = tensors[k];
            for (int i = 0; i < t.Length; i++)
            {
                float v = values[t.Offset + i];
                var dst = data.AsSpan((int)at + i * size);
                switch (dtype)
                {
                    case "F16": BinaryPrimitives.WriteHalfLittleEndian(dst, (Half)v); expected[t.Offset + i] = (float)(Half)v; break;
                    case "BF16":
                        ushort bits = (ushort)(BitConverter.SingleToInt32Bits(v) >> 16);   // truncation, exactly representable
                        BinaryPrimitives.WriteUInt16LittleEndian(dst, bits); expected[t.Offset + i] = BitConverter.Int32BitsToSingle(bits << 16); break;
                    default: BinaryPrimitives.WriteDoubleLittleEndian(dst, v); expected[t.Offset + i] = v; break;
                }
            }
            layout[k] = (t.Name, dtype, t.Shape, at, at + (long)t.Length * size);
            at += (long)t.Length * size;
        }
        string path = Write(dtype + ".safetensors", data, layout);
        AssertRejects(path, $"dtype {dtype}, expected F32", "ConvertToFloat32 = true");
        using var target = new GcRelu(1, seed: 10);
        var report = target.Load(path, new LoadOptions { ConvertToFloat32 = true });
        Assert.Equal(tensors.Select(t => t.Name), report.Converted);
        foreach (var t in tensors)
            Assert.Equal(expected.AsSpan(t.Offset, t.Length).ToArray(), target.Parameters.Slice(t.Offset, t.Length).ToArray());
    }

    [Fact]
    public void An_F64_value_beyond_F32_is_an_error_naming_the_element()
    {
        var data = new byte[74 * 8];
        BinaryPrimitives.WriteDoubleLittleEndian(data.AsSpan(8 * 3), 1e300);
        var t = new (string, string, int[], long, long)[]
        {
            ("A.weight", "F64", new[] { 7, 5 }, 0, 280), ("A.bias", "F64", new[] { 7 }, 280, 336),
            ("B.weight", "F64", new[] { 4, 7 }, 336, 560), ("B.bias", "F64", new[] { 4 }, 560, 592),
        };
        string path = Write("big.safetensors", data, t);
        using var net = new GcRelu(1, seed: 6);
        var before = net.Parameters.ToArray();
        var e = Assert.Throws<InvalidDataException>(() => net.Load(path, new LoadOptions { ConvertToFloat32 = true }));
        Assert.Contains("'A.weight' element 3 = 1E+300 is beyond the range of F32", e.Message);
        Assert.Equal(before, net.Parameters.ToArray());
    }

    [Fact]
    public void Strict_false_loads_a_subset_of_a_larger_file_and_reports_what_it_skipped_and_missed()
    {
        // A file with A's tensors, an extra head and an int64 step counter; B's tensors absent.
        var data = F32(Enumerable.Range(0, 35 + 7 + 6).Select(i => (float)i).ToArray()).Concat(new byte[8]).ToArray();
        string path = Write("big.safetensors", data,
            ("A.weight", "F32", new[] { 7, 5 }, 0, 140), ("A.bias", "F32", new[] { 7 }, 140, 168),
            ("Head.weight", "F32", new[] { 6 }, 168, 192), ("Bn.num_batches_tracked", "I64", Array.Empty<int>(), 192, 200));
        AssertRejects(path, "'Head.weight' is not a parameter of this model", "Strict = false");
        using var net = new GcRelu(1, seed: 11);
        var bBefore = net.B.Weight.ToArray();
        var report = net.Load(path, new LoadOptions { Strict = false });
        Assert.Equal(new[] { "A.weight", "A.bias" }, report.Loaded);
        Assert.Equal(new[] { "Head.weight", "Bn.num_batches_tracked" }, report.Skipped);
        Assert.Equal(new[] { "B.weight", "B.bias" }, report.Missing);
        Assert.Equal(Enumerable.Range(0, 35).Select(i => (float)i), net.A.Weight.ToArray());
        Assert.Equal(bBefore, net.B.Weight.ToArray());
    }

    // ── Messages in the user's terms ─────────────────────────────────────────────────────────────────────

    [Fact]
    public void Loading_a_directory_says_it_is_a_directory()
    {
        using var net = new GcRelu(1);
        var e = Assert.Throws<ArgumentException>(() => net.Load(_dir));
        Assert.Contains("is a directory, not a safetensors file", e.Message);
    }

    [Fact]
    public void A_failed_save_names_the_target_not_the_temporary_file()
    {
        using var net = new GcRelu(1);
        string target = Path.Combine(_dir, "no-such-folder", "m.safetensors");
        var e = Assert.Throws<DirectoryNotFoundException>(() => net.Save(target));
        Assert.Contains("cannot save " + target, e.Message);
        Assert.Contains("does not exist", e.Message);
        Assert.DoesNotContain(".tmp", e.Message);
        var dir = Assert.Throws<ArgumentException>(() => net.Save(_dir));
        Assert.Contains("it is a directory", dir.Message);
    }

    [Fact]
    public void FromFile_builds_the_saved_model_without_random_initialisation_and_reports_bad_files()
    {
        using var source = new GcWide(4, seed: 21);
        string path = PathOf("w.safetensors");
        source.Save(path);
        using var loaded = GcWide.FromFile(path, maxBatch: 4);
        Assert.Equal(source.Parameters.ToArray(), loaded.Parameters.ToArray());
        var x = Enumerable.Range(0, 2 * 37).Select(i => (float)Math.Sin(i)).ToArray();
        float[] a = new float[2 * 19], b = new float[2 * 19];
        source.Predict(x, a); loaded.Predict(x, b);
        Assert.Equal(a, b);
        File.WriteAllBytes(PathOf("bad.safetensors"), File.ReadAllBytes(path)[..^4]);
        Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => GcWide.FromFile(PathOf("bad.safetensors"))).Message);
        Assert.Throws<FileNotFoundException>(() => GcWide.FromFile(PathOf("none.safetensors")));
    }
    /// <summary>A model built by FromFile runs on the file's weights at every batch path from its first call. Its constructor's
    /// warm-up packs weights from the zeros it starts with — a recurrent layer's transposes for batch 1 and its GEMM panels
    /// for batches, a Winograd convolution's transformed filters — and loading the file must mark them stale. Nothing here
    /// reads <c>Parameters</c> first (which marks them itself, and hid this).</summary>
    [Fact]
    public void A_model_from_a_file_repacks_the_weights_its_warm_up_packed_from_zeros()
    {
        static void Check(INetwork source, Action<string> save, Func<string, INetwork> load, string path, Func<int, float> input)
        {
            save(path);
            using var loaded = (IDisposable)load(path);
            var net = (INetwork)loaded;
            SamePredictions(net, source, input, "the source");
        }
        using (var gru = new GcEmbedGru(4, seed: 3)) Check(gru, gru.Save, p => GcEmbedGru.FromFile(p, 4), PathOf("gru.safetensors"), i => i * 5 % 9);
        using (var conv = new GcWinograd(4, seed: 3)) Check(conv, conv.Save, p => GcWinograd.FromFile(p, 4), PathOf("winograd.safetensors"), i => MathF.Sin(i));
    }

    /// <summary><paramref name="net"/> predicts what <paramref name="expected"/> does, bit for bit, at batch 1 (the
    /// batch-1 path and its packed weights) and batch 3 (the panel path).</summary>
    private static void SamePredictions(INetwork net, INetwork expected, Func<int, float> input, string what)
    {
        foreach (int batch in new[] { 1, 3 })
        {
            var x = Enumerable.Range(0, batch * net.InputSize).Select(input).ToArray();
            float[] a = new float[batch * net.OutputSize], b = new float[a.Length];
            net.Predict(x, a);
            expected.Predict(x, b);
            Assert.True(a.SequenceEqual(b), $"{net.GetType().Name} at batch {batch}: [{string.Join(", ", a)}], {what} gives [{string.Join(", ", b)}]");
        }
    }

    /// <summary>The contract of <c>Parameters</c> (its XML doc): reading it marks the parameters changed, so the weights
    /// derived from them (batch-1 transposes, Winograd transforms, panels) are rebuilt at the next call. Written through
    /// a view taken before a call, the writes reach the next call once <c>Parameters</c> is read again — and then equal a
    /// fresh model's with the same weights, at batch 1 and 3.</summary>
    [Fact]
    public void Writes_through_an_older_parameters_view_reach_the_next_call_once_parameters_is_read_again()
    {
        static void Check(INetwork net, INetwork fresh, Func<int, float> input)
        {
            var view = net.Parameters;
            foreach (int batch in new[] { 1, 3 }) net.Predict(Enumerable.Range(0, batch * net.InputSize).Select(input).ToArray(), new float[batch * net.OutputSize]);
            for (int i = 0; i < view.Length; i++) view[i] = view[i] * -1.5f + 0.01f;   // after the calls packed the old weights
            _ = net.Parameters;                                                          // the documented step: read it again
            view.CopyTo(fresh.Parameters);
            SamePredictions(net, fresh, input, "a fresh model with the written weights");
        }
        using (GcEmbedGru gru = new(4, seed: 3), fresh = new(4, seed: 9)) Check(gru, fresh, i => i * 5 % 9);
        using (GcWinograd conv = new(4, seed: 3), fresh = new(4, seed: 9)) Check(conv, fresh, i => MathF.Sin(i));
        using (GcOddPanels rec = new(4, seed: 3), fresh = new(4, seed: 9)) Check(rec, fresh, i => MathF.Cos(i));
    }
}
