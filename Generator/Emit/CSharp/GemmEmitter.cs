using System;
using System.Collections.Generic;
using System.Linq;
using ModelGen.Generator.Analysis;

namespace ModelGen.Generator.Emit.CSharp;

/// <summary>One matrix product inside a layer method. Names are the generated method's locals.
/// <c>C[r, j] (Epi)= Σ_p A[r·Ars + p·Aks] · B[p·Ldb + j]</c>, r &lt; Rows (build-time constant),
/// j &lt; Cols (a constant, or null for the run-time panel width <c>n</c>, a multiple of 16).</summary>
internal sealed record GemmCall(
    string A, string Ars, string Aks,
    string B, string Ldb,
    string C, string Ldc,
    string K, int Rows, int? Cols,
    string? Bias, string Epi, string Alpha)
{
    /// <summary>Indirect B: the name of a <c>ref int</c> local holding each reduction step's row offset into B
    /// (<c>B[p, j] = b[offsets[p] + j]</c>) — a convolution reading shifted rows of a padded image, no im2col.</summary>
    public string? BOffsets { get; init; }

    /// <summary>Only rows <c>[Start, End)</c> (names of <c>int</c> locals; Start a multiple of the width's MR, End too or
    /// equal to <see cref="Rows"/>): one thread's part of the product. Each element's arithmetic is the same as in
    /// the whole product, so the parts together equal it bit for bit.</summary>
    public (string Start, string End)? RowRange { get; init; }

    /// <summary>Indirect A: the name of a <c>ref int</c> local holding each row's offset into A (<c>A[r, p] =
    /// a[offsets[r] + p·Aks]</c>, Ars unused) — the weight gradient of a stride-1 convolution reads shifted rows of
    /// the padded image, no im2col.</summary>
    public string? AOffsets { get; init; }

    /// <summary>Indirect B over an image (with <see cref="BOffsets"/>): the columns are the pixels of an output image of
    /// <c>Ho</c> rows × <c>Wo</c> (a multiple of 16), C's pixel (i, j) at column <c>i·Wo + j</c> of a row of C, B's at
    /// <c>i·Wp + j</c> (the padded input's row pitch). A tile is NV output rows × one vector of pixels: it never straddles
    /// an image row, so the output needs no "wide" buffer and no compaction, and no lane computes a padding column.
    /// <see cref="Cols"/> and <see cref="Ldb"/> are unused.</summary>
    public (int Ho, int Wo, int Wp)? Image { get; init; }

    /// <summary>For indirect B: the distance between the B vectors of a tile, and between its C vectors (null: one vector
    /// width, the vectors side by side).</summary>
    public string? BVectorStride { get; init; }
    public string? CVectorStride { get; init; }

    /// <summary>A also packed in panels of <c>Height</c> rows by <c>MG.Layout.PackPanels</c> into the local <c>Buffer</c>
    /// (panel q from <c>Buffer[q·Height·K]</c>, step p's rows side by side at <c>p·h</c>, h the panel's rows): the vector
    /// widths read the panels (one address per step, the rows at constant displacements, <see cref="AAccess.Columns"/>),
    /// with tiles of <c>Height</c> rows where a tile is one vector wide — twice the usual accumulators, for a product
    /// with too few columns to hide the FMA latency otherwise; the scalar width reads A as <see cref="A"/>,
    /// <see cref="Ars"/>, <see cref="Aks"/> describe it. <c>K</c> is the whole reduction (the panels' step count).</summary>
    public (string Buffer, int Height, int K)? Panels { get; init; }

    /// <summary>With <see cref="Panels"/> in a K block: the block's first reduction step (the tiles start that many steps into
    /// each panel).</summary>
    public string? PanelStep { get; init; }

    /// <summary>Direct kernels only: an expression, true when the tile's accumulators start from C's values instead of 0 —
    /// a K block after the first continues the same FMA chains through C, so blocking changes no bit of the result.</summary>
    public string? Resume { get; init; }
}

