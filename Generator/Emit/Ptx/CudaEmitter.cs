using System.Collections.Generic;
using System.Linq;
using System.Text;
using ModelGen.Generator.Analysis;
using ModelGen.Generator.Emit.CSharp;
using ModelGen.Generator.Model;

namespace ModelGen.Generator.Emit.Ptx;

/// <summary>
/// The PTX backend: a <see cref="NetworkPlan"/> → the network's PTX module (every layer's kernels from its kind through
/// <see cref="IPtxLayer"/>, the loss kernel, the optimiser kernels) and the GPU twin <c>{Class}.Cuda</c>, a nested class
/// with the model's API whose methods are the launches in order. A network with a kind that has no PTX yet gets a
/// twin whose constructor says which.
/// </summary>
internal static class CudaEmitter
{
    public const string Header = ".version 7.0\n.target sm_70\n.address_size 64\n";

    /// <summary>Why the network has no GPU twin yet, or null when it has one.</summary>
    public static string? Unsupported(NetworkPlan p)
    {
        var missing = p.Layers.Where(l => l.Kind is not IPtxLayer).Select(l => $"{l.Name} ({l.Kind.Name})").ToList();
        if (missing.Count > 0) return "no PTX yet for layer " + string.Join(", ", missing);
        return null;
    }

    /// <summary>The kernels of the network in module order, with the layer each belongs to (−1: loss, −2: shared).</summary>
    internal sealed class Module
    {
        public readonly List<(LayerPlan Layer, List<PtxKernel> Forward, List<PtxKernel> Backward)> Layers = new();
        public PtxKernel? Loss;
        public readonly List<PtxKernel> Shared = PtxOptimizers.All().ToList();
        public readonly GpuPlan Gpu;

        public Module(NetworkPlan p)
        {
            Gpu = new GpuPlan(p);
            foreach (var l in p.Layers)
            {
                var c = new PtxLayer(p, l, Gpu);
                var code = (IPtxLayer)l.Kind;
                code.Forward(c);
                if (p.Trainable) code.Backward(c);
                Layers.Add((l, c.ForwardKernels, c.BackwardKernels));
            }
            if (p.Trainable && p.Loss is { } loss)
            {
                var last = p.Layers[p.Layers.Count - 1];
                Loss = last.OutShape.IsSequence
                    ? PtxLosses.Kernel(loss, last.OutShape[1], Gpu.OutputOf(last.Index), Gpu.GradOf(last.Index), last.OutShape[0])
                    : PtxLosses.Kernel(loss, last.Out, Gpu.OutputOf(last.Index), Gpu.GradOf(last.Index));
            }
        }

        /// <summary>The network's own kernels (layers, loss) in the order of the twin's kernel table.</summary>
        public IEnumerable<PtxKernel> Own => Layers.SelectMany(x => x.Forward.Concat(x.Backward)).Concat(Loss is null ? Enumerable.Empty<PtxKernel>() : new[] { Loss });

        public string Text(NetworkPlan p)
        {
            var sb = new StringBuilder();
            sb.Append("// ModelGen PTX for ").Append(p.FullName).Append(": every layer's forward and backward, the loss, the optimisers.\n");
            sb.Append("// Activations sample-major [batch, size]; parameters in the host's layout (PyTorch's), gradients after them.\n");
            sb.Append(Header).Append('\n');
            foreach (var k in Own.Concat(Shared)) sb.Append(k.Text()).Append('\n');
            return sb.ToString();
        }
    }

    public static string Emit(NetworkPlan p, System.Action<CodeWriter> header)
    {
        var cw = new CodeWriter();
        header(cw);
        using (cw.Block($"partial class {p.ClassName}"))
        {
            string? why = Unsupported(p);
            if (why is not null) Stub(cw, p, why);
            else Twin(cw, p, new Module(p));
        }
        return cw.ToString();
    }

    /// <summary>The twin of a network whose PTX could not be made: its constructor says why.</summary>
    public static string EmitStub(NetworkPlan p, System.Action<CodeWriter> header, string why)
    {
        var cw = new CodeWriter();
        header(cw);
        using (cw.Block($"partial class {p.ClassName}")) Stub(cw, p, why);
        return cw.ToString();
    }

    private static void Stub(CodeWriter cw, NetworkPlan p, string why)
    {
        cw.Line($"/// <summary>The GPU twin of {p.ClassName}: not available for this network yet ({Xml(why)}).</summary>");
        cw.Line(NetworkEmitter.GeneratedCode);
        using (cw.Block("public sealed class Cuda"))
        {
            cw.Line($"/// <summary>Always throws: {Xml(why)}.</summary>");
            cw.Line("/// <exception cref=\"NotSupportedException\">Always.</exception>");
            cw.Line($"public Cuda(int maxBatch = 1, int seed = 0) => throw new NotSupportedException(\"{p.ClassName}.Cuda: {why}\");");
        }
    }

