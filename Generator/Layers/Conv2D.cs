using System.Collections.Generic;
using System.Linq;
using ModelGen.Generator.Analysis;
using ModelGen.Generator.Diagnostics;
using ModelGen.Generator.Emit;
using ModelGen.Generator.Emit.CSharp;
using ModelGen.Generator.Emit.Ptx;
using ModelGen.Generator.Model;

namespace ModelGen.Generator.Layers;

/// <summary>Conv2D's options; after inference <c>Same</c> is resolved into the paddings.</summary>
internal sealed record Conv2DOptions(int Filters, int KH, int KW, int Stride, int PadH, int PadW, bool Same, bool Bias, int Algorithm = Conv2D.Auto) : LayerOptions;

/// <summary>
/// Conv2D as a GEMM with the output pixels in the vector lanes, PyTorch's <c>[out, in, kh, kw]</c> weights used as
/// they are: <c>Y[o, p] = Σ_k W[o, k] · X̃[k, p]</c>, <c>k = (c, u, v)</c>. Three forward paths, chosen at build time:
/// 1×1 stride 1 (X̃ is the image), stride 1 (X̃'s rows are shifted rows of the padded image read through an offset
/// table — "indirect", no im2col copy), other strides (im2col). Backward per sample: <c>dWᵀ += col·dZᵀ</c>; the input
/// gradient is an indirect convolution of padded dZ with the flipped, transposed weights for stride 1, else
/// <c>dcol = Wᵀ·dZ</c> and col2im.
/// </summary>
internal sealed class Conv2D : LayerKind, ICSharpLayer, ICSharpLayerFields, ICSharpPack, IPtxLayer
{
    public static readonly Conv2D Instance = new();
    // ConvAlgorithm's values
    public const int Auto = 0, Direct = 1, Winograd = 2;
    public override string Name => "Conv2D";
    public override bool FusesActivation => true;
    public override bool HasWeights => true;

    public override LayerOptions? Read(AttributeArgs a, LayerDiagnostics d)
    {
        int k = a.Int(1, 0), kh = a.NamedInt("KernelHeight", 0), kw = a.NamedInt("KernelWidth", 0);
        int pad = a.Int(3, 0);
        return new Conv2DOptions(a.Int(0, 0), kh != 0 ? kh : k, kw != 0 ? kw : k, a.Int(2, 1), pad, pad, a.NamedBool("Same", false), a.NamedBool("Bias", true), a.NamedInt("Algorithm", Auto));
    }

    public override LayerShape? Infer(LayerSpec s, IReadOnlyList<Shape> inputs, LayerDiagnostics d)
    {
        var o = (Conv2DOptions)s.Options;
        var x = inputs[0];
        if (x.Rank != 3) { Fused.WrongInput(d, "Conv2D", "a [channels, height, width]", x); return null; }
        foreach (var (what, v) in new[] { ("filters", o.Filters), ("kernel height", o.KH), ("kernel width", o.KW), ("stride", o.Stride) })
            if (v < 1) { d.Report(Descriptors.NonPositiveSize, what, v); return null; }
        if (o.PadH < 0) { d.Report(Descriptors.NonPositiveSize, "padding", o.PadH); return null; }
        int padH = o.PadH, padW = o.PadW;
        if (o.Same)
        {
            if (o.KH % 2 == 0 || o.KW % 2 == 0) { d.Invalid($"'Same' padding needs an odd kernel; {o.KH}x{o.KW} would pad one side more than the other"); return null; }
            padH = (o.KH - 1) / 2; padW = (o.KW - 1) / 2;
        }
        if (!Fused.CheckAlpha(s, d)) return null;
        int c = x[0];
        bool threeByThree = o.KH == 3 && o.KW == 3 && o.Stride == 1;
        int algorithm = o.Algorithm;
        if (algorithm is < Auto or > Winograd) { d.Invalid($"Algorithm {algorithm} is not a ConvAlgorithm (Auto, Direct or Winograd)"); return null; }
        if (algorithm == Winograd && !threeByThree) { d.Invalid($"Algorithm = ConvAlgorithm.Winograd needs a 3x3 kernel with stride 1; this one is {o.KH}x{o.KW} with stride {o.Stride}"); return null; }
        // Winograd F(2×2, 3×3) does 16 multiplications per 2×2 tile and channel pair where the direct product does 36;
        // its transforms cost per channel and its products are short (K = C), so it pays from 16 channels on (measured,
        // `Benchmarks --ab-conv`: 8 channels break even, 16 gain ~8 %, 128 ~33 %).
        if (algorithm == Auto) algorithm = threeByThree && c >= 16 && o.Filters >= 16 ? Winograd : Direct;
        int? ho = Pooling.OutputSize(d, "height", x[1], o.KH, o.Stride, padH);
        int? wo = Pooling.OutputSize(d, "width", x[2], o.KW, o.Stride, padW);
        if (ho is null || wo is null) return null;
        long weights = (long)o.Filters * c * o.KH * o.KW, outputs = (long)o.Filters * ho.Value * wo.Value;
        if (weights > int.MaxValue / 4 || outputs > int.MaxValue / 4) { d.Invalid("more weights or outputs than one arena can address"); return null; }
        var bias = new TensorSpec("bias", EquatableArray.From(new[] { o.Filters }), o.Bias ? TensorRole.Parameter : TensorRole.Hidden, TensorInit.Zeros);
        return new LayerShape(Shape.Of(o.Filters, ho.Value, wo.Value), EquatableArray.From(new[]
        {
            new TensorSpec("weight", EquatableArray.From(new[] { o.Filters, c, o.KH, o.KW }), TensorRole.Weight, TensorInit.Weight, c * o.KH * o.KW, o.Filters * o.KH * o.KW),
            bias,
        }), 2 * weights * ho.Value * wo.Value, o with { PadH = padH, PadW = padW, Same = false, Algorithm = algorithm });
    }

    public override ReceptiveField ReceptiveField(LayerPlan l, IReadOnlyList<ReceptiveField> inputs)
        => inputs[0].Through(Opt(l).KH, Opt(l).Stride);

    private static Conv2DOptions Opt(LayerPlan l) => (Conv2DOptions)l.Options;

    public override string Describe(LayerPlan l)
    {
        var o = Opt(l);
        return $"Conv2D({o.Filters}, {(o.KH == o.KW ? o.KH.ToString() : o.KH + "x" + o.KW)}" + (o.Stride != 1 ? $", stride {o.Stride}" : "")
            + (o.PadH != 0 || o.PadW != 0 ? $", pad {(o.PadH == o.PadW ? o.PadH.ToString() : o.PadH + "x" + o.PadW)}" : "") + (o.Bias ? "" : ", no bias")
            + (o.Algorithm == Winograd ? ", Winograd" : "") + ")";
    }

    public override IEnumerable<(string Key, double Value)> Hyperparameters(LayerPlan l)
    {
        var o = Opt(l);
        yield return ("filters", o.Filters);
        yield return ("kernel_height", o.KH);
        yield return ("kernel_width", o.KW);
        yield return ("stride", o.Stride);
        yield return ("padding_height", o.PadH);
        yield return ("padding_width", o.PadW);
        yield return ("bias", o.Bias ? 1 : 0);
    }

    // Geometry of one layer.
    private static int C(LayerPlan l) => l.InShape[0];
    private static int O(LayerPlan l) => l.OutShape[0];
    private static int K(LayerPlan l) => C(l) * Opt(l).KH * Opt(l).KW;
    /// <summary>Reduction length of the input gradient's GEMM: the flipped weights are <c>[C, O·KH·KW]</c>.</summary>
    private static int KBack(LayerPlan l) => O(l) * Opt(l).KH * Opt(l).KW;
    public static bool IsPointwise(LayerPlan l) { var o = Opt(l); return o.KH == 1 && o.KW == 1 && o.Stride == 1 && o.PadH == 0 && o.PadW == 0; }
    /// <summary>Stride-1 convolutions read shifted rows of a padded image through an offset table instead of an
    /// im2col copy (an "indirect" GEMM); the output comes out "wide" (row stride Wp) and is compacted.</summary>
    public static bool IsIndirect(LayerPlan l) => Opt(l).Stride == 1 && !IsPointwise(l);
    private static int Hp(LayerPlan l) => l.InShape[1] + 2 * Opt(l).PadH;
    private static int Wp(LayerPlan l) => l.InShape[2] + 2 * Opt(l).PadW;
    private static int LdWide(LayerPlan l) => Geometry.LdP(l.OutShape[1] * Wp(l));
    /// <summary>The input gradient of a stride-1 convolution is itself a stride-1 convolution of dZ (padded by
    /// KH−1−PH, KW−1−PW) with the flipped, transposed weights — run indirect too, no dcol and no col2im.</summary>
    public static bool IndirectBackward(LayerPlan l) => IsIndirect(l) && Opt(l).PadH <= Opt(l).KH - 1 && Opt(l).PadW <= Opt(l).KW - 1;
    /// <summary>A stride-1 convolution whose output rows are whole vectors (width a multiple of 16) writes its output
    /// directly, a tile being a few output rows × one vector of pixels: no wide buffer, no compaction.</summary>
    public static bool RowsDirect(LayerPlan l) => IsIndirect(l) && l.OutShape[2] % 16 == 0;
    /// <summary>The same for the input gradient's convolution (rows of the input image).</summary>
    public static bool RowsDirectBack(LayerPlan l) => IndirectBackward(l) && l.InShape[2] % 16 == 0;
    /// <summary>Sample groups of the weight gradient at most (<c>ThreadTeam.Groups</c>): each group of ≥ 16 samples sums
    /// into a dWᵀ of its own and the groups are added in order, so that threads split the batch (each core reading the
    /// samples it produced, no transposes done twice) and every thread count adds the same sums. Up to 8, while all
    /// groups' dWᵀ fit in 4 M floats (16 MB); one (rows split only) for a larger layer.</summary>
    private static int WeightGroups(LayerPlan l) => (int)System.Math.Max(1, System.Math.Min(8, (1L << 22) / WeightGroupFloats(l)));
    /// <summary>One sample group's sums: dWᵀ [K, O], or a Winograd layer's 16 planes M[ξ][C, O].</summary>
    private static long WeightGroupFloats(LayerPlan l) => IsWinograd(l) ? 16L * WinogradMPlane(l) : (long)K(l) * O(l);
    /// <summary>A Winograd weight gradient's planes: M[ξ] [C, O] one vector apart (C·O is often a multiple of 4 KB).</summary>
    private static int WinogradMPlane(LayerPlan l) => C(l) * O(l) + 16;
    /// <summary>Z[ξ] [T, O] of a Winograd weight gradient, T all the output image's tiles, planes one vector apart.</summary>
    private static int WinogradZPlane(LayerPlan l) => Tiles(l.OutShape[1]) * Tiles(l.OutShape[2]) * O(l) + 16;
    /// <summary>The row stride of a Winograd weight gradient's V: all the tile rows in one block.</summary>
    private static int WinogradVLd(LayerPlan l) => WinogradLd(Tiles(l.OutShape[1]), Tiles(l.OutShape[2]));
    /// <summary>Pixels of the wide order up to the last output pixel: the reduction of the im2col-free weight gradient.</summary>
    private static int PWide(LayerPlan l) => (l.OutShape[1] - 1) * Wp(l) + l.OutShape[2];