/// <summary>How a micro-kernel addresses A (see <see cref="GemmEmitter.Access"/>).</summary>
internal enum AAccess
{
    /// <summary>Any strides: one pointer per row, an index advanced by <c>aks</c>.</summary>
    Strided,
    /// <summary><c>aks = 1</c> (W, U, dZ: rows contiguous): one pointer per row, indexed by the reduction counter itself.</summary>
    Rows,
    /// <summary><c>ars = 1</c> (Wᵀ, or A packed in panels: a reduction step's rows side by side): one pointer, advanced by
    /// <c>aks</c> each step, the rows at displacements 0, 4, 8, … bytes — no index register. An indexed address would cost
    /// the one-vector tiles dearly: a broadcast-FMA from <c>[base + index·4]</c> is two micro-ops on Intel cores
    /// (<c>Benchmarks --tiles-w3</c>: 6-row tiles at 45–57 % of the peak with every operand in L1).</summary>
    Columns,
}

/// <summary>Emits the tile loops of a <see cref="GemmCall"/> for one width: full MR-row tiles, then the
/// row remainder (known at build time); full NR-column tiles, then narrower ones, then a scalar tail.
/// Records which micro-kernels it used so that only those are emitted.</summary>
internal sealed class GemmEmitter
{
    private readonly SortedSet<string> _kernels = new();

    /// <summary>Micro-kernels used so far, as "width:mr:nv:B kind (X indirect, A indirect A, empty):A access".</summary>
    public IEnumerable<string> Kernels => _kernels;

    public static string KernelName(Width w, int mr, int nv, bool indirect = false, bool indirectA = false, AAccess access = AAccess.Strided) =>
        $"Tile{(indirect ? "X" : indirectA ? "A" : "")}{mr}x{nv}{AccessSuffix(access)}_{w.Name}";

    private static string AccessSuffix(AAccess a) => a switch { AAccess.Rows => "r", AAccess.Columns => "c", _ => "" };

    /// <summary>How a kernel reads A, from the call's build-time strides: the micro-kernel's address arithmetic is what
    /// decides whether its loop fits the 14 free general registers (a spilled row pointer is one more load per FMA pair).</summary>
    public static AAccess Access(GemmCall g) => g.Aks == "1" ? AAccess.Rows : g.AOffsets is null && g.Ars == "1" ? AAccess.Columns : AAccess.Strided;

    public void Emit(CodeWriter cw, Width w, GemmCall g)
    {
        if (g.Image is { } image)
        {
            EmitImage(cw, w, g, image.Ho, image.Wo, image.Wp);
            return;
        }
        if (w.IsScalar)
        {
            cw.Line(ScalarCall(g, "0", g.Cols?.ToString() ?? "n"));
            return;
        }
        if (g.Cols is null && KBlocks(g) is int blocks)
        {
            EmitKBlocked(cw, w, g, blocks);
            return;
        }
        if (g.Cols is null)
        {
            // n is a multiple of 16: full NR-wide tiles, then the rest (a multiple of 16 below NR) in narrower ones.
            using (cw.Block($"for (int j = 0; j + {w.NR} <= n; j += {w.NR})"))
                EmitRows(cw, w, g, w.NVMax, "j");
            int step = 16 / w.Lanes;   // vectors in 16 columns
            if (w.NR > 16)
            {
                // The rest in tiles of halving width (48 = 32 + 16): two narrower kernels instead of one per width.
                var widths = Enumerable.Range(1, w.NR / 16 - 1).Select(q => q * 16).ToArray();
                using (cw.Block($"if ((n & {w.NR - 1}) != 0)   // the last {string.Join(", ", widths.Take(widths.Length - 1))}{(widths.Length > 1 ? " or " : "")}{widths[widths.Length - 1]} columns"))
                {
                    cw.Line($"int j = n & ~{w.NR - 1};");
                    for (int nv = w.NVMax / 2; nv >= step; nv /= 2)
                    {
                        if (nv == step && nv == w.NVMax / 2) { EmitRows(cw, w, g, nv, "j"); continue; }   // the only narrower width
                        using (cw.Block(nv == step ? "if (j < n)" : $"if (n - j >= {nv * w.Lanes})"))
                        {
                            EmitRows(cw, w, g, nv, "j");
                            if (nv != step) cw.Line($"j += {nv * w.Lanes};");
                        }
                    }
                }
            }
            return;
        }
        if (RowsOuter(g))
        {
            EmitRowsOuter(cw, w, g);
            return;
        }
        // One or two rows (a row vector times a matrix: the batch-1 recurrent step) give a tile too few accumulators to
        // hide the FMA latency: such a product takes 8 vectors per tile instead.
        int nvFull = g.Rows <= 2 ? 8 : w.NVMax, nr = nvFull * w.Lanes;
        var plan = ColumnPlan(g.Cols.Value, nvFull, w.Lanes);
        if (plan.FullCols > 0)
            using (cw.Block($"for (int j = 0; j < {plan.FullCols}; j += {nr})"))
                EmitRows(cw, w, g, nvFull, "j");
        foreach (var (col, nv) in plan.Narrower)
            using (cw.Block("")) // a scope for the local j
            {
                cw.Line($"const int j = {col};");
                EmitRows(cw, w, g, nv, "j");
            }
        if (plan.Tail > 0)
            cw.Line(ScalarCall(g, plan.TailCol.ToString(), plan.Tail.ToString()));
    }

