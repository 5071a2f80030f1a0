using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.IO.Compression;

namespace ModelGen.Data;

/// <summary>Numeric text tables (CSV or whitespace-separated, plain or <c>.gz</c>), as scikit-learn ships its small sets.</summary>
public static class Csv
{
    /// <summary>Every row as floats. <paramref name="separator"/> null splits on whitespace. Errors name the line and column.</summary>
    /// <exception cref="System.IO.FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="System.IO.InvalidDataException">A row has another number of columns than the first, or a cell is not a number (the message names the line and column).</exception>
    public static List<float[]> ReadRows(string path, char? separator = ',', int skipLines = 0)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"table not found: {path}", path);
        using var file = File.OpenRead(path);
        using Stream s = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionMode.Decompress) : file;
        using var reader = new StreamReader(s);
        var rows = new List<float[]>();
        int lineNo = 0, width = -1;
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNo++;
            if (lineNo <= skipLines || line.Trim().Length == 0) continue;
            var cells = separator is char c ? line.Split(c) : line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (width >= 0 && cells.Length != width)
                throw new InvalidDataException($"{path}:{lineNo}: {cells.Length} columns, expected {width} as on the first data line");
            width = cells.Length;
            var row = new float[cells.Length];
            for (int i = 0; i < cells.Length; i++)
                if (!float.TryParse(cells[i].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out row[i]))
                    throw new InvalidDataException($"{path}:{lineNo}: column {i + 1} is '{cells[i]}', not a number");
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>A classification set whose last column is the integer label; features are divided by <paramref name="scale"/>.</summary>
    /// <exception cref="System.IO.FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="System.IO.InvalidDataException">A row is malformed, the table has fewer than two columns, or a label is not a class index (a non-negative integer below 2^24); the message names the row.</exception>
    public static Dataset LoadClassification(string path, char? separator = ',', int skipLines = 0, float scale = 1f)
    {
        var rows = ReadRows(path, separator, skipLines);
        if (rows.Count == 0) throw new InvalidDataException($"{path}: no rows");
        if (rows[0].Length < 2)
            throw new InvalidDataException($"{path}: rows have {rows[0].Length} column; a classification table needs feature columns and the label in the last column");
        int f = rows[0].Length - 1;
        var x = new float[rows.Count * f];
        var y = new int[rows.Count];
        for (int r = 0; r < rows.Count; r++)
        {
            for (int i = 0; i < f; i++) x[r * f + i] = rows[r][i] / scale;
            float label = rows[r][f];
            // Beyond 2^24 a float no longer holds every integer, and (int) would saturate 1e12 to 2147483647.
            if (label < 0 || label != MathF.Floor(label) || label >= 16_777_216f)
                throw new InvalidDataException($"{path}: row {r + 1 + skipLines} has label {label.ToString(CultureInfo.InvariantCulture)}, not a class index (an integer 0 ≤ label < 16777216)");
            y[r] = (int)label;
        }
        return new Dataset(x, f, y);
    }
}
