using System.Collections.Generic;
using ModelGen.Generator.Analysis;
using ModelGen.Generator.Diagnostics;
using ModelGen.Generator.Emit;
using ModelGen.Generator.Emit.CSharp;
using ModelGen.Generator.Model;

namespace ModelGen.Generator.Layers;

/// <summary>Inverted dropout: <c>y = x ⊙ m</c>, <c>m = Bernoulli(1 − p) / (1 − p)</c> in training (mask kept for
/// backward), <c>y = x</c> in inference. The mask comes from the model's seeded dropout generator.</summary>
internal static class DropoutLayer
{
    public static LayerPlan? Infer(LayerSpec s, int index, int[] input, string producer, List<DiagnosticInfo> diags)
    {
        if (input.Length != 1 && input.Length != 3)
        {
            diags.Add(DiagnosticInfo.Create(Descriptors.ShapeMismatch, s.Location, s.Name, "Dropout", "a 1-D or [channels, height, width]", producer, string.Join(",", input)));
            return null;
        }
        int f = 1;
        foreach (int d in input) f *= d;
        var shape = EquatableArray.From(input);
        return new LayerPlan(index, s.Name, s.Accessibility, LayerKind.Dropout, ActivationKind.None, 0f, f, f, 0, 0, 0, 0, f, 1, Rate: s.Rate, InShape: shape, OutShape: shape);
    }

    public static IEnumerable<string> Math(LayerPlan l)
    {
        string keep = LayerTable.Float(1f - l.Rate).TrimEnd('f');
        yield return $"forward : training y = x ⊙ m, m[o,b] = (u < {keep} ? 1/{keep} : 0), u ~ U[0,1) seeded; inference y = x".PadRight(64) + $"x,y,m:[{l.Out},B]";
        yield return "backward: dx = dy ⊙ m";
    }

    public static void EmitForward(CodeWriter cw, LayerContext c, Width w)
    {
        var l = c.Layer;
        cw.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
        using (cw.Block($"private void {l.Name}_Forward_{w.Name}(int n, int ld)"))
        {
            string ext = Geometry.Extent(l, true);
            // Panels: rows = features, columns = the batch. Images: rows = (sample, channel), columns = pixels.
            string rows = l.ImageOut ? $"_batch * {l.OutShape[0]}" : l.Out.ToString();
            string ldr = l.ImageOut ? Geometry.LdP(l.OutPixels).ToString() : "ld";
            string cols = l.ImageOut ? l.OutPixels.ToString() : "_batch";
            using (cw.Block("if (_training)"))
                cw.Line($"MG.Dropout.Forward(_arena.Span({c.Input}, {ext}), _arena.Span({c.Output}, {ext}), _arena.Span(_m{l.Index}, {ext}), {rows}, {ldr}, {cols}, {LayerTable.Float(l.Rate)}, ref _dropoutRng);");
            using (cw.Block("else"))
                cw.Line($"_arena.Span({c.Input}, {ext}).CopyTo(_arena.Span({c.Output}, {ext}));");
        }
    }

    public static void EmitBackward(CodeWriter cw, LayerContext c, Width w)
    {
        var l = c.Layer;
        cw.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
        using (cw.Block($"private void {l.Name}_Backward_{w.Name}(int batch, int n, int ld)"))
        {
            if (c.InputGrad is null) { cw.Line("// first layer: no gradient flows further down"); return; }
            string ext = Geometry.Extent(l, true);
            cw.Line($"MG.Elementwise.Multiply(_arena.Span({c.OutputGrad}, {ext}), _arena.Span(_m{l.Index}, {ext}), _arena.Span({c.InputGrad}, {ext}), {w.Enum});   // dx = dy ⊙ m");
        }
    }
}
