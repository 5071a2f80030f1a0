using System.Collections.Generic;
using ModelGen.Generator.Analysis;

namespace ModelGen.Generator.Layers;

/// <summary>Max pooling: <c>y[c,i,j] = max over the window</c>; the gradient goes to the first maximum (row-major).</summary>
internal sealed class MaxPool2D : WindowPool
{
    public static readonly MaxPool2D Instance = new();
    public override string Name => "MaxPool2D";
    protected override string Op => "Max";

    public override IEnumerable<string> Math(LayerPlan l, NetworkPlan p)
    {
        var o = Opt(l);
        yield return $"forward : y[c,i,j] = max_(u,v < {o.Size}) x[c, i·{o.Stride}+u, j·{o.Stride}+v]".PadRight(64) + $"x:{l.InShape} y:{l.OutShape}";
        yield return "backward: dx[argmax] += dy   (the gradient goes to the maximum only; ties: the first in row-major order)";
        yield return $"receptive field: {l.ReceptiveField}";
        if (FusedLine(l, p) is { } fused) yield return fused;
        if (BackwardLine(l, p) is { } backward) yield return backward;
    }
}