    /// <summary>The column tiles of a build-time column count: tiles of <paramref name="nvFull"/> vectors up to
    /// <c>FullCols</c> (a loop), then one tile of each narrower width that still fits, then a scalar tail of
    /// <c>Tail</c> columns from <c>TailCol</c>.</summary>
    private static (int FullCols, List<(int Col, int Nv)> Narrower, int TailCol, int Tail) ColumnPlan(int cols, int nvFull, int lanes)
    {
        int nr = nvFull * lanes, col = cols / nr * nr, after = cols - col;
        var narrower = new List<(int, int)>();
        for (int nv = nvFull - 1; nv >= 1; nv--)
            if (after >= nv * lanes)
            {
                narrower.Add((col, nv));
                col += nv * lanes;
                after -= nv * lanes;
            }
        return (cols / nr * nr, narrower, col, after);
    }

    /// <summary>Bytes of an operand above which it is read from memory rather than from L2 (half of a 2 MB L2, all of a
    /// 1 MB one): such an operand is best read in long runs of consecutive lines, which the hardware prefetchers follow.</summary>
    private const long StreamedBytes = 1 << 20;

    /// <summary>An accumulating product with a build-time C too large for L2 and a short reduction (a dense layer's weight
    /// gradient, <c>dW += dZ·X</c>, K = the batch): its cost is reading and writing C. Column blocks outer (one tile
    /// of every row, then the next columns) read C in pieces of a few lines at a stride of a row, more rows than the
    /// prefetchers follow; rows outer reads each tile's rows of C once, in order. The other operand, <c>K × Cols</c>, comes
    /// from L2 once per row tile. Measured on W2's dense layer (dW 256 × 4096, 4 MB; `Benchmarks --ab-dense`, alternated
    /// in one process): batch 32 1.44–1.58 → 0.95–0.99 ms, batch 64 2.45–2.51 → 1.73–1.76 ms. Each element's sum is the
    /// same (same tiles, same K order), only the tiles' order changes.</summary>
    private static bool RowsOuter(GemmCall g) =>
        g.Epi == "MG.Epilogue.Accumulate" && g.Cols is int c && 4L * c * g.Rows > StreamedBytes
        && g.AOffsets is null && g.BOffsets is null && g.Panels is null && g.Rows > 2;

