using System.Collections.Generic;
using System.Linq;
using ModelGen.Generator.Analysis;

namespace ModelGen.Generator.Emit.Ptx;

/// <summary>
/// The PTX backend's side of the layer-kind contract, implemented by the same kind classes as
/// <c>ICSharpLayer</c>: each kind adds the kernels of its forward and of its backward, in launch order, with their
/// launches. On the GPU every activation is sample-major <c>[batch, size]</c> (images <c>[batch, C, H, W]</c>, as
/// PyTorch holds them) and parameters are the host's parameter block as it is (PyTorch layouts at the same offsets).
/// Backward kernels <b>add</b> to the input gradients (zeroed before each backward pass), so a tensor read by several
/// layers collects every reader's share without a plan of who writes first.
/// </summary>
internal interface IPtxLayer
{
    void Forward(PtxLayer c);

    /// <summary>Parameter gradients are added; input gradients are added (<see cref="PtxLayer.InputGrad"/> is null when
    /// none flows: the network input without <c>inputGradient</c>, or an inference-only network).</summary>
    void Backward(PtxLayer c);
}

/// <summary>A kind whose output is its input, reinterpreted (Flatten): no kernel, the same device buffer.</summary>
internal interface IPtxAlias { }

/// <summary>What a kind's PTX may refer to: its plan, its device buffers (float offsets in the twin's arena, as C#
/// expressions), and the kernel lists it adds to.</summary>
internal sealed class PtxLayer
{
    public PtxLayer(NetworkPlan network, LayerPlan layer, GpuPlan gpu)
    {
        Network = network; Layer = layer; Gpu = gpu;
    }

    public NetworkPlan Network { get; }
    public LayerPlan Layer { get; }
    public GpuPlan Gpu { get; }
    public List<PtxKernel> ForwardKernels { get; } = new();
    public List<PtxKernel> BackwardKernels { get; } = new();

    public string Input => InputOf(0);
    public string InputOf(int slot) => Gpu.OutputOf(Layer.Inputs[slot]);
    public string Output => Gpu.OutputOf(Layer.Index);
    public string OutputGrad => Gpu.GradOf(Layer.Index);
    /// <summary>Where the main input's gradient is added, or null when none flows.</summary>
    public string? InputGrad => InputGradOf(0);
    public string? InputGradOf(int slot) => Gpu.InputGradFlows(Layer, slot) ? Gpu.GradOf(Layer.Inputs[slot]) : null;
    /// <summary>The C# condition under which the input gradient is wanted (the network input's only when asked for).</summary>
    public bool ReadsNetworkInput(int slot = 0) => Layer.Inputs[slot] < 0;
    /// <summary>The parameter tensor's offset (the model's constant, e.g. <c>Hidden1_Weight</c>).</summary>
    public string Tensor(string local) => Layer.Tensor(local).Const;
    /// <summary>The tensor's gradient offset.</summary>
    public string Gradient(string local) => "GradientBase + " + Layer.Tensor(local).Const;
    /// <summary>The layer's scratch buffer <paramref name="name"/> (declared by <see cref="IPtxScratch"/>).</summary>
    public string Scratch(string name) => Gpu.ScratchOf(Layer.Index, name);

    /// <summary>A kernel name unique in the module: <c>{Layer}_{what}</c>.</summary>
    public string Name(string what) => Layer.Name + "_" + what;

    /// <summary>For a kind with a fused element-wise activation: <c>dz = dy ⊙ act'(y)</c> in place over the output gradient
    /// (<paramref name="count"/> elements, a C# expression over n), as the kernel <c>{Layer}_Dz</c>; nothing without one.</summary>
    public void ActivationGradient(string count, string shape)
    {
        var l = Layer;
        if (l.Activation == Model.ActivationKind.None) return;
        var dz = PtxMath.PerElement(Name("Dz"), count, new[] { "pY", "pDY" }, new[] { Output, OutputGrad }, (k, a, i) =>
        {
            string dya = k.Element(a[1], i);
            k.StoreGlobal(dya, PtxMath.Derivative(k, l.Activation, l.Alpha, k.LoadGlobal(k.Element(a[0], i)), k.LoadGlobal(dya)));
        });
        dz.Banner.Add($"{Layers.Fused.Derivative(l.Activation, l.Alpha)}, in place over dy {shape}");
        BackwardKernels.Add(dz);
    }
}

