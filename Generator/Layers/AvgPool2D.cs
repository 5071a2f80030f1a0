using System.Collections.Generic;
using ModelGen.Generator.Analysis;

namespace ModelGen.Generator.Layers;

/// <summary>Average pooling: <c>y[c,i,j] = mean over the window</c>; the gradient is shared equally.</summary>
internal sealed class AvgPool2D : WindowPool
{
    public static readonly AvgPool2D Instance = new();
    public override string Name => "AvgPool2D";
    protected override string Op => "Average";

    public override IEnumerable<string> Math(LayerPlan l, NetworkPlan p)
    {
        var o = Opt(l);
        yield return $"forward : y[c,i,j] = (1/{o.Size * o.Size}) Σ_(u,v < {o.Size}) x[c, i·{o.Stride}+u, j·{o.Stride}+v]".PadRight(64) + $"x:{l.InShape} y:{l.OutShape}";
        yield return $"backward: dx[c, i·{o.Stride}+u, j·{o.Stride}+v] += dy[c,i,j] / {o.Size * o.Size}";
        yield return $"receptive field: {l.ReceptiveField}";
        if (FusedLine(l, p) is { } fused) yield return fused;
        if (BackwardLine(l, p) is { } backward) yield return backward;
    }
}
