using System.Collections.Generic;
using System.Linq;
using ModelGen.Generator.Analysis;

namespace ModelGen.Generator.Emit.CSharp;

/// <summary>The C# backend's side of the layer-kind contract: each kind writes its forward and backward method
/// for one SIMD width. Names and offsets come from the plan through <see cref="CSharpLayer"/>; a kind never invents
/// a buffer. (The PTX backend will add its own interface, implemented by the same kind classes.)</summary>
internal interface ICSharpLayer
{
    /// <summary>The body of <c>private void {Name}_Forward_{W}(int n, int ld)</c>.</summary>
    void Forward(CodeWriter cw, CSharpLayer c, Width w);

    /// <summary>The body of <c>private void {Name}_Backward_{W}(int batch, int n, int ld)</c>: turns the output
    /// gradient into parameter gradients (added) and the input gradients (stored).</summary>
    void Backward(CodeWriter cw, CSharpLayer c, Width w);
}

/// <summary>A kind whose C# code needs class members of its own (declared with <see cref="LayerKind.Members"/>'s names).</summary>
internal interface ICSharpLayerFields
{
    void Fields(CodeWriter cw, CSharpLayer c);
}

/// <summary>A kind that reads the network input as something other than real numbers (an embedding's token ids): its
/// check runs at every public entry (<c>Forward</c>, <c>Predict</c>) before any work, so the error names the caller's sample.</summary>
internal interface ICSharpInputCheck
{
    /// <summary>Statements over <c>ReadOnlySpan&lt;float&gt; input</c> (row-major <c>[batch, InputSize]</c>) that throw an
    /// <c>ArgumentException</c> naming the layer, the sample and the position of a value the layer cannot take.</summary>
    void CheckInput(CodeWriter cw, CSharpLayer c);
}

/// <summary>A kind that can carry a state from one call to the next (a recurrent layer's final state, the next call's
/// initial one, when the model is <c>Stateful</c>): the model's <c>ResetStates</c> calls this.</summary>
internal interface ICSharpStateful
{
    /// <summary>Statements that zero the carried state in the model's own workspace <c>_main</c>.</summary>
    void ResetState(CodeWriter cw, CSharpLayer c);

    /// <summary>Why the layer cannot carry its state between calls (a bidirectional layer reads the future), or null.</summary>
    string? NoStreaming(LayerPlan layer);

    /// <summary>Statements that copy the spans <c>h</c> and <c>cell</c> (sample-major <c>[samples, hidden]</c>) into the
    /// carried state (<paramref name="set"/>) or out of it, after checking their lengths.</summary>
    void CopyState(CodeWriter cw, CSharpLayer c, bool set);

    /// <summary>Statements that check the span <c>h</c> (<paramref name="h"/>) or <c>cell</c> of a state copy against the
    /// layer's state shape and <c>_maxBatch</c>, with the messages every backend gives (the host model and its GPU twin).</summary>
    void CheckStateSpans(CodeWriter cw, LayerPlan layer, bool h);
}

/// <summary>A kind whose forward reads its weights packed in another layout (a Winograd convolution's transformed
/// filters; a recurrent or dense layer's transposed weights for batch 1), rebuilt in each workspace once per parameter
/// version, as the folded weights are: <c>PackWeights</c> (<c>Workspace.PackedVersion</c>) before any forward,
/// <c>PackBatch1</c> (<c>Workspace.Batch1Version</c>) before a batch-1 one, so training never rebuilds what only batch 1 reads.</summary>
internal interface ICSharpPack
{
    /// <summary>The paths whose forward reads the layer's weights packed — none when it never does. Each is a layout of
    /// its own, rebuilt by its own method.</summary>
    IEnumerable<PackedFor> PackWhen(LayerPlan layer, NetworkPlan network);

    /// <summary>Statements that rebuild the layer's weights packed for <paramref name="when"/> (one of <see cref="PackWhen"/>'s)
    /// in workspace <c>ws</c> (run when the parameters changed).</summary>
    void Pack(CodeWriter cw, CSharpLayer c, PackedFor when);
}