    // Winograd F(2×2, 3×3): the tiles, and the sizes of the runtime's Winograd.Ld / Columns / ScratchFloats (a test
    // checks that both agree).
    public static bool IsWinograd(LayerPlan l) => Opt(l).Algorithm == Winograd;
    private static int Tiles(int outputs) => (outputs + 1) / 2;
    internal static int WinogradLd(int tb, int tw) => ((tb * tw + 15) & ~15) + 16;
    internal static int WinogradColumns(int tb, int tw) => (tb * tw + 15) & ~15;
    internal static int WinogradScratch(int tb, int tw) => 4 * (2 * tb + 2) * (((tw + 15) & ~15) + 16);

    /// <summary>Tile rows per block: a sample's tiles are transformed, multiplied and transformed back a block at a time,
    /// so that the block's transformed input and products (16·(ci + co) floats per tile) stay within ~256 KB of the
    /// cache (at least 32 tiles: two vectors of GEMM columns); the blocks split the tile rows evenly.</summary>
    internal static int WinogradBlockRows(int ci, int co, int th, int tw)
    {
        int rows = System.Math.Max(1, System.Math.Max(32, 131072 / (16 * (ci + co))) / tw);
        int blocks = (th + rows - 1) / rows;
        return (th + blocks - 1) / blocks;
    }
    internal static int WinogradPlane(int rows, int ld) => rows * ld + 16;
    private static long FilterTransforms(LayerPlan l) => 16L * O(l) * C(l);
    public override long FoldedExtra(LayerPlan l) => IsWinograd(l) ? FilterTransforms(l) : 0;
    private static int Hq(LayerPlan l) => l.InShape[1] + Opt(l).KH - 1;
    private static int Wq(LayerPlan l) => l.InShape[2] + Opt(l).KW - 1;
    private static int LdWideX(LayerPlan l) => Geometry.LdP(l.InShape[1] * Wq(l));
    /// <summary>Columns of a wide output that compaction reads — up to pixel (rows − 1, cols − 1) at column
    /// <c>(rows − 1)·stride + cols − 1</c> — rounded up to whole vectors (the padding columns past it are never computed).</summary>
    private static int WideCols(int rows, int stride, int cols) => ((rows - 1) * stride + cols + 15) / 16 * 16;
    /// <summary>The input gradient runs as an indirect convolution (and there is an input gradient).</summary>
    private static bool FlipsBack(LayerPlan l) => IndirectBackward(l) && !IsWinograd(l);
    /// <summary>The input gradient, a stride-1 3×3 convolution of dz padded by 2 − P, by Winograd as the forward.</summary>
    public static bool WinogradBack(LayerPlan l) => IsWinograd(l) && IndirectBackward(l);

    public override IEnumerable<string> Math(LayerPlan l, NetworkPlan p)
    {
        var o = Opt(l);
        string z = $"Σ_(c,u,v) W[o,c,u,v]·x[c, i·{o.Stride}+u−{o.PadH}, j·{o.Stride}+v−{o.PadW}] + bias[o]";
        yield return $"forward : y[o,i,j] = {Fused.Math(l.Activation, l.Alpha, z)}";
        yield return $"          x:{l.InShape} W:[{O(l)},{C(l)},{o.KH},{o.KW}] y:{l.OutShape}   out = (in + 2P − F)/S + 1";
        int th = Tiles(l.OutShape[1]), tw = Tiles(l.OutShape[2]);
        if (IsWinograd(l))
        {
            yield return "          as Winograd F(2×2, 3×3): each 2×2 output tile y = Aᵀ·[Σ_c U[o,c] ⊙ V[c]]·A, U = G·g·Gᵀ (4×4 per filter, once per parameter version), V = Bᵀ·d·B (the tile's 4×4 padded input patch);";
            yield return $"          the sums over c are 16 GEMMs M[ξ][{O(l)},{th * tw}] = U[ξ][{O(l)},{C(l)}]·V[ξ][{C(l)},{th * tw}] over the {th}×{tw} tiles: 16 multiplications per tile and channel pair instead of 36";
        }
        else yield return "          " + (IsPointwise(l) ? $"1×1: Y[{O(l)},{l.OutPixels}] = W[{O(l)},{C(l)}]·X, a plain GEMM on the image"
            : IsIndirect(l) ? $"as GEMM Y[{O(l)},{l.OutPixels}] = W[{O(l)},{K(l)}]·X̃, X̃'s rows shifted rows of the zero-padded image (offset table, no im2col)"
            : $"as GEMM Y[{O(l)},{l.OutPixels}] = W[{O(l)},{K(l)}]·col[{K(l)},{l.OutPixels}], col = im2col(x)");
        yield return $"backward: {Fused.Derivative(l.Activation, l.Alpha)};" + (o.Bias ? " dbias[o] += Σ_(b,i,j) dz;" : "")
            + (IsWinograd(l) ? " dW[o,c] = Gᵀ·[Σ_t V[c] ⊙ Z[o]]·G, Z = A·g·Aᵀ of dz's 2×2 block g of each tile (F(2×2, 3×3) transposed: the forward's V,"
                : IsIndirect(l) ? " dWᵀ[k,o] += Σ_q xpad[offs[k] + q]·dZᵀ[q,o] over the wide pixels (filters in the lanes, no im2col)"
                : $" dWᵀ += {(IsPointwise(l) ? "X" : "col")}·dZᵀ (filters in the lanes)");
        if (IsWinograd(l))
            yield return $"          16 GEMMs M[ξ][{C(l)},{O(l)}] += V[ξ][{C(l)},{th * tw}]·Z[ξ][{th * tw},{O(l)}] over the tiles: 16 multiplications per tile and filter pair instead of 36)";
        if (p.Trainable)
            yield return (l.InputIndex >= 0 ? "          " : "          (d loss / d input, when asked) ") + (IsPointwise(l) ? "dx = Wᵀ·dZ"
                : WinogradBack(l) ? $"dx = stride-1 conv of dz padded by ({2 - o.PadH},{2 - o.PadW}) with W flipped and transposed [{C(l)},{O(l)},3,3], by Winograd F(2×2, 3×3) as the forward"
                : IndirectBackward(l) ? $"dx = stride-1 conv of dz padded by ({o.KH - 1 - o.PadH},{o.KW - 1 - o.PadW}) with W flipped and transposed [{C(l)},{O(l)},{o.KH},{o.KW}] (indirect GEMM)"
                : "dx = col2im(Wᵀ·dZ)");
        if (WindowPool.BackwardPool(p, l) is { } backPool)
            yield return WindowPool.TakesRelu(backPool, l)
                ? $"          each sample's dz comes from {backPool.Name}'s backward, run here just before with the ReLU's derivative (dy to a window's maximum only when it is positive; the sample stays in the cache)"
                : $"          each sample's dy comes from {backPool.Name}'s backward, run here just before (the sample's gradient stays in the cache)";
        if (l.L2 > 0f) yield return Fused.L2Line(l);
        yield return $"params  : {Text.N0(l.ParameterCount)} (W {Text.N0(l.Tensor("weight").Length)}" + (o.Bias ? $" + bias {Text.N0(o.Filters)})" : ", no bias)")
            + $"   FLOPs/sample: {Text.N0(l.Flops)}   receptive field: {l.ReceptiveField}";
        if (p.Buffers.Layers.Count > l.Index && p.Buffers.Layers[l.Index].FoldInto >= 0)
            yield return $"inference: {p.Layers[p.Buffers.Layers[l.Index].FoldInto].Name} folded in (W' = s·W, b' = s·(b − mean) + β, s = γ/√(var + ε)), rebuilt when the parameters change";
        if (p.Buffers.Layers.Count > l.Index && p.Buffers.Layers[l.Index].FuseInto >= 0)
        {
            var pool = p.Layers[p.Buffers.Layers[l.Index].FuseInto];
            yield return IsWinograd(l)
                ? $"inference: {pool.Name} fused in: y[o,i,j] = {PoolOp(pool)} of output tile (i, j)'s four pixels, stored by the output transform (FusePooling)"
                : $"inference: {pool.Name} fused in: each sample's output image is pooled while it is in the cache, into {pool.Name}'s output {pool.OutShape} (FusePooling)";
        }
    }

