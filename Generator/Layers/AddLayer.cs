using System.Collections.Generic;
using ModelGen.Generator.Analysis;
using ModelGen.Generator.Emit;
using ModelGen.Generator.Emit.CSharp;

namespace ModelGen.Generator.Layers;

/// <summary>Residual add <c>y = x + s</c>. Backward: <c>dx = dy</c> and <c>ds = dy</c>; where a tensor feeds several
/// layers, the generated backward sums the contributions (see <see cref="LayerContext.InputGrad"/>).</summary>
internal static class AddLayer
{
    public static IEnumerable<string> Math(LayerPlan l, string skipName)
    {
        yield return $"forward : y = x + {skipName}".PadRight(64) + $"x,{skipName},y:{LayerPlan.ShapeText(l.OutShape)} per sample";
        yield return $"backward: dx = dy;  d{skipName} += dy   (a tensor used twice sums its gradients)";
    }

    public static void EmitForward(CodeWriter cw, LayerContext c, Width w)
    {
        var l = c.Layer;
        string ext = Geometry.Extent(l, true);
        cw.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
        using (cw.Block($"private void {l.Name}_Forward_{w.Name}(int n, int ld)"))
            cw.Line($"MG.Sum.Add(_arena.Span({c.Input}, {ext}), _arena.Span({c.Skip}, {ext}), _arena.Span({c.Output}, {ext}), {w.Enum});");
    }

    public static void EmitBackward(CodeWriter cw, LayerContext c, Width w)
    {
        var l = c.Layer;
        string ext = Geometry.Extent(l, true);
        cw.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
        using (cw.Block($"private void {l.Name}_Backward_{w.Name}(int batch, int n, int ld)"))
        {
            foreach (var target in new[] { c.InputGrad, c.SkipGrad })
                if (target is not null)
                    cw.Line($"_arena.Span({c.OutputGrad}, {ext}).CopyTo(_arena.Span({target}, {ext}));");
        }
    }
}
