using System.Collections.Generic;
using ModelGen.Generator.Analysis;
using ModelGen.Generator.Model;

namespace ModelGen.Generator.Emit.Ptx;

/// <summary>Where a GEMM's bias is added: none, <c>bias[n]</c> per output column, or <c>bias[m]</c> per row.</summary>
internal enum GemmBias { None, PerColumn, PerRow }

/// <summary>
/// One GEMM <c>C[M,N] (=|+=) act(A·B + bias)</c>, every dimension fixed at build time except those that are a multiple
/// of the batch: a negative dimension <c>−t</c> is <c>t·n</c> (<see cref="Batch"/> = −1 is <c>n</c>, the kernel's
/// parameter; −T the rows of a sequence's every step). <c>A(m,k)</c> is <c>A[m·LdA + k]</c>, or <c>A[k·LdA + m]</c>
/// when <see cref="TransA"/>; <c>B(k,n)</c> is <c>B[k·LdB + n]</c>, or <c>B[n·LdB + k]</c> when <see cref="TransB"/>;
/// <c>C(m,n)</c> is <c>C[m·LdC + n]</c>. Leading dimensions are always build-time constants: the batch is the
/// outermost dimension of every activation.
/// </summary>
internal sealed record GemmSpec(int M, int N, int K, bool TransA, int LdA, bool TransB, int LdB, int LdC)
{
    public const int Batch = -1;
    public GemmBias Bias { get; init; }
    public ActivationKind Activation { get; init; }
    public float Alpha { get; init; }
    /// <summary>C += the product (gradients accumulate) instead of C = .</summary>
    public bool Accumulate { get; init; }
    /// <summary>An operand read through an index map instead of a matrix (a convolution's implicit im2col): given the
    /// operand's base address, its row (m for A, n for B) and k, the address and whether the element exists (else 0).</summary>
    public Gather? GatherA { get; init; }
    public Gather? GatherB { get; init; }
    /// <summary>One GEMM per sample (grid z = n): each operand's base moves by its stride (floats) per sample.</summary>
    public bool PerSample { get; init; }
    public long StrideA { get; init; }
    public long StrideB { get; init; }
    public long StrideC { get; init; }
    /// <summary>How a gathered operand reads, for the banner.</summary>
    public string? GatherText { get; init; }
}

/// <summary>Emits the address of element (row, k) of a gathered operand and a predicate that is true where it exists.</summary>
internal delegate (string Address, string Valid) Gather(PtxKernel k, string baseAddress, string row, string kIndex);

/// <summary>
/// The tiled shared-memory GEMM every dense product and convolution lowers to: 64×64 output tiles per 256-thread
/// block, K in slices of 16 staged through shared memory (<c>As[16][64]</c>, <c>Bs[16][64]</c>, 8 KiB), each thread
/// a 4×4 register block (rows <c>ty + 16i</c>, columns <c>tx + 16j</c>, so a warp's stores are coalesced), operands
/// zero-filled past the edges, the bias and activation applied in the store.
/// </summary>
internal static class PtxGemm
{
    public const int Tile = 64, Slice = 16, Threads = 256;