    private static string Xml(string s) => s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");

    private static void Twin(CodeWriter cw, NetworkPlan p, Module m)
    {
        var own = m.Own.ToList();
        var index = own.Select((k, i) => (k, i)).ToDictionary(x => x.k, x => x.i);
        string cls = p.ClassName;
        bool train = p.Trainable;
        var loss = p.Loss;
        var last = p.Layers[p.Layers.Count - 1];

        cw.Line($"/// <summary>");
        cw.Line($"/// The GPU twin of {cls}: the same network, API and parameter layout, run by its PTX kernels through the CUDA");
        cw.Line($"/// Driver API (<c>libcuda</c> only). <c>new {cls}.Cuda(maxBatch)</c> opens device 0 (it throws one clear message");
        cw.Line($"/// when there is no driver or device); parameters and gradients live on the device and are copied to the host");
        cw.Line($"/// model (<see cref=\"Host\"/>) when read, and back when changed there. Single-owner: calls are serialised.");
        cw.Line($"/// </summary>");
        cw.Line(NetworkEmitter.GeneratedCode);
        using (cw.Block($"public sealed class Cuda : {(train ? "global::ModelGen.ITrainableNetwork" : "global::ModelGen.INetwork")}"))
        {
            cw.Line("/// <summary>The network's PTX module (UTF-8): a banner per kernel with its math and launch shape.</summary>");
            cw.Line("public static ReadOnlySpan<byte> Ptx => \"\"\"");
            foreach (var line in m.Text(p).TrimEnd('\n').Split('\n')) cw.Raw("    " + line);
            cw.Raw("    \"\"\"u8;");
            cw.Line("/// <summary>The PTX module as text (for tools: ptxas, a log).</summary>");
            cw.Line("public static string PtxText => global::System.Text.Encoding.UTF8.GetString(Ptx);");
            cw.Line();
            cw.Line("/// <summary>The network's own kernels (layers, loss), in launch-table order; the module also has the shared mg_* kernels.</summary>");
            cw.Line($"private static readonly string[] s_kernelNames = {{ {string.Join(", ", own.Select(k => "\"" + k.Name + "\""))} }};");
            cw.Line("public static IReadOnlyList<string> KernelNames { get; } = s_kernelNames;");
            cw.Line();
            var buffers = m.Gpu.Buffers;
            cw.Line("// The device arena, in floats: parameters [0, ParameterRegion), gradients [GradientBase, +ParameterRegion), then");
            cw.Line("// per buffer [maxBatch, floats per sample], each 64-float aligned.");
            foreach (var b in buffers) cw.Line($"private readonly long {b.Field};   // {b.Comment}");
            cw.Line("private readonly long _dGradStart, _dGradEnd;   // the activation gradients, zeroed before each backward pass");
            cw.Line($"private readonly {cls} _host;");
            cw.Line("private readonly global::ModelGen.Cuda.CudaModel _m;");
            cw.Line("private readonly int _maxBatch;");
            cw.Line("private readonly object _gate = new();");
            cw.Line("private int _batch;");
            cw.Line("private bool _training;");
            cw.Line();

            cw.Line($"/// <summary>A twin on device 0 for batches of up to <paramref name=\"maxBatch\"/>, parameters initialised as <c>new {cls}(maxBatch, seed)</c>'s.</summary>");
            cw.Line("/// <exception cref=\"InvalidOperationException\">No CUDA driver or device (the message says which and why).</exception>");
            cw.Line("/// <exception cref=\"global::ModelGen.Cuda.CudaException\">The driver rejected a call (the module's JIT log included).</exception>");
            cw.Line("public Cuda(int maxBatch = 1, int seed = 0) : this(global::ModelGen.Cuda.CudaDriver.Open(), true, maxBatch, seed) { }");
            cw.Line();
            cw.Line("/// <summary>A twin on <paramref name=\"backend\"/> (a device of the caller's choice, or the tests' PTX interpreter); the backend stays the caller's.</summary>");
            cw.Line("public Cuda(global::ModelGen.Cuda.ICudaBackend backend, int maxBatch = 1, int seed = 0) : this(backend, false, maxBatch, seed) { }");
            cw.Line();
            using (cw.Block("private Cuda(global::ModelGen.Cuda.ICudaBackend backend, bool ownsBackend, int maxBatch, int seed)"))
            {
                cw.Line("ArgumentNullException.ThrowIfNull(backend);");
                cw.Line("if (maxBatch < 1) { if (ownsBackend) backend.Dispose(); throw new ArgumentOutOfRangeException(nameof(maxBatch), maxBatch, \"maxBatch must be at least 1\"); }");
                cw.Line("_maxBatch = maxBatch;");
                cw.Line($"_host = new {cls}(1, seed, initialize: true, warmUp: false);   // parameters and checks only: its CPU inference path is not compiled");
                cw.Line("long o = 2L * ParameterRegion;");
                bool gradStarted = false;
                foreach (var b in buffers)
                {
                    if (b.IsGradient && !gradStarted) { cw.Line("_dGradStart = o;"); gradStarted = true; }
                    cw.Line($"{b.Field} = o; o += Align({(b.PerSample == 0 ? b.Fixed.ToString() : $"(long)maxBatch * {b.PerSample}{(b.Fixed > 0 ? " + " + b.Fixed : "")}")});");
                }
                if (!gradStarted) cw.Line("_dGradStart = o;");
                cw.Line("_dGradEnd = o;");
                var sparse = train ? p.SparseTensors : new List<TensorPlan>();
                string tables = sparse.Count == 0 ? "" : ", _host._sparseTables, new[] { " + string.Join(", ", sparse.Select(t => m.Gpu.ScratchOf(p.Layers.First(l => l.Tensors.Contains(t)).Index, "rows"))) + " }";
                using (cw.Block("try"))
                    cw.Line("_m = new global::ModelGen.Cuda.CudaModel(backend, ownsBackend, Ptx, s_kernelNames, o, ParameterRegion, GradientBase, () => _host.Parameters, " + (train ? "() => _host.Gradients" : "null") + tables + ");");
                using (cw.Block("catch"))
                {
                    cw.Line("_host.Dispose();");
                    cw.Line("if (ownsBackend) backend.Dispose();");
                    cw.Line("throw;");
                }
            }
            cw.Line();
            cw.Line("private static long Align(long floats) => (floats + 63) & ~63L;");
            cw.Line();
            Members(cw, p, train);
            StateApi(cw, p, m);
            ForwardApi(cw, p, m, index);
            if (train) TrainingApi(cw, p, m, index, loss!);
            cw.Line("/// <summary>Frees the device memory (and the driver context when this twin opened it) and the host model.</summary>");
            cw.Line("public void Dispose() { lock (_gate) { _m.Dispose(); _host.Dispose(); } }");
        }
    }

    private static void Members(CodeWriter cw, NetworkPlan p, bool train)
    {
        string cls = p.ClassName;
        cw.Line($"/// <summary>The host model this twin copies parameters to and from (made current when read): save it, or run it on the CPU.</summary>");
        cw.Line($"public {cls} Host {{ get {{ lock (_gate) {{ _m.HostParameters(forWriting: true); return _host; }} }} }}");
        cw.Line("/// <summary>What runs the kernels.</summary>");
        cw.Line("public string Device => _m.Gpu.Description;");
        cw.Line("int global::ModelGen.INetwork.InputSize => InputSize;");
        cw.Line("int global::ModelGen.INetwork.OutputSize => OutputSize;");
        cw.Line("int global::ModelGen.INetwork.ParameterCount => ParameterCount;");
        cw.Line("/// <inheritdoc/>");
        cw.Line("public int MaxBatch => _maxBatch;");
        cw.Line("/// <summary>Ignored: the GPU runs every batch across its own cores.</summary>");
        cw.Line("public int Threads { get => 1; set { } }");
        cw.Line("/// <summary>Whether each pass is recorded as a CUDA graph the second time its shape is seen and replayed with one launch");
        cw.Line("/// after that (on by default); off, every kernel is launched by itself.</summary>");
        cw.Line("public bool UseGraphs { get { lock (_gate) return _m.UseGraphs; } set { lock (_gate) _m.UseGraphs = value; } }");
        cw.Line("/// <summary>The host model's code path (used by the host-side fallbacks).</summary>");
        cw.Line("public global::ModelGen.SimdWidth Width { get => _host.Width; set => _host.Width = value; }");
        cw.Line("/// <inheritdoc/>");
        cw.Line("public IReadOnlyList<int> InputShape => _host.InputShape;");
        cw.Line("/// <summary>The host model's layers, with the device's parameters copied in (changes made through them are uploaded).</summary>");
        cw.Line("public IReadOnlyList<global::ModelGen.Layer> Layers { get { lock (_gate) { _m.HostParameters(forWriting: true); return _host.Layers; } } }");
        cw.Line("/// <inheritdoc/>");
        cw.Line("public IReadOnlyList<global::ModelGen.TensorInfo> Tensors => _host.Tensors;");
        cw.Line("/// <summary>The parameters, copied from the device; changes are uploaded before the next launch.</summary>");
        cw.Line("public Span<float> Parameters { get { lock (_gate) return _m.HostParameters(forWriting: true); } }");
        cw.Line();
    }

    /// <summary><c>Stateful</c>, <c>ResetStates</c>, <c>SetState</c>, <c>GetState</c>: the host model's, over the carried states in
    /// the device arena (<c>carried</c> [maxBatch, H] per recurrent layer, LSTM's <c>carriedc</c> too).</summary>
    private static void StateApi(CodeWriter cw, NetworkPlan p, Module m)
    {
        var layers = p.Layers.Where(l => l.Kind is ICSharpStateful).ToList();
        if (layers.Count == 0) return;
        var why = layers.Select(l => ((ICSharpStateful)l.Kind).NoStreaming(l)).FirstOrDefault(r => r is not null);
        cw.Line(why is null ? "private bool _stateful;" : "private readonly bool _stateful = false;   // a bidirectional layer cannot carry its state");
        cw.Line($"/// <summary>As <see cref=\"{p.ClassName}.Stateful\"/>: every forward starts each recurrent layer from the state the previous call");
        cw.Line("/// left for the same sample index (kept on the device); turning it on starts from zero states.</summary>");
        using (cw.Block("public bool Stateful"))
        {
            cw.Line("get { lock (_gate) return _stateful; }");
            if (why is not null) cw.Line($"set {{ if (value) throw new NotSupportedException(\"{why}\"); }}");
            else cw.Line("set { lock (_gate) { if (value && !_stateful) ResetStates(); _stateful = value; } }");
        }
        cw.Line("/// <summary>Zeroes the states carried between calls (the start of new streams).</summary>");
        using (cw.Block("public void ResetStates()"))
        using (cw.Block("lock (_gate)"))
            foreach (var l in layers)
                foreach (var name in new[] { "carried", "carriedc" })
                    if (m.Gpu.TryScratchOf(l.Index, name) is { } f)
                        cw.Line($"_m.Zero({f}, (long)_maxBatch * {Hidden(m, f)});   // {l.Name}");
        foreach (bool set in new[] { true, false })
        {
            cw.Line(set
                ? $"/// <summary>As <see cref=\"{p.ClassName}.SetState\"/>: the state a recurrent layer starts the next call from (<c>Stateful</c> must be on).</summary>"
                : $"/// <summary>As <see cref=\"{p.ClassName}.GetState\"/>: the state a recurrent layer ended the last <c>Stateful</c> call with.</summary>");
            using (cw.Block(set ? "public void SetState(string layer, ReadOnlySpan<float> h, ReadOnlySpan<float> cell = default)" : "public void GetState(string layer, Span<float> h, Span<float> cell = default)"))
            using (cw.Block("lock (_gate)"))
            {
                if (set) cw.Line("if (!_stateful) throw new InvalidOperationException(\"set Stateful = true first: only a Stateful model starts a call from a carried state\");");
                using (cw.Block("switch (layer)"))
                {
                    foreach (var l in layers)
                    {
                        string? hf = m.Gpu.TryScratchOf(l.Index, "carried"), cf = m.Gpu.TryScratchOf(l.Index, "carriedc");
                        using (cw.Block($"case \"{l.Name}\":"))
                        {
                            if (hf is null) { cw.Line($"throw new NotSupportedException(\"{((ICSharpStateful)l.Kind).NoStreaming(l)}\");"); continue; }
                            var st = (ICSharpStateful)l.Kind;
                            st.CheckStateSpans(cw, l, h: true);
                            st.CheckStateSpans(cw, l, h: false);
                            cw.Line(set ? $"_m.Upload(h, {hf});" : $"_m.Download({hf}, h);");
                            if (cf is not null) cw.Line(set ? $"_m.Upload(cell, {cf});" : $"_m.Download({cf}, cell);");
                            cw.Line("return;");
                        }
                    }
                    cw.Line("default:");
                    cw.Line($"    throw new ArgumentException($\"{p.ClassName} has no recurrent layer named '{{layer}}'; its recurrent layers are {string.Join(", ", layers.Select(l => l.Name))}\", nameof(layer));");
                }
            }
        }
        cw.Line();
    }

    private static int Hidden(Module m, string field) => m.Gpu.Buffers.First(b => b.Field == field).PerSample;

    private static string Launch(PtxKernel k, int index, GpuPlan gpu)
    {
        var args = k.Launch.Args.Select(a => a.Kind switch
        {
            KernelArgKind.Pointer => $"_m.At({a.Expression})",
            KernelArgKind.U32 => $"(uint)({a.Expression})",
            _ => $"global::ModelGen.Cuda.CudaModel.F({a.Expression})",
        });
        return $"Launch({index}, {k.Launch.GridX}, {k.Launch.GridY}, {k.Launch.GridZ}, {k.Launch.Block}, {k.SharedBytes}, stackalloc ulong[] {{ {string.Join(", ", args)} }});   // {k.Name}";
    }

    /// <summary>A pass's launches through the model's graph cache: run, recorded, or replayed.</summary>
    private static void Replay(CodeWriter cw, string key, string launches)
    {
        cw.Line($"long key = GraphKey({key});");
        using (cw.Block("if (_m.Record(key))"))
        {
            cw.Line($"try {{ {launches}; }}");
            cw.Line("catch { _m.Abandon(); throw; }");
            cw.Line("_m.Recorded(key);");
        }
    }

    /// <summary>The call of a step loop's method, at the first kernel of the loop (the others are in the method).</summary>
    private static void LoopCall(CodeWriter cw, List<PtxKernel> kernels, PtxKernel k)
    {
        int at = kernels.IndexOf(k);
        if (at > 0 && kernels[at - 1].Loop == k.Loop) return;
        cw.Line($"for (int k = 0; k < {k.Loop!.Count}; k++) {k.Loop.Method}(n, k);   // {k.Loop.Comment}");
    }

    /// <summary>Each step loop's launches as a method of their own (<c>stackalloc</c>'d arguments stay out of the loop).</summary>
    private static void LoopMethods(CodeWriter cw, IEnumerable<PtxKernel> kernels, Dictionary<PtxKernel, int> index, GpuPlan gpu)
    {
        foreach (var group in kernels.GroupBy(k => k.Loop!))
        {
            cw.Line($"/// <summary>{Xml(group.Key.Comment)}: the launches of step k.</summary>");
            using (cw.Block($"private void {group.Key.Method}(int n, int k)"))
                foreach (var k in group) cw.Line(Launch(k, index[k], gpu));
            cw.Line();
        }
    }

    private static void ForwardApi(CodeWriter cw, NetworkPlan p, Module m, Dictionary<PtxKernel, int> index)
    {
        var last = p.Layers[p.Layers.Count - 1];
        string output = m.Gpu.OutputOf(last.Index);
        cw.Line("private void Launch(int kernel, long gridX, long gridY, long gridZ, int block, int shared, ReadOnlySpan<ulong> args) => _m.Launch(kernel, gridX, gridY, gridZ, block, shared, args);");
        cw.Line();
        cw.Line("private int Batch(int floats, int perSample, string what)");
        using (cw.Block(""))
        {
            cw.Line("if (floats == 0 || floats % perSample != 0) throw new ArgumentException($\"{what} holds {floats} floats, not a whole number of samples of {perSample}\");");
            cw.Line("int n = floats / perSample;");
            cw.Line("if (n > _maxBatch) throw new ArgumentException($\"{what} holds {n} samples; this twin was made for at most {_maxBatch} (maxBatch)\");");
            cw.Line("return n;");
        }
        cw.Line();
        cw.Line("/// <summary>A recorded pass's graph key: the pass, the batch and the flags its launches depend on.</summary>");
        cw.Line("private static long GraphKey(int pass, int n, int flags) => ((long)n << 4) | ((long)pass << 2) | (long)flags;");
        cw.Line();
        var hosted = m.Layers.SelectMany(x => x.Forward).Where(k => k.HostBefore.Count > 0).ToList();
        cw.Line("/// <summary>The forward pass over <paramref name=\"n\"/> samples in <c>_dInput</c>: " + (hosted.Count > 0 ? "the host's part (dropout masks, drawn in layer order), then " : "") + "the launches (replayed as a graph for a shape seen before).</summary>");
        using (cw.Block("private void RunForward(int n, bool training)"))
        {
            foreach (var k in hosted)
                using (cw.Block(k.Condition is null ? "" : $"if ({k.Condition})"))
                    foreach (var line in k.HostBefore) cw.Line(line);
            Replay(cw, "0, n, (training ? 1 : 0)" + (p.Layers.Any(l => l.Kind is ICSharpStateful) ? " | (_stateful ? 2 : 0)" : ""), "LaunchForward(n, training)");
        }
        cw.Line();
        cw.Line("/// <summary>The launches of the forward pass (nothing else: they may be recorded into a graph).</summary>");
        using (cw.Block("private void LaunchForward(int n, bool training)"))
        {
            foreach (var (l, fwd, _) in m.Layers)
            {
                cw.Line($"// {l.Name}: {l.Description} {l.InShape} → {l.OutShape}{(fwd.Count == 0 ? " — the input's buffer, no kernel" : "")}");
                foreach (var k in fwd)
                {
                    if (k.Loop is { } loop) { LoopCall(cw, fwd, k); continue; }
                    cw.Line((k.Condition is null ? "" : $"if ({k.Condition}) ") + Launch(k, index[k], m.Gpu));
                }
            }
        }
        cw.Line();
        LoopMethods(cw, m.Own.Where(k => k.Loop is not null), index, m.Gpu);
        cw.Line("/// <inheritdoc/>");
        cw.Line("public void Forward(ReadOnlySpan<float> input, bool training = false) { lock (_gate) Run(input, training); }");
        cw.Line();
        cw.Line("/// <summary>Uploads <paramref name=\"input\"/> and runs the forward; returns the batch.</summary>");
        using (cw.Block("private int Run(ReadOnlySpan<float> input, bool training)"))
        {
            cw.Line("int n = Batch(input.Length, InputSize, \"input\");");
            if (p.Layers.Any(l => l.Kind is ICSharpInputCheck)) cw.Line($"{p.ClassName}.CheckInput(input);   // token ids: the host's check and message, before the device gathers rows");
            cw.Line("_m.ToDevice();");
            cw.Line("_m.Upload(input, _dInput);");
            cw.Line("RunForward(n, training);");
            cw.Line("_batch = n; _training = training;");
            cw.Line("return n;");
        }
        cw.Line("/// <summary>Runs the last forward again on the input already on the device (no copies): for timing the kernels.</summary>");
        using (cw.Block("public void RepeatForward()"))
        using (cw.Block("lock (_gate)"))
        {
            cw.Line("if (_batch == 0) throw new InvalidOperationException(\"call Forward before RepeatForward\");");
            cw.Line("_m.ToDevice();");
            cw.Line("RunForward(_batch, _training);");
        }
        cw.Line("/// <inheritdoc/>");
        using (cw.Block("public void GetOutput(Span<float> output)"))
        using (cw.Block("lock (_gate)"))
        {
            cw.Line("if (_batch == 0) throw new InvalidOperationException(\"call Forward before GetOutput\");");
            cw.Line("if (output.Length != _batch * OutputSize) throw new ArgumentException($\"output holds {output.Length} floats; the last forward's {_batch} samples need {_batch * OutputSize}\", nameof(output));");
            cw.Line($"_m.Download({output}, output);");
        }
        cw.Line("/// <inheritdoc/>");
        using (cw.Block("public void Predict(ReadOnlySpan<float> input, Span<float> output)"))
        using (cw.Block("lock (_gate)"))
        {
            cw.Line("int n = Batch(input.Length, InputSize, \"input\");");
            cw.Line("if (output.Length != n * OutputSize) throw new ArgumentException($\"output holds {output.Length} floats; {n} samples need {n * OutputSize}\", nameof(output));");
            cw.Line("Run(input, training: false);");
            cw.Line($"_m.Download({output}, output);");
        }
        cw.Line("/// <inheritdoc/>");
        using (cw.Block("public void GetActivation(string layer, Span<float> destination)"))
        using (cw.Block("lock (_gate)"))
        {
            cw.Line("if (_batch == 0) throw new InvalidOperationException(\"call Forward before GetActivation\");");
            cw.Line("long at; int size;");
            using (cw.Block("switch (layer)"))
            {
                foreach (var l in p.Layers) cw.Line($"case \"{l.Name}\": at = {m.Gpu.OutputOf(l.Index)}; size = {l.Out}; break;");
                cw.Line($"default: throw new ArgumentException($\"{p.ClassName} has no layer '{{layer}}'\", nameof(layer));");
            }
            cw.Line("if (destination.Length != _batch * size) throw new ArgumentException($\"destination holds {destination.Length} floats; {layer}'s output of {_batch} samples is {_batch * size}\", nameof(destination));");
            cw.Line("_m.Download(at, destination);");
        }
        cw.Line();
    }

    private static void TrainingApi(CodeWriter cw, NetworkPlan p, Module m, Dictionary<PtxKernel, int> index, LossPlan loss)
    {
        var last = p.Layers[p.Layers.Count - 1];
        bool labels = loss.TakesLabels;
        string target = labels ? "ReadOnlySpan<int>" : "ReadOnlySpan<float>";
        string other = labels ? "ReadOnlySpan<float>" : "ReadOnlySpan<int>";
        string divisor = PtxLosses.PerElement(loss) ? $"(double)n * {last.Out}" : "n";
        var regularised = p.Tensors.Where(t => t.L2 > 0f).ToList();

        cw.Line($"/// <inheritdoc/>");
        cw.Line($"public global::ModelGen.LossKind LossKind => global::ModelGen.LossKind.{loss.Kind};");
        cw.Line("/// <summary>The gradients, copied from the device; changes are uploaded before the next launch.</summary>");
        cw.Line("public Span<float> Gradients { get { lock (_gate) return _m.HostGradients(forWriting: true); } }");
        cw.Line("/// <summary>The optimiser state (the device's, given to the host model's state object when read).</summary>");
        cw.Line("public global::ModelGen.Training.OptimizerState OptimizerState { get { lock (_gate) return _m.OptimizerState(_host.OptimizerState); } }");
        cw.Line("/// <inheritdoc/>");
        cw.Line("public global::ModelGen.Rng TrainingRandom { get => _host.TrainingRandom; set => _host.TrainingRandom = value; }");
        cw.Line("/// <inheritdoc/>");
        cw.Line("public void ZeroGrad() { lock (_gate) _m.ZeroGradients(); }");
        cw.Line("/// <summary>One optimiser update on the device (SGD, momentum, Nesterov, Adam, AdamW; any other optimiser on the host copies).</summary>");
        cw.Line("public void Step(global::ModelGen.Training.Optimizer optimizer) { lock (_gate) _m.Step(optimizer, _host.OptimizerState, _host.Tensors, () => _host.Step(optimizer)); }");
        cw.Line();

        bool perStep = labels && last.OutShape.IsSequence;
        int steps = perStep ? last.OutShape[0] : 1;
        if (perStep)
        {
            cw.Line("/// <summary>One class label per step of the output sequence (sample-major [batch, steps]; −100 skips a step).</summary>");
            cw.Line($"public int LabelsPerSample => {steps};");
        }
        cw.Line("/// <summary>Checks and uploads the labels or targets of <paramref name=\"n\"/> samples and the loss kernel's scale; returns what the mean is over.</summary>");
        using (cw.Block($"private double UploadTargets({target} targets, int n)"))
        {
            if (perStep) cw.Line($"int counted = global::ModelGen.Cuda.TwinChecks.StepLabels(targets, n, {steps}, {last.OutShape[1]});");
            else if (labels) cw.Line($"global::ModelGen.Cuda.TwinChecks.Labels(targets, n, {last.Out});");
            else cw.Line($"global::ModelGen.Cuda.TwinChecks.Targets(global::ModelGen.LossKind.{loss.Kind}, targets, n, {last.Out});");
            cw.Line("_m.Upload(targets, _dTargets);");
            string div = perStep ? "System.Math.Max(counted, 1)" : divisor;
            cw.Line($"_m.LossScale(_dLossScale, (float)(1.0 / ({div})));");
            cw.Line($"return {(perStep ? "counted" : divisor)};");
        }
        cw.Line("/// <summary>The mean of the per-sample losses the loss kernel wrote (plus the L2 penalty).</summary>");
        using (cw.Block("private float MeanLoss(int n, double over)"))
        {
            cw.Line(perStep ? $"float loss = over == 0 ? 0f : _m.MeanLoss(_dLosses, {steps} * n, over);" : "float loss = _m.MeanLoss(_dLosses, n, over);");
            foreach (var t in regularised) cw.Line($"loss += _m.L2Penalty({t.Const}, {t.Length}, {Text.Float(t.L2)});   // {t.Name}");
            cw.Line("return loss;");
        }
        cw.Line($"/// <summary>The loss kernel over the last forward's {{n}} samples; returns the mean loss (plus the L2 penalty).</summary>");
        using (cw.Block($"private float RunLoss({target} targets, int n)"))
        {
            cw.Line("double over = UploadTargets(targets, n);");
            cw.Line(Launch(m.Loss!, index[m.Loss!], m.Gpu));
            cw.Line("return MeanLoss(n, over);");
        }
        cw.Line("/// <inheritdoc/>");
        using (cw.Block($"public float ComputeLoss({target} {(labels ? "labels" : "targets")})"))
        using (cw.Block("lock (_gate)"))
        {
            cw.Line("if (_batch == 0) throw new InvalidOperationException(\"call Forward before ComputeLoss\");");
            cw.Line($"return RunLoss({(labels ? "labels" : "targets")}, _batch);");
        }
        cw.Line($"float global::ModelGen.ITrainableNetwork.ComputeLoss({other} targets) => throw new InvalidOperationException(\"{p.ClassName}'s loss is {loss.Kind}: it takes {(labels ? "integer class labels, not float targets" : "float targets, not class labels")}\");");
        cw.Line("/// <inheritdoc/>");
        cw.Line($"public float Backward({target} {(labels ? "labels" : "targets")}) => BackwardCore({(labels ? "labels" : "targets")}, default, false);");
        cw.Line("/// <inheritdoc/>");
        cw.Line($"public float Backward({target} {(labels ? "labels" : "targets")}, Span<float> inputGradient) => BackwardCore({(labels ? "labels" : "targets")}, inputGradient, true);");
        cw.Line($"float global::ModelGen.ITrainableNetwork.Backward({other} targets) => throw new InvalidOperationException(\"{p.ClassName}'s loss is {loss.Kind}: it takes {(labels ? "integer class labels, not float targets" : "float targets, not class labels")}\");");
        cw.Line($"float global::ModelGen.ITrainableNetwork.Backward({other} targets, Span<float> inputGradient) => throw new InvalidOperationException(\"{p.ClassName}'s loss is {loss.Kind}: it takes {(labels ? "integer class labels, not float targets" : "float targets, not class labels")}\");");
        cw.Line();
        using (cw.Block($"private float BackwardCore({target} targets, Span<float> inputGradient, bool withInputGradient)"))
        using (cw.Block("lock (_gate)"))
        {
            cw.Line("if (!_training) throw new InvalidOperationException(\"call Forward(input, training: true) before Backward\");");
            cw.Line("int n = _batch;");
            cw.Line("if (withInputGradient && inputGradient.Length != n * InputSize) throw new ArgumentException($\"inputGradient holds {inputGradient.Length} floats; the last forward's {n} samples need {n * InputSize}\", nameof(inputGradient));");
            cw.Line("_m.ToDevice();");
            cw.Line("double over = UploadTargets(targets, n);");
            Replay(cw, "1, n, withInputGradient ? 1 : 0", "LaunchBackward(n, withInputGradient)");
            cw.Line("float loss = MeanLoss(n, over);");
            cw.Line("_m.GradientsChanged();");
            cw.Line("if (withInputGradient) _m.Download(_dInputGrad, inputGradient);");
            cw.Line("return loss;");
        }
        cw.Line();
        cw.Line("/// <summary>The launches of the backward pass, the loss kernel first (nothing else: they may be recorded into a graph).</summary>");
        using (cw.Block("private void LaunchBackward(int n, bool withInputGradient)"))
        {
            cw.Line("_m.Zero(_dGradStart, _dGradEnd - _dGradStart);");
            cw.Line("if (withInputGradient) _m.Zero(_dInputGrad, (long)n * InputSize);");
            cw.Line(Launch(m.Loss!, index[m.Loss!], m.Gpu));
            foreach (var t in regularised) cw.Line($"_m.AddL2Gradient({t.Const}, {t.Length}, {Text.Float(2 * t.L2)});   // {t.Name}: dW += 2λ·W");
            for (int i = m.Layers.Count - 1; i >= 0; i--)
            {
                var (l, _, bwd) = m.Layers[i];
                cw.Line($"// {l.Name}: {l.Description}{(bwd.Count == 0 ? " — nothing to do" : "")}");
                foreach (var k in bwd)
                    if (k.Loop is not null) LoopCall(cw, bwd, k);
                    else cw.Line((k.OnlyForInputGradient ? "if (withInputGradient) " : "") + Launch(k, index[k], m.Gpu));
            }
        }
        cw.Line();
        cw.Line("/// <summary>The first layer whose parameters, last output or gradients hold NaN or ±∞ (copied from the device), or null.</summary>");
        using (cw.Block("public string? FindNonFinite()"))
        using (cw.Block("lock (_gate)"))
        {
            cw.Line("var prm = _m.HostParameters(forWriting: false);");
            cw.Line("var grd = _m.HostGradients(forWriting: false);");
            foreach (var l in p.Layers.Where(l => l.Tensors.Any(t => t.Role != TensorRole.Tied)))
                cw.Line($"if ({string.Join(" || ", l.Tensors.Where(t => t.Role != TensorRole.Tied).Select(t => $"!MG.Numerics.AllFinite(prm.Slice({t.Const}, {t.Length}))"))}) return \"{l.Name} (parameters)\";");
            using (cw.Block("if (_batch > 0)"))
            {
                cw.Line("float[] tmp = new float[_batch * " + p.Layers.Max(l => l.Out) + "];");
                foreach (var l in p.Layers)
                    cw.Line($"_m.Download({m.Gpu.OutputOf(l.Index)}, tmp.AsSpan(0, _batch * {l.Out})); if (!MG.Numerics.AllFinite(tmp.AsSpan(0, _batch * {l.Out}))) return \"{l.Name} (output)\";");
            }
            foreach (var l in p.Layers.Where(l => l.Tensors.Any(t => t.Role != TensorRole.Tied)))
                cw.Line($"if ({string.Join(" || ", l.Tensors.Where(t => t.Role != TensorRole.Tied).Select(t => $"!MG.Numerics.AllFinite(grd.Slice({t.Const}, {t.Length}))"))}) return \"{l.Name} (gradients)\";");
            cw.Line("return null;");
        }
        cw.Line();
    }
}