    public override IEnumerable<ScratchRequest> Scratch(LayerPlan l, NetworkPlan p)
    {
        long col = (long)K(l) * Geometry.LdP(l.OutPixels);
        if (!IsPointwise(l) && !IsIndirect(l)) yield return new ScratchRequest("col", BufferSize.Floats(col), ScratchScope.Shared, false, "im2col columns [K, ldP] of one sample");
        // stride 1 needs no columns at all (forward, input gradient and weight gradient are indirect), except for an
        // input gradient that pads more than KH − 1 (dcol and col2im)
        else if (!IsPointwise(l) && !IndirectBackward(l)) yield return new ScratchRequest("col", BufferSize.Floats(col), ScratchScope.Shared, true, "dcol [K, ldP] of one sample");
        yield return new ScratchRequest("dzT", BufferSize.Floats((long)(IsIndirect(l) ? PWide(l) : l.OutPixels) * O(l)), ScratchScope.Shared, true, "dZᵀ [P, O] of one sample (wide pixel order for stride 1)");
        if (!IsWinograd(l)) yield return new ScratchRequest("dwT", BufferSize.Floats((long)WeightGroups(l) * K(l) * O(l)), ScratchScope.Shared, true, "dWᵀ [K, O] of each sample group, summed over its samples");
        if (Opt(l).Bias) yield return new ScratchRequest("dbs", BufferSize.Images(O(l)), ScratchScope.Shared, true, "each sample's Σ_p dz[o,p] [batch, O], added in sample order");
        if (IsIndirect(l))
        {
            // a Winograd layer reads neither (its weight gradient transforms the input as the forward does)
            if (!IsWinograd(l)) yield return new ScratchRequest("xpad", BufferSize.Floats((long)C(l) * Hp(l) * Wp(l) + LdWide(l)), ScratchScope.Shared, false, "zero-padded input of a stride-1 convolution");
            if (!RowsDirect(l) && !IsWinograd(l)) yield return new ScratchRequest("wide", BufferSize.Floats((long)O(l) * LdWide(l)), ScratchScope.Shared, false, "wide output of a stride-1 convolution (row stride Wp)");
        }
        if (IsWinograd(l))
        {
            int th = Tiles(l.OutShape[1]), tw = Tiles(l.OutShape[2]), tb = WinogradBlockRows(C(l), O(l), th, tw), ld = WinogradLd(tb, tw);
            yield return new ScratchRequest("wino", BufferSize.Floats(FilterTransforms(l)), ScratchScope.PerLayer, false, $"the filters transformed, U[ξ] = G·g·Gᵀ, [16][{O(l)}, {C(l)}] (once per parameter version)");
            yield return new ScratchRequest("winov", BufferSize.Floats(16L * WinogradPlane(C(l), ld)), ScratchScope.Shared, false, "Winograd: one sample's input tiles transformed, V[ξ] = Bᵀ·d·B, [16][C, tiles]");
            yield return new ScratchRequest("winom", BufferSize.Floats(16L * WinogradPlane(O(l), ld)), ScratchScope.Shared, false, "Winograd: one sample's 16 products M[ξ] = U[ξ]·V[ξ], [16][O, tiles]");
            yield return new ScratchRequest("winot", BufferSize.Floats(WinogradScratch(tb, tw)), ScratchScope.Shared, false, "Winograd: the transforms' rows (even/odd split of the padded input)");
            // the weight gradient: all of one sample's tiles at once (the sums run over them)
            yield return new ScratchRequest("wgv", BufferSize.Floats(16L * WinogradPlane(C(l), WinogradVLd(l))), ScratchScope.Shared, true, "Winograd weight gradient: one sample's input tiles transformed, V[ξ] = Bᵀ·d·B, [16][C, tiles]");
            yield return new ScratchRequest("wgz", BufferSize.Floats(16L * WinogradZPlane(l)), ScratchScope.Shared, true, "Winograd weight gradient: one sample's dz blocks transformed, Z[ξ] = A·g·Aᵀ, [16][tiles, O]");
            yield return new ScratchRequest("wgt", BufferSize.Floats(WinogradScratch(th, tw)), ScratchScope.Shared, true, "Winograd weight gradient: the input transform's rows");
            yield return new ScratchRequest("wgm", BufferSize.Floats((long)WeightGroups(l) * WeightGroupFloats(l)), ScratchScope.Shared, true, "Winograd weight gradient: each sample group's M[ξ] = Σ_t V[ξ]·Z[ξ], [16][C, O]");
        }
        if (WinogradBack(l))
        {
            // the input gradient: dz's O channels in, the C input channels out, over the input image's tiles
            int th = Tiles(l.InShape[1]), tw = Tiles(l.InShape[2]), tb = WinogradBlockRows(O(l), C(l), th, tw), ld = WinogradLd(tb, tw);
            yield return new ScratchRequest("winov", BufferSize.Floats(16L * WinogradPlane(O(l), ld)), ScratchScope.Shared, true, "Winograd: one sample's input tiles transformed, V[ξ] = Bᵀ·d·B, [16][C, tiles]");
            yield return new ScratchRequest("winom", BufferSize.Floats(16L * WinogradPlane(C(l), ld)), ScratchScope.Shared, true, "Winograd: one sample's 16 products M[ξ] = U[ξ]·V[ξ], [16][O, tiles]");
            yield return new ScratchRequest("winot", BufferSize.Floats(WinogradScratch(tb, tw)), ScratchScope.Shared, true, "Winograd: the transforms' rows (even/odd split of the padded input)");
        }
        if (FlipsBack(l))
        {
            yield return new ScratchRequest("wflip", BufferSize.Floats(l.Tensor("weight").Length), ScratchScope.Shared, true, "weights flipped and transposed, [C, O·KH·KW]");
            yield return new ScratchRequest("dzpad", BufferSize.Floats((long)O(l) * Hq(l) * Wq(l) + LdWideX(l)), ScratchScope.Shared, true, "padded dz");
            if (!RowsDirectBack(l)) yield return new ScratchRequest("dxwide", BufferSize.Floats((long)C(l) * LdWideX(l)), ScratchScope.Shared, true, "wide dx");
        }
    }

    /// <summary>A direct convolution whose tiles store into the output image itself (rows of whole vectors, im2col,
    /// 1×1) stages a fused pool's input: one sample's image, pooled from the cache. The wide output has one already.</summary>
    public override IEnumerable<ScratchRequest> FusedScratch(LayerPlan producer, LayerPlan fused)
    {
        if (!IsWinograd(producer) && (RowsDirect(producer) || !IsIndirect(producer)))
            yield return new ScratchRequest("fusedy", BufferSize.Floats((long)O(producer) * Geometry.LdP(producer.OutPixels)), ScratchScope.Shared, false, "one sample's convolution output, pooled by the fused pooling layer while it is in the cache");
    }

    private static string Offsets(LayerPlan l) => "_" + BufferPlanner.Camel(l.Name) + "Offsets";
    private static string GradOffsets(LayerPlan l) => "_" + BufferPlanner.Camel(l.Name) + "GradOffsets";

    public override IEnumerable<string> Members(LayerPlan l)
    {
        if (IsIndirect(l)) yield return Offsets(l);
        if (FlipsBack(l)) yield return GradOffsets(l);
    }

    public IEnumerable<PackedFor> PackWhen(LayerPlan l, NetworkPlan p) => IsWinograd(l) ? new[] { PackedFor.EveryForward } : System.Array.Empty<PackedFor>();

    public void Pack(CodeWriter cw, CSharpLayer c, PackedFor when) =>
        cw.Line($"MG.Winograd.Filters(ref _arena.Ref({c.Tensor("weight")}), {O(c.Layer)}, {C(c.Layer)}, ref ws.Ref({c.Scratch("wino")}));   // {c.Layer.Name}: U[ξ] = G·g·Gᵀ, [16][{O(c.Layer)}, {C(c.Layer)}]");

    /// <summary>After a BatchNorm folded into <paramref name="c"/>: the folded filters' transforms, behind the folded
    /// weight and bias.</summary>
    public static void PackFolded(CodeWriter cw, CSharpLayer c)
    {
        if (!IsWinograd(c.Layer)) return;
        string folded = c.Scratch("folded");
        cw.Line($"MG.Winograd.Filters(ref ws.Ref({folded}), {O(c.Layer)}, {C(c.Layer)}, ref ws.Ref({FoldedTransforms(c)}));   // {c.Layer.Name}: the folded filters' U[ξ]");
    }

    private static string FoldedTransforms(CSharpLayer c) => $"{c.Scratch("folded")} + {c.Layer.Tensor("weight").Length + O(c.Layer)}";

    public void Fields(CodeWriter cw, CSharpLayer c)
    {
        var l = c.Layer;
        var o = Opt(l);
        if (IsIndirect(l))
            cw.Line($"private readonly int[] {Offsets(l)} = MG.Im2Col.Offsets({C(l)}, {o.KH}, {o.KW}, {Hp(l)}, {Wp(l)});   // {l.Name}: row of X̃ for each k = (c,u,v)");
        if (FlipsBack(l) && c.Network.Trainable)
            cw.Line($"private readonly int[] {GradOffsets(l)} = MG.Im2Col.Offsets({O(l)}, {o.KH}, {o.KW}, {Hq(l)}, {Wq(l)});   // {l.Name}: the same for the input gradient");
    }

