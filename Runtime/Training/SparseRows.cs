using System;
using System.ComponentModel;

namespace ModelGen.Training;

/// <summary>
/// The rows of a sparse parameter table (an <c>[Embedding]</c>'s weight) that the backward passes since the last
/// <c>ZeroGrad</c> touched: the rows whose gradients may be non-zero. <c>ZeroGrad</c> clears only these rows and the
/// optimiser updates only these rows (<see cref="OptimizerState"/>), so a step costs the batch's tokens, not the table.
/// Every other row of the table's gradient is zero. Rows are kept in the order first touched (deterministic).
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class SparseRows
{
    private readonly bool[] _marked;
    private readonly int[] _list;

    /// <param name="name">The tensor's name (<c>Embed.weight</c>).</param>
    /// <param name="offset">The table's offset in the parameters (and the gradients).</param>
    /// <param name="rows">Rows of the table.</param>
    /// <param name="rowLength">Floats per row.</param>
    public SparseRows(string name, int offset, int rows, int rowLength)
    {
        if (rows <= 0 || rowLength <= 0) throw new ArgumentOutOfRangeException(nameof(rows), "a sparse table needs at least one row of at least one float");
        Name = name; Offset = offset; Rows = rows; RowLength = rowLength;
        _marked = new bool[rows];
        _list = new int[rows];
    }

    /// <summary>The tensor's name.</summary>
    public string Name { get; }
    /// <summary>The table's offset in the parameters.</summary>
    public int Offset { get; }
    /// <summary>Rows of the table.</summary>
    public int Rows { get; }
    /// <summary>Floats per row.</summary>
    public int RowLength { get; }
    /// <summary>Floats in the table.</summary>
    public int Length => Rows * RowLength;
    /// <summary>Rows touched since the last <see cref="ClearGradients"/>.</summary>
    public int Count { get; private set; }
    /// <summary>The touched rows, in the order first touched.</summary>
    public ReadOnlySpan<int> Touched => _list.AsSpan(0, Count);

    /// <summary>Records that row <paramref name="row"/> got a gradient.</summary>
    public void Mark(int row)
    {
        if (_marked[row]) return;
        _marked[row] = true;
        _list[Count++] = row;
    }

    /// <summary>Records every row (after the whole table's gradient was written, e.g. loaded from elsewhere).</summary>
    public void MarkAll()
    {
        for (int r = 0; r < Rows; r++) Mark(r);
    }

    /// <summary>The parameter block of <paramref name="length"/> floats cut at the sparse <paramref name="tables"/>: the dense
    /// ranges between them (<c>Table</c> −1) and each table (<c>Table</c> its index in <paramref name="tables"/>), in
    /// parameter order. The optimiser state is laid out by these segments, on the host and on a GPU twin alike.</summary>
    /// <exception cref="ArgumentException">Tables overlap, or one lies outside the block.</exception>
    internal static (int Start, int Length, int Table)[] Segments(SparseRows[] tables, int length)
    {
        var order = new int[tables.Length];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        Array.Sort(order, (a, b) => tables[a].Offset.CompareTo(tables[b].Offset));
        var list = new System.Collections.Generic.List<(int, int, int)>(2 * tables.Length + 1);
        int at = 0;
        foreach (int i in order)
        {
            var t = tables[i];
            if (t.Offset < at || t.Offset + t.Length > length)
                throw new ArgumentException($"sparse table {t.Name} [{t.Offset}, {t.Offset + t.Length}) overlaps another or lies outside the {length} parameters");
            if (t.Offset > at) list.Add((at, t.Offset - at, -1));
            list.Add((t.Offset, t.Length, i));
            at = t.Offset + t.Length;
        }
        if (at < length) list.Add((at, length - at, -1));
        return list.ToArray();
    }

    /// <summary>Forgets the touched rows without clearing gradients (a GPU twin sets them from its device's flags).</summary>
    internal void Forget()
    {
        foreach (int r in Touched) _marked[r] = false;
        Count = 0;
    }

    /// <summary>Zeroes the touched rows of <paramref name="gradients"/> (the model's whole gradient block) and forgets them.</summary>
    public void ClearGradients(Span<float> gradients)
    {
        var table = gradients.Slice(Offset, Length);
        foreach (int r in Touched)
        {
            table.Slice(r * RowLength, RowLength).Clear();
            _marked[r] = false;
        }
        Count = 0;
    }
}
