using System;
using System.Collections.Generic;
using System.Linq;
using ModelGen.Generator.Model;

namespace ModelGen.Generator.Analysis;

/// <summary>
/// Computes the <see cref="BufferPlan"/> once, from the layer plans: activation and gradient buffers (named after
/// the layers), scratch (shared scratch sized for its largest user), fold pairs, and gradient routes. A tensor read
/// by one layer gets its gradient stored straight into its gradient buffer; a tensor read by several layers is stored
/// by the reader that runs first in the backward pass (the last in declaration order) and every other reader writes a
/// private buffer that is added in after its backward — so layer code always stores and never knows the graph.
/// Inference-only networks reuse activation memory where lifetimes allow (a layer's output shares memory with an
/// earlier output nobody reads any more).
/// </summary>
internal static class BufferPlanner
{
    public static BufferPlan Plan(NetworkPlan p)
    {
        var layers = p.Layers;
        int count = layers.Count;
        var buffers = new List<Buffer>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        void Add(Buffer b)
        {
            if (!names.Add(b.Field)) throw new InvalidOperationException("buffer field '" + b.Field + "' planned twice");
            buffers.Add(b);
        }

        // Readers of each tensor (−1: the network input).
        var readers = new Dictionary<int, List<(int Consumer, int Slot)>>();
        foreach (var l in layers)
            for (int s = 0; s < l.Inputs.Count; s++)
            {
                if (!readers.TryGetValue(l.Inputs[s], out var list)) readers[l.Inputs[s]] = list = new();
                list.Add((l.Index, s));
            }

        // Fold pairs: a layer whose only reader can fold into it.
        var foldInto = Enumerable.Repeat(-1, count).ToArray();
        var foldedInto = Enumerable.Repeat(-1, count).ToArray();
        foreach (var l in layers)
            if (readers.TryGetValue(l.Index, out var r) && r.Count == 1 && r[0].Slot == 0 && layers[r[0].Consumer].Kind.FoldsInto(l, layers[r[0].Consumer]))
            {
                foldInto[l.Index] = r[0].Consumer;
                foldedInto[r[0].Consumer] = l.Index;
            }
        // Fused pairs: a layer that alone reads a tensor whose writer can compute it in inference too (a pooling after a
        // convolution, or after a BatchNorm folded into one): fuseInto[writer] = that layer. A fold's input is not
        // stored in inference, so nothing fuses into it.
        var fuseInto = Enumerable.Repeat(-1, count).ToArray();
        var fusedInto = Enumerable.Repeat(-1, count).ToArray();
        foreach (var l in layers)
        {
            var store = foldedInto[l.Index] >= 0 ? layers[foldedInto[l.Index]] : l;   // whose code writes l's inference output
            if (foldInto[l.Index] < 0 && readers.TryGetValue(l.Index, out var r) && r.Count == 1 && r[0].Slot == 0
                && layers[r[0].Consumer].Kind.FusesInto(store, l, layers[r[0].Consumer]))
            {
                fuseInto[store.Index] = r[0].Consumer;
                fusedInto[r[0].Consumer] = store.Index;
            }
        }

        string input = "_input";
        Add(new Buffer(input, One(InputSize(p)), "the network input " + p.InputShape + (p.ImageInput ? ", [batch][C][ldP]" : ", panel [features, ld]")));
        string inputRows = "";
        if (p.Trainable && !p.ImageInput && !p.InputShape.IsSequence)
        {
            inputRows = "_inputRows";
            Add(new Buffer(inputRows, One(new BufferSize(0, p.InputSize, 0)), "the input as given, [batch, " + p.InputSize + "], for the first layer's weight gradient"));
        }

        // Activations, with reuse in inference-only networks.
        var outputs = new string[count];
        var grads = new string[count];
        var alias = AliasSlots(p, readers, foldedInto, fusedInto);
        foreach (var l in layers)
        {
            outputs[l.Index] = "_" + Camel(l.Name) + "Out";
            var size = OutputSize(l);
            if (alias[l.Index] >= 0)
                Add(new Buffer(outputs[l.Index], One(size), $"{l.Name} {l.OutShape}, reusing {layers[alias[l.Index]].Name}'s memory", outputs[alias[l.Index]]));
            else
            {
                var sizes = layers.Where(o => alias[o.Index] == l.Index).Select(OutputSize).Prepend(size).Distinct().ToArray();
                Add(new Buffer(outputs[l.Index], EquatableArray.From(sizes), $"{l.Name} {l.OutShape}"));
            }
            if (p.Trainable)
            {
                grads[l.Index] = "_" + Camel(l.Name) + "Grad";
                Add(new Buffer(grads[l.Index], One(size), $"d loss / d {l.Name}"));
            }
        }

        // Scratch: per-layer buffers named after the layer, shared ones sized for the largest request.
        var scratch = new List<ScratchRef>[count];
        var shared = new Dictionary<string, (List<BufferSize> Sizes, string Comment)>(StringComparer.Ordinal);
        var sharedOrder = new List<string>();
        foreach (var l in layers)
        {
            scratch[l.Index] = new List<ScratchRef>();
            var requests = fuseInto[l.Index] >= 0 ? l.Kind.Scratch(l, p).Concat(l.Kind.FusedScratch(l, layers[fuseInto[l.Index]])) : l.Kind.Scratch(l, p);
            foreach (var req in requests)
            {
                if (req.TrainingOnly && !p.Trainable) continue;
                if (req.Scope == ScratchScope.PerLayer)
                {
                    string field = "_" + Camel(l.Name) + Pascal(req.Name);
                    Add(new Buffer(field, One(req.Size), $"{l.Name}: {req.Comment}"));
                    scratch[l.Index].Add(new ScratchRef(req.Name, field));
                }
                else
                {
                    string field = "_" + req.Name;
                    if (!shared.TryGetValue(field, out var s)) { shared[field] = s = (new List<BufferSize>(), req.Comment); sharedOrder.Add(field); }
                    s.Sizes.Add(req.Size);
                    scratch[l.Index].Add(new ScratchRef(req.Name, field));
                }
            }
            if (foldInto[l.Index] >= 0)
            {
                string field = "_" + Camel(l.Name) + "Folded";
                var folded = layers[foldInto[l.Index]];
                long len = l.Tensors.Sum(t => (long)t.Length) + l.Kind.FoldedExtra(l);
                Add(new Buffer(field, One(BufferSize.Floats(len)), $"{l.Name}'s weight and bias with {folded.Name} folded in (inference)"));
                scratch[l.Index].Add(new ScratchRef("folded", field));
            }
        }
        foreach (var field in sharedOrder)
        {
            var (sizes, comment) = shared[field];
            Add(new Buffer(field, EquatableArray.From(Max(sizes)), "shared scratch: " + comment));
        }

        // Gradient routes. The network input (−1) has one too: d loss / d input, computed when the caller asks.
        var inputGrads = new string[count][];
        foreach (var l in layers) inputGrads[l.Index] = Enumerable.Repeat("", l.Inputs.Count).ToArray();
        var adds = new List<GradientAdd>();
        string inputGrad = "";
        if (p.Trainable)
        {
            inputGrad = "_inputGrad";
            Add(new Buffer(inputGrad, One(InputSize(p)), "d loss / d input (when Backward is asked for it), laid out as the input"));
        }
        string GradOf(int tensor) => tensor < 0 ? inputGrad : grads[tensor];
        string NameOf(int tensor) => tensor < 0 ? "input" : layers[tensor].Name;
        BufferSize SizeOf(int tensor) => tensor < 0 ? InputSize(p) : OutputSize(layers[tensor]);
        if (p.Trainable)
            foreach (var kv in readers.OrderBy(kv => kv.Key))
            {
                var primary = kv.Value.OrderByDescending(r => r.Consumer).ThenBy(r => r.Slot).First();
                foreach (var r in kv.Value)
                {
                    if (r == primary) { inputGrads[r.Consumer][r.Slot] = GradOf(kv.Key); continue; }
                    string priv = "_" + Camel(layers[r.Consumer].Name) + "Input" + r.Slot + "Grad";
                    Add(new Buffer(priv, One(SizeOf(kv.Key)), $"{layers[r.Consumer].Name}'s share of d loss / d {NameOf(kv.Key)}"));
                    inputGrads[r.Consumer][r.Slot] = priv;
                    adds.Add(new GradientAdd(r.Consumer, kv.Key, priv));
                }
            }

        var views = layers.Select(l => new LayerBuffers(
            EquatableArray.From(l.Inputs.Select(i => i < 0 ? input : outputs[i]).ToArray()),
            EquatableArray.From(inputGrads[l.Index]),
            outputs[l.Index],
            p.Trainable ? grads[l.Index] : "",
            EquatableArray.From(scratch[l.Index].ToArray()),
            foldInto[l.Index], foldedInto[l.Index], fuseInto[l.Index], fusedInto[l.Index],
            l.InputIndex < 0 ? inputRows : "")).ToArray();
        return new BufferPlan(EquatableArray.From(buffers.ToArray()), EquatableArray.From(views), EquatableArray.From(adds.ToArray()), input, inputRows, inputGrad);
    }