    private static string Geo(LayerPlan l)
    {
        var o = Opt(l);
        return $"{C(l)}, {l.InShape[1]}, {l.InShape[2]}, {Geometry.LdP(l.InPixels)}, {o.KH}, {o.KW}, {o.Stride}, {o.PadH}, {o.PadW}, {l.OutShape[1]}, {l.OutShape[2]}";
    }

    public void Forward(CodeWriter cw, CSharpLayer c, Width w)
    {
        var l = c.Layer;
        int stride = Geometry.ImageStride(O(l), l.OutPixels);
        using (c.ForwardMethod(cw, w))
            c.RunParts(cw, w, "Forward", CSharpLayer.ParallelUnits("ws.Batch", "ws.Batch", l.Flops, bySample: true), "samples", chunked: true);
        cw.Line();
        using (c.PartMethod(cw, w, "Forward"))
        {
            cw.Line("ThreadTeam.Split(ws.Batch, 1, part, parts, out int b0, out int b1);   // this part's samples");
            // A pool fused in: its output instead of the one it reads (this layer's, or the folded BatchNorm's).
            void Fusing(string condition, LayerPlan pool, string weights, string bias, string epi, float alpha)
            {
                using (cw.Block($"if ({condition})"))
                {
                    cw.Line(IsWinograd(l)
                        ? $"// inference: {pool.Name} fused in — each 2×2 output tile is one of its windows, so the output transform stores the tile's {PoolOp(pool)} into {pool.Name}'s output {pool.OutShape}"
                        : $"// inference: {pool.Name} fused in — each sample's output image is pooled while it is in the cache, into {pool.Name}'s output {pool.OutShape}");
                    Body(cw, c, w, weights, bias, c.OutputOf(pool.Index), epi, alpha, pool);
                }
            }
            string ownBias = $"_arena.Ref({c.Tensor("bias")})";
            if (c.FoldInto is { } bn)
            {
                string folded = c.Scratch("folded");
                string fw = IsWinograd(l) ? $"ws.Ref({FoldedTransforms(c)})" : $"ws.Ref({folded})", fb = $"ws.Ref({folded} + {l.Tensor("weight").Length})";
                using (cw.Block("if (!ws.Training && FoldBatchNorm)"))
                {
                    cw.Line($"// inference: {bn.Name} folded in (W' = s·W, b' = s·(b − mean) + β, s = γ/√(var + ε)), writing {bn.Name}'s output");
                    if (c.FuseInto is { } pool)
                    {
                        Fusing("FusePooling", pool, fw, fb, Fused.Epilogue(bn.Activation), bn.Alpha);
                        using (cw.Block("else")) Body(cw, c, w, fw, fb, c.OutputOf(bn.Index), Fused.Epilogue(bn.Activation), bn.Alpha);
                    }
                    else Body(cw, c, w, fw, fb, c.OutputOf(bn.Index), Fused.Epilogue(bn.Activation), bn.Alpha);
                }
                using (cw.Block("else"))
                    Body(cw, c, w, Weights(c), ownBias, c.Output, Fused.Epilogue(l.Activation), l.Alpha);
            }
            else if (c.FuseInto is { } pool)
            {
                Fusing("!ws.Training && FusePooling", pool, Weights(c), ownBias, Fused.Epilogue(l.Activation), l.Alpha);
                using (cw.Block("else"))
                    Body(cw, c, w, Weights(c), ownBias, c.Output, Fused.Epilogue(l.Activation), l.Alpha);
            }
            else Body(cw, c, w, Weights(c), ownBias, c.Output, Fused.Epilogue(l.Activation), l.Alpha);
            if (l.Activation is ActivationKind.Sigmoid or ActivationKind.Tanh)
            {
                string span = $"ws.Span({c.Output} + (long)b0 * {stride}, (b1 - b0) * {stride})";
                cw.Line($"MG.Activations.Forward({Fused.Runtime(l.Activation)}, 0f, {span}, {span}, {w.Enum});");
            }
        }
    }

    /// <summary>What a fused pool stores of each output tile.</summary>
    private static string PoolOp(LayerPlan pool) => pool.Kind is AvgPool2D ? "mean" : "maximum";

    // The forward's weights: PyTorch's [O, C, KH, KW] as they are, or their Winograd transforms.
    private static string Weights(CSharpLayer c) => IsWinograd(c.Layer) ? $"ws.Ref({c.Scratch("wino")})" : $"_arena.Ref({c.Tensor("weight")})";

    /// <summary>The forward of samples b0…b1 into <paramref name="output"/>; with <paramref name="pool"/> into that
    /// pooling layer's output instead (a Winograd layer's output transform pools each tile; a direct one pools each
    /// sample's image from its wide output or from a one-sample staging image, in the cache).</summary>
    private static void Body(CodeWriter cw, CSharpLayer c, Width w, string weights, string bias, string output, string epi, float alpha, LayerPlan? pool = null)
    {
        var l = c.Layer;
        var o = Opt(l);
        int ldIn = Geometry.LdP(l.InPixels), ldOut = Geometry.LdP(l.OutPixels);
        if (IsWinograd(l))
        {
            WinogradBody(cw, c, w, weights, bias, c.Input, C(l), l.InShape[1], l.InShape[2], ldIn, o.PadH, o.PadW, output, O(l), l.OutShape[1], l.OutShape[2], Geometry.LdP((pool ?? l).OutPixels), epi, alpha, pool);
            return;
        }
        // Where the sample's image goes: the output, or (a pool fused) a staging image the pool reads next.
        string YLine() => pool is null
            ? $"ref float y = ref ws.Ref({output} + (long)b * {O(l) * ldOut});   // [{O(l)}, {ldOut}]"
            : $"ref float y = ref ts.Ref({c.Scratch("fusedy")});   // [{O(l)}, {ldOut}]: this sample's output, pooled from the cache into {pool.Name}'s";
        string PoolLine(string src, int rowStride, int ld, string note) =>
            WindowPool.Call(pool!, src, rowStride, ld, $"ws.Ref({output} + (long)b * {Geometry.ImageStride(pool!.OutShape[0], pool.OutPixels)})", w) + $"   // {pool.Name} {pool.OutShape}{note}";
        cw.Line($"ref float w = ref {weights};   // [{O(l)}, {K(l)}] = [{O(l)}, {C(l)}·{o.KH}·{o.KW}]");
        cw.Line($"ref float bias = ref {bias};");
        if (IsIndirect(l))
        {
            int ldWide = LdWide(l);
            cw.Line($"ref float xpad = ref ts.Ref({c.Scratch("xpad")});   // [{C(l)}, {Hp(l)}·{Wp(l)}] zero-padded input");
            bool direct = RowsDirect(l);
            if (!direct) cw.Line($"ref float wide = ref ts.Ref({c.Scratch("wide")});   // [{O(l)}, {ldWide}]: output pixel (i, j) at column i·{Wp(l)} + j");
            cw.Line($"ref int offs = ref {Offsets(l)}[0];   // row of step k = (c,u,v): c·{Hp(l) * Wp(l)} + u·{Wp(l)} + v");
            using (cw.Block("for (int b = b0; b < b1; b++)"))
            {
                cw.Line($"ref float x = ref ws.Ref({c.Input} + (long)b * {C(l) * ldIn});   // [{C(l)}, {ldIn}] one sample");
                if (direct || pool is null) cw.Line(YLine());
                cw.Line($"MG.Im2Col.Pad(ref x, {C(l)}, {l.InShape[1]}, {l.InShape[2]}, {ldIn}, {o.PadH}, {o.PadW}, ref xpad, {ldWide});");
                var gemm = new GemmCall("w", K(l).ToString(), "1", "xpad", "0", "wide", ldWide.ToString(), K(l).ToString(), O(l), WideCols(l.OutShape[1], Wp(l), l.OutShape[2]), "bias", epi, Text.Float(alpha)) { BOffsets = "offs" };
                if (direct)
                {
                    cw.Line($"// output rows of {l.OutShape[2]} pixels are whole vectors: each tile stores into y directly (pixel (i, j) at column i·{l.OutShape[2]} + j, read from xpad column i·{Wp(l)} + j)");
                    c.Gemm.Emit(cw, w, gemm with { C = "y", Ldc = ldOut.ToString(), Image = (l.OutShape[1], l.OutShape[2], Wp(l)) });
                    if (pool is not null) cw.Line(PoolLine("y", l.OutShape[2], ldOut, ""));
                }
                else
                {
                    c.Gemm.Emit(cw, w, gemm);
                    cw.Line(pool is null
                        ? $"MG.Im2Col.Compact(ref wide, {O(l)}, {l.OutShape[1]}, {Wp(l)}, {l.OutShape[2]}, {ldWide}, ref y, {ldOut});"
                        : PoolLine("wide", Wp(l), ldWide, $" from the wide rows ({Wp(l)} apart): no compaction"));
                }
            }
            return;
        }
        if (!IsPointwise(l)) cw.Line($"ref float col = ref ts.Ref({c.Scratch("col")});   // [{K(l)}, {ldOut}]");
        using (cw.Block("for (int b = b0; b < b1; b++)"))
        {
            cw.Line($"ref float x = ref ws.Ref({c.Input} + (long)b * {C(l) * ldIn});   // [{C(l)}, {ldIn}] one sample");
            cw.Line(YLine());
            string bName = "x";
            if (!IsPointwise(l)) { cw.Line($"MG.Im2Col.Columns(ref x, {Geo(l)}, ref col, {ldOut});"); bName = "col"; }
            c.Gemm.Emit(cw, w, new GemmCall("w", K(l).ToString(), "1", bName, ldOut.ToString(), "y", ldOut.ToString(), K(l).ToString(), O(l), ldOut, "bias", epi, Text.Float(alpha)));
            if (pool is not null) cw.Line(PoolLine("y", l.OutShape[2], ldOut, ""));
        }
    }

