using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ModelGen.Kernels;

/// <summary>
/// Winograd's minimal filtering F(2×2, 3×3) for a stride-1 3×3 convolution (Lavin &amp; Gray, 2015): each 2×2 output
/// tile is <c>Y = Aᵀ[U ⊙ V]A</c> with <c>U = G g Gᵀ</c> (the filter, 4×4) and <c>V = Bᵀ d B</c> (the tile's 4×4 input
/// patch), summed over the input channels — 16 multiplications per tile and channel pair instead of 36, so the
/// layer's products become 16 GEMMs <c>M[ξ][O, T] = U[ξ][O, C]·V[ξ][C, T]</c>, one per position ξ = 4a + b of the
/// 4×4 transform, T the tiles:
/// <code>
///   Bᵀ = | 1  0 −1  0 |     G = | 1    0    0  |     Aᵀ = | 1  1  1  0 |
///        | 0  1  1  0 |         | ½    ½    ½  |          | 0  1 −1 −1 |
///        | 0 −1  1  0 |         | ½   −½    ½  |
///        | 0  1  0 −1 |         | 0    0    1  |
/// </code>
/// The transforms hold only ±1 and ½, so they add no rounding of their own beyond the sums (the error stays near that
/// of the direct product; the tests bound it). Tiles run in the vector lanes, <c>t = ti·tw + tj</c> for tile row ti and
/// column tj; the input is read through an even/odd split of each padded row so that the four columns a tile reads are
/// four contiguous vectors.
/// <para>The per-sample transforms (<see cref="Input"/>, <see cref="Output"/>, <see cref="OutputPool"/>,
/// <see cref="OutputGradients"/>) are <c>AggressiveInlining</c>: the generated code calls each through a small local
/// function of its own, which the kernel is inlined into with the layer's shapes as constants (W2's transforms ran
/// ~30 % faster so than called with their arguments). Call them from small methods: inlined into a large one they can
/// exhaust the JIT's inlining budget for it.</para>
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Winograd
{
    /// <summary>Tiles along a side of <paramref name="outputs"/> output pixels (the last tile of an odd size is half used).</summary>
    public static int Tiles(int outputs) => (outputs + 1) / 2;

    /// <summary>The row stride of a transformed operand <c>[16][rows][ld]</c> holding blocks of <paramref name="tb"/> tile rows
    /// of <paramref name="tw"/> tiles: the tiles rounded up to a vector of 16, plus one vector that the last tile row's
    /// unused lanes may write.</summary>
    public static int Ld(int tb, int tw) => ((tb * tw + 15) & ~15) + 16;

    /// <summary>The distance between the 16 planes ξ of a transformed operand of <paramref name="rows"/> rows: one vector
    /// more than the plane, so that the 16 vectors a tile writes (or reads) do not all fall into the same L1 set when
    /// the plane is a multiple of 4 KB.</summary>
    public static int Plane(int rows, int ld) => rows * ld + 16;

    /// <summary>Columns computed by the products of a block: its tiles rounded up to 16.</summary>
    public static int Columns(int tb, int tw) => (tb * tw + 15) & ~15;

    /// <summary>Length of the scratch of <see cref="Input"/> and <see cref="Output"/> for blocks of <paramref name="tb"/> tile rows.</summary>
    public static int ScratchFloats(int tb, int tw) => 4 * (2 * tb + 2) * Half(tw);

    // Half-row length of the even/odd split: a vector past the last tile column, so a tile vector reads in bounds.
    private static int Half(int tw) => ((tw + 15) & ~15) + 16;

    /// <summary>
    /// The filter transforms <c>u[ξ][r, c] = (G g Gᵀ)[ξ]</c>, ξ = 4a + b, of <c>g = w[r, c]</c>, weights
    /// <c>w[rows][cols][3][3]</c> (PyTorch's <c>[O, C, 3, 3]</c>). The input gradient reads the same planes (see
    /// <see cref="Rotated"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Filters(ref float w, int rows, int cols, ref float u)
    {
        // The 16 planes lie rows·cols floats apart — for 64 × 64 filters 16 KB, one L1 set: storing each filter's 16
        // numbers straight into them evicted a line per store (280 µs for 64 × 64, ~200 cycles a filter). Instead a
        // block of 16 filters that are neighbours in the planes is transformed into a local [16][16] and each plane
        // gets its 16 numbers as one line (62 µs; `--filters` in Benchmarks).
        nint plane = (nint)rows * cols;
        Span<float> local = stackalloc float[16 * 16];
        ref float block = ref MemoryMarshal.GetReference(local);
        for (int r = 0; r < rows; r++)
            for (int c0 = 0; c0 < cols; c0 += 16)
            {
                int n = Math.Min(16, cols - c0);
                for (int j = 0; j < n; j++)
                {
                    ref float g = ref Mem.Add(ref w, ((nint)r * cols + c0 + j) * 9);
                    Filter(g, Mem.Add(ref g, 1), Mem.Add(ref g, 2), Mem.Add(ref g, 3), Mem.Add(ref g, 4), Mem.Add(ref g, 5), Mem.Add(ref g, 6), Mem.Add(ref g, 7), Mem.Add(ref g, 8), ref Unsafe.Add(ref block, j), 16);
                }
                ref float dst = ref Mem.Add(ref u, (nint)r * cols + c0);
                for (int x = 0; x < 16; x++)
                    Mem.Copy(ref Unsafe.Add(ref block, 16 * x), ref Mem.Add(ref dst, x * plane), n);
            }
    }

    /// <summary>The plane of <see cref="Filters"/>' transforms that holds plane <paramref name="xi"/> of the transforms
    /// of the filters rotated by 180° (the input gradient's): rotating g reverses its rows and columns, and G·J = P·G
    /// (J reverses 3 entries, P swaps entries 0 and 3 of 4; G's middle rows are symmetric), so
    /// <c>G·rot(g)·Gᵀ = P·(G·g·Gᵀ)·P</c> — ξ = 4a + b becomes 4·p(a) + p(b), p swapping 0 and 3. Only the order of
    /// a three-term sum differs, so the two agree to rounding.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Rotated(int xi) => RotatedPlanes[xi];

    private static ReadOnlySpan<byte> RotatedPlanes => new byte[] { 15, 13, 14, 12, 7, 5, 6, 4, 11, 9, 10, 8, 3, 1, 2, 0 };   // 4·p(a) + p(b)

    /// <summary>One filter's transform <c>G·g·Gᵀ</c> (g row-major 3×3) into the 16 planes at <paramref name="u"/>: first
    /// <c>t = G·g</c> (4×3, column by column), then <c>t·Gᵀ</c> row by row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Filter(float g00, float g01, float g02, float g10, float g11, float g12, float g20, float g21, float g22, ref float u, nint plane)
    {
        // G·g: row 0 = g's row 0, rows 1 and 2 = ½(g0 ± g1 + g2), row 3 = g's row 2
        float t10 = 0.5f * (g00 + g10 + g20), t11 = 0.5f * (g01 + g11 + g21), t12 = 0.5f * (g02 + g12 + g22);
        float t20 = 0.5f * (g00 - g10 + g20), t21 = 0.5f * (g01 - g11 + g21), t22 = 0.5f * (g02 - g12 + g22);
        Row(g00, g01, g02, ref u, plane);
        Row(t10, t11, t12, ref Mem.Add(ref u, 4 * plane), plane);
        Row(t20, t21, t22, ref Mem.Add(ref u, 8 * plane), plane);
        Row(g20, g21, g22, ref Mem.Add(ref u, 12 * plane), plane);
    }

    /// <summary>Row a of <c>(G·g)·Gᵀ</c> from row a of <c>G·g</c> (h0, h1, h2): planes 4a … 4a + 3.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row(float h0, float h1, float h2, ref float u, nint plane)
    {
        u = h0;
        Mem.Add(ref u, plane) = 0.5f * (h0 + h1 + h2);
        Mem.Add(ref u, 2 * plane) = 0.5f * (h0 - h1 + h2);
        Mem.Add(ref u, 3 * plane) = h2;
    }

    /// <summary>
    /// The input transforms of the tile rows <c>[ti0, ti1)</c> of one sample: <c>v[ξ][c, t] = (Bᵀ d B)[ξ]</c>, d the 4×4
    /// patch of channel c at padded rows <c>2ti…2ti+3</c> and columns <c>2tj…2tj+3</c> of the image <c>x[c][ldIn]</c>
    /// (h × w) zero-padded by (ph, pw), <c>t = (ti − ti0)·tw + tj</c>; row stride <paramref name="ldV"/> (<see cref="Ld"/>),
    /// planes ξ <paramref name="plane"/> floats apart (<see cref="Plane"/><c>(c, ldV)</c>, or that of all the layer's
    /// channels when a weight gradient's part transforms some of them into their rows).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    public static void Input(ref float x, int c, int h, int w, nint ldIn, int ph, int pw, int tw, int ti0, int ti1, ref float v, int ldV, nint plane, ref float scratch, SimdWidth width)
    {
        int rows = 2 * (ti1 - ti0) + 2, half = Half(tw), top = 2 * ti0 - ph;   // padded row r of the block is image row top + r
        ref float even = ref scratch;                                       // [rows, half]: padded columns 0, 2, 4, …
        ref float odd = ref Mem.Add(ref scratch, (nint)rows * half);        // [rows, half]: padded columns 1, 3, 5, …
        ref float padded = ref Mem.Add(ref scratch, 2 * (nint)rows * half); // [rows, 2·half]: the channel zero-padded
        // Only the image's pixels are written into the padded channel, the same ones for every channel: its zeros stay.
        MemoryMarshal.CreateSpan(ref padded, 2 * rows * half).Clear();
        int r0 = Math.Clamp(-top, 0, rows), r1 = Math.Clamp(h - top, r0, rows);   // the block's rows that hold image rows
        width = Lanes(width, tw);
        for (int ci = 0; ci < c; ci++)
        {
            // All rows are copied before any is split: a split reads whole vectors across the copy's stores, which the
            // store buffer cannot forward, so it reads them once they have reached the cache.
            for (int r = r0; r < r1; r++)
                CopyRow(ref Mem.Add(ref x, ci * ldIn + (nint)(top + r) * w), ref Mem.Add(ref padded, (nint)r * 2 * half + pw), w);
            if (ci == 0)
                for (int r = 0; r < rows; r++)
                    if (r < r0 || r >= r1) Deinterleave(ref Mem.Add(ref padded, (nint)r * 2 * half), half, ref Mem.Add(ref even, (nint)r * half), ref Mem.Add(ref odd, (nint)r * half), width);
            for (int r = r0; r < r1; r++)
                Deinterleave(ref Mem.Add(ref padded, (nint)r * 2 * half), half, ref Mem.Add(ref even, (nint)r * half), ref Mem.Add(ref odd, (nint)r * half), width);
            ref float vc = ref Mem.Add(ref v, (nint)ci * ldV);
            for (int ti = 0; ti < ti1 - ti0; ti++)
            {
                ref float e = ref Mem.Add(ref even, (nint)2 * ti * half);
                ref float o = ref Mem.Add(ref odd, (nint)2 * ti * half);
                ref float vt = ref Mem.Add(ref vc, ti * tw);
                if (width == SimdWidth.V512) for (int tj = 0; tj < tw; tj += 16) Input512(ref Mem.Add(ref e, tj), ref Mem.Add(ref o, tj), half, ref Mem.Add(ref vt, tj), plane);
                else if (width == SimdWidth.V256) for (int tj = 0; tj < tw; tj += 8) Input256(ref Mem.Add(ref e, tj), ref Mem.Add(ref o, tj), half, ref Mem.Add(ref vt, tj), plane);
                else for (int tj = 0; tj < tw; tj++) Input1(ref Mem.Add(ref e, tj), ref Mem.Add(ref o, tj), half, ref Mem.Add(ref vt, tj), plane);
            }
        }
    }

    /// <summary>
    /// The output transforms of the tile rows <c>[ti0, ti1)</c> of one sample: <c>y[o, 2ti + a, 2tj + b] = epi((Aᵀ M A)[a, b])</c>
    /// for the pixels inside the ho × wo image <c>y[o][ldOut]</c>, from the products <c>m[ξ][o, t]</c>,
    /// <c>t = (ti − ti0)·tw + tj</c> (row stride <paramref name="ldM"/>, planes ξ <see cref="Plane"/><c>(o, ldM)</c> apart). <paramref name="epi"/>: Store, or Bias / BiasRelu / BiasLeakyRelu with <c>bias[o]</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    public static void Output(ref float m, int o, int ldM, int tw, int ti0, int ti1, int ho, int wo, ref float y, nint ldOut, ref float bias, Epilogue epi, float alpha, ref float scratch, SimdWidth width)
    {
        if (epi == Epilogue.Accumulate) throw new ArgumentException("the Winograd output transform stores; it does not accumulate", nameof(epi));
        width = Lanes(width, tw);
        int lanes = (int)width, half = Half(tw);
        ref float r0 = ref scratch;                              // output rows 2ti and 2ti + 1 when they are not stored in place
        ref float r1 = ref Mem.Add(ref scratch, 2 * (nint)half);
        bool inPlace = wo == 2 * tw && tw % lanes == 0;          // whole vectors of tiles fill whole output rows
        nint plane = Plane(o, ldM);
        for (int oi = 0; oi < o; oi++)
        {
            float b = epi >= Epilogue.Bias ? Mem.Add(ref bias, oi) : 0f;
            ref float mo = ref Mem.Add(ref m, (nint)oi * ldM);
            ref float yo = ref Mem.Add(ref y, oi * ldOut);
            for (int ti = ti0; ti < ti1; ti++)
            {
                bool second = 2 * ti + 1 < ho;
                ref float y0 = ref inPlace ? ref Mem.Add(ref yo, 2 * ti * wo) : ref r0;
                ref float y1 = ref inPlace && second ? ref Mem.Add(ref yo, (2 * ti + 1) * wo) : ref r1;
                ref float mt = ref Mem.Add(ref mo, (ti - ti0) * tw);
                if (width == SimdWidth.V512) for (int tj = 0; tj < tw; tj += 16) Output512(ref Mem.Add(ref mt, tj), plane, ref Mem.Add(ref y0, 2 * tj), ref Mem.Add(ref y1, 2 * tj), b, epi, alpha);
                else if (width == SimdWidth.V256) for (int tj = 0; tj < tw; tj += 8) Output256(ref Mem.Add(ref mt, tj), plane, ref Mem.Add(ref y0, 2 * tj), ref Mem.Add(ref y1, 2 * tj), b, epi, alpha);
                else for (int tj = 0; tj < tw; tj++) Output1(ref Mem.Add(ref mt, tj), plane, ref Mem.Add(ref y0, 2 * tj), ref Mem.Add(ref y1, 2 * tj), b, epi, alpha);
                if (inPlace) continue;
                Mem.Copy(ref r0, ref Mem.Add(ref yo, 2 * ti * wo), wo);
                if (second) Mem.Copy(ref r1, ref Mem.Add(ref yo, (2 * ti + 1) * wo), wo);
            }
        }
    }

    /// <summary>
    /// <see cref="Output"/> with a 2×2, stride-2 pooling after it (inference): each output tile is one window, so
    /// <c>y[o, ti, tj]</c> is the maximum (or, with <paramref name="average"/>, the mean) of <c>epi((Aᵀ M A)[a, b])</c>
    /// over the tile's four pixels, into the pooled image <c>y[o][ldOut]</c> of ⌊ho/2⌋ × ⌊wo/2⌋ (an odd image's last tile
    /// row and column are half outside every window and are not computed). The same bits as <c>Pool.Max</c> /
    /// <c>Pool.Average</c> over the stored output: a maximum is exact, and the mean adds the four in the same order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    public static void OutputPool(ref float m, int o, int ldM, int tw, int ti0, int ti1, int ho, int wo, ref float y, nint ldOut, ref float bias, Epilogue epi, float alpha, bool average, ref float scratch, SimdWidth width)
    {
        if (epi == Epilogue.Accumulate) throw new ArgumentException("the Winograd output transform stores; it does not accumulate", nameof(epi));
        width = Lanes(width, tw);
        int lanes = (int)width, pw = wo / 2, end = Math.Min(ti1, ho / 2);
        bool inPlace = pw == tw && tw % lanes == 0;              // whole vectors of tiles fill whole pooled rows
        nint plane = Plane(o, ldM);
        for (int oi = 0; oi < o; oi++)
        {
            float b = epi >= Epilogue.Bias ? Mem.Add(ref bias, oi) : 0f;
            ref float mo = ref Mem.Add(ref m, (nint)oi * ldM);
            ref float yo = ref Mem.Add(ref y, oi * ldOut);
            for (int ti = ti0; ti < end; ti++)
            {
                ref float p = ref inPlace ? ref Mem.Add(ref yo, ti * pw) : ref scratch;
                ref float mt = ref Mem.Add(ref mo, (ti - ti0) * tw);
                if (width == SimdWidth.V512) for (int tj = 0; tj < tw; tj += 16) OutputPool512(ref Mem.Add(ref mt, tj), plane, ref Mem.Add(ref p, tj), b, epi, alpha, average);
                else if (width == SimdWidth.V256) for (int tj = 0; tj < tw; tj += 8) OutputPool256(ref Mem.Add(ref mt, tj), plane, ref Mem.Add(ref p, tj), b, epi, alpha, average);
                else for (int tj = 0; tj < pw; tj++) OutputPool1(ref Mem.Add(ref mt, tj), plane, ref Mem.Add(ref p, tj), b, epi, alpha, average);
                if (!inPlace) Mem.Copy(ref scratch, ref Mem.Add(ref yo, ti * pw), pw);
            }
        }
    }

    /// <summary>
    /// The output gradient's side of the weight gradient, <c>z[ξ][t, o] = (A·g·Aᵀ)[ξ]</c>: g the 2×2 block of dz that
    /// tile t produced (pixels <c>2ti…2ti+1 × 2tj…2tj+1</c>, zero past an odd image's edge), read from
    /// <c>dzT[i·wo + j][o]</c> (pixel-major, the filters contiguous), <c>t = ti·tw + tj</c> over all the image's tiles,
    /// planes ξ <paramref name="plane"/> floats apart. A is <c>(Aᵀ)ᵀ</c> of the forward (±1 only: no rounding).
    /// </summary>
    /// <remarks>The forward is <c>y = Aᵀ[(G w) ⊙ (Bᵀ d)]</c>, linear in w; its transpose gives the gradient of the
    /// filter, <c>dW = Gᵀ[(A dz) ⊙ (Bᵀ d)]</c> (in 2-D <c>Gᵀ[Z ⊙ V]G</c>): the same input tiles V as the forward, 16
    /// multiplications per tile and filter pair where the direct weight gradient does 36, summed over the tiles by
    /// 16 GEMMs <c>M[ξ][C, O] += V[ξ][C, T]·Z[ξ][T, O]</c>, then <see cref="AddWeightGradients"/>.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    public static void OutputGradients(ref float dzT, int o, int ho, int wo, ref float z, nint plane, SimdWidth width)
    {
        int th = Tiles(ho), tw = Tiles(wo);
        int ov = width == SimdWidth.V512 ? o & ~15 : width == SimdWidth.V256 ? o & ~7 : 0;
        for (int ti = 0; ti < th; ti++)
            for (int tj = 0; tj < tw; tj++)
            {
                int i0 = 2 * ti, j0 = 2 * tj;
                bool right = j0 + 1 < wo, down = i0 + 1 < ho;   // the block's second column and row lie in the image
                ref float g00 = ref Mem.Add(ref dzT, ((nint)i0 * wo + j0) * o);
                ref float zt = ref Mem.Add(ref z, (nint)(ti * tw + tj) * o);
                int k = 0;
                if (width == SimdWidth.V512)
                    for (; k < ov; k += 16)
                    {
                        var a = Mem.Load512(ref g00, (nuint)k);
                        var b = right ? Mem.Load512(ref Mem.Add(ref g00, o), (nuint)k) : Vector512<float>.Zero;
                        var c = down ? Mem.Load512(ref Mem.Add(ref g00, (nint)wo * o), (nuint)k) : Vector512<float>.Zero;
                        var d = down && right ? Mem.Load512(ref Mem.Add(ref g00, (nint)(wo + 1) * o), (nuint)k) : Vector512<float>.Zero;
                        ref float zk = ref Mem.Add(ref zt, k);
                        Gradient512(a, b, ref zk, plane);                   // rows of A·g: (g0, g0 + g1, g0 − g1, −g1)
                        Gradient512(a + c, b + d, ref Mem.Add(ref zk, 4 * plane), plane);
                        Gradient512(a - c, b - d, ref Mem.Add(ref zk, 8 * plane), plane);
                        Gradient512(-c, -d, ref Mem.Add(ref zk, 12 * plane), plane);
                    }
                else if (width == SimdWidth.V256)
                    for (; k < ov; k += 8)
                    {
                        var a = Mem.Load256(ref g00, (nuint)k);
                        var b = right ? Mem.Load256(ref Mem.Add(ref g00, o), (nuint)k) : Vector256<float>.Zero;
                        var c = down ? Mem.Load256(ref Mem.Add(ref g00, (nint)wo * o), (nuint)k) : Vector256<float>.Zero;
                        var d = down && right ? Mem.Load256(ref Mem.Add(ref g00, (nint)(wo + 1) * o), (nuint)k) : Vector256<float>.Zero;
                        ref float zk = ref Mem.Add(ref zt, k);
                        Gradient256(a, b, ref zk, plane);
                        Gradient256(a + c, b + d, ref Mem.Add(ref zk, 4 * plane), plane);
                        Gradient256(a - c, b - d, ref Mem.Add(ref zk, 8 * plane), plane);
                        Gradient256(-c, -d, ref Mem.Add(ref zk, 12 * plane), plane);
                    }
                for (; k < o; k++)
                {
                    float a = Mem.Add(ref g00, k);
                    float b = right ? Mem.Add(ref g00, o + k) : 0f;
                    float c = down ? Mem.Add(ref g00, (nint)wo * o + k) : 0f;
                    float d = down && right ? Mem.Add(ref g00, (nint)(wo + 1) * o + k) : 0f;
                    ref float zk = ref Mem.Add(ref zt, k);
                    Gradient1(a, b, ref zk, plane);
                    Gradient1(a + c, b + d, ref Mem.Add(ref zk, 4 * plane), plane);
                    Gradient1(a - c, b - d, ref Mem.Add(ref zk, 8 * plane), plane);
                    Gradient1(-c, -d, ref Mem.Add(ref zk, 12 * plane), plane);
                }
            }
    }

    // One row a of A·g·Aᵀ from row a of A·g, (h0, h1): planes 4a … 4a + 3 get (h0, h0 + h1, h0 − h1, −h1).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Gradient512(Vector512<float> h0, Vector512<float> h1, ref float z, nint plane)
    {
        h0.StoreAt(ref z); (h0 + h1).StoreAt(ref Mem.Add(ref z, plane)); (h0 - h1).StoreAt(ref Mem.Add(ref z, 2 * plane)); (-h1).StoreAt(ref Mem.Add(ref z, 3 * plane));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Gradient256(Vector256<float> h0, Vector256<float> h1, ref float z, nint plane)
    {
        h0.StoreAt(ref z); (h0 + h1).StoreAt(ref Mem.Add(ref z, plane)); (h0 - h1).StoreAt(ref Mem.Add(ref z, 2 * plane)); (-h1).StoreAt(ref Mem.Add(ref z, 3 * plane));
    }

    private static void Gradient1(float h0, float h1, ref float z, nint plane)
    {
        z = h0; Mem.Add(ref z, plane) = h0 + h1; Mem.Add(ref z, 2 * plane) = h0 - h1; Mem.Add(ref z, 3 * plane) = -h1;
    }

    /// <summary>
    /// The end of a Winograd weight gradient: the sample groups' sums <c>m_g[ξ][c, o]</c> (group g at
    /// <c>m + g·groupStride</c>, planes <paramref name="plane"/> apart) added in group order into group 0's, then
    /// <c>dw[o, c] += Gᵀ·M[c, o]·G</c> (3×3, PyTorch's <c>[O, C, 3, 3]</c>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddWeightGradients(ref float m, int groups, nint groupStride, int c, int o, nint plane, ref float dw)
    {
        int n = c * o;
        for (int g = 1; g < groups; g++)
            for (int xi = 0; xi < 16; xi++)
            {
                ref float dst = ref Mem.Add(ref m, xi * plane);
                ref float src = ref Mem.Add(ref m, g * groupStride + xi * plane);
                int k = 0;
                if (Vector512.IsHardwareAccelerated)
                    for (; k + 16 <= n; k += 16) (Mem.Load512(ref dst, (nuint)k) + Mem.Load512(ref src, (nuint)k)).StoreAt(ref dst, (nuint)k);
                for (; k < n; k++) Mem.Add(ref dst, k) += Mem.Add(ref src, k);
            }
        // Gᵀ·M·G, eight filters at a time (M's lanes are neighbouring filters o), the same operations as the scalar
        // filters below — so the same bits — then each filter's 9 sums added into its place in dW.
        int o8 = Vector256.IsHardwareAccelerated ? o & ~7 : 0;
        Span<float> r = stackalloc float[12];
        Span<float> lanes = stackalloc float[9 * 8];   // [9 taps][8 filters]
        ref float l0 = ref MemoryMarshal.GetReference(lanes);
        for (int ci = 0; ci < c; ci++)
        {
            for (int oi = 0; oi < o8; oi += 8)
            {
                ref float mc = ref Mem.Add(ref m, (nint)ci * o + oi);
                var (a0, a1, a2) = Column(ref mc, plane, 0);
                var (b0, b1, b2) = Column(ref mc, plane, 1);
                var (c0, c1, c2) = Column(ref mc, plane, 2);
                var (d0, d1, d2) = Column(ref mc, plane, 3);
                Row(a0, b0, c0, d0, ref l0);
                Row(a1, b1, c1, d1, ref Mem.Add(ref l0, 24));
                Row(a2, b2, c2, d2, ref Mem.Add(ref l0, 48));
                for (int j = 0; j < 8; j++)
                {
                    ref float d = ref Mem.Add(ref dw, ((nint)(oi + j) * c + ci) * 9);
                    for (int k = 0; k < 9; k++) Mem.Add(ref d, k) += Mem.Add(ref l0, 8 * k + j);
                }
            }
            for (int oi = o8; oi < o; oi++)
            {
                ref float mc = ref Mem.Add(ref m, (nint)ci * o + oi);
                for (int b = 0; b < 4; b++)
                {
                    // Gᵀ·M, column b: (m0 + ½(m1 + m2), ½(m1 − m2), ½(m1 + m2) + m3)
                    float m0 = Mem.Add(ref mc, b * plane), m1 = Mem.Add(ref mc, (4 + b) * plane), m2 = Mem.Add(ref mc, (8 + b) * plane), m3 = Mem.Add(ref mc, (12 + b) * plane);
                    float s = 0.5f * (m1 + m2);
                    r[b] = m0 + s; r[4 + b] = 0.5f * (m1 - m2); r[8 + b] = s + m3;
                }
                ref float d = ref Mem.Add(ref dw, ((nint)oi * c + ci) * 9);
                for (int u = 0; u < 3; u++)
                {
                    // (Gᵀ·M)·G, row u: (r0 + ½(r1 + r2), ½(r1 − r2), ½(r1 + r2) + r3)
                    float r0 = r[4 * u], r1 = r[4 * u + 1], r2 = r[4 * u + 2], r3 = r[4 * u + 3];
                    float s = 0.5f * (r1 + r2);
                    Mem.Add(ref d, 3 * u) += r0 + s;
                    Mem.Add(ref d, 3 * u + 1) += 0.5f * (r1 - r2);
                    Mem.Add(ref d, 3 * u + 2) += s + r3;
                }
            }
        }
    }

    /// <summary>Gᵀ·M, column b, of eight neighbouring filters: (m0 + ½(m1 + m2), ½(m1 − m2), ½(m1 + m2) + m3).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<float>, Vector256<float>, Vector256<float>) Column(ref float mc, nint plane, int b)
    {
        var half = Vector256.Create(0.5f);
        Vector256<float> m1 = Mem.Load256(ref Mem.Add(ref mc, (4 + b) * plane)), m2 = Mem.Load256(ref Mem.Add(ref mc, (8 + b) * plane));
        var s = half * (m1 + m2);
        return (Mem.Load256(ref Mem.Add(ref mc, b * plane)) + s, half * (m1 - m2), s + Mem.Load256(ref Mem.Add(ref mc, (12 + b) * plane)));
    }

    /// <summary>(Gᵀ·M)·G, one row of eight filters: (r0 + ½(r1 + r2), ½(r1 − r2), ½(r1 + r2) + r3), the three taps 8 floats apart.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row(Vector256<float> r0, Vector256<float> r1, Vector256<float> r2, Vector256<float> r3, ref float taps)
    {
        var s = Vector256.Create(0.5f) * (r1 + r2);
        (r0 + s).StoreAt(ref taps);
        (Vector256.Create(0.5f) * (r1 - r2)).StoreAt(ref Mem.Add(ref taps, 8));
        (s + r3).StoreAt(ref Mem.Add(ref taps, 16));
    }

    // Rows of 8 tiles or fewer fill a 256-bit vector: 512-bit transforms would leave half their lanes idle.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static SimdWidth Lanes(SimdWidth width, int tw) => width == SimdWidth.V512 && tw % 16 is > 0 and <= 8 ? SimdWidth.V256 : width;

    // A short row (an image row of a few vectors): a call to memmove would cost more than the copy.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyRow(ref float src, ref float dst, int n)
    {
        int k = 0;
        if (Vector256.IsHardwareAccelerated)
            for (; k + 8 <= n; k += 8) Mem.Load256(ref src, (nuint)k).StoreAt(ref dst, (nuint)k);
        for (; k < n; k++) Mem.Add(ref dst, k) = Mem.Add(ref src, k);
    }

    // ── the even/odd split of a padded row ────────────────────────────────────────────────────────────────────────

    // Index vectors are built from constants, not read from static arrays: a kernel compiled before its class is
    // initialised (AggressiveOptimization compiles at the first call) would load the array, through a class-init check,
    // at every use.

    /// <summary><c>even[k] = row[2k]</c>, <c>odd[k] = row[2k + 1]</c> for k &lt; half (a multiple of 16).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Deinterleave(ref float row, int half, ref float even, ref float odd, SimdWidth width)
    {
        if (width == SimdWidth.V512)
        {
            var ie = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            var io = ie + Vector512<int>.One;
            for (int k = 0; k < half; k += 16)
            {
                var a = Mem.Load512(ref row, (nuint)(2 * k));
                var b = Mem.Load512(ref row, (nuint)(2 * k + 16));
                Avx512F.PermuteVar16x32x2(a, ie, b).StoreAt(ref even, (nuint)k);
                Avx512F.PermuteVar16x32x2(a, io, b).StoreAt(ref odd, (nuint)k);
            }
        }
        else if (width == SimdWidth.V256)
            for (int k = 0; k < half; k += 8)
            {
                var a = Mem.Load256(ref row, (nuint)(2 * k));
                var b = Mem.Load256(ref row, (nuint)(2 * k + 8));
                // [a0 a2 b0 b2 | a4 a6 b4 b6], then the 64-bit pairs in order: [a0 a2 a4 a6 b0 b2 b4 b6]
                Avx2.Permute4x64(Avx.Shuffle(a, b, 0b10_00_10_00).AsDouble(), 0b11_01_10_00).AsSingle().StoreAt(ref even, (nuint)k);
                Avx2.Permute4x64(Avx.Shuffle(a, b, 0b11_01_11_01).AsDouble(), 0b11_01_10_00).AsSingle().StoreAt(ref odd, (nuint)k);
            }
        else
            for (int k = 0; k < half; k++)
            {
                Mem.Add(ref even, k) = Mem.Add(ref row, 2 * k);
                Mem.Add(ref odd, k) = Mem.Add(ref row, 2 * k + 1);
            }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> L512(ref float m, nint at) => Mem.Load512(ref Mem.Add(ref m, at));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> L256(ref float m, nint at) => Mem.Load256(ref Mem.Add(ref m, at));

    // ── input transform of a vector of tiles: row r of d is (E[r][tj], O[r][tj], E[r][tj+1], O[r][tj+1]) ─────────────

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row512(ref float e, ref float o, out Vector512<float> p0, out Vector512<float> p1, out Vector512<float> p2, out Vector512<float> p3)
    {
        var d0 = Mem.Load512(ref e); var d1 = Mem.Load512(ref o);
        var d2 = Mem.Load512(ref e, 1); var d3 = Mem.Load512(ref o, 1);
        p0 = d0 - d2; p1 = d1 + d2; p2 = d2 - d1; p3 = d1 - d3;   // (d·B)[r, ·]
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Input512(ref float e, ref float o, int half, ref float v, nint plane)
    {
        Row512(ref e, ref o, out var a0, out var a1, out var a2, out var a3);
        Row512(ref Mem.Add(ref e, half), ref Mem.Add(ref o, half), out var b0, out var b1, out var b2, out var b3);
        Row512(ref Mem.Add(ref e, 2 * half), ref Mem.Add(ref o, 2 * half), out var c0, out var c1, out var c2, out var c3);
        Row512(ref Mem.Add(ref e, 3 * half), ref Mem.Add(ref o, 3 * half), out var d0, out var d1, out var d2, out var d3);
        // Bᵀ·(d·B): rows r0 − r2, r1 + r2, r2 − r1, r1 − r3
        (a0 - c0).StoreAt(ref v); (a1 - c1).StoreAt(ref Mem.Add(ref v, plane)); (a2 - c2).StoreAt(ref Mem.Add(ref v, 2 * plane)); (a3 - c3).StoreAt(ref Mem.Add(ref v, 3 * plane));
        (b0 + c0).StoreAt(ref Mem.Add(ref v, 4 * plane)); (b1 + c1).StoreAt(ref Mem.Add(ref v, 5 * plane)); (b2 + c2).StoreAt(ref Mem.Add(ref v, 6 * plane)); (b3 + c3).StoreAt(ref Mem.Add(ref v, 7 * plane));
        (c0 - b0).StoreAt(ref Mem.Add(ref v, 8 * plane)); (c1 - b1).StoreAt(ref Mem.Add(ref v, 9 * plane)); (c2 - b2).StoreAt(ref Mem.Add(ref v, 10 * plane)); (c3 - b3).StoreAt(ref Mem.Add(ref v, 11 * plane));
        (b0 - d0).StoreAt(ref Mem.Add(ref v, 12 * plane)); (b1 - d1).StoreAt(ref Mem.Add(ref v, 13 * plane)); (b2 - d2).StoreAt(ref Mem.Add(ref v, 14 * plane)); (b3 - d3).StoreAt(ref Mem.Add(ref v, 15 * plane));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row256(ref float e, ref float o, out Vector256<float> p0, out Vector256<float> p1, out Vector256<float> p2, out Vector256<float> p3)
    {
        var d0 = Mem.Load256(ref e); var d1 = Mem.Load256(ref o);
        var d2 = Mem.Load256(ref e, 1); var d3 = Mem.Load256(ref o, 1);
        p0 = d0 - d2; p1 = d1 + d2; p2 = d2 - d1; p3 = d1 - d3;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Input256(ref float e, ref float o, int half, ref float v, nint plane)
    {
        Row256(ref e, ref o, out var a0, out var a1, out var a2, out var a3);
        Row256(ref Mem.Add(ref e, half), ref Mem.Add(ref o, half), out var b0, out var b1, out var b2, out var b3);
        Row256(ref Mem.Add(ref e, 2 * half), ref Mem.Add(ref o, 2 * half), out var c0, out var c1, out var c2, out var c3);
        (a0 - c0).StoreAt(ref v); (a1 - c1).StoreAt(ref Mem.Add(ref v, plane)); (a2 - c2).StoreAt(ref Mem.Add(ref v, 2 * plane)); (a3 - c3).StoreAt(ref Mem.Add(ref v, 3 * plane));
        (b0 + c0).StoreAt(ref Mem.Add(ref v, 4 * plane)); (b1 + c1).StoreAt(ref Mem.Add(ref v, 5 * plane)); (b2 + c2).StoreAt(ref Mem.Add(ref v, 6 * plane)); (b3 + c3).StoreAt(ref Mem.Add(ref v, 7 * plane));
        (c0 - b0).StoreAt(ref Mem.Add(ref v, 8 * plane)); (c1 - b1).StoreAt(ref Mem.Add(ref v, 9 * plane)); (c2 - b2).StoreAt(ref Mem.Add(ref v, 10 * plane)); (c3 - b3).StoreAt(ref Mem.Add(ref v, 11 * plane));
        Row256(ref Mem.Add(ref e, 3 * half), ref Mem.Add(ref o, 3 * half), out var d0, out var d1, out var d2, out var d3);
        (b0 - d0).StoreAt(ref Mem.Add(ref v, 12 * plane)); (b1 - d1).StoreAt(ref Mem.Add(ref v, 13 * plane)); (b2 - d2).StoreAt(ref Mem.Add(ref v, 14 * plane)); (b3 - d3).StoreAt(ref Mem.Add(ref v, 15 * plane));
    }

    private static void Row1(ref float e, ref float o, out float p0, out float p1, out float p2, out float p3)
    {
        float d0 = e, d1 = o, d2 = Mem.Add(ref e, 1), d3 = Mem.Add(ref o, 1);
        p0 = d0 - d2; p1 = d1 + d2; p2 = d2 - d1; p3 = d1 - d3;
    }

    private static void Input1(ref float e, ref float o, int half, ref float v, nint plane)
    {
        Row1(ref e, ref o, out var a0, out var a1, out var a2, out var a3);
        Row1(ref Mem.Add(ref e, half), ref Mem.Add(ref o, half), out var b0, out var b1, out var b2, out var b3);
        Row1(ref Mem.Add(ref e, 2 * half), ref Mem.Add(ref o, 2 * half), out var c0, out var c1, out var c2, out var c3);
        Row1(ref Mem.Add(ref e, 3 * half), ref Mem.Add(ref o, 3 * half), out var d0, out var d1, out var d2, out var d3);
        v = a0 - c0; Mem.Add(ref v, plane) = a1 - c1; Mem.Add(ref v, 2 * plane) = a2 - c2; Mem.Add(ref v, 3 * plane) = a3 - c3;
        Mem.Add(ref v, 4 * plane) = b0 + c0; Mem.Add(ref v, 5 * plane) = b1 + c1; Mem.Add(ref v, 6 * plane) = b2 + c2; Mem.Add(ref v, 7 * plane) = b3 + c3;
        Mem.Add(ref v, 8 * plane) = c0 - b0; Mem.Add(ref v, 9 * plane) = c1 - b1; Mem.Add(ref v, 10 * plane) = c2 - b2; Mem.Add(ref v, 11 * plane) = c3 - b3;
        Mem.Add(ref v, 12 * plane) = b0 - d0; Mem.Add(ref v, 13 * plane) = b1 - d1; Mem.Add(ref v, 14 * plane) = b2 - d2; Mem.Add(ref v, 15 * plane) = b3 - d3;
    }

    // ── output transform of a vector of tiles: (q0, q1) = Aᵀ·M, then z[a, ·] = q_a·A after the epilogue; stored as the
    //    two output rows (their columns interleaved) or pooled, one pixel per tile ──

    /// <summary>The four outputs of a vector of tiles after the epilogue: <c>z_ab = epi((Aᵀ·M·A)[a, b])</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile512(ref float m, nint plane, float bias, Epilogue epi, float alpha,
        out Vector512<float> z00, out Vector512<float> z01, out Vector512<float> z10, out Vector512<float> z11)
    {
        // Aᵀ·M, per column b of the 4×4: q0 = m[0,b] + m[1,b] + m[2,b], q1 = m[1,b] − m[2,b] − m[3,b]
        var m4 = L512(ref m, 4 * plane); var m5 = L512(ref m, 5 * plane); var m6 = L512(ref m, 6 * plane); var m7 = L512(ref m, 7 * plane);
        var m8 = L512(ref m, 8 * plane); var m9 = L512(ref m, 9 * plane); var m10 = L512(ref m, 10 * plane); var m11 = L512(ref m, 11 * plane);
        var q00 = L512(ref m, 0) + m4 + m8; var q01 = L512(ref m, plane) + m5 + m9; var q02 = L512(ref m, 2 * plane) + m6 + m10; var q03 = L512(ref m, 3 * plane) + m7 + m11;
        var q10 = m4 - m8 - L512(ref m, 12 * plane); var q11 = m5 - m9 - L512(ref m, 13 * plane); var q12 = m6 - m10 - L512(ref m, 14 * plane); var q13 = m7 - m11 - L512(ref m, 15 * plane);
        // ·A: z[a,0] = q_a0 + q_a1 + q_a2, z[a,1] = q_a1 − q_a2 − q_a3
        z00 = Epilogues.Of(q00 + q01 + q02, bias, epi, alpha); z01 = Epilogues.Of(q01 - q02 - q03, bias, epi, alpha);
        z10 = Epilogues.Of(q10 + q11 + q12, bias, epi, alpha); z11 = Epilogues.Of(q11 - q12 - q13, bias, epi, alpha);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile256(ref float m, nint plane, float bias, Epilogue epi, float alpha,
        out Vector256<float> z00, out Vector256<float> z01, out Vector256<float> z10, out Vector256<float> z11)
    {
        var m4 = L256(ref m, 4 * plane); var m5 = L256(ref m, 5 * plane); var m6 = L256(ref m, 6 * plane); var m7 = L256(ref m, 7 * plane);
        var m8 = L256(ref m, 8 * plane); var m9 = L256(ref m, 9 * plane); var m10 = L256(ref m, 10 * plane); var m11 = L256(ref m, 11 * plane);
        var q00 = L256(ref m, 0) + m4 + m8; var q01 = L256(ref m, plane) + m5 + m9; var q02 = L256(ref m, 2 * plane) + m6 + m10; var q03 = L256(ref m, 3 * plane) + m7 + m11;
        var q10 = m4 - m8 - L256(ref m, 12 * plane); var q11 = m5 - m9 - L256(ref m, 13 * plane); var q12 = m6 - m10 - L256(ref m, 14 * plane); var q13 = m7 - m11 - L256(ref m, 15 * plane);
        z00 = Epilogues.Of(q00 + q01 + q02, bias, epi, alpha); z01 = Epilogues.Of(q01 - q02 - q03, bias, epi, alpha);
        z10 = Epilogues.Of(q10 + q11 + q12, bias, epi, alpha); z11 = Epilogues.Of(q11 - q12 - q13, bias, epi, alpha);
    }

    private static void Tile1(ref float m, nint plane, float bias, Epilogue epi, float alpha, out float z00, out float z01, out float z10, out float z11)
    {
        float m4 = Mem.Add(ref m, 4 * plane), m5 = Mem.Add(ref m, 5 * plane), m6 = Mem.Add(ref m, 6 * plane), m7 = Mem.Add(ref m, 7 * plane);
        float m8 = Mem.Add(ref m, 8 * plane), m9 = Mem.Add(ref m, 9 * plane), m10 = Mem.Add(ref m, 10 * plane), m11 = Mem.Add(ref m, 11 * plane);
        float q00 = m + m4 + m8, q01 = Mem.Add(ref m, plane) + m5 + m9, q02 = Mem.Add(ref m, 2 * plane) + m6 + m10, q03 = Mem.Add(ref m, 3 * plane) + m7 + m11;
        float q10 = m4 - m8 - Mem.Add(ref m, 12 * plane), q11 = m5 - m9 - Mem.Add(ref m, 13 * plane), q12 = m6 - m10 - Mem.Add(ref m, 14 * plane), q13 = m7 - m11 - Mem.Add(ref m, 15 * plane);
        z00 = Epilogues.Of(q00 + q01 + q02, bias, epi, alpha); z01 = Epilogues.Of(q01 - q02 - q03, bias, epi, alpha);
        z10 = Epilogues.Of(q10 + q11 + q12, bias, epi, alpha); z11 = Epilogues.Of(q11 - q12 - q13, bias, epi, alpha);
    }

    /// <summary>A vector of tiles into output rows 2ti and 2ti + 1, each tile's two columns interleaved.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Output512(ref float m, nint plane, ref float y0, ref float y1, float bias, Epilogue epi, float alpha)
    {
        Tile512(ref m, plane, bias, epi, alpha, out var z00, out var z01, out var z10, out var z11);
        var lo = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        var hi = lo + Vector512.Create(8);
        Avx512F.PermuteVar16x32x2(z00, lo, z01).StoreAt(ref y0); Avx512F.PermuteVar16x32x2(z00, hi, z01).StoreAt(ref y0, 16);
        Avx512F.PermuteVar16x32x2(z10, lo, z11).StoreAt(ref y1); Avx512F.PermuteVar16x32x2(z10, hi, z11).StoreAt(ref y1, 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Output256(ref float m, nint plane, ref float y0, ref float y1, float bias, Epilogue epi, float alpha)
    {
        Tile256(ref m, plane, bias, epi, alpha, out var z00, out var z01, out var z10, out var z11);
        Interleave(z00, z01, ref y0);
        Interleave(z10, z11, ref y1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Interleave(Vector256<float> a, Vector256<float> b, ref float dst)
    {
        var l = Avx.UnpackLow(a, b);    // [a0 b0 a1 b1 | a4 b4 a5 b5]
        var h = Avx.UnpackHigh(a, b);   // [a2 b2 a3 b3 | a6 b6 a7 b7]
        Avx.Permute2x128(l, h, 0x20).StoreAt(ref dst);
        Avx.Permute2x128(l, h, 0x31).StoreAt(ref dst, 8);
    }

    private static void Output1(ref float m, nint plane, ref float y0, ref float y1, float bias, Epilogue epi, float alpha)
    {
        Tile1(ref m, plane, bias, epi, alpha, out y0, out Mem.Add(ref y0, 1), out y1, out Mem.Add(ref y1, 1));
    }

    /// <summary>A vector of tiles pooled: the maximum of each tile's four pixels, or their mean added in
    /// <c>Pool.Average</c>'s order (from +0, row by row) — one pooled pixel per lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OutputPool512(ref float m, nint plane, ref float y, float bias, Epilogue epi, float alpha, bool average)
    {
        Tile512(ref m, plane, bias, epi, alpha, out var z00, out var z01, out var z10, out var z11);
        (average ? (Vector512<float>.Zero + z00 + z01 + z10 + z11) * 0.25f : Vector512.Max(Vector512.Max(z00, z01), Vector512.Max(z10, z11))).StoreAt(ref y);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OutputPool256(ref float m, nint plane, ref float y, float bias, Epilogue epi, float alpha, bool average)
    {
        Tile256(ref m, plane, bias, epi, alpha, out var z00, out var z01, out var z10, out var z11);
        (average ? (Vector256<float>.Zero + z00 + z01 + z10 + z11) * 0.25f : Vector256.Max(Vector256.Max(z00, z01), Vector256.Max(z10, z11))).StoreAt(ref y);
    }

    private static void OutputPool1(ref float m, nint plane, ref float y, float bias, Epilogue epi, float alpha, bool average)
    {
        Tile1(ref m, plane, bias, epi, alpha, out float z00, out float z01, out float z10, out float z11);
        y = average ? (0f + z00 + z01 + z10 + z11) * 0.25f : MathF.Max(MathF.Max(z00, z01), MathF.Max(z10, z11));
    }
}