    /// <summary>The tiles of a <see cref="RowsOuter"/> product: per row tile (MR rows, then the rows left over), its
    /// column tiles left to right (NR wide, narrower ones, a scalar tail).</summary>
    private void EmitRowsOuter(CodeWriter cw, Width w, GemmCall g)
    {
        int nr = w.NVMax * w.Lanes, c = g.Cols!.Value;
        int full = g.Rows / w.MR * w.MR, rem = g.Rows - full;
        var plan = ColumnPlan(c, w.NVMax, w.Lanes);
        string kind = "::" + Access(g);
        void Columns(int mr, string r)
        {
            if (plan.FullCols > 0)
            {
                _kernels.Add($"{w.Name}:{mr}:{w.NVMax}{kind}");
                using (cw.Block($"for (int j = 0; j < {plan.FullCols}; j += {nr})"))
                    cw.Line(Call(w, g, mr, w.NVMax, r, "j", "j"));
            }
            foreach (var (col, nv) in plan.Narrower)
            {
                _kernels.Add($"{w.Name}:{mr}:{nv}{kind}");
                cw.Line(Call(w, g, mr, nv, r, col.ToString(), col.ToString()));
            }
            if (plan.Tail > 0)
                cw.Line(ScalarCall(g with
                {
                    RowRange = null, Rows = mr, A = $"MG.Mem.Add(ref {g.A}, {r} * {g.Ars})", C = $"MG.Mem.Add(ref {g.C}, {r} * {g.Ldc})",
                    Bias = g.Bias is null ? null : $"MG.Mem.Add(ref {g.Bias}, {r})",
                }, plan.TailCol.ToString(), plan.Tail.ToString()));
        }
        string start = g.RowRange?.Start ?? "0", end = g.RowRange is { } rr ? $"global::System.Math.Min({rr.End}, {full})" : full.ToString();
        if (full > 0)
            using (cw.Block($"for (int r = {start}; r < {end}; r += {w.MR})   // rows outer: C is {Text.N0(4L * g.Rows * c / 1024)} KB, more than L2; each tile's rows of it are read once, in order"))
                Columns(w.MR, "r");
        if (rem > 0)
            using (cw.Block(g.RowRange is { } range ? $"if ({range.End} == {g.Rows})" : ""))
                Columns(rem, full.ToString());
    }

    /// <summary>The reduction length above which a panel product runs in K blocks: a block of a 64-column B panel
    /// (128 steps · 256 bytes = 32 KB) stays in L1 while every row tile reads it, where the whole panel (784 steps: 196 KB)
    /// would stream from L2 once per row tile. Measured on W1 batch 256 against ONNX Runtime, calls interleaved: blocks
    /// of ≤ 256 steps 1.13 × its time, ≤ 128 1.05–1.08 ×, ≤ 64 1.13–1.14 × (the partial sums' reloads start to cost).</summary>
    private const int KBlock = 128;

    /// <summary>The K block of a product whose A is larger than L2 and read as columns a page or more apart (<c>Wᵀ</c> of a
    /// dense layer with ≥ 1024 inputs and more than 1 MB of weights: <see cref="AAccess.Columns"/>, <c>aks ≥ 1024</c>): a
    /// tile reads one line of each of its block's reduction steps from memory, and the next tiles the same lines (16 floats
    /// per line, MR rows per tile), so the block's lines of A must stay in L1 beside the block of B. Measured on W2's
    /// dense input gradient (dX 4096 × batch = Wᵀ·dZ, K = 256, 4 MB of weights; `Benchmarks --ab-dense`, alternated in
    /// one process): batch 32 blocks of 128 1.12–1.14 ms, 64 0.89, 32 0.88, 16 0.91; batch 64 2.14–2.20, 1.32, 1.38,
    /// 1.56 ms. Not where the weights fit L2: LeNet's (1568 → 128, 784 KB) took 0.30–0.34 ms at batch 32 in blocks of
    /// 128 (one block) and 0.43–0.44 ms in blocks of 64 (`--dense-w2`, the builds alternated).</summary>
    private const int KBlockStrided = 64;

    /// <summary>A larger than L2, so read from memory (not a packed panel: those are packed per call, then in cache).</summary>
    private static bool AFromMemory(GemmCall g) => g.Panels is null && int.TryParse(g.K, out int k) && 4L * g.Rows * k > StreamedBytes;

    /// <summary>A from memory and read as columns a page or more apart (see <see cref="KBlockStrided"/>).</summary>
    private static bool StridedColumns(GemmCall g) => AFromMemory(g) && Access(g) == AAccess.Columns && int.TryParse(g.Aks, out int aks) && aks >= 1024;