    /// <summary>A stride-1 3×3 convolution of the images at <paramref name="input"/> ([ci, h, w] each) into those at
    /// <paramref name="output"/> ([co, ho, wo]) by Winograd F(2×2, 3×3), samples b0…b1: per sample the input tiles'
    /// transforms, 16 GEMMs with the filter transforms <paramref name="u"/> ([16][co, ci]), the output tiles' transforms
    /// with the epilogue.</summary>
    private static void WinogradBody(CodeWriter cw, CSharpLayer c, Width w, string u, string bias, string input, int ci, int h, int wi, int ldIn, int ph, int pw,
        string output, int co, int ho, int wo, int ldOut, string epi, float alpha, LayerPlan? pool = null)
    {
        WinogradLocals(cw, c, u, bias, ci, co, ho, wo);
        using (cw.Block("for (int b = b0; b < b1; b++)"))
        {
            cw.Line($"ref float x = ref ws.Ref({input} + (long)b * {ci * ldIn});   // [{ci}, {ldIn}] one sample");
            cw.Line($"ref float y = ref ws.Ref({output} + (long)b * {co * ldOut});   // [{co}, {ldOut}]" + (pool is null ? "" : $": the pooled {ho / 2}×{wo / 2} image"));
            WinogradSample(cw, c, w, "x", ci, h, wi, ldIn, ph, pw, "y", co, ho, wo, ldOut, epi, alpha, pool);
        }
    }

    /// <summary>The sample-group loop of a weight-gradient part, left open for its body: the groups, this part's whole
    /// MR-row tiles of group g's sums (<paramref name="rows"/> rows, named <paramref name="r0"/>…<paramref name="r1"/>),
    /// and the group's samples b0…b1.</summary>
    private static System.IDisposable GroupLoop(CodeWriter cw, Width w, LayerPlan l, int rows, string r0, string r1, string sums, string? rowsAre)
    {
        cw.Line($"int groups = ThreadTeam.Groups(ws.Batch, {WeightGroups(l)});");
        var loop = cw.Block("for (int g = 0; g < groups; g++)");
        cw.Line($"ThreadTeam.SplitGroups(groups, {(rows + w.MR - 1) / w.MR}, g, part, parts, out int t0, out int t1);   // this part's tiles of group g (whole {w.MR}-row tiles of {sums})");
        cw.Line("if (t0 == t1) continue;");
        cw.Line($"int {r0} = t0 * {w.MR}, {r1} = Math.Min(t1 * {w.MR}, {rows});" + (rowsAre is null ? "" : $"   // {rowsAre}"));
        cw.Line("ThreadTeam.Split(ws.Batch, 1, g, groups, out int b0, out int b1);   // the group's samples");
        return loop;
    }

    /// <summary>A Winograd layer's weight-gradient part: per sample of each of its groups, the input tiles of the part's
    /// channels (V, as the forward transforms them), dz's 2×2 blocks (Z, from dzᵀ), and 16 products accumulated into the
    /// group's M[ξ]; <c>Winograd.AddWeightGradients</c> transforms the sum back after the parts.</summary>
    private static void WinogradWeights(CodeWriter cw, CSharpLayer c, Width w)
    {
        var l = c.Layer;
        var opt = Opt(l);
        int ci = C(l), o = O(l), ho = l.OutShape[1], wo = l.OutShape[2], th = Tiles(ho), tw = Tiles(wo), t = th * tw;
        int ldIn = Geometry.LdP(l.InPixels), ldOut = Geometry.LdP(l.OutPixels), ld = WinogradVLd(l);
        int vPlane = WinogradPlane(ci, ld), zPlane = WinogradZPlane(l), mPlane = WinogradMPlane(l);
        cw.Line($"ref float dzT = ref ts.Ref({c.Scratch("dzT")});   // [{l.OutPixels}, {o}]: dzᵀ, pixel-major");
        cw.Line($"ref float v = ref ts.Ref({c.Scratch("wgv")});   // [16][{ci}, {ld}] (planes {vPlane} apart): V[ξ] = Bᵀ·d·B of the sample's {t} tiles, the part's channels");
        cw.Line($"ref float z = ref ts.Ref({c.Scratch("wgz")});   // [16][{t}, {o}] (planes {zPlane} apart): Z[ξ] = A·g·Aᵀ of dz's 2×2 blocks, the filters in the lanes");
        cw.Line($"ref float rows = ref ts.Ref({c.Scratch("wgt")});   // the input transform's rows (each padded row split into even and odd columns)");
        using var group = GroupLoop(cw, w, l, ci, "c0", "c1", "M[ξ]", "the input channels: rows of M[ξ]");
        cw.Line($"ref float mg = ref ws.Ref({c.Scratch("wgm")} + (long)g * {WeightGroupFloats(l)});   // [16][{ci}, {o}] (planes {mPlane} apart): Σ over the group's samples in order");
        cw.Line($"for (int xi = 0; xi < 16; xi++) ws.Span({c.Scratch("wgm")} + (long)g * {WeightGroupFloats(l)} + xi * {mPlane} + c0 * {o}, (c1 - c0) * {o}).Clear();   // this part's rows");
        using (cw.Block("for (int b = b0; b < b1; b++)"))
        {
            cw.Line($"ref float x = ref ws.Ref({c.Input} + (long)b * {ci * ldIn});");
            cw.Line($"ref float dy = ref ws.Ref({c.OutputGrad} + (long)b * {o * ldOut});   // dz, [{o}, {ldOut}]");
            c.SpecializedCall(cw, "InputTransform", new[] { ("ref float", "x", $"ref MG.Mem.Add(ref x, c0 * {ldIn})"), ("int", "c", "c1 - c0"), ("ref float", "v", $"ref MG.Mem.Add(ref v, c0 * {ld})"), ("ref float", "rows", "ref rows") },
                $"MG.Winograd.Input(ref x, c, {l.InShape[1]}, {l.InShape[2]}, {ldIn}, {opt.PadH}, {opt.PadW}, {tw}, 0, {th}, ref v, {ld}, {vPlane}, ref rows, {w.Enum})",
                "V[ξ] = Bᵀ·d·B of the part's channels c0…c1, every tile of the sample");
            cw.Line($"MG.Layout.Transpose(ref dy, {o}, {l.OutPixels}, {ldOut}, ref dzT, {o}, {w.Enum});   // dzᵀ, [{l.OutPixels}, {o}]");
            c.SpecializedCall(cw, "GradientTransform", new[] { ("ref float", "dzT", "ref dzT"), ("ref float", "z", "ref z") },
                $"MG.Winograd.OutputGradients(ref dzT, {o}, {ho}, {wo}, ref z, {zPlane}, {w.Enum})", "Z[ξ] = A·g·Aᵀ of dz's 2×2 blocks");
            using (cw.Block("for (int xi = 0; xi < 16; xi++)   // M[ξ] += V[ξ]·Z[ξ], ξ = 4a + b of the 4×4 transform"))
            {
                cw.Line($"ref float vx = ref MG.Mem.Add(ref v, xi * {vPlane});");
                cw.Line($"ref float zx = ref MG.Mem.Add(ref z, xi * {zPlane});");
                cw.Line($"ref float mx = ref MG.Mem.Add(ref mg, xi * {mPlane});");
                c.Gemm.Emit(cw, w, new GemmCall("vx", ld.ToString(), "1", "zx", o.ToString(), "mx", o.ToString(), t.ToString(), ci, o, null, "MG.Epilogue.Accumulate", "0f") { RowRange = ("c0", "c1") });
            }
        }
    }

    /// <summary>The locals of <see cref="WinogradSample"/>: the filter transforms, the bias, the per-part scratch.</summary>
    private static void WinogradLocals(CodeWriter cw, CSharpLayer c, string u, string bias, int ci, int co, int ho, int wo, bool rotated = false)
    {
        int th = Tiles(ho), tw = Tiles(wo), ld = WinogradLd(WinogradBlockRows(ci, co, th, tw), tw);
        cw.Line(rotated
            ? $"ref float u = ref {u};   // [16][{ci}, {co}]: the forward's U[ξ] = G·g·Gᵀ (packed for this parameter version), read rotated and transposed"
            : $"ref float u = ref {u};   // [16][{co}, {ci}]: U[ξ] = G·g·Gᵀ");
        cw.Line($"ref float bias = ref {bias};");
        cw.Line($"ref float v = ref ts.Ref({c.Scratch("winov")});   // [16][{ci}, {ld}] (planes {WinogradPlane(ci, ld)} apart): V[ξ] = Bᵀ·d·B of a block's tiles, tile t in the lanes");
        cw.Line($"ref float m = ref ts.Ref({c.Scratch("winom")});   // [16][{co}, {ld}] (planes {WinogradPlane(co, ld)} apart): M[ξ] = U[ξ]·V[ξ]");
        cw.Line($"ref float rows = ref ts.Ref({c.Scratch("winot")});");
    }