    /// <summary>For each layer output, the earlier output whose memory it reuses, or −1. Training keeps every
    /// activation for the backward pass, so only inference-only networks reuse. An output is live from the layer that
    /// writes it (for a folded layer: the producer that writes it) to its last reader; the last output lives on.</summary>
    private static int[] AliasSlots(NetworkPlan p, Dictionary<int, List<(int Consumer, int Slot)>> readers, int[] foldedInto, int[] fusedInto)
    {
        int count = p.Layers.Count;
        var alias = Enumerable.Repeat(-1, count).ToArray();
        if (p.Trainable) return alias;
        // Attention reads the q/k/v columns of every earlier step (the KV cache of incremental decoding): no activation
        // memory is shared in such a network, so each panel keeps its columns from step to step.
        if (p.Layers.Any(l => l.Kind.ReadsEarlierSteps)) return alias;
        var slotEnd = new List<(int Owner, int End)>();
        foreach (var l in p.Layers)
        {
            // a folded or fused layer's output is written by its producer: it lives from the producer on
            int start = foldedInto[l.Index] >= 0 ? foldedInto[l.Index] : fusedInto[l.Index] >= 0 ? fusedInto[l.Index] : l.Index;
            int end = l.Index == count - 1 ? int.MaxValue : readers.TryGetValue(l.Index, out var r) ? r.Max(x => x.Consumer) : l.Index;
            int slot = slotEnd.FindIndex(s => s.End < start);
            if (slot < 0) slotEnd.Add((l.Index, end));
            else
            {
                alias[l.Index] = slotEnd[slot].Owner;
                slotEnd[slot] = (slotEnd[slot].Owner, end);
            }
        }
        return alias;
    }