    /// <summary>The GEMM as a kernel named <paramref name="name"/>; its arguments: A, B, C (float offsets of the arena),
    /// then the bias when it has one, then the batch <c>n</c>.</summary>
    public static PtxKernel Kernel(string name, GemmSpec g, string a, string b, string c, string? bias)
    {
        var launch = new KernelLaunch(Blocks(g.N), Blocks(g.M), Threads) { GridZ = g.PerSample ? "n" : "1" };
        launch.Args.Add(KernelArg.Buffer(a));
        launch.Args.Add(KernelArg.Buffer(b));
        launch.Args.Add(KernelArg.Buffer(c));
        if (g.Bias != GemmBias.None) launch.Args.Add(KernelArg.Buffer(bias!));
        launch.Args.Add(KernelArg.Count("n"));
        var k = new PtxKernel(name, launch);
        k.Banner.Add($"GEMM C[{Dim(g.M)},{Dim(g.N)}] {(g.Accumulate ? "+=" : "=")} {Epilogue(g)}   K = {Dim(g.K)}");
        string aText = g.GatherA is not null ? "gathered" : $"A[{(g.TransA ? $"k·{g.LdA} + m" : $"m·{g.LdA} + k")}]";
        string bText = g.GatherB is not null ? "gathered" : $"B[{(g.TransB ? $"n·{g.LdB} + k" : $"k·{g.LdB} + n")}]";
        k.Banner.Add($"A(m,k) = {aText}   B(k,n) = {bText}   C(m,n) = C[m·{g.LdC} + n]{(g.PerSample ? $"   one GEMM per sample (grid z): strides A {g.StrideA}, B {g.StrideB}, C {g.StrideC}" : "")}");
        if (g.GatherText is not null) k.Banner.Add(g.GatherText);
        k.Banner.Add($"tiles {Tile}×{Tile}, K slices of {Slice} in shared memory, {Threads} threads × a 4×4 register block");

        string pa = k.Param("u64", "pA"), pb = k.Param("u64", "pB"), pc = k.Param("u64", "pC");
        string? pbias = g.Bias != GemmBias.None ? k.Param("u64", "pBias") : null;
        string pn = k.Param("u32", "n");
        string A = k.GlobalPointer(pa), B = k.GlobalPointer(pb), C = k.GlobalPointer(pc);
        string? Bias = pbias is null ? null : k.GlobalPointer(pbias);
        string n = k.LoadU32(pn);
        string M = Operand(k, g.M, n), N = Operand(k, g.N, n), K = Operand(k, g.K, n);
        if (g.PerSample)
        {
            string bz = k.R();
            k.Op($"mov.u32 {bz}, %ctaid.z");
            foreach (var (ptr, stride) in new[] { (A, g.StrideA), (B, g.StrideB), (C, g.StrideC) })
                if (stride != 0)
                {
                    string off = k.Rd();
                    k.Op($"mul.wide.u32 {off}, {bz}, {4 * stride}");
                    k.Op($"add.s64 {ptr}, {ptr}, {off}");
                }
        }

        string smem = k.Shared(2 * Slice * Tile * 4);
        string tid = k.R(), tx = k.R(), ty = k.R(), bx = k.R(), by = k.R(), m0 = k.R(), n0 = k.R();
        k.Op($"mov.u32 {tid}, %tid.x");
        k.Op($"and.b32 {tx}, {tid}, 15");
        k.Op($"shr.u32 {ty}, {tid}, 4");
        k.Op($"mov.u32 {bx}, %ctaid.x");
        k.Op($"mov.u32 {by}, %ctaid.y");
        k.Op($"shl.b32 {m0}, {by}, 6");
        k.Op($"shl.b32 {n0}, {bx}, 6");

        // Each thread stages 4 elements of each operand per slice: element q of the thread is idx = tid + 256q of the
        // 64×16 tile, walked along the operand's contiguous dimension so that a warp reads consecutive addresses.
        k.Comment("staging: per operand 4 elements per thread per slice, a running pointer each, zero past the edges");
        var stage = new List<Staged>();
        for (int q = 0; q < 4; q++) stage.Add(Stage(k, smem, tid, q, m0, M, A, g.TransA, g.LdA, sharedBase: 0, g.GatherA));
        for (int q = 0; q < 4; q++) stage.Add(Stage(k, smem, tid, q, n0, N, B, !g.TransB, g.LdB, sharedBase: Slice * Tile * 4, g.GatherB));

        // Shared addresses the compute phase reads: As[kk][ty + 16i], Bs[kk][tx + 16j] (immediate offsets from these).
        string sa = k.R(), sb = k.R();
        k.Op($"shl.b32 {sa}, {ty}, 2");
        k.Op($"add.s32 {sa}, {sa}, {smem}");
        k.Op($"shl.b32 {sb}, {tx}, 2");
        k.Op($"add.s32 {sb}, {sb}, {smem}");

        var acc = new string[4, 4];
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++) { acc[i, j] = k.F(); k.Op($"mov.f32 {acc[i, j]}, 0f00000000"); }