/// <summary>The forward paths packed weights serve, each rebuilt by a method of its own once per parameter version.</summary>
internal enum PackedFor
{
    /// <summary>Every forward (<c>PackWeights</c>: the Winograd filter transforms).</summary>
    EveryForward,
    /// <summary>The batch-1 path (<c>PackBatch1</c>: transposed weights); training never rebuilds them.</summary>
    Batch1,
    /// <summary>The batch path of inference (<c>PackRows</c>: the panels of the dense layer that reads the input in place).</summary>
    InferenceBatches,
}

/// <summary>A kind whose inference forward reads the network input in place, row-major as the caller gave it
/// (<c>Workspace.Input</c>, pinned while the layers run), instead of the input panel — which then is made only for a
/// training forward. At most one layer of a network reads the input this way, and only when it is the input's only reader.</summary>
internal interface ICSharpInPlaceInput
{
    bool ReadsInputInPlace(LayerPlan layer, NetworkPlan network);

    /// <summary>The widths whose inference reads in place; at the others <c>RunForward</c> makes the input panel at
    /// inference too, and the layer's forward reads it.</summary>
    bool ReadsInPlaceAt(Width width);
}

/// <summary>A kind whose batch-panel path (<c>n &gt; 1</c>) reads weights packed in GEMM panels (<see cref="GemmCall.Panels"/>),
/// rebuilt in each workspace once per parameter version (<c>PackPanels</c>, <c>Workspace.PanelVersion</c>).</summary>
internal interface ICSharpPanelPack
{
    bool PacksPanels(LayerPlan layer);

    /// <summary>Statements that rebuild the layer's panels in workspace <c>ws</c> (locals: <c>_width</c>).</summary>
    void PackPanels(CodeWriter cw, CSharpLayer c);
}

/// <summary>
/// A kind that can compute one step of incremental decoding (a Transformer generating token by token): column <c>t</c>
/// of its batch-1 output panel <c>[F, T]</c> from column t of its inputs (attention: from columns 0…t, the KV cache),
/// in the body of <c>private void {Name}_Step(Workspace ws, int t, SimdWidth width)</c>.
/// </summary>
internal interface ICSharpDecodeStep
{
    /// <summary>Whether this layer, as declared, can run step by step (a dense layer only on a sequence).</summary>
    bool CanStep(LayerPlan layer);

    void Step(CodeWriter cw, CSharpLayer c);
}

/// <summary>A kind that folds into its producer for inference (<see cref="LayerKind.FoldsInto"/>): writes the statements
/// that rebuild the producer's folded parameters (the producer's <c>folded</c> scratch) from both layers' tensors.</summary>
internal interface ICSharpFold
{
    void Fold(CodeWriter cw, CSharpLayer producer, CSharpLayer self);
}

/// <summary>What a kind's C# code may refer to: its plan, its buffers (arena offset fields), the network, and the
/// GEMM emitter shared by the model.</summary>
internal sealed class CSharpLayer
{
    public CSharpLayer(NetworkPlan network, LayerPlan layer, GemmEmitter gemm, PartRegistry? parts = null)
    {
        Network = network; Layer = layer; Gemm = gemm; Parts = parts ?? new PartRegistry();
        Buffers = network.Buffers.Layers[layer.Index];
    }

    public NetworkPlan Network { get; }
    public LayerPlan Layer { get; }
    public LayerBuffers Buffers { get; }
    public GemmEmitter Gemm { get; }
    /// <summary>The model's tasks that can be split over its threads.</summary>
    public PartRegistry Parts { get; }

