using System.Collections.Generic;
using System.Linq;
using ModelGen.Generator.Model;

namespace ModelGen.Generator.Analysis;

/// <summary>A buffer of the arena's batch-sized region: the field that holds its offset, its size (the largest of
/// <see cref="Sizes"/> when several tensors share it), and, when it reuses another buffer's memory, that buffer's field.</summary>
internal sealed record Buffer(string Field, EquatableArray<BufferSize> Sizes, string Comment, string AliasOf = "");

/// <summary>A named scratch buffer as one layer sees it.</summary>
internal sealed record ScratchRef(string Name, string Field);

/// <summary>The buffers one layer reads and writes. An empty string means "none" (e.g. no input gradient for a layer
/// that reads the network input).</summary>
internal sealed record LayerBuffers(
    EquatableArray<string> Inputs,
    EquatableArray<string> InputGrads,
    string Output,
    string OutputGrad,
    EquatableArray<ScratchRef> Scratch,
    int FoldInto,        // index of the layer folded into this one for inference, or −1
    int FoldedInto,      // index of the layer this one is folded into, or −1
    int FuseInto,        // index of the layer whose inference output this one's store computes (a pooling), or −1
    int FusedInto,       // index of the layer whose store computes this one's inference output, or −1
    string SampleMajorInput)
{
    public string Input => Inputs[0];
    public string? InputGrad => InputGrads[0].Length == 0 ? null : InputGrads[0];
    public string ScratchField(string name) =>
        Scratch.FirstOrDefault(s => s.Name == name)?.Field ?? throw new KeyNotFoundException("no scratch '" + name + "' was requested");
}

/// <summary>After <see cref="AfterLayer"/>'s backward, <c>grad(Tensor) += Private</c>: the share of a later reader of a
/// tensor read by several layers (a residual connection). <see cref="Tensor"/> −1 is the network input.</summary>
internal sealed record GradientAdd(int AfterLayer, int Tensor, string Private);

/// <summary>The backend-neutral buffer plan: every batch-sized buffer, in allocation order, and each layer's view of them.</summary>
internal sealed record BufferPlan(
    EquatableArray<Buffer> Buffers,
    EquatableArray<LayerBuffers> Layers,
    EquatableArray<GradientAdd> GradientAdds,
    string Input,
    string InputRows,
    string InputGrad)
{
    public static readonly BufferPlan Empty = new(EquatableArray<Buffer>.Empty, EquatableArray<LayerBuffers>.Empty, EquatableArray<GradientAdd>.Empty, "", "", "");

    /// <summary>Fold pairs, producer index → folded layer index.</summary>
    public IEnumerable<(int Producer, int Folded)> Folds =>
        Layers.Select((b, i) => (b, i)).Where(x => x.b.FoldInto >= 0).Select(x => (x.i, x.b.FoldInto));

    /// <summary>Fused pairs, producer index → fused layer index.</summary>
    public IEnumerable<(int Producer, int Fused)> Fusions =>
        Layers.Select((b, i) => (b, i)).Where(x => x.b.FuseInto >= 0).Select(x => (x.i, x.b.FuseInto));
}
