using System.Collections.Generic;

namespace ModelGen.Generator.Emit.CSharp;

/// <summary>
/// Emits the register-blocked micro-kernels a model uses. Each keeps an MR×NV tile of C in vector registers
/// for the whole reduction: per step it loads NV vectors of one B row (reused by every row of the tile) and
/// broadcasts one A value per row (reused by every vector of the row) — MR·NV FMAs for MR + NV loads.
/// The pattern is the BLIS/MLAS micro-kernel; the feature-major layout makes B's rows contiguous batch panels.
/// </summary>
internal static class KernelEmitter
{
    public static void Emit(CodeWriter cw, IEnumerable<string> kernels)
    {
        foreach (var key in kernels)
        {
            var parts = key.Split(':');
            var w = parts[0] == Width.V512.Name ? Width.V512 : Width.V256;
            var access = (AAccess)System.Enum.Parse(typeof(AAccess), parts[4]);
            EmitTile(cw, w, int.Parse(parts[1]), int.Parse(parts[2]), parts[3] == "X", parts[3] == "A", access);
            cw.Line();
        }
    }

    private static void EmitTile(CodeWriter cw, Width w, int mr, int nv, bool indirect, bool indirectA, AAccess access)
    {
        string V = w.Vector, T = $"{V}<float>";
        string bRow = indirect ? "boff[p]" : "p·ldb";
        string aRow = indirectA ? "aoff[r]" : "r·ars";
        string math = indirect
            ? $"C[r, v·cvs + 0..{w.Lanes}) (epi)= Σ_p A[{aRow} + p·aks] · B[{bRow} + v·bvs + 0..{w.Lanes})</c>, r &lt; {mr}, v &lt; {nv}"
            : $"C[r, 0..{nv * w.Lanes}) (epi)= Σ_p A[{aRow} + p·aks] · B[{bRow} + 0..{nv * w.Lanes})</c>, r &lt; {mr}";
        cw.Line($"/// <summary>{mr}×{nv * w.Lanes} tile, {w.Name}: <c>{math}; {mr * nv} accumulators."
            + (indirect ? $" B's rows come from an offset table (shifted rows of a padded image); the tile's vectors lie side by side (bvs = cvs = {w.Lanes}) or one per output row (bvs = the padded row pitch, cvs = the output row width)." : "")
            + (indirectA ? " A's rows come from an offset table (shifted rows of a padded image)." : "")
            + (access == AAccess.Rows ? " For aks = 1: each row's pointer indexed by p (no index register of its own)."
               : access == AAccess.Columns ? " For ars = 1: one pointer, advanced each step, a step's rows side by side." : "") + "</summary>");
        cw.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
        string bParams = indirect ? "ref float b, ref int boff, nint bvs" : "ref float b, nint ldb";
        string cParams = indirect ? "ref float c, nint ldc, nint cvs" : "ref float c, nint ldc";
        bool direct = !indirect && !indirectA;   // only a direct kernel can resume its accumulators from C (K blocks)
        string aParams = indirectA ? "ref float a, ref int aoff, nint aks" : "ref float a, nint ars, nint aks";
        using (cw.Block($"private static void {GemmEmitter.KernelName(w, mr, nv, indirect, indirectA, access)}({aParams}, {bParams}, {cParams}, int k, ref float bias, Epilogue epi, float alpha{(direct ? ", bool resume" : "")})"))
        {
            if (access != AAccess.Columns)
                for (int r = 0; r < mr; r++)
                    cw.Line(indirectA ? $"ref float a{r} = ref MG.Mem.Add(ref a, (nint)MG.Mem.Add(ref aoff, {r}));"
                        : r == 0 ? "ref float a0 = ref a;" : $"ref float a{r} = ref MG.Mem.Add(ref a, {(r == 1 ? "ars" : r + " * ars")});");
            var accs = new List<string>();
            for (int r = 0; r < mr; r++)
                for (int v = 0; v < nv; v++) accs.Add($"c{r}_{v} = default");
            cw.Line($"{T} {string.Join(", ", accs)};");
            if (direct)
                using (cw.Block("if (resume)   // a later K block: continue the FMA chains from C"))
                    for (int r = 0; r < mr; r++)
                        for (int v = 0; v < nv; v++)
                        {
                            string row = r == 0 ? "" : r == 1 ? "ldc" : r + " * ldc";
                            string off = row.Length == 0 ? (v == 0 ? "" : (v * w.Lanes).ToString()) : v == 0 ? row : $"{row} + {v * w.Lanes}";
                            cw.Line($"c{r}_{v} = MG.Mem.Load{w.Lanes * 32}({(off.Length == 0 ? "ref c" : $"ref MG.Mem.Add(ref c, {off})")});");
                        }
            // The loop's live general registers: Rows keeps mr row pointers + p, kk, b, ldb (10 at mr = 6, 12 at mr = 8: inside the 14 the
            // JIT can use); Columns one pointer, advanced; Strided mr pointers + an index of their own.
            string index = access == AAccess.Rows ? "p" : "ai";
            // A direct B advances its own reference (no index register), only while a next row exists (a reference past
            // B's last row is out of bounds in the checked build); the reduction length is a local (k is a stack
            // argument: compared in place it is reloaded and sign-extended every step).
            cw.Line(access == AAccess.Strided ? "nint kk = k, ai = 0;" : "nint kk = k;");
            var advance = new List<string>();
            if (access == AAccess.Strided) advance.Add("ai += aks");
            if (access == AAccess.Columns) advance.Add("a = ref MG.Mem.Add(ref a, aks)");
            if (!indirect) advance.Add("b = ref MG.Mem.Add(ref b, ldb)");
            using (cw.Block("if (kk > 0)"))
            using (cw.Block($"for (nint p = 0; ; {string.Join(", ", advance)})"))
            {
                if (indirect) cw.Line("nint bi = MG.Mem.Add(ref boff, p);");
                for (int v = 0; v < nv; v++)
                    cw.Line(!indirect ? (v == 0 ? $"var b0 = MG.Mem.Load{w.Lanes * 32}(ref b);" : $"var b{v} = MG.Mem.Load{w.Lanes * 32}(ref b, {v * w.Lanes});")
                        : v == 0 ? $"var b0 = MG.Mem.Load{w.Lanes * 32}(ref b, (nuint)bi);"
                        : $"var b{v} = MG.Mem.Load{w.Lanes * 32}(ref b, (nuint)(bi + {(v == 1 ? "bvs" : v + " * bvs")}));");
                for (int r = 0; r < mr; r++)
                {
                    string av = access == AAccess.Columns ? (r == 0 ? "a" : $"MG.Mem.Add(ref a, {r})") : $"MG.Mem.Add(ref a{r}, {index})";
                    cw.Line($"{(r == 0 ? "var " : "")}s = {V}.Create({av});");
                    for (int v = 0; v < nv; v++)
                        cw.Line($"c{r}_{v} = {V}.FusedMultiplyAdd(s, b{v}, c{r}_{v});");
                }
                cw.Line("if (++p == kk) break;");
            }
            string Dst(int r, int v)
            {
                string col = v == 0 ? "" : indirect ? (v == 1 ? "cvs" : v + " * cvs") : (v * w.Lanes).ToString();
                return r == 0 && v == 0 ? "ref c" : $"ref MG.Mem.Add(ref c, {(r == 0 ? "" : (r == 1 ? "ldc" : r + " * ldc"))}{(r > 0 && v > 0 ? " + " : "")}{col})";
            }
            // The epilogue kind is tested once per tile: each case applies a constant kind, which the JIT folds into
            // straight-line stores. Through Epilogues.Apply with the kind as a variable it tested the kind again for
            // every vector (two to four compares and branches each): a 6×64 tile over a short reduction — a Winograd
            // product over 32 channels, 32 steps — spent a sixth of its time there (W2 batch 64: 18.8 → 14.2 ms).
            void Stores(string epi, bool bias)
            {
                for (int r = 0; r < mr; r++)
                {
                    if (bias) cw.Line($"float bias{r} = MG.Epilogues.BiasOf(ref bias, {r}, {epi});");
                    for (int v = 0; v < nv; v++)
                        cw.Line($"MG.Epilogues.Apply(c{r}_{v}, {Dst(r, v)}, {(bias ? "bias" + r : "0f")}, {epi}, alpha);");
                }
            }
            using (cw.Block("switch (epi)"))
            {
                foreach (var (kind, bias) in new[] { ("Store", false), ("Accumulate", false), ("Bias", true), ("BiasRelu", true) })
                {
                    using (cw.Block($"case Epilogue.{kind}:"))
                    {
                        Stores("Epilogue." + kind, bias);
                        cw.Line("return;");
                    }
                }
                using (cw.Block("default:   // BiasLeakyRelu"))
                {
                    Stores("epi", true);
                    cw.Line("return;");
                }
            }
        }
    }
}