    public string Input => Buffers.Input;
    public string Output => Buffers.Output;
    public string OutputGrad => Buffers.OutputGrad;
    /// <summary>Where the gradient of the main input goes; null when none flows (an inference-only network). For the
    /// network input it is computed only when the caller asks for it: wrap that code in <see cref="InputGradGuard"/>.</summary>
    public string? InputGrad => Buffers.InputGrad;
    /// <summary>True when input <paramref name="slot"/> is the network input (its gradient is optional).</summary>
    public bool ReadsNetworkInput(int slot = 0) => Layer.Inputs[slot] < 0;
    /// <summary>The C# condition under which the gradient of input <paramref name="slot"/> is computed.</summary>
    public string InputGradCondition(int slot = 0) => ReadsNetworkInput(slot) ? "ws.InputGradient" : "true";
    /// <summary>Opens <c>if (ws.InputGradient)</c> around input-gradient code when input <paramref name="slot"/> is
    /// the network input (d loss / d input is computed only when <c>Backward</c> is given a span for it); else nothing.</summary>
    public System.IDisposable? InputGradGuard(CodeWriter cw, int slot = 0) =>
        ReadsNetworkInput(slot) && InputGradOf(slot) is not null ? cw.Block("if (ws.InputGradient)   // d loss / d input, when asked for") : null;
    public string InputOf(int slot) => Buffers.Inputs[slot];
    public string? InputGradOf(int slot) => Buffers.InputGrads[slot].Length == 0 ? null : Buffers.InputGrads[slot];
    public string Scratch(string name) => Buffers.ScratchField(name);
    /// <summary>The offset constant of the layer's tensor <paramref name="local"/> (<c>weight</c>, <c>bias</c>…).</summary>
    public string Tensor(string local) => Layer.Tensor(local).Const;
    /// <summary>The layer folded into this one for inference (BatchNorm into a convolution), if any.</summary>
    public LayerPlan? FoldInto => Buffers.FoldInto >= 0 ? Network.Layers[Buffers.FoldInto] : null;
    /// <summary>True for a layer folded into its producer for inference.</summary>
    public bool Folded => Buffers.FoldedInto >= 0;
    /// <summary>The layer whose inference output this one's store computes (a 2×2 pooling after a Winograd convolution), if any.</summary>
    public LayerPlan? FuseInto => Buffers.FuseInto >= 0 ? Network.Layers[Buffers.FuseInto] : null;
    /// <summary>The layer whose store computes this one's inference output, if any.</summary>
    public LayerPlan? FusedInto => Buffers.FusedInto >= 0 ? Network.Layers[Buffers.FusedInto] : null;
    /// <summary>The output buffer of layer <paramref name="index"/>.</summary>
    public string OutputOf(int index) => Network.Buffers.Layers[index].Output;

    /// <summary>Element count of the layer's input or output buffer as a C# expression: panels <c>F·ld</c>, images <c>ws.Batch·C·ldP</c>.</summary>
    public string Extent(bool output) => Extent(output ? Layer.OutShape : Layer.InShape);

    public static string Extent(Shape shape) =>
        shape.IsImage ? $"ws.Batch * {Geometry.ImageStride(shape[0], shape[1] * shape[2])}" : $"{shape.Size} * ld";

    /// <summary><c>[MethodImpl(AggressiveOptimization)] private void {Name}_Forward_{W}(int n, int ld)</c>.</summary>
    public System.IDisposable ForwardMethod(CodeWriter cw, Width w)
    {
        cw.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
        return Method(cw, $"private void {GeneratedNames.ForwardMethod(Layer, w.Name)}(Workspace ws, int n, int ld)");
    }

    // ── runtime kernels specialised to the layer's shapes ────────────────────────────────────────────────────────────

    private readonly System.Collections.Generic.List<(string Name, string Role, string Text)> _specialized = new();

    /// <summary>Writes a call of a runtime kernel through a static local function of the method being written:
    /// <c>role(args)</c>, and at the end of the method <c>static void role(parameters) =&gt; call;</c>, where
    /// <paramref name="call"/> names the <paramref name="vars"/>' parameters and gives every other argument as a
    /// constant (a second function of the same role in one method is <c>role2</c>, and so on; an identical one is
    /// reused). The local function is compiled on its own (<c>NoInlining</c>) and the kernel, marked
    /// <c>AggressiveInlining</c>, is inlined into it with those constants folded into its loops: called with its
    /// arguments, W2's Winograd transforms ran ~30 % slower (its Conv2 forward ~9 %); inlined into the large generated
    /// method itself they exceeded the JIT's inlining budget and the layer ran 1.4–1.9× slower.</summary>
    public void SpecializedCall(CodeWriter cw, string role, (string Type, string Param, string Arg)[] vars, string call, string comment)
    {
        string text = $"({string.Join(", ", vars.Select(v => $"{v.Type} {v.Param}"))}) => {call};";
        string? name = null;
        int count = 0;
        foreach (var (n, r, t) in _specialized)
        {
            if (t == text) { name = n; break; }
            if (r == role) count++;
        }
        if (name is null)
        {
            name = count == 0 ? role : $"{role}{count + 1}";
            _specialized.Add((name, role, text));
        }
        cw.Line($"{name}({string.Join(", ", vars.Select(v => v.Arg))});   // {comment}");
    }