        string k0 = k.R(), loop = k.NewLabel("slice");
        k.Op($"mov.u32 {k0}, 0");
        k.Label(loop);
        foreach (var s in stage)
        {
            string kpos = k.R(), pk = k.P(), pin = k.P(), v = k.F();
            k.Op($"add.s32 {kpos}, {k0}, {s.SliceIndex}");
            k.Op($"setp.lt.u32 {pk}, {kpos}, {K}");
            k.Op($"and.pred {pin}, {pk}, {s.InRange}");
            k.Op($"mov.f32 {v}, 0f00000000");
            if (s.Gather is null)
            {
                k.Op(pin, $"ld.global.f32 {v}, [{s.Pointer}]");
                k.Op($"add.s64 {s.Pointer}, {s.Pointer}, {s.StepBytes}");
            }
            else
            {
                var (addr, valid) = s.Gather(k, s.Pointer, s.Row, kpos);
                k.Op($"and.pred {pin}, {pin}, {valid}");
                k.Op(pin, $"ld.global.f32 {v}, [{addr}]");
            }
            k.Op($"st.shared.f32 [{s.SharedAddress}], {v}");
        }
        k.Op("bar.sync 0");
        string[] av = { k.F(), k.F(), k.F(), k.F() }, bv = { k.F(), k.F(), k.F(), k.F() };
        for (int kk = 0; kk < Slice; kk++)
        {
            for (int i = 0; i < 4; i++) k.Op($"ld.shared.f32 {av[i]}, [{sa}+{kk * Tile * 4 + i * 64}]");
            for (int j = 0; j < 4; j++) k.Op($"ld.shared.f32 {bv[j]}, [{sb}+{Slice * Tile * 4 + kk * Tile * 4 + j * 64}]");
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++) k.Op($"fma.rn.f32 {acc[i, j]}, {av[i]}, {bv[j]}, {acc[i, j]}");
        }
        k.Op("bar.sync 0");
        string more = k.P();
        k.Op($"add.s32 {k0}, {k0}, {Slice}");
        k.Op($"setp.lt.u32 {more}, {k0}, {K}");
        k.Op(more, $"bra {loop}");

        k.Comment("epilogue: bias, activation, store (or add) where inside C");
        for (int i = 0; i < 4; i++)
        {
            string m = k.R(), pm = k.P();
            k.Op($"add.s32 {m}, {m0}, {ty}");
            if (i > 0) k.Op($"add.s32 {m}, {m}, {16 * i}");
            k.Op($"setp.lt.u32 {pm}, {m}, {M}");
            for (int j = 0; j < 4; j++)
            {
                string col = k.R(), pn2 = k.P(), pin = k.P(), skip = k.NewLabel("edge");
                k.Op($"add.s32 {col}, {n0}, {tx}");
                if (j > 0) k.Op($"add.s32 {col}, {col}, {16 * j}");
                k.Op($"setp.lt.u32 {pn2}, {col}, {N}");
                k.Op($"and.pred {pin}, {pn2}, {pm}");
                k.Op("!" + pin, $"bra {skip}");
                string v = acc[i, j];
                if (Bias is not null)
                {
                    string bval = k.LoadGlobal(k.Element(Bias, g.Bias == GemmBias.PerColumn ? col : m));
                    k.Op($"add.f32 {v}, {v}, {bval}");
                }
                v = PtxMath.Activate(k, g.Activation, g.Alpha, v);
                string idx = k.R();
                k.Op($"mad.lo.s32 {idx}, {m}, {g.LdC}, {col}");
                string addr = k.Element(C, idx);
                if (g.Accumulate)
                {
                    string old = k.LoadGlobal(addr);
                    k.Op($"add.f32 {v}, {v}, {old}");
                }
                k.StoreGlobal(addr, v);
                k.Label(skip);
            }
        }
        return k;
    }

    /// <summary>One staged element: its running global pointer, the bound check of its row/column, its index in the
    /// slice (added to k0 for the K check), where it goes in shared memory and how far the pointer moves per slice.</summary>
    private sealed record Staged(string Pointer, string InRange, string SliceIndex, string SharedAddress, string StepBytes, string Row, Gather? Gather);

    /// <summary>Element q of this thread in an operand tile (rows r: A's m or B's n). Stored with K contiguous
    /// (element (r, kk) at <c>r·ld + kk</c>: A not transposed, B transposed), 16 consecutive threads read one row's 16
    /// K values; with the rows contiguous (<paramref name="rowsContiguous"/>: at <c>kk·ld + r</c>) 64 threads read one
    /// slice row.</summary>
    private static Staged Stage(PtxKernel k, string smem, string tid, int q, string origin, string extent, string basePtr, bool rowsContiguous, int ld, int sharedBase, Gather? gather)
    {
        // A gathered operand is read along the rows (64 consecutive rows per slice row), as an image's pixels lie.
        bool kContiguous = gather is null && !rowsContiguous;
        string idx = k.R(), kk = k.R(), r = k.R(), row = k.R(), inRange = k.P();
        k.Op($"add.s32 {idx}, {tid}, {256 * q}");
        if (kContiguous) { k.Op($"and.b32 {kk}, {idx}, 15"); k.Op($"shr.u32 {r}, {idx}, 4"); }
        else { k.Op($"and.b32 {r}, {idx}, 63"); k.Op($"shr.u32 {kk}, {idx}, 6"); }
        k.Op($"add.s32 {row}, {origin}, {r}");
        k.Op($"setp.lt.u32 {inRange}, {row}, {extent}");
        string ptr = basePtr;
        if (gather is null)
        {
            string e = k.R();
            if (kContiguous) k.Op($"mad.lo.s32 {e}, {row}, {ld}, {kk}");
            else k.Op($"mad.lo.s32 {e}, {kk}, {ld}, {row}");
            ptr = k.Element(basePtr, e);
        }
        string sh = k.R();
        k.Op($"mad.lo.s32 {sh}, {kk}, {Tile}, {r}");
        k.Op($"shl.b32 {sh}, {sh}, 2");
        k.Op($"add.s32 {sh}, {sh}, {smem}");
        if (sharedBase != 0) k.Op($"add.s32 {sh}, {sh}, {sharedBase}");
        long step = kContiguous ? Slice * 4L : (long)Slice * ld * 4;
        return new Staged(ptr, inRange, kk, sh, PtxText.I(step), row, gather);
    }

    /// <summary>A dimension as an operand: an immediate, <c>n</c>'s register, or <c>t·n</c> computed once.</summary>
    private static string Operand(PtxKernel k, int dim, string n)
    {
        if (dim >= 0) return PtxText.I(dim);
        if (dim == GemmSpec.Batch) return n;
        string r = k.R();
        k.Op($"mul.lo.s32 {r}, {n}, {-dim}");
        return r;
    }

    public static string Count(int dim) => dim >= 0 ? PtxText.I(dim) : dim == GemmSpec.Batch ? "n" : $"{-dim} * n";
    private static string Blocks(int dim) => dim >= 0 ? PtxText.I((dim + Tile - 1) / Tile) : $"({Count(dim)} + {Tile - 1}) / {Tile}";
    private static string Dim(int dim) => dim >= 0 ? PtxText.I(dim) : dim == GemmSpec.Batch ? "n" : $"{-dim}·n";

    private static string Epilogue(GemmSpec g)
    {
        string z = "A·B" + (g.Bias == GemmBias.PerColumn ? " + bias[n]" : g.Bias == GemmBias.PerRow ? " + bias[m]" : "");
        return g.Activation == ActivationKind.None ? z : $"{g.Activation.ToString().ToLowerInvariant()}({z})";
    }
}