    /// <summary>One sample's stride-1 3×3 convolution <paramref name="x"/> ([ci, h, w]) → <paramref name="y"/> ([co, ho, wo]),
    /// a block of tile rows at a time: the input tiles' transforms, 16 GEMMs, the output tiles' transforms with the epilogue.
    /// <paramref name="rotated"/> (the input gradient): the filters are the forward's rotated by 180° and transposed, and
    /// <c>u</c> holds the forward's transforms <c>[16][ci, co]</c> — rotating g by 180° swaps rows 0 and 3 of G·g (and
    /// columns 0 and 3 of g·Gᵀ), so plane ξ of the rotated filters' transforms is the forward's plane
    /// <c>Winograd.Rotated(ξ)</c>, read transposed.</summary>
    private static void WinogradSample(CodeWriter cw, CSharpLayer c, Width w, string x, int ci, int h, int wi, int ldIn, int ph, int pw,
        string y, int co, int ho, int wo, int ldOut, string epi, float alpha, LayerPlan? pool = null, bool rotated = false)
    {
        int th = Tiles(ho), tw = Tiles(wo), tb = WinogradBlockRows(ci, co, th, tw), ld = WinogradLd(tb, tw), cols = WinogradColumns(tb, tw);
        string t0 = "0", t1 = th.ToString();
        System.IDisposable? loop = null;
        if (tb < th)
        {
            loop = cw.Block($"for (int t0 = 0; t0 < {th}; t0 += {tb})   // blocks of {tb} of the {th} tile rows ({tw} tiles each), their operands kept in the cache");
            cw.Line($"int t1 = Math.Min(t0 + {tb}, {th});");
            t0 = "t0"; t1 = "t1";
        }
        var blockVars = tb < th ? new[] { ("int", "t0", "t0"), ("int", "t1", "t1") } : System.Array.Empty<(string, string, string)>();
        c.SpecializedCall(cw, "InputTransform", new[] { ("ref float", "x", $"ref {x}") }.Concat(blockVars).Concat(new[] { ("ref float", "v", "ref v"), ("ref float", "rows", "ref rows") }).ToArray(),
            $"MG.Winograd.Input(ref x, {ci}, {h}, {wi}, {ldIn}, {ph}, {pw}, {tw}, {t0}, {t1}, ref v, {ld}, {WinogradPlane(ci, ld)}, ref rows, {w.Enum})",
            "V[ξ] = Bᵀ·d·B of the block's tiles");
        using (cw.Block("for (int xi = 0; xi < 16; xi++)   // M[ξ] = U[ξ]·V[ξ], ξ = 4a + b of the 4×4 transform"))
        {
            if (rotated)   // A[r,k] = U[ξ'][k, r]: the forward's plane ξ' read transposed
                cw.Line($"ref float ux = ref MG.Mem.Add(ref u, MG.Winograd.Rotated(xi) * {co * ci});   // the rotated filters' plane ξ is the forward's plane ξ' (rows 0 ↔ 3 and columns 0 ↔ 3 of the 4×4 swapped)");
            else
                cw.Line($"ref float ux = ref MG.Mem.Add(ref u, xi * {co * ci});");
            cw.Line($"ref float vx = ref MG.Mem.Add(ref v, xi * {WinogradPlane(ci, ld)});");
            cw.Line($"ref float mx = ref MG.Mem.Add(ref m, xi * {WinogradPlane(co, ld)});");
            c.Gemm.Emit(cw, w, new GemmCall("ux", rotated ? "1" : ci.ToString(), rotated ? co.ToString() : "1", "vx", ld.ToString(), "mx", ld.ToString(), ci.ToString(), co, cols, null, "MG.Epilogue.Store", "0f"));
        }
        var outVars = new[] { ("ref float", "m", "ref m") }.Concat(blockVars).Concat(new[] { ("ref float", "y", $"ref {y}"), ("ref float", "bias", "ref bias"), ("ref float", "rows", "ref rows") }).ToArray();
        if (pool is not null)
            c.SpecializedCall(cw, "PooledOutputTransform", outVars,
                $"MG.Winograd.OutputPool(ref m, {co}, {ld}, {tw}, {t0}, {t1}, {ho}, {wo}, ref y, {ldOut}, ref bias, {epi}, {Text.Float(alpha)}, average: {(pool.Kind is AvgPool2D ? "true" : "false")}, ref rows, {w.Enum})",
                $"y = {PoolOp(pool)} over each tile of Aᵀ·M·A after the epilogue");
        else
            c.SpecializedCall(cw, "OutputTransform", outVars,
                $"MG.Winograd.Output(ref m, {co}, {ld}, {tw}, {t0}, {t1}, {ho}, {wo}, ref y, {ldOut}, ref bias, {epi}, {Text.Float(alpha)}, ref rows, {w.Enum})",
                "y = Aᵀ·M·A, then the epilogue");
        loop?.Dispose();
    }