    /// <summary>How many K blocks a run-time panel product takes (null: one, not blocked). Only storing products with a
    /// build-time K: an accumulating one (a gradient) would add its partial sums to C in another order. Not an A of
    /// contiguous rows larger than L2 (a dense layer's 4 MB of weights): it comes from memory, and blocks would cut each
    /// of its rows into runs of a few lines, more runs at once than the prefetchers follow; whole rows stream, and B comes
    /// from L2 instead (W2's dense forward, `--ab-dense`: batch 32 0.78–0.79 ms in blocks of 128, 0.60–0.61 ms whole;
    /// batch 64 1.37–1.39, 1.04 ms).</summary>
    private static int? KBlocks(GemmCall g)
    {
        if (g.BOffsets is not null || g.AOffsets is not null || g.Image is not null || g.Epi == "MG.Epilogue.Accumulate" || !int.TryParse(g.K, out int k))
            return null;
        if (AFromMemory(g) && Access(g) == AAccess.Rows) return null;
        int kb = StridedColumns(g) ? KBlockStrided : KBlock;
        return k > kb ? (k + kb - 1) / kb : null;
    }

    /// <summary>The product in <paramref name="blocks"/> equal K blocks (the last one shorter when K does not divide):
    /// each block's tiles resume the accumulators from C, and only the last applies the call's epilogue.</summary>
    private void EmitKBlocked(CodeWriter cw, Width w, GemmCall g, int blocks)
    {
        int k = int.Parse(g.K), kb = (k + blocks - 1) / blocks;
        using (cw.Block($"for (int k0 = 0; k0 < {k}; k0 += {kb})   // {blocks} blocks of {kb} reduction steps: {(StridedColumns(g) ? "the block's lines of A (a page apart) and of B stay" : "a block of B's column panel stays")} in L1 across the row tiles"))
        {
            if (g.Panels is null) cw.Line($"ref float ak = ref MG.Mem.Add(ref {g.A}, k0{(g.Aks == "1" ? "" : " * " + g.Aks)});");
            cw.Line($"ref float bk = ref MG.Mem.Add(ref {g.B}, k0 * {g.Ldb});");
            bool even = k % kb == 0;
            if (!even) cw.Line($"int kn = global::System.Math.Min({kb}, {k} - k0);");
            bool store = g.Epi == "MG.Epilogue.Store";   // a plain store needs no last-block switch
            if (!store) cw.Line($"var ek = k0 + {kb} < {k} ? MG.Epilogue.Store : {g.Epi};   // the epilogue on the last block only");
            Emit(cw, w, g with { A = g.Panels is null ? "ak" : g.A, PanelStep = g.Panels is null ? null : "k0", B = "bk", K = even ? kb.ToString() : "kn", Epi = store ? g.Epi : "ek", Resume = "k0 != 0" });
        }
    }

    /// <summary>Tiles of NV output rows × one vector of pixels (B's vectors <c>Wp</c> apart, C's <c>Wo</c>), then the rows
    /// left over in one tile of fewer vectors; the scalar width runs each output row as one product.</summary>
    private void EmitImage(CodeWriter cw, Width w, GemmCall g, int ho, int wo, int wp)
    {
        if (w.IsScalar)
        {
            using (cw.Block($"for (int i = 0; i < {ho}; i++)   // output row i: B from column i·{wp}, C from column i·{wo}"))
                cw.Line(ScalarCall(g with { B = $"MG.Mem.Add(ref {g.B}, i * {wp})", C = $"MG.Mem.Add(ref {g.C}, i * {wo})", Ldb = "0", Image = null }, "0", wo.ToString()));
            return;
        }
        var strided = g with { BVectorStride = wp.ToString(), CVectorStride = wo.ToString() };
        int full = ho / w.NVMax * w.NVMax, rest = ho - full;
        bool oneVector = wo == w.Lanes;   // a row is one vector: no loop over its columns
        // the tiles of output rows `row` … (null: the loop's i) at C column Col(wo) and B column Col(wp)
        void Tiles(int nv, int? row, string comment)
        {
            string Col(int pitch)
            {
                string first = row is int r ? (r * pitch).ToString() : $"i * {pitch}";   // column of the tile's first row
                return oneVector ? first : first == "0" ? "j" : first + " + j";
            }
            if (oneVector) EmitRows(cw, w, strided, nv, Col(wo), Col(wp));
            else
                using (cw.Block($"for (int j = 0; j < {wo}; j += {w.Lanes}){comment}"))
                    EmitRows(cw, w, strided, nv, Col(wo), Col(wp));
        }
        if (full > 0)
            using (cw.Block($"for (int i = 0; i < {full}; i += {w.NVMax})   // output rows i … i + {w.NVMax - 1}, one vector of each"))
                Tiles(w.NVMax, null, "");
        if (rest > 0)
        {
            if (oneVector) cw.Line($"// the last {(rest == 1 ? "row" : rest + " rows")}");
            Tiles(rest, full, oneVector ? "" : $"   // the last {(rest == 1 ? "row" : rest + " rows")}");
        }
    }

