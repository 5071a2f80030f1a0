using System.Collections.Generic;
using System.Linq;
using ModelGen.Generator.Analysis;

namespace ModelGen.Generator.Emit.CSharp;

/// <summary>
/// Where each layer writes the gradient of each of its inputs. A tensor read by one layer gets its gradient
/// stored straight into its gradient buffer. A tensor read by several layers (a residual connection) is stored by
/// the reader that runs first in the backward pass (the last reader in declaration order); every other reader
/// writes into a private buffer that is then added in. Layer emitters stay unaware of the graph: they always store.
/// </summary>
internal sealed record GradientRoutes(int Tensor, int Consumer, int Slot, string Target, string? Private)
{
    public static List<GradientRoutes> Of(NetworkPlan p)
    {
        var reads = new List<(int Tensor, int Consumer, int Slot)>();
        foreach (var l in p.Layers)
        {
            if (l.InputIndex >= 0) reads.Add((l.InputIndex, l.Index, 0));
            if (l.AddIndex >= 0) reads.Add((l.AddIndex, l.Index, 1));
        }
        var routes = new List<GradientRoutes>();
        foreach (var group in reads.GroupBy(r => r.Tensor))
        {
            var primary = group.OrderByDescending(r => r.Consumer).ThenBy(r => r.Slot).First();
            foreach (var r in group)
            {
                bool isPrimary = r == primary;
                string priv = $"_g{r.Consumer}_{r.Slot}";
                routes.Add(new GradientRoutes(r.Tensor, r.Consumer, r.Slot, isPrimary ? $"_dy{r.Tensor}" : priv, isPrimary ? null : priv));
            }
        }
        return routes;
    }
}
