using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
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
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty or a directory.</exception>
    /// <exception cref="IOException">The file cannot be written (the message names <paramref name="path"/>, never the temporary file).</exception>
    /// <exception cref="UnauthorizedAccessException">No permission to write in the folder.</exception>
    public static void Save(string path, IReadOnlyList<TensorInfo> tensors, ReadOnlySpan<float> parameters, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var entries = new List<(string Name, int[] Shape, float[] Data)>(tensors.Count);
        foreach (var t in tensors) entries.Add((t.Name, t.Shape, parameters.Slice(t.Offset, t.Length).ToArray()));
        Save(path, entries, metadata);
    }

    /// <summary>Writes named F32 tensors to <paramref name="path"/> atomically (a temporary file in the same folder,
    /// flushed, then renamed over the target).</summary>
    internal static void Save(string path, IReadOnlyList<(string Name, int[] Shape, float[] Data)> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] header = BuildHeader(tensors, metadata);
        AtomicFile.Write(path, "save", fs =>
        {
            Span<byte> len = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)header.Length);
            fs.Write(len);
            fs.Write(header);
            var buf = new byte[4096 * 4];
            foreach (var t in tensors)
            {
                var src = t.Data;
                for (int i = 0; i < src.Length; i += 4096)
                {
                    int n = Math.Min(4096, src.Length - i);
                    for (int j = 0; j < n; j++) BinaryPrimitives.WriteSingleLittleEndian(buf.AsSpan(j * 4), src[i + j]);
                    fs.Write(buf, 0, n * 4);
                }
            }
        });
    }

    private static byte[] BuildHeader(IReadOnlyList<(string Name, int[] Shape, float[] Data)> tensors, IReadOnlyDictionary<string, string>? metadata)
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
                w.WriteNumberValue(offset + 4L * t.Data.Length);
                w.WriteEndArray();
                w.WriteEndObject();
                offset += 4L * t.Data.Length;
            }
            w.WriteEndObject();
        }
        // Pad with spaces so the data starts 8-byte aligned (as the reference writer does).
        int pad = (int)((8 - ms.Length % 8) % 8);
        for (int i = 0; i < pad; i++) ms.WriteByte((byte)' ');
        return ms.ToArray();
    }

    /// <summary>
    /// Reads <paramref name="path"/> into <paramref name="parameters"/>. The whole file is checked first, as the reference
    /// implementation does (a JSON header; known dtypes; each tensor's byte span equal to its element count × dtype size;
    /// the spans, in order, tiling the data exactly: no gap, no overlap, nothing after the last). Then, with the default
    /// <paramref name="options"/>, every tensor of the model must be there in F32 with exactly its shape, and no other.
    /// On any error an <see cref="InvalidDataException"/> names the tensor and the byte offset, and
    /// <paramref name="parameters"/> is not touched.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty or a directory.</exception>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">The file is not a valid safetensors file, or does not fit the model.</exception>
    public static LoadReport Load(string path, IReadOnlyList<TensorInfo> tensors, Span<float> parameters, LoadOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(tensors);
        options ??= new LoadOptions();
        var file = ReadFile(path);
        var entries = Parse(path, file);
        var (staged, report) = Match(path, file, entries, tensors, options);
        // Everything checked: only now touch the model.
        for (int i = 0; i < tensors.Count; i++)
            staged[i]?.CopyTo(parameters.Slice(tensors[i].Offset, tensors[i].Length));
        return report;
    }

    /// <summary><see cref="Load(string, IReadOnlyList{TensorInfo}, Span{float}, LoadOptions?)"/> for a model nothing else
    /// sees yet (a generated <c>FromFile</c>): the same checks, but each tensor is read straight into place; on an error
    /// the parameters may be partly written, and the caller discards the model.</summary>
    public static LoadReport LoadIntoNewModel(string path, IReadOnlyList<TensorInfo> tensors, Span<float> parameters, LoadOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(tensors);
        var file = ReadFile(path);
        var entries = Parse(path, file);
        return Match(path, file, entries, tensors, options ?? new LoadOptions(), parameters).Report;
    }

    private static byte[] ReadFile(string path)
    {
        if (Directory.Exists(path)) throw new ArgumentException($"{Path.GetFullPath(path)} is a directory, not a safetensors file", nameof(path));
        if (!File.Exists(path)) throw new FileNotFoundException($"weights file not found: {Path.GetFullPath(path)}", path);
        return File.ReadAllBytes(path);
    }

    /// <summary>One tensor of a file's header, its data span checked against the file.</summary>
    internal sealed record Entry(string Name, string DType, long[] Shape, long Begin, long End, long DataStart)
    {
        public long Elements => Shape.Aggregate(1L, (a, d) => a * d);
        public int ElementSize => SizeOf(DType);
    }

    private static int SizeOf(string dtype) => dtype switch
    {
        "BOOL" or "U8" or "I8" or "F8_E4M3" or "F8_E5M2" => 1,
        "U16" or "I16" or "F16" or "BF16" => 2,
        "U32" or "I32" or "F32" => 4,
        "U64" or "I64" or "F64" => 8,
        _ => 0,
    };

    /// <summary>A whole file, checked: its metadata, its tensors and its bytes (for checkpoints).</summary>
    internal static (Dictionary<string, string> Metadata, List<Entry> Entries, byte[] File) ReadRaw(string path)
    {
        var file = ReadFile(path);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var entries = Parse(path, file, metadata);
        return (metadata, entries, file);
    }

    /// <summary>The model's tensors from <paramref name="entries"/> (all of them, F32, their shapes), not yet copied.</summary>
    internal static float[]?[] Stage(string path, byte[] file, List<Entry> entries, IReadOnlyList<TensorInfo> tensors) =>
        Match(path, file, entries, tensors, new LoadOptions()).Staged;

    /// <summary>The header's tensors, with the reference implementation's checks of the file's layout.</summary>
    internal static List<Entry> Parse(string path, byte[] file, Dictionary<string, string>? metadata = null)
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
        var entries = new List<Entry>();
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw Bad(path, 8, "header is not a JSON object");
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                if (prop.Name == "__metadata__")
                {
                    if (metadata is not null && prop.Value.ValueKind == JsonValueKind.Object)
                        foreach (var m in prop.Value.EnumerateObject())
                            if (m.Value.ValueKind == JsonValueKind.String) metadata[m.Name] = m.Value.GetString()!;
                    continue;
                }
                var e = prop.Value;
                if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty("dtype", out var dtype) || dtype.ValueKind != JsonValueKind.String
                    || !e.TryGetProperty("shape", out var shape) || !e.TryGetProperty("data_offsets", out var offs)
                    || shape.ValueKind != JsonValueKind.Array || offs.ValueKind != JsonValueKind.Array || offs.GetArrayLength() != 2)
                    throw Bad(path, 8, $"tensor '{prop.Name}' lacks dtype, shape or data_offsets");
                string type = dtype.GetString()!;
                if (SizeOf(type) == 0) throw Bad(path, 8, $"tensor '{prop.Name}' has unknown dtype '{type}'");
                var dims = new List<long>();
                foreach (var d in shape.EnumerateArray())
                    dims.Add(d.TryGetInt64(out long v) && v >= 0 ? v : throw Bad(path, 8, $"tensor '{prop.Name}' has an invalid dimension {d} in its shape"));
                if (!offs[0].TryGetInt64(out long begin) || !offs[1].TryGetInt64(out long end) || begin < 0 || end < 0)
                    throw Bad(path, 8, $"tensor '{prop.Name}' has data_offsets [{offs[0]}, {offs[1]}], which are not two byte offsets ≥ 0");
                if (end < begin)
                    throw Bad(path, 8, $"tensor '{prop.Name}' has reversed data_offsets [{begin}, {end}]: the end comes before the beginning");
                var entry = new Entry(prop.Name, type, dims.ToArray(), begin, end, dataStart);
                long bytes;
                try { bytes = checked(entry.Elements * entry.ElementSize); }
                catch (OverflowException) { throw Bad(path, 8, $"tensor '{prop.Name}' has a shape too large to address"); }
                if (end - begin != bytes)
                    throw Bad(path, dataStart + begin, $"tensor '{prop.Name}' ({type} [{string.Join(",", dims)}]: {bytes} bytes) has data_offsets [{begin}, {end}] spanning {end - begin} bytes");
                if (end > dataLength)
                    throw Bad(path, dataStart + begin, $"tensor '{prop.Name}' has data_offsets [{begin}, {end}] past the {dataLength} data bytes of the file (truncated?)");
                entries.Add(entry);
            }
        }
        // The spans must tile [0, dataLength) in order: no gap, no overlap, nothing after the last.
        long at = 0;
        Entry? previous = null;
        foreach (var e in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            if (e.Begin < at)
                throw Bad(path, dataStart + e.Begin, $"tensor '{e.Name}' data_offsets [{e.Begin}, {e.End}] overlap tensor '{previous!.Name}' [{previous.Begin}, {previous.End}]");
            if (e.Begin > at)
                throw Bad(path, dataStart + at, $"data bytes [{at}, {e.Begin}) belong to no tensor (a gap before '{e.Name}')");
            at = e.End;
            previous = e;
        }
        if (at != dataLength)
            throw Bad(path, dataStart + at, $"{dataLength - at} bytes after the last tensor's data (the tensors end at data byte {at} of {dataLength})");
        return entries;
    }

    /// <summary>Checks the file's tensors against the model's and reads them: into new arrays (staged, copied only once
    /// everything has passed), or, for a model nothing else sees yet (<paramref name="direct"/> non-empty: the model's
    /// parameters), straight into place — the caller discards the model if this throws.</summary>
    private static (float[]?[] Staged, LoadReport Report) Match(string path, byte[] file, List<Entry> entries, IReadOnlyList<TensorInfo> tensors, LoadOptions options, Span<float> direct = default)
    {
        var found = new bool[tensors.Count];
        var expected = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < tensors.Count; i++) expected[tensors[i].Name] = i;
        var staged = new float[]?[tensors.Count];
        var loaded = new List<string>();
        var converted = new List<string>();
        var skipped = new List<string>();
        foreach (var e in entries)
        {
            if (!expected.TryGetValue(e.Name, out int idx))
            {
                // PyTorch saves BatchNorm's step counter (int64); ModelGen has no use for it, strict or not.
                if (options.Strict && !e.Name.EndsWith(".num_batches_tracked", StringComparison.Ordinal))
                    throw Bad(path, 8, $"tensor '{e.Name}' is not a parameter of this model (expected: {string.Join(", ", expected.Keys)}); " +
                                       "to load the model's tensors from a larger file, pass new LoadOptions { Strict = false }");
                skipped.Add(e.Name);
                continue;
            }
            var t = tensors[idx];
            if (!SameShape(e.Shape, t.Shape))
                throw Bad(path, 8, $"tensor '{t.Name}' has shape [{string.Join(",", e.Shape)}], expected [{string.Join(",", t.Shape)}]");
            bool convertible = e.DType is "F16" or "BF16" or "F64";
            if (e.DType != "F32" && !(convertible && options.ConvertToFloat32))
                throw Bad(path, 8, $"tensor '{t.Name}' has dtype {e.DType}, expected F32" +
                                   (convertible ? "; to convert it on load, pass new LoadOptions { ConvertToFloat32 = true }" : ""));
            float[]? array = direct.IsEmpty ? new float[t.Length] : null;
            Span<float> values = array ?? direct.Slice(t.Offset, t.Length);
            var src = file.AsSpan((int)(e.DataStart + e.Begin), (int)(e.End - e.Begin));
            switch (e.DType)
            {
                case "F32" when BitConverter.IsLittleEndian:
                    System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(src).CopyTo(values);
                    break;
                case "F32":
                    for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(src.Slice(i * 4));
                    break;
                case "F16":
                    for (int i = 0; i < values.Length; i++) values[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(src.Slice(i * 2));
                    break;
                case "BF16":
                    for (int i = 0; i < values.Length; i++) values[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(src.Slice(i * 2)) << 16);
                    break;
                default: // F64
                    for (int i = 0; i < values.Length; i++)
                    {
                        double v = BinaryPrimitives.ReadDoubleLittleEndian(src.Slice(i * 8));
                        values[i] = (float)v;
                        if (float.IsInfinity(values[i]) && double.IsFinite(v))
                            throw Bad(path, e.DataStart + e.Begin + 8L * i, $"tensor '{t.Name}' element {i} = {v:R} is beyond the range of F32");
                    }
                    break;
            }
            if (e.DType != "F32") converted.Add(t.Name);
            loaded.Add(t.Name);
            found[idx] = true;
            staged[idx] = array;
        }
        var missing = new List<string>();
        for (int i = 0; i < tensors.Count; i++)
            if (!found[i])
            {
                if (options.Strict) throw Bad(path, 8, $"tensor '{tensors[i].Name}' is missing; to load what the file has, pass new LoadOptions {{ Strict = false }}");
                missing.Add(tensors[i].Name);
            }
        return (staged, new LoadReport(loaded, converted, skipped, missing));
    }

    private static bool SameShape(long[] dims, int[] shape)
    {
        if (dims.Length != shape.Length) return false;
        for (int i = 0; i < shape.Length; i++) if (dims[i] != shape[i]) return false;
        return true;
    }

    private static InvalidDataException Bad(string path, long offset, string message) =>
        new($"{path}: invalid safetensors file at byte offset {offset}: {message}; the model was not changed");
}