    /// <summary>The scalar kernel on columns <c>[col, col + cols)</c> of the call's rows (or of its row range).</summary>
    private static string ScalarCall(GemmCall g, string col, string cols)
    {
        string r0 = g.RowRange?.Start ?? "0", rows = g.RowRange is { } rr ? $"{rr.End} - {rr.Start}" : g.Rows.ToString();
        string a = g.RowRange is null ? g.A : $"MG.Mem.Add(ref {g.A}, {r0} * {g.Ars})";
        string bias = g.Bias is null ? "Unsafe.NullRef<float>()" : g.RowRange is null ? g.Bias : $"MG.Mem.Add(ref {g.Bias}, {r0})";
        string b = col == "0" ? g.B : $"MG.Mem.Add(ref {g.B}, {col})";
        if (g.AOffsets is not null)
        {
            string aoff = g.RowRange is null ? g.AOffsets : $"MG.Mem.Add(ref {g.AOffsets}, {r0})";
            string cc = g.RowRange is null ? (col == "0" ? g.C : $"MG.Mem.Add(ref {g.C}, {col})") : $"MG.Mem.Add(ref {g.C}, {r0} * {g.Ldc}{(col == "0" ? "" : " + " + col)})";
            return $"MG.Gemm.ScalarIndirectA(ref {g.A}, ref {aoff}, {g.Aks}, ref {b}, {g.Ldb}, ref {cc}, {g.Ldc}, {g.K}, {rows}, {cols}, ref {bias}, {g.Epi}, {g.Alpha});";
        }
        string c = g.RowRange is null ? (col == "0" ? g.C : $"MG.Mem.Add(ref {g.C}, {col})") : $"MG.Mem.Add(ref {g.C}, {r0} * {g.Ldc}{(col == "0" ? "" : " + " + col)})";
        return g.BOffsets is null
            ? $"MG.Gemm.Scalar(ref {a}, {g.Ars}, {g.Aks}, ref {b}, {g.Ldb}, ref {c}, {g.Ldc}, {g.K}, {rows}, {cols}, ref {bias}, {g.Epi}, {g.Alpha});"
            : $"MG.Gemm.ScalarIndirect(ref {a}, {g.Ars}, {g.Aks}, ref {b}, ref {g.BOffsets}, ref {c}, {g.Ldc}, {g.K}, {rows}, {cols}, ref {bias}, {g.Epi}, {g.Alpha});";
    }

    /// <summary>The row tiles at C column <paramref name="j"/> (and B column <paramref name="bj"/>, when they differ).</summary>
    private void EmitRows(CodeWriter cw, Width w, GemmCall g, int nv, string j, string? bj = null)
    {
        if (g.Panels is { } panels && g.RowRange is null)
        {
            EmitPanelRows(cw, w, g, panels.Buffer, panels.Height, panels.K, nv, j, bj ?? j);
            return;
        }
        int full = g.Rows / w.MR * w.MR, rem = g.Rows - full;
        string x = (g.BOffsets is not null ? ":X" : g.AOffsets is not null ? ":A" : ":") + ":" + Access(g);
        string start = g.RowRange?.Start ?? "0", end = g.RowRange is { } rr ? $"global::System.Math.Min({rr.End}, {full})" : full.ToString();
        if (full > 0)
        {
            _kernels.Add($"{w.Name}:{w.MR}:{nv}{x}");
            using (cw.Block($"for (int r = {start}; r < {end}; r += {w.MR})"))
                cw.Line(Call(w, g, w.MR, nv, "r", j, bj ?? j));
        }
        if (rem > 0)
        {
            _kernels.Add($"{w.Name}:{rem}:{nv}{x}");
            cw.Line((g.RowRange is { } range ? $"if ({range.End} == {g.Rows}) " : "") + Call(w, g, rem, nv, full.ToString(), j, bj ?? j));
        }
    }