    public void Backward(CodeWriter cw, CSharpLayer c, Width w)
    {
        var l = c.Layer;
        var opt = Opt(l);
        int ldIn = Geometry.LdP(l.InPixels), ldOut = Geometry.LdP(l.OutPixels), k = K(l), p = l.OutPixels, o = O(l);
        bool flip = FlipsBack(l) && c.InputGrad is not null;
        var pool = WindowPool.BackwardPool(c.Network, l);   // a pooling whose backward runs here, sample by sample
        bool reluInPool = pool is not null && WindowPool.TakesRelu(pool, l);   // its max backward applies this layer's ReLU derivative too
        bool perSample = l.Activation != ActivationKind.None || c.InputGrad is not null || pool is not null;
        using (c.BackwardMethod(cw, w))
        {
            if (flip)
                using (c.InputGradGuard(cw))
                    cw.Line($"MG.Im2Col.FlipTranspose(ref _arena.Ref({c.Tensor("weight")}), {o}, {C(l)}, {opt.KH}, {opt.KW}, ref ws.Ref({c.Scratch("wflip")}));   // [{C(l)}, {o}·{opt.KH}·{opt.KW}]: W flipped and transposed");
            if (perSample)
                c.RunParts(cw, w, "Backward", CSharpLayer.ParallelUnits("batch", "batch", c.InputGrad is null ? 32L * o * ldOut : l.Flops, bySample: true), "samples: " + string.Join(", ", new[] { pool is null ? "" : pool.Name + "'s backward", l.Activation != ActivationKind.None ? "dz" : "", c.InputGrad is not null ? "dx" : "" }.Where(s => s.Length > 0)), chunked: true);
            if (opt.Bias && perSample)
                cw.Line($"MG.Reductions.AddRows(ref ws.Ref({c.Scratch("dbs")}), batch, {o}, ref _arena.Ref(GradientBase + {c.Tensor("bias")}));   // dbias[o] += Σ_p dz[o,p], the samples' sums in order");
            else if (opt.Bias)
            {
                cw.Line($"ref float db = ref _arena.Ref(GradientBase + {c.Tensor("bias")});");
                using (cw.Block("for (int b = 0; b < batch; b++)   // dbias[o] += Σ_p dz[o,p], samples in order"))
                    cw.Line($"MG.Reductions.AddRowSums(ref ws.Ref({c.OutputGrad} + (long)b * {o * ldOut}), {o}, {ldOut}, {p}, ref db, {w.Enum});");
            }
            // each sample group sums into dWᵀ [K, O] of its own, or a Winograd layer's M[ξ] [C, O]; the parts take row tiles of it
            bool wino = IsWinograd(l);
            int sumRows = wino ? C(l) : k;
            string sums = wino ? "M[ξ]" : "dWᵀ";
            cw.Line($"int groups = ThreadTeam.Groups(batch, {WeightGroups(l)});   // sample groups (by the batch alone), each summed into its own {sums}");
            c.RunParts(cw, w, "Weights", $"(long)batch * {2L * k * o * p} >= (groups > 1 ? ThreadTeam.MinSampleWork : ThreadTeam.MinWork) ? groups * {(sumRows + w.MR - 1) / w.MR} : 1", $"sample groups × row blocks of {sums} [{sumRows}, {o}]");
            if (wino)
                cw.Line($"MG.Winograd.AddWeightGradients(ref ws.Ref({c.Scratch("wgm")}), groups, {WeightGroupFloats(l)}, {C(l)}, {o}, {WinogradMPlane(l)}, ref _arena.Ref(GradientBase + {c.Tensor("weight")}));   // the groups' M in order, then dW[o,c] += Gᵀ·M[c,o]·G");
            else
                using (cw.Block("for (int g = 0; g < groups; g++)   // the groups' sums in order"))
                    cw.Line($"MG.Layout.AddTransposed(ref ws.Ref({c.Scratch("dwT")} + (long)g * {k * o}), {k}, {o}, ref _arena.Ref(GradientBase + {c.Tensor("weight")}));   // dW[o,k] += dWᵀ_g[k,o]");
        }
        cw.Line();
        if (perSample)
            using (c.PartMethod(cw, w, "Backward"))
            {
                cw.Line("ThreadTeam.Split(ws.Batch, 1, part, parts, out int b0, out int b1);   // this part's samples");
                if (c.InputGrad is not null && !flip && !WinogradBack(l)) cw.Line($"ref float w = ref _arena.Ref({c.Tensor("weight")});   // [{o}, {k}]");   // read by dx's GEMM only
                if (!IsPointwise(l) && !flip && !WinogradBack(l) && c.InputGrad is not null) cw.Line($"ref float col = ref ts.Ref({c.Scratch("col")});   // [{k}, {ldOut}]: dcol");
                if (flip)
                {
                    cw.Line($"ref float wflip = ref ws.Ref({c.Scratch("wflip")});   // [{C(l)}, {o}·{opt.KH}·{opt.KW}]");
                    cw.Line($"ref float dzpad = ref ts.Ref({c.Scratch("dzpad")});   // [{o}, {Hq(l)}·{Wq(l)}]: dz padded by {opt.KH - 1 - opt.PadH}, {opt.KW - 1 - opt.PadW}");
                    if (!RowsDirectBack(l)) cw.Line($"ref float dxwide = ref ts.Ref({c.Scratch("dxwide")});   // [{C(l)}, {LdWideX(l)}]");
                    cw.Line($"ref int doffs = ref {GradOffsets(l)}[0];");
                }
                using (cw.Block("for (int b = b0; b < b1; b++)"))
                {
                    if (pool is not null)
                    {
                        cw.Line(reluInPool
                            ? $"// {pool.Name}'s backward for this sample with the ReLU's derivative (dy to a window's maximum only when it is positive): dz, which the lines below read while it is in the cache"
                            : $"// {pool.Name}'s backward for this sample: dy, which the lines below read while it is in the cache");
                        cw.Line(WindowPool.BackwardCall(c.Network, pool, w, reluInPool));
                    }
                    cw.Line($"ref float dy = ref ws.Ref({c.OutputGrad} + (long)b * {o * ldOut});   // dz, [{o}, {ldOut}]");
                    if (l.Activation != ActivationKind.None && !reluInPool)
                    {
                        string dySpan = $"ws.Span({c.OutputGrad} + (long)b * {o * ldOut}, {o * ldOut})";
                        cw.Line($"MG.Activations.Backward({Fused.Runtime(l.Activation)}, {Text.Float(l.Alpha)}, {dySpan}, ws.Span({c.Output} + (long)b * {o * ldOut}, {o * ldOut}), {dySpan}, {w.Enum});");
                    }
                    if (opt.Bias) cw.Line($"MG.Reductions.RowSums(ref dy, {o}, {ldOut}, {p}, ref ws.Ref({c.Scratch("dbs")} + (long)b * {o}), {w.Enum});   // this sample's Σ_p dz[o,p]");
                    if (c.InputGrad is not null)
                    using (c.InputGradGuard(cw))
                    {
                        cw.Line($"ref float dx = ref ws.Ref({c.InputGrad} + (long)b * {C(l) * ldIn});   // [{C(l)}, {ldIn}]");
                        if (IsPointwise(l))
                        {
                            cw.Line("// dx[c,p] = Σ_o W[o,c]·dz[o,p]");
                            c.Gemm.Emit(cw, w, new GemmCall("w", "1", k.ToString(), "dy", ldOut.ToString(), "dx", ldIn.ToString(), o.ToString(), k, ldOut, null, "MG.Epilogue.Store", "0f"));
                        }
                        else if (WinogradBack(l))
                        {
                            cw.Line($"// dx = stride-1 convolution of dz padded by ({2 - opt.PadH},{2 - opt.PadW}) with W rotated by 180° and transposed [{C(l)},{o},3,3], by Winograd F(2×2, 3×3)");
                            using (cw.Block(""))
                            {
                                WinogradLocals(cw, c, $"ws.Ref({c.Scratch("wino")})", "Unsafe.NullRef<float>()", o, C(l), l.InShape[1], l.InShape[2], rotated: true);
                                WinogradSample(cw, c, w, "dy", o, l.OutShape[1], l.OutShape[2], ldOut, 2 - opt.PadH, 2 - opt.PadW, "dx", C(l), l.InShape[1], l.InShape[2], ldIn, "MG.Epilogue.Store", 0f, rotated: true);
                            }
                        }
                        else if (flip)
                        {
                            int kb = KBack(l);
                            cw.Line($"// dx = stride-1 convolution of dz (padded) with the flipped, transposed weights [{C(l)}, {kb}]: an indirect GEMM" + (RowsDirectBack(l) ? ", tiles of whole rows stored into dx" : ", then compaction"));
                            cw.Line($"MG.Im2Col.Pad(ref dy, {o}, {l.OutShape[1]}, {l.OutShape[2]}, {ldOut}, {opt.KH - 1 - opt.PadH}, {opt.KW - 1 - opt.PadW}, ref dzpad, {LdWideX(l)});");
                            var gemm = new GemmCall("wflip", kb.ToString(), "1", "dzpad", "0", "dxwide", LdWideX(l).ToString(), kb.ToString(), C(l), WideCols(l.InShape[1], Wq(l), l.InShape[2]), null, "MG.Epilogue.Store", "0f") { BOffsets = "doffs" };
                            if (RowsDirectBack(l))
                                c.Gemm.Emit(cw, w, gemm with { C = "dx", Ldc = ldIn.ToString(), Image = (l.InShape[1], l.InShape[2], Wq(l)) });
                            else
                            {
                                c.Gemm.Emit(cw, w, gemm);
                                cw.Line($"MG.Im2Col.Compact(ref dxwide, {C(l)}, {l.InShape[1]}, {Wq(l)}, {l.InShape[2]}, {LdWideX(l)}, ref dx, {ldIn});");
                            }
                        }
                        else
                        {
                            cw.Line("// dcol[k,p] = Σ_o W[o,k]·dz[o,p], then col2im adds each column back to the pixels it came from");
                            c.Gemm.Emit(cw, w, new GemmCall("w", "1", k.ToString(), "dy", ldOut.ToString(), "col", ldOut.ToString(), o.ToString(), k, ldOut, null, "MG.Epilogue.Store", "0f"));
                            cw.Line($"MG.Im2Col.ToImage(ref col, {ldOut}, {Geo(l)}, ref dx);   // dx = col2im(dcol)");
                        }
                    }
                }
            }
        cw.Line();
        if (IsWinograd(l))
        {
            using (c.PartMethod(cw, w, "Weights")) WinogradWeights(cw, c, w);
            return;
        }
        using (c.PartMethod(cw, w, "Weights"))
        {
            bool indirect = IsIndirect(l);
            int pw = PWide(l), wp = Wp(l);
            // im2col-free (stride 1): row k = (c,u,v) of X̃ is the padded image shifted by the forward's offset table,
            // read over the "wide" pixel order, where dzᵀ has zero rows at the padding columns.
            if (indirect)
            {
                cw.Line($"ref float dzT = ref ts.Ref({c.Scratch("dzT")});   // [{pw}, {o}]: dzᵀ in wide pixel order (i·{wp} + j), zero rows for j ≥ {l.OutShape[2]}");
                cw.Line($"ref float xpad = ref ts.Ref({c.Scratch("xpad")});   // [{C(l)}, {Hp(l)}·{wp}] zero-padded input");
                cw.Line($"ref int offs = ref {Offsets(l)}[0];   // row of X̃ for k = (c,u,v): c·{Hp(l) * wp} + u·{wp} + v");
            }
            else
            {
                cw.Line($"ref float dzT = ref ts.Ref({c.Scratch("dzT")});   // [{p}, {o}]");
                if (!IsPointwise(l)) cw.Line($"ref float col = ref ts.Ref({c.Scratch("col")});   // [{k}, {ldOut}], rows k0…k1 filled");
            }
            using var group = GroupLoop(cw, w, l, k, "k0", "k1", "dWᵀ", null);
            cw.Line($"ref float dwT = ref ws.Ref({c.Scratch("dwT")} + (long)g * {k * o});   // [{k}, {o}]: dWᵀ summed over the group's samples in order");
            cw.Line($"ws.Span({c.Scratch("dwT")} + (long)g * {k * o} + k0 * {o}, (k1 - k0) * {o}).Clear();   // this part's rows");
            if (indirect)
            {
                int taps = opt.KH * opt.KW, plane = Hp(l) * wp;
                cw.Line($"int c0 = k0 / {taps}, c1 = (k1 - 1) / {taps} + 1;   // the input channels these rows read: only they are padded");
                using (cw.Block("for (int b = b0; b < b1; b++)"))
                {
                    cw.Line($"ref float x = ref ws.Ref({c.Input} + (long)b * {C(l) * ldIn});");
                    cw.Line($"ref float dy = ref ws.Ref({c.OutputGrad} + (long)b * {o * ldOut});   // dz, [{o}, {ldOut}]");
                    cw.Line($"MG.Im2Col.Pad(ref MG.Mem.Add(ref x, c0 * {ldIn}), c1 - c0, {l.InShape[1]}, {l.InShape[2]}, {ldIn}, {opt.PadH}, {opt.PadW}, ref MG.Mem.Add(ref xpad, c0 * {plane}), 0);");
                    cw.Line($"MG.Layout.TransposeWide(ref dy, {o}, {l.OutShape[1]}, {l.OutShape[2]}, {ldOut}, {wp}, ref dzT, {w.Enum});");
                    cw.Line($"// dWᵀ[k,o] += Σ_q xpad[offs[k] + q]·dzᵀ[q,o], q over the {pw} wide pixels   (the filters fill the vector lanes)");
                    c.Gemm.Emit(cw, w, new GemmCall("xpad", "0", "1", "dzT", o.ToString(), "dwT", o.ToString(), pw.ToString(), k, o, null, "MG.Epilogue.Accumulate", "0f") { RowRange = ("k0", "k1"), AOffsets = "offs" });
                }
                return;
            }
            using (cw.Block("for (int b = b0; b < b1; b++)"))
            {
                cw.Line($"ref float x = ref ws.Ref({c.Input} + (long)b * {C(l) * ldIn});");
                cw.Line($"ref float dy = ref ws.Ref({c.OutputGrad} + (long)b * {o * ldOut});   // dz, [{o}, {ldOut}]");
                string a = "x", ars = ldIn.ToString();
                if (!IsPointwise(l)) { cw.Line($"MG.Im2Col.Columns(ref x, {Geo(l)}, ref col, {ldOut}, k0, k1);"); a = "col"; ars = ldOut.ToString(); }
                cw.Line($"MG.Layout.Transpose(ref dy, {o}, {p}, {ldOut}, ref dzT, {o}, {w.Enum});   // dzᵀ, [{p}, {o}]");
                cw.Line("// dWᵀ[k,o] += Σ_p col[k,p]·dzᵀ[p,o]   (the filters fill the vector lanes)");
                c.Gemm.Emit(cw, w, new GemmCall(a, ars, "1", "dzT", o.ToString(), "dwT", o.ToString(), p.ToString(), k, o, null, "MG.Epilogue.Accumulate", "0f") { RowRange = ("k0", "k1") });
            }
        }
    }

