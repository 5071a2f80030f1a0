using System.ComponentModel;
using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ModelGen.Kernels;

/// <summary>
/// Moves between the user's sample-major layout <c>[batch, features]</c> and the feature-major panels
/// <c>[features, ld]</c> the batched kernels work on. Feature-major keeps the batch in the vector lanes, so even
/// a 10-wide layer fills whole vectors. Columns <c>[batch, ld)</c> of a panel are padding, set to 0 on input.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Layout
{
    /// <summary><c>dst[f·ld + b] = src[b·features + f]</c>; columns <c>[batch, ld)</c> set to 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ToFeatureMajor(ReadOnlySpan<float> src, int batch, int features, ref float dst, int ld)
    {
        if (src.Length < batch * features) throw new ArgumentException($"input holds {src.Length} floats, expected {batch}×{features}");
        ref float s = ref MemoryMarshal.GetReference(src);
        if (ld == 1) { Copy(ref s, ref dst, features); return; }
        Transpose(ref s, batch, features, features, ref dst, ld);
        ZeroColumns(ref dst, features, ld, batch, ld);
    }

    /// <summary>Columns <c>[from, to)</c> of <paramref name="rows"/> rows <paramref name="stride"/> floats apart zeroed, a
    /// vector at a time (W1's input: 784 rows of 16 padding columns, 12,544 scalar stores before): the padding columns
    /// <c>[batch, ld)</c> of an input panel, and of a loss's gradient.</summary>
    internal static void ZeroColumns(ref float dst, int rows, nint stride, int from, int to)
    {
        int pad = to - from;
        if (pad <= 0) return;
        for (int f = 0; f < rows; f++)
        {
            ref float row = ref Mem.Add(ref dst, f * stride + from);
            int b = 0;
            if (Vector256.IsHardwareAccelerated)
                for (; b + 8 <= pad; b += 8) Vector256<float>.Zero.StoreAt(ref row, (nuint)b);
            for (; b < pad; b++) Mem.Add(ref row, b) = 0f;
        }
    }

    /// <summary>A batch of sequences, sample-major <c>[batch, steps, features]</c> (PyTorch's <c>batch_first=True</c>), into
    /// a sequence panel <c>[features, steps·ld]</c>: <c>dst[f·steps·ld + t·ld + b] = src[(b·steps + t)·features + f]</c>;
    /// padding columns <c>[batch, ld)</c> of every step zeroed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SequencesToFeatureMajor(ReadOnlySpan<float> src, int batch, int steps, int features, ref float dst, int ld)
    {
        if (src.Length < batch * steps * features) throw new ArgumentException($"input holds {src.Length} floats, expected {batch}×{steps}×{features}");
        ref float s = ref MemoryMarshal.GetReference(src);
        nint row = (nint)steps * ld;
        for (int t = 0; t < steps; t++)
        {
            Transpose(ref Mem.Add(ref s, t * features), batch, features, (nint)steps * features, ref Mem.Add(ref dst, (nint)t * ld), row);
            ZeroColumns(ref Mem.Add(ref dst, (nint)t * ld), features, row, batch, ld);
        }
    }

    /// <summary>The inverse of <see cref="SequencesToFeatureMajor"/> for <c>b &lt; batch</c>: a sequence panel
    /// <c>[features, steps·ld]</c> to <c>[batch, steps, features]</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SequencesToSampleMajor(ref float src, int steps, int features, int ld, int batch, Span<float> dst)
    {
        if (dst.Length < batch * steps * features) throw new ArgumentException($"output holds {dst.Length} floats, expected {batch}×{steps}×{features}");
        ref float d = ref MemoryMarshal.GetReference(dst);
        for (int t = 0; t < steps; t++)
            Transpose(ref Mem.Add(ref src, (nint)t * ld), features, batch, (nint)steps * ld, ref Mem.Add(ref d, t * features), (nint)steps * features);
    }

    /// <summary><c>dst[b·stride + f] = src[f·ld + b]</c> for <c>b &lt; batch</c>, <c>f &lt; features</c>; rows
    /// <paramref name="stride"/> floats apart (0: <paramref name="features"/>, packed).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ToSampleMajor(ref float src, int features, int ld, int batch, Span<float> dst, int stride = 0)
    {
        if (stride == 0) stride = features;
        if (stride < features || dst.Length < (long)(batch - 1) * stride + features)
            throw new ArgumentException($"output holds {dst.Length} floats, expected {batch} rows of {features}, {stride} apart");
        ref float d = ref MemoryMarshal.GetReference(dst);
        if (ld == 1) { Copy(ref src, ref d, features); return; }
        Transpose(ref src, features, batch, ld, ref d, stride);
    }

    /// <summary>A sequence panel <c>[rows, steps·ld]</c> in reverse step order: <c>dst[r, t·ld + j] = src[r, (steps−1−t)·ld + j]</c>
    /// (a bidirectional layer's reverse direction reads and writes its steps so).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ReverseSteps(ref float src, int rows, int steps, int ld, ref float dst)
    {
        nint row = (nint)steps * ld;
        for (int r = 0; r < rows; r++)
            for (int t = 0; t < steps; t++)
                Copy(ref Mem.Add(ref src, r * row + (nint)(steps - 1 - t) * ld), ref Mem.Add(ref dst, r * row + (nint)t * ld), ld);
    }

    /// <summary><c>dst[r, t·ld + j] += src[r, (steps−1−t)·ld + j]</c>: a reverse direction's gradient added back in step order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddReversedSteps(ref float src, int rows, int steps, int ld, ref float dst)
    {
        nint row = (nint)steps * ld;
        for (int r = 0; r < rows; r++)
            for (int t = 0; t < steps; t++)
            {
                ref float s = ref Mem.Add(ref src, r * row + (nint)(steps - 1 - t) * ld);
                ref float d = ref Mem.Add(ref dst, r * row + (nint)t * ld);
                for (int j = 0; j < ld; j++) Mem.Add(ref d, j) += Mem.Add(ref s, j);
            }
    }

    private static void Copy(ref float src, ref float dst, int n) =>
        Unsafe.CopyBlockUnaligned(ref Unsafe.As<float, byte>(ref dst), ref Unsafe.As<float, byte>(ref src), (uint)(n * sizeof(float)));

    /// <summary>The transpose of an image gradient into the "wide" pixel order of a stride-1 convolution:
    /// <c>dst[(i·wp + j)·rows + r] = src[r·ldSrc + i·wo + j]</c> for <c>j &lt; wo</c>, and zero rows for the padding
    /// columns <c>wo ≤ j &lt; wp</c> between image rows — <c>(ho − 1)·wp + wo</c> rows in all, the reduction of the
    /// convolution's im2col-free weight gradient (a zero row adds nothing, so the sums are those over the pixels).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void TransposeWide(ref float src, int rows, int ho, int wo, nint ldSrc, int wp, ref float dst, SimdWidth width)
    {
        for (int i = 0; i < ho; i++)
        {
            Transpose(ref Mem.Add(ref src, i * wo), rows, wo, ldSrc, ref Mem.Add(ref dst, (nint)i * wp * rows), rows, width);
            if (i < ho - 1) MemoryMarshal.CreateSpan(ref Mem.Add(ref dst, ((nint)i * wp + wo) * rows), (wp - wo) * rows).Clear();
        }
    }

    /// <summary><c>dst[c·dstStride + r] = src[r·srcStride + c]</c> for r &lt; rows, c &lt; cols: 8×8 blocks in
    /// registers (AVX unpack/shuffle/permute, 24 shuffles per 64 floats), scalar edges. The blocks go down strips of
    /// <see cref="StripColumns"/> source columns: each source row's strip is two whole cache lines, read once, and the
    /// strip's 32 destination rows are written front to back, each line filled while it is in L1 (row by row across all
    /// columns, a 256 × 784 input touched 784 destination lines per 8 rows — 50 KB, more than L1 — and wrote each twice).
    /// Destination rows a multiple of 2 or 4 KB apart take strips of 16 or 8 columns (Flatten's backward writes each
    /// sample's image, W2's 20 KB apart).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Transpose(ref float src, int rows, int cols, nint srcStride, ref float dst, nint dstStride, SimdWidth width = SimdWidth.V256)
    {
        bool blocks = width != SimdWidth.Scalar && Avx.IsSupported;   // a transpose moves floats: every path gives the same bits
        int r8 = blocks ? rows & ~7 : 0, c8 = blocks ? cols & ~7 : 0;
        int r4 = blocks ? rows & ~3 : 0;   // a band of 4 rows below the 8-row blocks (12-row GEMM panels end in one)
        // Destination rows a multiple of 4 KB apart all fall into one L1 set (of 2 KB, into two): a strip then writes only
        // as many rows as the set's ways hold, or each line would be evicted between its two 32-byte halves.
        int strip = (dstStride & 1023) == 0 ? 8 : (dstStride & 511) == 0 ? 16 : StripColumns;
        for (int c0 = 0; c0 < c8; c0 += strip)
        {
            int c1 = Math.Min(c0 + strip, c8);
            for (int r = 0; r < r8; r += 8)
                for (int c = c0; c < c1; c += 8)
                    Block8x8(ref Mem.Add(ref src, r * srcStride + c), srcStride, ref Mem.Add(ref dst, c * dstStride + r), dstStride);
            if (r4 > r8)
                for (int c = c0; c < c1; c += 8)
                    Block4x8(ref Mem.Add(ref src, r8 * srcStride + c), srcStride, ref Mem.Add(ref dst, c * dstStride + r8), dstStride);
        }
        for (int r = 0; r < rows; r++)
        {
            int c0 = r < r4 ? c8 : 0; // blocks already covered [0, r4) × [0, c8)
            for (int c = c0; c < cols; c++) Mem.Add(ref dst, c * dstStride + r) = Mem.Add(ref src, r * srcStride + c);
        }
    }

    /// <summary>
    /// A matrix <c>A[r, p] = src[r·rowStride + p·stepStride]</c> (<paramref name="rows"/> × <paramref name="k"/>) in panels of
    /// <paramref name="panel"/> rows for the GEMM tiles that read one reduction step's rows side by side: panel q (rows
    /// <c>q·panel</c> … , <c>h = min(panel, rows − q·panel)</c> of them) starts at <c>dst[q·panel·k]</c> and holds
    /// <c>A[q·panel + i, p]</c> at <c>p·h + i</c>. A tile then reads its rows of step p from one address plus constant
    /// displacements — no index register, no row pointers — and walks its panel front to back.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackPanels(ref float src, int rows, int k, nint rowStride, nint stepStride, int panel, ref float dst, SimdWidth width)
    {
        for (int q = 0; q < rows; q += panel)
        {
            int h = Math.Min(panel, rows - q);
            ref float s = ref Mem.Add(ref src, q * rowStride);
            ref float d = ref Mem.Add(ref dst, (nint)q * k);
            if (stepStride == 1)   // rows contiguous along the reduction (W): the panel is the transpose of its h × k block
                Transpose(ref s, h, k, rowStride, ref d, h, width);
            else if (rowStride == 1)   // a step's rows side by side already (Wᵀ): h floats per step, moved in place (a copy call per 12 floats cost more than the floats)
                for (int p = 0; p < k; p++)
                {
                    ref float sp = ref Mem.Add(ref s, p * stepStride);
                    ref float dp = ref Mem.Add(ref d, (nint)p * h);
                    int i = 0;
                    for (; i + 8 <= h; i += 8) Vector256.LoadUnsafe(ref sp, (nuint)i).StoreUnsafe(ref dp, (nuint)i);
                    if (i + 4 <= h) { Mem.Load128(ref sp, (nuint)i).StoreAt(ref dp, (nuint)i); i += 4; }
                    for (; i < h; i++) Mem.Add(ref dp, i) = Mem.Add(ref sp, i);
                }
            else
                for (int p = 0; p < k; p++)
                    for (int i = 0; i < h; i++) Mem.Add(ref d, (nint)p * h + i) = Mem.Add(ref s, i * rowStride + p * stepStride);
        }
    }

    /// <summary>A matrix <c>[rows, cols]</c> (a dense layer's W, <c>[units, inputs]</c>) as transposed panels of
    /// <paramref name="panel"/> rows: panel q holds <c>src[(q·panel + i)·cols + c]</c> at <c>dst[q·panel·cols + c·panel + i]</c>,
    /// the last panel's rows past <paramref name="rows"/> zero — one vector of a panel is a reduction step's weights of
    /// <paramref name="panel"/> consecutive units (<see cref="Gemm.RowsTileV512"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void TransposePanels(ref float src, int rows, int cols, int panel, ref float dst, SimdWidth width)
    {
        for (int q = 0; q * panel < rows; q++)
        {
            int h = Math.Min(panel, rows - q * panel);
            ref float d = ref Mem.Add(ref dst, (nint)q * panel * cols);
            if (h < panel)
                for (int c = 0; c < cols; c++)
                    for (int i = h; i < panel; i++) Mem.Add(ref d, (nint)c * panel + i) = 0f;
            Transpose(ref Mem.Add(ref src, (nint)q * panel * cols), h, cols, cols, ref d, panel, width);
        }
    }

    /// <summary>The last, partial group of <paramref name="group"/> samples of a row-major input <c>[batch, features]</c>
    /// as a zero-padded copy in <paramref name="tail"/> (<c>group × features</c> floats): rows <c>[full, batch)</c>, then
    /// zeros, where <c>full</c> is the batch rounded down to a whole group (returned). Nothing is copied when the batch is
    /// whole groups: a kernel that reads the input in place reads the last group here instead of past the input's end.</summary>
    public static int RowsTail(ref float input, int batch, int features, int group, Span<float> tail)
    {
        int full = batch / group * group, rows = batch - full;
        if (tail.Length < group * features) throw new ArgumentException($"the tail holds {tail.Length} floats, expected {group}×{features}", nameof(tail));
        if (rows == 0) return full;
        Mem.Copy(ref Mem.Add(ref input, (nint)full * features), ref tail[0], rows * features);
        tail.Slice(rows * features, (group - rows) * features).Clear();
        return full;
    }

    /// <summary><c>dst[c·rows + r] += src[r·cols + c]</c>: adds the transpose of a <c>[rows, cols]</c> matrix.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddTransposed(ref float src, int rows, int cols, ref float dst)
    {
        for (int c = 0; c < cols; c++)
        {
            ref float d = ref Mem.Add(ref dst, (nint)c * rows);
            for (int r = 0; r < rows; r++) Mem.Add(ref d, r) += Mem.Add(ref src, (nint)r * cols + c);
        }
    }

    /// <summary>Source columns per strip of <see cref="Transpose"/>'s blocks (two cache lines of each source row).</summary>
    private const int StripColumns = 32;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block8x8(ref float s, nint ss, ref float d, nint ds)
    {
        var r0 = Mem.Load256(ref s); var r1 = Mem.Load256(ref Mem.Add(ref s, ss));
        var r2 = Mem.Load256(ref Mem.Add(ref s, 2 * ss)); var r3 = Mem.Load256(ref Mem.Add(ref s, 3 * ss));
        var r4 = Mem.Load256(ref Mem.Add(ref s, 4 * ss)); var r5 = Mem.Load256(ref Mem.Add(ref s, 5 * ss));
        var r6 = Mem.Load256(ref Mem.Add(ref s, 6 * ss)); var r7 = Mem.Load256(ref Mem.Add(ref s, 7 * ss));
        // Pairs of rows interleaved: t0 = [r0₀ r1₀ r0₁ r1₁ | r0₄ r1₄ r0₅ r1₅] …
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
        // Quads: u0 = [column 0 of rows 0..3 | column 4 of rows 0..3] …
        var u0 = Avx.Shuffle(t0, t2, 0x44); var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44); var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44); var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44); var u7 = Avx.Shuffle(t5, t7, 0xEE);
        // Halves joined: column c of rows 0..7.
        Avx.Permute2x128(u0, u4, 0x20).StoreAt(ref d);
        Avx.Permute2x128(u1, u5, 0x20).StoreAt(ref Mem.Add(ref d, ds));
        Avx.Permute2x128(u2, u6, 0x20).StoreAt(ref Mem.Add(ref d, 2 * ds));
        Avx.Permute2x128(u3, u7, 0x20).StoreAt(ref Mem.Add(ref d, 3 * ds));
        Avx.Permute2x128(u0, u4, 0x31).StoreAt(ref Mem.Add(ref d, 4 * ds));
        Avx.Permute2x128(u1, u5, 0x31).StoreAt(ref Mem.Add(ref d, 5 * ds));
        Avx.Permute2x128(u2, u6, 0x31).StoreAt(ref Mem.Add(ref d, 6 * ds));
        Avx.Permute2x128(u3, u7, 0x31).StoreAt(ref Mem.Add(ref d, 7 * ds));
    }

    /// <summary>Rows 0…3, columns 0…7 of <paramref name="s"/> into rows 0…7, columns 0…3 of <paramref name="d"/>: two
    /// 4×4 transposes of 128-bit rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block4x8(ref float s, nint ss, ref float d, nint ds)
    {
        for (int h = 0; h < 8; h += 4)
        {
            var r0 = Mem.Load128(ref s, (nuint)h); var r1 = Mem.Load128(ref Mem.Add(ref s, ss), (nuint)h);
            var r2 = Mem.Load128(ref Mem.Add(ref s, 2 * ss), (nuint)h); var r3 = Mem.Load128(ref Mem.Add(ref s, 3 * ss), (nuint)h);
            var t0 = Sse.UnpackLow(r0, r1); var t1 = Sse.UnpackHigh(r0, r1);   // [r0₀ r1₀ r0₁ r1₁], [r0₂ r1₂ r0₃ r1₃]
            var t2 = Sse.UnpackLow(r2, r3); var t3 = Sse.UnpackHigh(r2, r3);
            ref float dh = ref Mem.Add(ref d, h * ds);
            Sse.MoveLowToHigh(t0, t2).StoreAt(ref dh);                      // column h of rows 0…3
            Sse.MoveHighToLow(t2, t0).StoreAt(ref Mem.Add(ref dh, ds));
            Sse.MoveLowToHigh(t1, t3).StoreAt(ref Mem.Add(ref dh, 2 * ds));
            Sse.MoveHighToLow(t3, t1).StoreAt(ref Mem.Add(ref dh, 3 * ds));
        }
    }
}