    /// <summary>A generated method's block; its specialised kernels (<see cref="SpecializedCall"/>) are written at its end.</summary>
    private System.IDisposable Method(CodeWriter cw, string header) => new MethodScope(this, cw, cw.Block(header));

    private sealed class MethodScope : System.IDisposable
    {
        private readonly CSharpLayer _layer;
        private readonly CodeWriter _cw;
        private readonly System.IDisposable _block;
        public MethodScope(CSharpLayer layer, CodeWriter cw, System.IDisposable block) { _layer = layer; _cw = cw; _block = block; }
        public void Dispose()
        {
            var list = _layer._specialized;
            if (list.Count > 0)
            {
                _cw.Line();
                _cw.Line("// The runtime kernels above with this layer's shapes as constants: each local function is compiled on its own,");
                _cw.Line("// the kernel inlined into it and its loops specialised to these shapes.");
                foreach (var (name, _, text) in list)
                {
                    _cw.Line("[MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]");
                    _cw.Line($"static void {name}{text}");
                }
                list.Clear();
            }
            _block.Dispose();
        }
    }

    /// <summary>Runs the layer's part method for <paramref name="phase"/> (see <see cref="PartMethod"/>) split over the
    /// model's threads when there are at least two <paramref name="units"/> of work and the team is free, else as one
    /// part on this thread.</summary>
    public void RunParts(CodeWriter cw, Width w, string phase, string units, string what, bool chunked = false)
    {
        string method = GeneratedNames.PartMethod(Layer, phase, w.Name);
        int task = Parts.Add(method);
        cw.Line(chunked
            ? $"if (!TryParallel(ws, {task}, {units}, {SampleChunks})) {method}(ws, ws, 0, 1);   // {what}, split over Threads in chunks (a thread that finishes first takes the other's last chunks)"
            : $"if (!TryParallel(ws, {task}, {units})) {method}(ws, ws, 0, 1);   // {what}, split over Threads");
    }

    /// <summary>Chunks per thread of a phase split by samples (<c>ThreadTeam.TryFor</c>): each chunk is whole samples,
    /// so cutting a share costs nothing but the call, and the thread that finishes first takes over the other's last
    /// chunks. Phases split by rows of a product stay whole: each part streams the product's shared operand once.</summary>
    public const int SampleChunks = 8;

    /// <summary>The work units of a phase as a C# expression: <paramref name="units"/> when the whole phase does at least
    /// <c>ThreadTeam.MinWork</c> FLOPs (<c>MinSampleWork</c> for a split by samples), else 1 (not worth waking a thread).</summary>
    public static string ParallelUnits(string units, string count, long flopsPerCount, bool bySample = false) =>
        $"(long){count} * {flopsPerCount} >= ThreadTeam.{(bySample ? "MinSampleWork" : "MinWork")} ? {units} : 1";

    /// <summary><c>private void {Name}_{Phase}Part_{W}(Workspace ws, Workspace ts, int part, int parts)</c>: part
    /// <c>part</c> of <c>parts</c> of one phase of the layer; activations in <c>ws</c>, per-part scratch in <c>ts</c>.</summary>
    public System.IDisposable PartMethod(CodeWriter cw, Width w, string phase)
    {
        cw.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
        return Method(cw, $"private void {GeneratedNames.PartMethod(Layer, phase, w.Name)}(Workspace ws, Workspace ts, int part, int parts)");
    }

    public System.IDisposable BackwardMethod(CodeWriter cw, Width w)
    {
        cw.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
        return Method(cw, $"private void {GeneratedNames.BackwardMethod(Layer, w.Name)}(Workspace ws, int batch, int n, int ld)");
    }
}