    private static EquatableArray<BufferSize> One(BufferSize s) => EquatableArray.From(new[] { s });

    private static BufferSize InputSize(NetworkPlan p) =>
        p.ImageInput ? BufferSize.Images(Geometry.ImageStride(p.InputShape[0], p.InputShape[1] * p.InputShape[2])) : BufferSize.Panel(p.InputSize);

    /// <summary>Panels <c>[features, ldMax]</c> for flat outputs, <c>[maxBatch][C][ldP]</c> for images.</summary>
    public static BufferSize OutputSize(LayerPlan l) =>
        l.ImageOut ? BufferSize.Images(Geometry.ImageStride(l.OutShape[0], l.OutPixels)) : BufferSize.Panel(l.Out);

    /// <summary>Sizes of one kind (constant, per panel stride, per sample) reduce to their maximum; mixed kinds stay a list.</summary>
    private static BufferSize[] Max(List<BufferSize> sizes) =>
        sizes.GroupBy(s => (s.Const != 0, s.PerLd != 0, s.PerSample != 0))
             .Select(g => new BufferSize(g.Max(s => s.Const), g.Max(s => s.PerLd), g.Max(s => s.PerSample))).ToArray();

    public static string Camel(string name) => name.Length == 0 ? name : char.ToLowerInvariant(name[0]) + name.Substring(1);
    public static string Pascal(string name) => name.Length == 0 ? name : char.ToUpperInvariant(name[0]) + name.Substring(1);
}