    /// <summary>The row tiles over A's panels (see <see cref="GemmCall.Panels"/>): per full panel one tile of
    /// <paramref name="height"/> rows when a tile is one vector wide, else tiles of MR rows; then the last, shorter panel.</summary>
    private void EmitPanelRows(CodeWriter cw, Width w, GemmCall g, string buffer, int height, int k, int nv, string j, string bj)
    {
        int full = g.Rows / height * height, rem = g.Rows - full, mr = nv == 1 ? height : w.MR;
        // the tile of rows [row, row + rows) of the panel that starts at `start` (h rows per step), `sub` rows into it
        string Tile(int rows, string row, string start, int h, int sub)
        {
            var panel = g with { A = buffer, Ars = "1", Aks = h.ToString(), Panels = null };   // Columns (a one-row panel: Rows, the same reads)
            _kernels.Add($"{w.Name}:{rows}:{nv}::{Access(panel)}");
            string a = start + (sub == 0 ? "" : " + " + sub) + (g.PanelStep is null ? "" : $" + {g.PanelStep} * {h}");
            return Call(w, panel, rows, nv, row, j, bj, a);
        }
        if (full > 0)
            using (cw.Block($"for (int r = 0; r < {full}; r += {height})   // A's panel of rows r … r + {height - 1}: {buffer}[r·{k} + p·{height} + i]"))
                for (int sub = 0; sub < height; sub += mr)
                    cw.Line(Tile(mr, sub == 0 ? "r" : $"(r + {sub})", $"r * {k}", height, sub));
        if (rem > 0)
        {
            int step = nv == 1 ? rem : w.MR;
            for (int sub = 0; sub < rem; sub += step)
                cw.Line(Tile(Math.Min(step, rem - sub), (full + sub).ToString(), (full * k).ToString(), rem, sub));
        }
    }

    /// <summary>The kernel call of the tile of rows from <paramref name="r"/> (A from row r, or from
    /// <paramref name="aOffset"/> when given: a panel's tile).</summary>
    private static string Call(Width w, GemmCall g, int mr, int nv, string r, string j, string bj, string? aOffset = null)
    {
        string bias = g.Bias is null ? "Unsafe.NullRef<float>()" : $"MG.Mem.Add(ref {g.Bias}, {r})";
        string bArgs = g.BOffsets is null ? $"ref MG.Mem.Add(ref {g.B}, {bj}), {g.Ldb}" : $"ref MG.Mem.Add(ref {g.B}, {bj}), ref {g.BOffsets}, {g.BVectorStride ?? w.Lanes.ToString()}";
        string cvs = g.BOffsets is null ? "" : $", {g.CVectorStride ?? w.Lanes.ToString()}";
        if (g.AOffsets is not null)
            return $"{KernelName(w, mr, nv, indirectA: true, access: Access(g))}(ref {g.A}, ref MG.Mem.Add(ref {g.AOffsets}, {r}), {g.Aks}, {bArgs}, " +
                   $"ref MG.Mem.Add(ref {g.C}, {r} * {g.Ldc} + {j}), {g.Ldc}, {g.K}, ref {bias}, {g.Epi}, {g.Alpha});";
        string resume = g.BOffsets is null ? ", " + (g.Resume ?? "false") : "";
        return $"{KernelName(w, mr, nv, g.BOffsets is not null, access: Access(g))}(ref MG.Mem.Add(ref {g.A}, {aOffset ?? r + " * " + g.Ars}), {g.Ars}, {g.Aks}, {bArgs}, " +
               $"ref MG.Mem.Add(ref {g.C}, {r} * {g.Ldc} + {j}), {g.Ldc}{cvs}, {g.K}, ref {bias}, {g.Epi}, {g.Alpha}{resume});";
    }
}
