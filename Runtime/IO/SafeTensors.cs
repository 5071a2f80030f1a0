using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Text.Json;

namespace ModelGen.IO;

/// <summary>
/// The safetensors format (Hugging Face): an 8-byte little-endian header length N, N bytes of JSON
/// <c>{"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, "__metadata__": {...}}</c>,
/// then the raw little-endian tensor bytes, offsets relative to the end of the header.
/// Written to a temporary file and renamed, so a failure never leaves a half-written file; read fully and
/// checked before anything is copied, so a failed load leaves the model unchanged.
/// </summary>
public static class SafeTensors
{
    /// <summary>Writes <paramref name="tensors"/> taken from <paramref name="parameters"/> to <paramref name="path"/> atomically.</summary>
    public static void Save(string path, IReadOnlyList<TensorInfo> tensors, ReadOnlySpan<float> parameters, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] header = BuildHeader(tensors, metadata);
        string full = Path.GetFullPath(path);
        string tmp = full + "." + Guid.NewGuid().ToString("N").Substring(0, 8) + ".tmp";
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                Span<byte> len = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)header.Length);
                fs.Write(len);
                fs.Write(header);
                var buf = new byte[4096 * 4];
                foreach (var t in tensors)
                {
                    var src = parameters.Slice(t.Offset, t.Length);
                    for (int i = 0; i < src.Length; i += 4096)
                    {
                        int n = Math.Min(4096, src.Length - i);
                        for (int j = 0; j < n; j++) BinaryPrimitives.WriteSingleLittleEndian(buf.AsSpan(j * 4), src[i + j]);
                        fs.Write(buf, 0, n * 4);
                    }
                }
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(tmp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    private static byte[] BuildHeader(IReadOnlyList<TensorInfo> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteStartObject("__metadata__");
            w.WriteString("format", "pt");
            if (metadata is not null) foreach (var kv in metadata) w.WriteString(kv.Key, kv.Value);
            w.WriteEndObject();
            long offset = 0;
            foreach (var t in tensors)
            {
                w.WriteStartObject(t.Name);
                w.WriteString("dtype", "F32");
                w.WriteStartArray("shape");
                foreach (int d in t.Shape) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                w.WriteNumberValue(offset + 4L * t.Length);
                w.WriteEndArray();
                w.WriteEndObject();
                offset += 4L * t.Length;
            }
            w.WriteEndObject();
        }
        // Pad with spaces so the data starts 8-byte aligned (as the reference writer does).
        int pad = (int)((8 - ms.Length % 8) % 8);
        for (int i = 0; i < pad; i++) ms.WriteByte((byte)' ');
        return ms.ToArray();
    }

    /// <summary>
    /// Reads <paramref name="path"/> into <paramref name="parameters"/>. Every expected tensor must be present
    /// with dtype F32 and exactly the expected shape, and no other tensor may be present; otherwise an
    /// <see cref="InvalidDataException"/> names the problem and <paramref name="parameters"/> is not touched.
    /// </summary>
    public static void Load(string path, IReadOnlyList<TensorInfo> tensors, Span<float> parameters)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"weights file not found: {path}", path);
        byte[] file = File.ReadAllBytes(path);
        var staged = Read(path, file, tensors);
        // Everything checked: only now touch the model.
        for (int i = 0; i < tensors.Count; i++) staged[i].CopyTo(parameters.Slice(tensors[i].Offset, tensors[i].Length));
    }

    private static float[][] Read(string path, byte[] file, IReadOnlyList<TensorInfo> tensors)
    {
        if (file.Length < 8) throw Bad(path, 0, $"file is {file.Length} bytes, too short for the 8-byte header length");
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(file);
        if (n == 0 || n > (ulong)file.Length - 8)
            throw Bad(path, 0, $"header length {n} does not fit in a file of {file.Length} bytes");
        long dataStart = 8 + (long)n;
        long dataLength = file.Length - dataStart;
        JsonDocument doc;
        try { doc = JsonDocument.Parse(file.AsMemory(8, (int)n)); }
        catch (JsonException e) { throw Bad(path, 8 + (e.BytePositionInLine ?? 0), "header is not valid JSON: " + e.Message); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw Bad(path, 8, "header is not a JSON object");
            var expected = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int i = 0; i < tensors.Count; i++) expected[tensors[i].Name] = i;
            var staged = new float[tensors.Count][];
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                if (prop.Name == "__metadata__") continue;
                // PyTorch saves BatchNorm's step counter (int64); ModelGen has no use for it.
                if (prop.Name.EndsWith(".num_batches_tracked", StringComparison.Ordinal) && !expected.ContainsKey(prop.Name)) continue;
                if (!expected.TryGetValue(prop.Name, out int idx))
                    throw Bad(path, 8, $"tensor '{prop.Name}' is not a parameter of this model (expected: {string.Join(", ", expected.Keys)})");
                var t = tensors[idx];
                var e = prop.Value;
                if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty("dtype", out var dtype) || !e.TryGetProperty("shape", out var shape)
                    || !e.TryGetProperty("data_offsets", out var offs) || shape.ValueKind != JsonValueKind.Array || offs.ValueKind != JsonValueKind.Array || offs.GetArrayLength() != 2)
                    throw Bad(path, 8, $"tensor '{t.Name}' lacks dtype, shape or data_offsets");
                if (dtype.GetString() != "F32")
                    throw Bad(path, 8, $"tensor '{t.Name}' has dtype {dtype.GetString()}, expected F32");
                var dims = new List<long>();
                foreach (var d in shape.EnumerateArray()) dims.Add(d.TryGetInt64(out long v) ? v : -1);
                if (!SameShape(dims, t.Shape))
                    throw Bad(path, 8, $"tensor '{t.Name}' has shape [{string.Join(",", dims)}], expected [{string.Join(",", t.Shape)}]");
                if (!offs[0].TryGetInt64(out long begin) || !offs[1].TryGetInt64(out long end) || begin < 0 || end < begin || end > dataLength)
                    throw Bad(path, dataStart, $"tensor '{t.Name}' data_offsets [{offs[0]}, {offs[1]}] fall outside the {dataLength} data bytes (file truncated?)");
                if (end - begin != 4L * t.Length)
                    throw Bad(path, dataStart + begin, $"tensor '{t.Name}' spans {end - begin} bytes, expected {4L * t.Length}");
                var values = new float[t.Length];
                var src = file.AsSpan((int)(dataStart + begin), (int)(end - begin));
                for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(src.Slice(i * 4));
                staged[idx] = values;
            }
            for (int i = 0; i < tensors.Count; i++)
                if (staged[i] is null) throw Bad(path, 8, $"tensor '{tensors[i].Name}' is missing");
            return staged;
        }
    }

    private static bool SameShape(List<long> dims, int[] shape)
    {
        if (dims.Count != shape.Length) return false;
        for (int i = 0; i < shape.Length; i++) if (dims[i] != shape[i]) return false;
        return true;
    }

    private static InvalidDataException Bad(string path, long offset, string message) =>
        new($"{path}: invalid safetensors file at byte offset {offset}: {message}; the model was not changed");
}
