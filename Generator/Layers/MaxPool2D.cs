using System.Collections.Generic;
using ModelGen.Generator.Analysis;

namespace ModelGen.Generator.Layers;

/// <summary>Max pooling: <c>y[c,i,j] = max over the window</c>; the gradient goes to the first maximum (row-major).</summary>
internal sealed class MaxPool2D : WindowPool
{
    public static readonly MaxPool2D Instance = new();
    public override string Name => "MaxPool2D";
    protected override string Op => "Max";

    /// <summary>A 2×2, stride-2 window after a Winograd convolution whose activation goes into its store is exactly one
    /// F(2×2, 3×3) output tile: the output transform stores the tile's maximum (inference; <c>FusePooling</c>).</summary>
    public override bool FusesInto(LayerPlan producer, LayerPlan self) =>
        producer.Kind is Conv2D && Conv2D.IsWinograd(producer) && Fused.InEpilogue(producer.Activation) && Opt(self).Size == 2 && Opt(self).Stride == 2;

    public override IEnumerable<string> Math(LayerPlan l, NetworkPlan p)
    {
        var o = Opt(l);
        yield return $"forward : y[c,i,j] = max_(u,v < {o.Size}) x[c, i·{o.Stride}+u, j·{o.Stride}+v]".PadRight(64) + $"x:{l.InShape} y:{l.OutShape}";
        yield return "backward: dx[argmax] += dy   (the gradient goes to the maximum only; ties: the first in row-major order)";
        yield return $"receptive field: {l.ReceptiveField}";
        if (p.Buffers.Layers.Count > l.Index && p.Buffers.Layers[l.Index].FusedInto >= 0)
            yield return $"inference: computed by {p.Layers[p.Buffers.Layers[l.Index].FusedInto].Name}'s output transform (FusePooling): it writes this output, not its own";
    }
}
