using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using ModelGen.Training;

namespace ModelGen.Kernels;

/// <summary>
/// The embedding lookup. Token ids arrive as the network input panel <c>[T, ld]</c> (step t, sample s at
/// <c>t·ld + s</c>, whole numbers held in floats, checked by <see cref="FindInvalid"/> before any work); the output is the
/// sequence panel <c>[D, T·ld]</c> the recurrent layers read (row d, column <c>t·ld + s</c>).
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Embedding
{
    /// <summary>The index of the first element of the row-major <paramref name="input"/> that is not a whole number in
    /// <c>[0, vocabulary)</c>, or −1 when all are.</summary>
    public static int FindInvalid(ReadOnlySpan<float> input, int vocabulary)
    {
        for (int i = 0; i < input.Length; i++)
        {
            float v = input[i];
            if (!(v >= 0f && v < vocabulary) || v != MathF.Floor(v)) return i;
        }
        return -1;
    }

    /// <summary><c>y[d, t·ld + s] = table[id(t, s), d]</c> for the <paramref name="n"/> samples of every step, zeros in the
    /// padding columns. With <paramref name="maskZero"/>, id 0 is padding: its columns of y are zero and
    /// <paramref name="mask"/> <c>[T, ld]</c> gets 1 for a real token, 0 for padding (and for the padding columns).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(ref float ids, int steps, int ld, int n, ref float table, int dim, ref float y, bool maskZero, ref float mask)
    {
        nint row = (nint)steps * ld;
        for (int t = 0; t < steps; t++)
        {
            ref float it = ref Mem.Add(ref ids, (nint)t * ld);
            for (int s = 0; s < ld; s++)
            {
                nint col = (nint)t * ld + s;
                int id = s < n ? (int)Mem.Add(ref it, s) : 0;
                bool real = s < n && (!maskZero || id != 0);
                if (maskZero) Mem.Add(ref mask, col) = real ? 1f : 0f;
                if (real)
                {
                    ref float src = ref Mem.Add(ref table, (nint)id * dim);
                    for (int d = 0; d < dim; d++) Mem.Add(ref y, d * row + col) = Mem.Add(ref src, d);
                }
                else
                    for (int d = 0; d < dim; d++) Mem.Add(ref y, d * row + col) = 0f;
            }
        }
    }

    /// <summary><c>dtable[id(t, s), :] += dy[:, t·ld + s]</c> over the samples of every step, in step-then-sample order
    /// (padding ids skipped with <paramref name="maskZero"/>); the rows touched are recorded in <paramref name="rows"/>
    /// when the table is sparse (null: dense).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(ref float ids, int steps, int ld, int n, ref float dy, int dim, ref float dtable, bool maskZero, SparseRows? rows)
    {
        nint row = (nint)steps * ld;
        for (int t = 0; t < steps; t++)
        {
            ref float it = ref Mem.Add(ref ids, (nint)t * ld);
            for (int s = 0; s < n; s++)
            {
                int id = (int)Mem.Add(ref it, s);
                if (maskZero && id == 0) continue;
                rows?.Mark(id);
                nint col = (nint)t * ld + s;
                ref float dst = ref Mem.Add(ref dtable, (nint)id * dim);
                for (int d = 0; d < dim; d++) Mem.Add(ref dst, d) += Mem.Add(ref dy, d * row + col);
            }
        }
    }

    /// <summary><c>y[d, t·ld + s] = x[d, t·ld + s] + table[t, d]</c> over every column of the sequence panel (a learned
    /// position embedding; y may alias x).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddPositions(ref float x, ref float table, int steps, int dim, int ld, ref float y, SimdWidth width)
    {
        nint row = (nint)steps * ld;
        for (int d = 0; d < dim; d++)
            for (int t = 0; t < steps; t++)
            {
                float p = Mem.Add(ref table, (nint)t * dim + d);
                nint at = d * row + (nint)t * ld;
                int s = 0;
                if (width == SimdWidth.V512)
                    for (var pv = System.Runtime.Intrinsics.Vector512.Create(p); s + 16 <= ld; s += 16)
                        (Mem.Load512(ref Mem.Add(ref x, at + s)) + pv).StoreAt(ref Mem.Add(ref y, at + s));
                else if (width == SimdWidth.V256)
                    for (var pv = System.Runtime.Intrinsics.Vector256.Create(p); s + 8 <= ld; s += 8)
                        (Mem.Load256(ref Mem.Add(ref x, at + s)) + pv).StoreAt(ref Mem.Add(ref y, at + s));
                for (; s < ld; s++) Mem.Add(ref y, at + s) = Mem.Add(ref x, at + s) + p;
            }
    }

    /// <summary><c>dtable[t, d] += Σ_{s &lt; batch} dy[d, t·ld + s]</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PositionsBackward(ref float dy, ref float dtable, int steps, int dim, int ld, int batch)
    {
        nint row = (nint)steps * ld;
        for (int d = 0; d < dim; d++)
            for (int t = 0; t < steps; t++)
            {
                ref float g = ref Mem.Add(ref dy, d * row + (nint)t * ld);
                float sum = 0f;
                for (int s = 0; s < batch; s++) sum += Mem.Add(ref g, s);
                Mem.Add(ref dtable, (nint)t * dim + d) += sum;
            }
    }
}