/// <summary>A kind that needs device scratch, by name: floats per sample plus a fixed number.</summary>
internal interface IPtxScratch
{
    IEnumerable<(string Name, int PerSample, int Fixed)> Scratch(LayerPlan layer);
}

/// <summary>
/// The device arena of a GPU twin: the parameter block and its gradients first (the host's layout, so copies are one
/// memcpy each), then per layer its output and output gradient (<c>[maxBatch, size]</c>), the network input and its
/// gradient, labels or targets, per-sample losses, and scratch. A Flatten shares its input's buffers.
/// </summary>
internal sealed class GpuPlan
{
    private readonly NetworkPlan _p;
    private readonly Dictionary<(int, string), string> _scratch = new();

    public GpuPlan(NetworkPlan p)
    {
        _p = p;
        Buffers.Add(new GpuBuffer("_dInput", p.InputSize, "the network input, [batch, " + p.InputSize + "]"));
        Buffers.Add(new GpuBuffer("_dInputGrad", p.InputSize, "d loss / d input, when asked for"));
        var grads = new List<GpuBuffer>();
        foreach (var l in p.Layers)
        {
            if (l.Kind is IPtxAlias) continue;
            Buffers.Add(new GpuBuffer(Out(l.Index), l.Out, $"{l.Name}'s output, [batch, {l.Out}]"));
            if (p.Trainable) grads.Add(new GpuBuffer(Grad(l.Index), l.Out, $"d loss / d {l.Name}'s output", IsGradient: true));
            if (l.Kind is IPtxScratch s)
                foreach (var (name, perSample, fixedSize) in s.Scratch(l))
                {
                    string f = $"_d{l.Name}_{name}";
                    _scratch[(l.Index, name)] = f;
                    Buffers.Add(new GpuBuffer(f, perSample, $"{l.Name}'s scratch {name}") { Fixed = fixedSize });
                }
        }
        var last = p.Layers[p.Layers.Count - 1];
        int steps = last.OutShape.IsSequence ? last.OutShape[0] : 1;
        Buffers.Add(new GpuBuffer("_dTargets", System.Math.Max(p.OutputSize, 1), "labels (int32) or targets, [batch, …]"));
        Buffers.Add(new GpuBuffer("_dLosses", steps, "per-sample (per-step) loss, [batch, steps]"));
        if (p.Trainable) Buffers.Add(new GpuBuffer("_dLossScale", 0, "the loss kernel's scale (1 / what the mean is over)") { Fixed = 1 });
        Buffers.AddRange(grads);   // last and together: one memset clears them before a backward pass
    }

    /// <summary>The batch-sized buffers in arena order (after parameters and gradients), the activation gradients last.</summary>
    public List<GpuBuffer> Buffers { get; } = new();

    public string OutputOf(int index) => index < 0 ? "_dInput" : Out(Resolve(index));
    public string GradOf(int index) => index < 0 ? "_dInputGrad" : Grad(Resolve(index));
    public string ScratchOf(int index, string name) => _scratch[(index, name)];
    public string? TryScratchOf(int index, string name) => _scratch.TryGetValue((index, name), out var f) ? f : null;

    /// <summary>Whether a gradient flows to input <paramref name="slot"/> of <paramref name="layer"/>: always into a layer's
    /// output in a trainable network; into the network input only when the caller asks (guarded at run time).</summary>
    public bool InputGradFlows(LayerPlan layer, int slot) => _p.Trainable;

    /// <summary>The layer that owns the buffer a layer's output lives in (through Flatten's aliases).</summary>
    private int Resolve(int index)
    {
        while (index >= 0 && _p.Layers[index].Kind is IPtxAlias) index = _p.Layers[index].Inputs[0];
        return index;
    }

    private string Out(int index) => index < 0 ? "_dInput" : $"_d{_p.Layers[index].Name}Out";
    private string Grad(int index) => index < 0 ? "_dInputGrad" : $"_d{_p.Layers[index].Name}Grad";
}

/// <summary>A batch-sized device buffer: the twin's offset field, floats per sample, what it holds.</summary>
internal sealed record GpuBuffer(string Field, int PerSample, string Comment, bool IsGradient = false)
{
    /// <summary>Floats besides the per-sample ones.</summary>
    public int Fixed { get; init; }
}
