using System;
using System.Collections.Generic;

namespace ModelGen.Generator.Analysis;

/// <summary>
/// Every name the generated class declares or uses unqualified, so that a layer named like one is MG0013 and not a
/// C# error inside generated code. <see cref="Fixed"/> are the members every network gets (and the runtime types the
/// code names without qualification: a member of that name would hide them); <see cref="Of"/> adds the names derived
/// from the plan. A test parses the generated code of every sample model and fails if it declares a member missing
/// here, so this list cannot drift from the emitter.
/// </summary>
internal static class GeneratedNames
{
    /// <summary>Suffixes of the per-width layer methods (<c>Dense1_Forward_V512</c>).</summary>
    public static readonly string[] Widths = { "V512", "V256", "Scalar" };

    public static readonly IReadOnlyCollection<string> Fixed = new HashSet<string>(StringComparer.Ordinal)
    {
        // public surface
        "InputSize", "OutputSize", "ParameterCount", "MaxBatch", "Width", "Summary", "Tensors", "Parameters", "Gradients",
        "Layers", "Forward", "Predict", "GetOutput", "Backward", "ComputeLoss", "ZeroGrad", "Step", "Dispose", "LossKind",
        "FindNonFinite", "SeedDropout", "FoldBatchNorm", "FusePooling", "GetActivation", "PredictProbabilities", "TrainingRandom", "Threads", "FromFile",
        "input",   // the network input's name in Input = "input" (and the parameter name of Forward/Predict)
        "Input",   // its buffers: a layer named Input would get _inputOut and _inputGrad (the GPU twin: _dInputGrad, the network input's)
        // private plumbing
        "ParameterRegion", "GradientBase", "s_tensors", "s_loss", "_arena", "_main", "_workspaces", "_team", "_predictShare", "PredictShare", "_runPart", "RunPart", "TryParallel", "_layout", "PackWeights", "PackBatch1", "PackPanels", "PackRows", "ForwardLayers", "s_forwardLayers", "_layers", "s_inputShape", "InputShape", "_maxBatch", "_width",
        "_dropoutRng", "_optimizerState", "_sparseTables", "CheckInput", "_stateful", "Stateful", "ResetStates", "SetState", "GetState", "LabelsPerSample", "FoldBatchNorms", "Penalty", "BatchOf", "EnterMain", "RunForward", "CopyOutput", "WarmUp",
        "BackwardCore", "Cuda", "ContextLength", "Vocabulary", "CachedTokens", "ResetCache", "Append", "_decode", "_cached", "_decodeVersion", "_decodeBusy",
        // types named without qualification in generated code
        "MG", "Unsafe", "Arena", "Workspace", "WorkspacePool", "WorkspaceLayout", "ThreadTeam", "Layer", "Span", "ReadOnlySpan", "Vector512", "Vector256", "MethodImpl",
        "MethodImplOptions", "TensorInfo", "Optimizer", "OptimizerState", "Rng", "Epilogue", "SimdWidth", "INetwork",
        "ITrainableNetwork", "IReadOnlyList", "InvalidOperationException", "ArgumentException", "ArgumentOutOfRangeException",
        "ArgumentNullException",
    };

    /// <summary>The fixed names and those derived from <paramref name="p"/>: tensor offset constants, buffer fields,
    /// layer fields and per-width methods.</summary>
    public static HashSet<string> Of(NetworkPlan p)
    {
        var names = new HashSet<string>(Fixed, StringComparer.Ordinal);
        foreach (var t in p.Tensors) names.Add(t.Const);
        foreach (var b in p.Buffers.Buffers) names.Add(b.Field);
        foreach (var l in p.Layers)
        {
            names.Add(LayerField(l));
            foreach (var m in l.Kind.Members(l)) names.Add(m);
            foreach (var w in Widths)
            {
                names.Add(ForwardMethod(l, w)); names.Add(BackwardMethod(l, w)); names.Add(StepMethod(l));
                foreach (var phase in PartPhases) names.Add(PartMethod(l, phase, w));
            }
        }
        return names;
    }

    public static string LayerField(LayerPlan l) => "_" + BufferPlanner.Camel(l.Name) + "Layer";
    public static string ForwardMethod(LayerPlan l, string width) => l.Name + "_Forward_" + width;
    public static string BackwardMethod(LayerPlan l, string width) => l.Name + "_Backward_" + width;
    public static string StepMethod(LayerPlan l) => l.Name + "_Step";
    /// <summary>The phases a layer may split over threads (<c>Conv1_ForwardPart_V512</c>).</summary>
    public static readonly string[] PartPhases = { "Forward", "ForwardInPlace", "Backward", "Weights" };
    public static string PartMethod(LayerPlan l, string phase, string width) => l.Name + "_" + phase + "Part_" + width;

    /// <summary>Micro-kernel names (<c>Tile8x2_V512</c>, <c>TileX6x1_V256</c>) are reserved as a pattern.</summary>
    public static bool IsKernelName(string name) =>
        name.StartsWith("Tile", StringComparison.Ordinal) && (name.EndsWith("_V512", StringComparison.Ordinal) || name.EndsWith("_V256", StringComparison.Ordinal));
}