    // ── PTX: implicit GEMMs (no im2col buffer), images sample-major [n, C, H, W] ───────────────────────────────────
    // forward  per sample: Y_b[o, p] = Σ_k W[o, k] · X̃_b[k, p],  k = (c, u, v), p = (i, j), X̃ gathered from the image
    // dW       over all samples: dW[o, k] += Σ_(b,p) dZ_b[o, p] · X̃_b[k, p]
    // dX       per sample: dX_b[c, h, w] += Σ_(o,u,v) W[o, c, u, v] · dZ_b[o, (h + pad − u)/s, (w + pad − v)/s] where divisible

    private readonly record struct ConvGeo(int C, int H, int W, int F, int Ho, int Wo, int KH, int KW, int S, int PH, int PW)
    {
        public int P => Ho * Wo;
        public int HW => H * W;
        public int Taps => KH * KW;
        public int K => C * KH * KW;
    }

    private static ConvGeo G(LayerPlan l)
    {
        var o = Opt(l);
        return new ConvGeo(l.InShape[0], l.InShape[1], l.InShape[2], o.Filters, l.OutShape[1], l.OutShape[2], o.KH, o.KW, o.Stride, o.PadH, o.PadW);
    }

    /// <summary>Element k = (c, u, v) of output pixel p = (i, j) of the image at <paramref name="image"/>: the input pixel
    /// (i·s − pad + u, j·s − pad + v) of channel c, absent in the padding.</summary>
    private static (string, string) Patch(PtxKernel k, ConvGeo g, string image, string p, string kk)
    {
        var (c, r) = PtxMath.DivRem(k, kk, g.Taps);
        var (u, v) = PtxMath.DivRem(k, r, g.KW);
        var (i, j) = PtxMath.DivRem(k, p, g.Wo);
        string h = k.R(), w = k.R(), inH = k.P(), inW = k.P(), ok = k.P(), e = k.R();
        k.Op($"mad.lo.s32 {h}, {i}, {g.S}, {u}");
        k.Op($"sub.s32 {h}, {h}, {g.PH}");
        k.Op($"mad.lo.s32 {w}, {j}, {g.S}, {v}");
        k.Op($"sub.s32 {w}, {w}, {g.PW}");
        k.Op($"setp.lt.u32 {inH}, {h}, {g.H}");   // unsigned: a row above the image (negative) is ≥ H too
        k.Op($"setp.lt.u32 {inW}, {w}, {g.W}");
        k.Op($"and.pred {ok}, {inH}, {inW}");
        k.Op($"mad.lo.s32 {e}, {c}, {g.HW}, {w}");
        k.Op($"mad.lo.s32 {e}, {h}, {g.W}, {e}");
        return (k.Element(image, e), ok);
    }

    private static string True(PtxKernel k)
    {
        string t = k.P();
        k.Op($"setp.eq.u32 {t}, 0, 0");
        return t;
    }

    public void Forward(PtxLayer c)
    {
        var l = c.Layer;
        var g = G(l);
        var spec = new GemmSpec(g.F, g.P, g.K, TransA: false, g.K, TransB: false, 0, g.P)
        {
            Bias = GemmBias.PerRow, Activation = l.Activation, Alpha = l.Alpha,
            GatherB = (k, image, p, kk) => Patch(k, g, image, p, kk),
            PerSample = true, StrideB = (long)g.C * g.HW, StrideC = (long)g.F * g.P,
            GatherText = $"B(k,p) = x[c, i·{g.S} − {g.PH} + u, j·{g.S} − {g.PW} + v]  (k = (c,u,v) of {g.C}×{g.KH}×{g.KW}, p = (i,j) of {g.Ho}×{g.Wo}; 0 in the padding)",
        };
        var k = PtxGemm.Kernel(c.Name("Forward"), spec, c.Tensor("weight"), c.Input, c.Output, c.Tensor("bias"));
        k.Banner.Insert(0, $"Y[b, o, p] = {Fused.Math(l.Activation, l.Alpha, "Σ_k W[o, k]·X̃_b[k, p] + bias[o]")}   W [{g.F}, {g.C}, {g.KH}, {g.KW}] (PyTorch's layout)");
        c.ForwardKernels.Add(k);
    }

    public void Backward(PtxLayer c)
    {
        var l = c.Layer;
        var g = G(l);
        c.ActivationGradient($"{g.F * g.P} * n", $"[n, {g.F}, {g.Ho}, {g.Wo}]");
        if (l.Tensor("bias").Role != TensorRole.Hidden)
            c.BackwardKernels.Add(PtxMath.ChannelSumsAdd(c.Name("Dbias"), g.F, g.P, c.OutputGrad, c.Gradient("bias")));

        // dW: the reduction index q = (b, p) runs over every sample's pixels.
        var dwSpec = new GemmSpec(g.F, g.K, -g.P, TransA: false, 0, TransB: false, 0, g.K)
        {
            Accumulate = true,
            GatherA = (k, dzBase, o, q) =>
            {
                var (b, p) = PtxMath.DivRem(k, q, g.P);
                string e = k.R();
                k.Op($"mad.lo.s32 {e}, {b}, {g.F}, {o}");
                k.Op($"mad.lo.s32 {e}, {e}, {g.P}, {p}");
                return (k.Element(dzBase, e), True(k));
            },
            GatherB = (k, xBase, kk, q) =>
            {
                var (b, p) = PtxMath.DivRem(k, q, g.P);
                string off = k.Rd(), img = k.Rd();
                k.Op($"mul.wide.u32 {off}, {b}, {4L * g.C * g.HW}");
                k.Op($"add.s64 {img}, {xBase}, {off}");
                return Patch(k, g, img, p, kk);
            },
            GatherText = $"A(o, q) = dz[b, o, p], B(q, k) = x̃_b[k, p] with q = (b, p) over n × {g.P} pixels",
        };
        var dw = PtxGemm.Kernel(c.Name("Dweight"), dwSpec, c.OutputGrad, c.Input, c.Gradient("weight"), null);
        dw.Banner.Insert(0, $"dW[{g.F}, {g.K}] += Σ_(b,p) dZ_b[o, p]·X̃_b[k, p]");
        c.BackwardKernels.Add(dw);
        if (c.InputGrad is null) return;

        var dxSpec = new GemmSpec(g.C, g.HW, g.F * g.Taps, TransA: false, 0, TransB: false, 0, g.HW)
        {
            Accumulate = true, PerSample = true, StrideB = (long)g.F * g.P, StrideC = (long)g.C * g.HW,
            GatherA = (k, w, ch, kk) =>
            {
                var (o, r) = PtxMath.DivRem(k, kk, g.Taps);
                string e = k.R();
                k.Op($"mad.lo.s32 {e}, {o}, {g.K}, {r}");
                k.Op($"mad.lo.s32 {e}, {ch}, {g.Taps}, {e}");
                return (k.Element(w, e), True(k));
            },
            GatherB = (k, dzBase, q, kk) =>
            {
                var (o, r) = PtxMath.DivRem(k, kk, g.Taps);
                var (u, v) = PtxMath.DivRem(k, r, g.KW);
                var (h, w) = PtxMath.DivRem(k, q, g.W);
                string th = k.R(), tw = k.R(), ok = k.P(), t = k.P();
                k.Op($"add.s32 {th}, {h}, {g.PH}");
                k.Op($"sub.s32 {th}, {th}, {u}");
                k.Op($"add.s32 {tw}, {w}, {g.PW}");
                k.Op($"sub.s32 {tw}, {tw}, {v}");
                k.Op($"setp.ge.s32 {ok}, {th}, 0");
                k.Op($"setp.ge.s32 {t}, {tw}, 0");
                k.Op($"and.pred {ok}, {ok}, {t}");
                string i = th, j = tw;
                if (g.S > 1)
                {
                    var (qi, ri) = PtxMath.DivRem(k, th, g.S);
                    var (qj, rj) = PtxMath.DivRem(k, tw, g.S);
                    string z = k.P();
                    k.Op($"setp.eq.u32 {z}, {ri}, 0");
                    k.Op($"and.pred {ok}, {ok}, {z}");
                    k.Op($"setp.eq.u32 {z}, {rj}, 0");
                    k.Op($"and.pred {ok}, {ok}, {z}");
                    i = qi; j = qj;
                }
                string inI = k.P(), inJ = k.P(), e = k.R();
                k.Op($"setp.lt.u32 {inI}, {i}, {g.Ho}");
                k.Op($"setp.lt.u32 {inJ}, {j}, {g.Wo}");
                k.Op($"and.pred {ok}, {ok}, {inI}");
                k.Op($"and.pred {ok}, {ok}, {inJ}");
                k.Op($"mad.lo.s32 {e}, {o}, {g.P}, {j}");
                k.Op($"mad.lo.s32 {e}, {i}, {g.Wo}, {e}");
                return (k.Element(dzBase, e), ok);
            },
            GatherText = $"A(c, k) = W[o, c, u, v], B(k, q) = dz_b[o, (h + {g.PH} − u)/{g.S}, (w + {g.PW} − v)/{g.S}] where whole and inside, k = (o,u,v), q = (h,w)",
        };
        var dx = PtxGemm.Kernel(c.Name("Dx"), dxSpec, c.Tensor("weight"), c.OutputGrad, c.InputGrad, null);
        dx.Banner.Insert(0, $"dX_b[{g.C}, {g.H}·{g.W}] += Σ_(o,u,v) W[o, c, u, v]·dZ_b[o, i, j]   (the transposed convolution)");
        dx.OnlyForInputGradient = c.ReadsNetworkInput();
        c.BackwardKernels.Add(dx);
    }
}
