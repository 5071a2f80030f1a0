using System.Collections.Generic;
using System.Linq;
using ModelGen.Generator.Analysis;
using ModelGen.Generator.Model;

namespace ModelGen.Generator.Emit.CSharp;

internal static partial class NetworkEmitter
{
    private static string Last(NetworkPlan p) => p.Buffers.Layers[p.Layers.Count - 1].Output;

    private static void EmitDispatch(CodeWriter cw, NetworkPlan p, bool backward)
    {
        using (cw.Block("switch (_width)"))
        {
            foreach (var w in Width.All)
            {
                cw.Line(w.IsScalar ? "default:" : $"case {w.Enum}:");
                var order = backward ? p.Layers.Reverse() : p.Layers;
                foreach (var l in order)
                {
                    cw.Line(backward ? $"    {GeneratedNames.BackwardMethod(l, w.Name)}(ws, batch, n, ld);" : $"    {GeneratedNames.ForwardMethod(l, w.Name)}(ws, n, ld);");
                    if (!backward) continue;
                    // A tensor read by several layers sums their gradients: the later readers add theirs here.
                    foreach (var add in p.Buffers.GradientAdds.Where(a => a.AfterLayer == l.Index))
                    {
                        bool input = add.Tensor < 0;
                        string name = input ? "input" : p.Layers[add.Tensor].Name;
                        string grad = input ? p.Buffers.InputGrad : p.Buffers.Layers[add.Tensor].OutputGrad;
                        string ext = CSharpLayer.Extent(input ? p.InputShape : p.Layers[add.Tensor].OutShape);
                        cw.Line($"    {(input ? "if (ws.InputGradient) " : "")}MG.Sum.Add(ws.Span({grad}, {ext}), ws.Span({add.Private}, {ext}), ws.Span({grad}, {ext}), {w.Enum});   // d{name} += from {l.Name}");
                    }
                }
                cw.Line("    break;");
            }
        }
    }

    /// <summary>Copies a buffer of <paramref name="shape"/> from the workspace to a sample-major span.</summary>
    private static string ToSamples(Shape shape, string buffer, string batch, string destination) =>
        shape.IsImage
            ? $"MG.Images.ToSamples(ref ws.Ref({buffer}), {batch}, {shape[0]}, {shape[1] * shape[2]}, {Geometry.LdP(shape[1] * shape[2])}, {destination});"
            : shape.IsSequence
            ? $"MG.Layout.SequencesToSampleMajor(ref ws.Ref({buffer}), {shape[0]}, {shape[1]}, ws.Ld, {batch}, {destination});"
            : $"MG.Layout.ToSampleMajor(ref ws.Ref({buffer}), {shape.Size}, ws.Ld, {batch}, {destination});";

    private static bool HasInputCheck(NetworkPlan p) => p.Layers.Any(l => l.Kind is ICSharpInputCheck);

    private static bool HasState(NetworkPlan p) => p.Layers.Any(l => l.Kind is ICSharpStateful);

    /// <summary>A generated test of the model's width against <paramref name="widths"/> (parenthesised when several).</summary>
    private static string WidthIs(IReadOnlyCollection<Width> widths) =>
        widths.Count == 1 ? $"_width == {widths.First().Enum}" : "(" + string.Join(" || ", widths.Select(w => $"_width == {w.Enum}")) + ")";

    /// <summary>The widths' names for a generated comment: "AVX-512 and scalar".</summary>
    private static string Isas(IEnumerable<Width> widths) => string.Join(" and ", widths.Select(w => w.Isa));

    /// <summary>A network whose every layer reads and writes sequences of one length and none needs whole 16-column
    /// blocks per step: its panels may be 8 columns wide per step (see <c>Simd.SequencePanelWidth</c>).</summary>
    internal static bool NarrowPanels(NetworkPlan p) =>
        !p.ImageInput && p.Layers.All(l => l.OutShape.IsSequence && (l.InShape.IsSequence || l.InShape.Rank == 1 && l.Kind is Layers.Embedding)
            && l.OutShape[0] == p.Layers[0].OutShape[0] && !l.Kind.NeedsSixteenColumns);

    /// <summary>A network that generates token by token with a KV cache: token ids in, an attention layer, a sequence
    /// out, every layer able to compute one step (<see cref="ICSharpDecodeStep"/>).</summary>
    internal static bool Decodable(NetworkPlan p) =>
        p.InputShape.Rank == 1 && p.Layers[0].Kind is Layers.Embedding && p.Layers[p.Layers.Count - 1].OutShape.IsSequence &&
        p.Layers.Any(l => l.Kind.ReadsEarlierSteps) && p.Layers.All(l => l.Kind is ICSharpDecodeStep s && s.CanStep(l));

    /// <summary><c>IAutoregressive</c>: <c>Append</c> one token at a time, each step reusing the keys and values of the
    /// earlier ones (kept in a workspace of its own, apart from <c>Forward</c>/<c>Predict</c>).</summary>
    private static void EmitDecodeApi(CodeWriter cw, NetworkPlan p)
    {
        var last = p.Layers[p.Layers.Count - 1];
        int steps = p.InputShape[0], vocabulary = last.OutShape[1], ids = ((Layers.EmbeddingOptions)p.Layers[0].Options).Vocabulary;
        cw.Line($"/// <summary>The context: the most tokens the cache holds ({steps}).</summary>");
        cw.Line(GeneratedCode);
        cw.Line($"public int ContextLength => {steps};");
        cw.Line($"/// <summary>Logits per step (the classes of the last layer, {vocabulary}).</summary>");
        cw.Line(GeneratedCode);
        cw.Line($"public int Vocabulary => {vocabulary};");
        cw.Line("/// <summary>Tokens appended since the last <see cref=\"ResetCache\"/>.</summary>");
        cw.Line(GeneratedCode);
        cw.Line("public int CachedTokens => _cached;");
        cw.Line("/// <summary>Empties the KV cache: the next <see cref=\"Append\"/> is step 0.</summary>");
        cw.Line("/// <exception cref=\"InvalidOperationException\">Another thread is appending (the cache is one caller's at a time).</exception>");
        cw.Line(GeneratedCode);
        using (cw.Block("public void ResetCache()"))
        {
            cw.Line("if (global::System.Threading.Interlocked.Exchange(ref _decodeBusy, 1) != 0) throw new InvalidOperationException(\"another thread is appending to this model's cache\");");
            cw.Line("_cached = 0;");
            cw.Line("global::System.Threading.Volatile.Write(ref _decodeBusy, 0);");
        }
        cw.Line();
        cw.Line("/// <summary>Appends <paramref name=\"token\"/> at step <see cref=\"CachedTokens\"/> and writes the logits of the next token");
        cw.Line("/// (what <c>Predict</c> gives at that step for the same tokens): each layer computes that one step, attention against");
        cw.Line("/// the keys and values of the earlier steps, which stay cached. Allocates nothing. One thread at a time.</summary>");
        cw.Line($"/// <exception cref=\"ArgumentOutOfRangeException\"><paramref name=\"token\"/> is not in [0, {ids}).</exception>");
        cw.Line($"/// <exception cref=\"ArgumentException\"><paramref name=\"logits\"/> does not hold {vocabulary} floats.</exception>");
        cw.Line($"/// <exception cref=\"InvalidOperationException\">The cache is full ({steps} tokens), the parameters changed since it was filled, or another thread is appending.</exception>");
        cw.Line(GeneratedCode);
        using (cw.Block("public void Append(int token, Span<float> logits)"))
        {
            cw.Line($"if ((uint)token >= {ids}u) throw new ArgumentOutOfRangeException(nameof(token), token, \"token ids are in [0, {ids})\");");
            cw.Line($"if (logits.Length != {vocabulary}) throw new ArgumentException($\"logits holds {{logits.Length}} floats; a step has {vocabulary}\", nameof(logits));");
            cw.Line("if (global::System.Threading.Interlocked.Exchange(ref _decodeBusy, 1) != 0) throw new InvalidOperationException(\"another thread is appending to this model's cache\");");
            using (cw.Block("try"))
            {
                cw.Line($"if (_cached == {steps}) throw new InvalidOperationException(\"the cache holds {steps} tokens, the whole context: ResetCache, then append the tokens to keep\");");
                cw.Line("if (_cached > 0 && _decodeVersion != _arena.Version) throw new InvalidOperationException(\"the parameters changed since the cache was filled: ResetCache and append the tokens again\");");
                cw.Line("var ws = _decode ??= new Workspace(_layout);");
                cw.Line("_decodeVersion = _arena.Version;");
                cw.Line("int t = _cached;");
                cw.Line($"ws.Ref({p.Buffers.Input} + t) = token;   // the input panel [1, {steps}]");
                cw.Line("ws.Batch = 1; ws.N = 1; ws.Ld = 1; ws.Training = false;");
                cw.Line("var width = _width;");
                foreach (var l in p.Layers) cw.Line($"{GeneratedNames.StepMethod(l)}(ws, t, width);");
                cw.Line($"for (int v = 0; v < {vocabulary}; v++) logits[v] = ws.Ref({p.Buffers.Layers[last.Index].Output} + (long)v * {steps} + t);");
                cw.Line("_cached = t + 1;");
            }
            cw.Line("finally { global::System.Threading.Volatile.Write(ref _decodeBusy, 0); }");
        }
        cw.Line();
    }

    /// <summary><c>Stateful</c> and <c>ResetStates</c>: streaming inference and truncated backpropagation through time.</summary>
    private static void EmitStateApi(CodeWriter cw, NetworkPlan p)
    {
        if (!HasState(p)) return;
        cw.Line("/// <summary>When true, every <c>Forward</c> / <c>Predict</c> starts each recurrent layer from the state the previous call");
        cw.Line("/// left for the same sample index (Keras's <c>stateful=True</c>): a long sequence fed in consecutive pieces gives what");
        cw.Line("/// one call on all of it would, and training on consecutive pieces is truncated backpropagation through time (the");
        cw.Line("/// carried state is a constant: no gradient flows into the previous piece). Turning it on starts from zero states.");
        cw.Line("/// One stream of states per model, so <c>Predict</c> then runs in the model's own workspace, one caller at a time.</summary>");
        cw.Line(GeneratedCode);
        using (cw.Block("public bool Stateful"))
        {
            cw.Line("get => _stateful;");
            var why = p.Layers.Select(l => l.Kind is ICSharpStateful st ? st.NoStreaming(l) : null).FirstOrDefault(r => r is not null);
            if (why is not null)
                cw.Line($"set {{ if (value) throw new NotSupportedException(\"{why}\"); _stateful = false; }}");
            else
                cw.Line("set { if (value && !_stateful) ResetStates(); _stateful = value; }");
        }
        cw.Line();
        cw.Line("/// <summary>Zeroes the states carried between calls (the start of new streams).</summary>");
        cw.Line("/// <exception cref=\"InvalidOperationException\">Another thread is using the model's own workspace.</exception>");
        cw.Line(GeneratedCode);
        using (cw.Block("public void ResetStates()"))
        {
            cw.Line("EnterMain();");
            using (cw.Block("try"))
                foreach (var l in p.Layers)
                    if (l.Kind is ICSharpStateful st) st.ResetState(cw, new CSharpLayer(p, l, new GemmEmitter()));
            cw.Line("finally { _workspaces.ExitMain(); }");
        }
        cw.Line();
        var stateful = p.Layers.Where(l => l.Kind is ICSharpStateful).ToList();
        string list = string.Join(", ", stateful.Select(l => l.Name));
        foreach (bool set in new[] { true, false })
        {
            cw.Line(set
                ? "/// <summary>Sets the state recurrent layer <paramref name=\"layer\"/> starts the next call from (<c>Stateful</c> must be on), for"
                : "/// <summary>Copies the state recurrent layer <paramref name=\"layer\"/> ended the last <c>Stateful</c> call with, for");
            cw.Line("/// samples <c>0…</c>: <paramref name=\"h\"/> sample-major <c>[samples, hidden]</c>, and an LSTM's <paramref name=\"cell\"/> alike (PyTorch's");
            cw.Line("/// <c>(h_0, c_0)</c> for one layer, batch first); empty for a GRU or an RNN.</summary>");
            cw.Line("/// <exception cref=\"ArgumentException\">No recurrent layer has that name, or a span's length does not fit.</exception>");
            cw.Line("/// <exception cref=\"InvalidOperationException\">" + (set ? "<c>Stateful</c> is off, or a" : "A") + "nother thread is using the model's own workspace.</exception>");
            cw.Line(GeneratedCode);
            using (cw.Block(set
                ? "public void SetState(string layer, ReadOnlySpan<float> h, ReadOnlySpan<float> cell = default)"
                : "public void GetState(string layer, Span<float> h, Span<float> cell = default)"))
            {
                if (set) cw.Line("if (!_stateful) throw new InvalidOperationException(\"set Stateful = true first: only a Stateful model starts a call from a carried state\");");
                cw.Line("EnterMain();");
                using (cw.Block("try"))
                {
                    using (cw.Block("switch (layer)"))
                    {
                        foreach (var l in stateful)
                        {
                            using (cw.Block($"case \"{l.Name}\":"))
                            {
                                ((ICSharpStateful)l.Kind).CopyState(cw, new CSharpLayer(p, l, new GemmEmitter()), set);
                                cw.Line("return;");
                            }
                        }
                        cw.Line("default:");
                        cw.Line($"    throw new ArgumentException($\"{p.ClassName} has no recurrent layer named '{{layer}}'; its recurrent layers are {list}\", nameof(layer));");
                    }
                }
                cw.Line("finally { _workspaces.ExitMain(); }");
            }
            cw.Line();
        }
    }

    private static void EmitForwardApi(CodeWriter cw, NetworkPlan p)
    {
        string busy = $"\"{p.ClassName} is in use on another thread: Predict may run on many threads at once, but Forward, Backward, GetOutput, " +
                      "GetActivation, ComputeLoss and FindNonFinite belong to one thread at a time\"";
        cw.Line("/// <summary>Runs the network on <c>input.Length / InputSize</c> samples, row-major <c>[batch, InputSize]</c>, keeping");
        cw.Line("/// the activations (for <c>GetOutput</c>, <c>GetActivation</c> and, with <paramref name=\"training\"/>, <c>Backward</c>).");
        cw.Line("/// Allocates nothing. Single-owner: one thread at a time (use <see cref=\"Predict\"/> from many threads).</summary>");
        cw.Line("/// <exception cref=\"ArgumentException\">The input is empty, not a whole number of samples, or more than <c>MaxBatch</c> samples.</exception>");
        cw.Line("/// <exception cref=\"InvalidOperationException\">Another thread is using the model's own workspace" + (p.Trainable ? "" : ", or <paramref name=\"training\"/> on an inference-only network") + ".</exception>");
        cw.Line("/// <exception cref=\"ObjectDisposedException\">The model has been disposed.</exception>");
        cw.Line(GeneratedCode);
        using (cw.Block("public void Forward(ReadOnlySpan<float> input, bool training = false)"))
        {
            cw.Line("int batch = BatchOf(input.Length);");
            if (HasInputCheck(p)) cw.Line("CheckInput(input);");
            if (!p.Trainable)
                cw.Line("if (training) throw new InvalidOperationException(\"" + p.ClassName + " is inference-only (no loss): it cannot run a training forward\");");
            cw.Line("EnterMain();");
            cw.Line("try { RunForward(_main, input, batch, training); }");
            cw.Line("finally { _workspaces.ExitMain(); }");
        }
        cw.Line();
        using (cw.Block("private void EnterMain()"))
            cw.Line($"if (!_workspaces.TryEnterMain()) throw new InvalidOperationException({busy});");
        cw.Line();
        cw.Line("/// <summary>The forward pass into <paramref name=\"ws\"/>: parameters are only read, so calls on different workspaces may overlap.</summary>");
        var inPlace = p.Layers.FirstOrDefault(l => l.Kind is ICSharpInPlaceInput k && k.ReadsInputInPlace(l, p));
        var inPlaceKind = inPlace?.Kind as ICSharpInPlaceInput;
        using (cw.Block("private void RunForward(Workspace ws, ReadOnlySpan<float> input, int batch, bool training)"))
        {
            if (NarrowPanels(p))
            {
                cw.Line($"int n = batch == 1 && !training ? 1 : global::ModelGen.Simd.SequencePanelWidth(batch, {p.Layers[0].OutShape[0]});   // columns computed per step (every layer works on whole sequences)");
                cw.Line($"int ld = global::ModelGen.Simd.SequenceStride(n, {p.Layers[0].OutShape[0]});   // stride of every step's block (n + 1: sequence rows off 4 KB multiples)");
            }
            else
            {
                cw.Line("int n = batch == 1 && !training ? 1 : global::ModelGen.Simd.PanelWidth(batch);   // columns computed");
                cw.Line("int ld = global::ModelGen.Simd.PanelStride(n);                                     // row stride of every panel");
            }
            if (p.ImageInput)
            {
                int c = p.InputShape[0], px = p.InputShape[1] * p.InputShape[2];
                cw.Line($"MG.Images.FromSamples(input, batch, {c}, {px}, {Geometry.LdP(px)}, ref ws.Ref({p.Buffers.Input}));   // [batch][{c}][{Geometry.LdP(px)}]");
            }
            else if (p.InputShape.IsSequence)
                cw.Line($"MG.Layout.SequencesToFeatureMajor(input, batch, {p.InputShape[0]}, {p.InputShape[1]}, ref ws.Ref({p.Buffers.Input}), ld);   // [{p.InputShape[1]}, {p.InputShape[0]}·ld]");
            else if (inPlace is not null)
            {
                // The input panel at inference too for the widths that do not read in place (the layer kind says which).
                var panelAt = Width.All.Where(w => !inPlaceKind!.ReadsInPlaceAt(w)).ToList();
                string rows = Isas(Width.All.Except(panelAt));
                string? inference = panelAt.Count == 0 ? null : $"n > 1 && {WidthIs(panelAt)}", condition = null, comment = null;
                if (p.Trainable)
                {
                    condition = inference is null ? "training" : $"training || ({inference})";
                    comment = $"the training forward reads the input as a panel ({inPlace.Name}'s weight gradient its rows){(inference is null ? "" : $", and so does {Isas(panelAt)}")}; {rows} inference read the caller's rows in place";
                }
                else if (inference is not null)
                {
                    condition = inference;
                    comment = $"{Isas(panelAt)} reads the input as a panel; {rows} read the caller's rows in place";
                }
                if (condition is not null)
                    using (cw.Block($"if ({condition})   // {comment}"))
                    {
                        cw.Line($"MG.Layout.ToFeatureMajor(input, batch, InputSize, ref ws.Ref({p.Buffers.Input}), ld);");
                        if (p.Trainable && p.Buffers.InputRows.Length > 0) cw.Line($"if (training) input.Slice(0, batch * InputSize).CopyTo(ws.Span({p.Buffers.InputRows}, batch * InputSize));");
                    }
            }
            else
                cw.Line($"MG.Layout.ToFeatureMajor(input, batch, InputSize, ref ws.Ref({p.Buffers.Input}), ld);");
            if (inPlace is null && p.Buffers.InputRows.Length > 0) cw.Line($"if (training) input.Slice(0, batch * InputSize).CopyTo(ws.Span({p.Buffers.InputRows}, batch * InputSize));");
            cw.Line("ws.Batch = batch; ws.N = n; ws.Ld = ld; ws.Training = training;");
            if (HasState(p)) cw.Line("ws.Carried = _stateful;   // Stateful: the recurrent layers start from the last call's final states");
            if (p.Trainable && p.Tensors.Any(t => t.Role == TensorRole.Buffer)) cw.Line("if (training) _arena.Touch();   // the running statistics move");
            if (p.Buffers.Folds.Any()) cw.Line("if (!training && FoldBatchNorm && ws.FoldedVersion != _arena.Version) FoldBatchNorms(ws);");
            var packs = p.Layers.SelectMany(l => (l.Kind as ICSharpPack)?.PackWhen(l, p) ?? System.Array.Empty<PackedFor>()).ToList();
            if (packs.Contains(PackedFor.EveryForward)) cw.Line("if (ws.PackedVersion != _arena.Version) PackWeights(ws);   // weights packed once per parameter version (Winograd filter transforms)");
            if (packs.Contains(PackedFor.Batch1)) cw.Line("if (n == 1 && ws.Batch1Version != _arena.Version) PackBatch1(ws);   // batch 1: weights transposed, once per parameter version");
            var packedAt = Width.All.Where(w => !w.IsScalar && inPlaceKind is not null && inPlaceKind.ReadsInPlaceAt(w)).ToList();   // the scalar path reads W as it is
            if (packs.Contains(PackedFor.InferenceBatches) && packedAt.Count > 0)
                cw.Line($"if (n > 1 && !training && {WidthIs(packedAt)} && ws.RowsVersion != _arena.Version) PackRows(ws);   // the in-place batch path: Wᵀ in panels, once per parameter version");
            if (p.Layers.Any(l => l.Kind is ICSharpPanelPack pack && pack.PacksPanels(l)))
                cw.Line("if (n > 1 && _width != global::ModelGen.SimdWidth.Scalar && ws.PanelVersion != _arena.Version) PackPanels(ws);   // recurrent weights in GEMM panels");
            if (inPlace is null) EmitDispatch(cw, p, backward: false);
            else cw.Line($"ws.WithInput(input, this, s_forwardLayers);   // the layers, the caller's input pinned: at inference ({string.Join(", ", Width.All.Where(inPlaceKind!.ReadsInPlaceAt).Select(w => w.Isa))}; batch 1 at any width) {inPlace.Name} reads it in place");
        }
        if (inPlace is not null)
        {
            cw.Line();
            cw.Line("private static readonly global::System.Action<" + p.ClassName + ", Workspace> s_forwardLayers = static (model, ws) => model.ForwardLayers(ws);");
            cw.Line();
            cw.Line("/// <summary>The layers of a forward whose input <see cref=\"RunForward\"/> has prepared (and, for reading in place, pinned).</summary>");
            using (cw.Block("private void ForwardLayers(Workspace ws)"))
            {
                cw.Line("int n = ws.N, ld = ws.Ld;");
                EmitDispatch(cw, p, backward: false);
            }
        }
        cw.Line();
        cw.Line("/// <summary>Runs the inference path once on zeros, at batch 1 and at <c>min(maxBatch, 17)</c> (two 16-column panels), so");
        cw.Line("/// that the JIT compiles it while the model is built — as ONNX Runtime prepares its kernels when a session is created —");
        cw.Line("/// and the first <see cref=\"Predict\"/> runs at full speed. Leaves no trace: no forward has run as far as");
        cw.Line("/// <c>GetOutput</c> and <c>Backward</c> are concerned, and <c>Stateful</c> starts from zero states when turned on.</summary>");
        using (cw.Block("private void WarmUp()"))
        {
            cw.Line("int batch = Math.Min(_maxBatch, 17);");
            cw.Line("var input = new float[batch * InputSize];   // zeros: a valid input of every kind (token id 0 included)");
            cw.Line("var output = new float[batch * OutputSize];");
            cw.Line("Predict(input.AsSpan(0, InputSize), output.AsSpan(0, OutputSize));");
            cw.Line("if (batch > 1) Predict(input, output);");
            cw.Line("_main.Batch = 0;   // in the model's own workspace (the one Predict rents first)");
        }
        cw.Line();
        cw.Line("/// <summary>Copies the last <see cref=\"Forward\"/>'s outputs, row-major <c>[batch, OutputSize]</c>.</summary>");
        cw.Line("/// <exception cref=\"InvalidOperationException\">No forward has run yet, or another thread is using the model's own workspace.</exception>");
        cw.Line("/// <exception cref=\"ArgumentException\"><paramref name=\"output\"/> does not hold exactly <c>batch × OutputSize</c> floats.</exception>");
        cw.Line(GeneratedCode);
        using (cw.Block("public void GetOutput(Span<float> output)"))
        {
            cw.Line("EnterMain();");
            cw.Line("try { CopyOutput(_main, output); }");
            cw.Line("finally { _workspaces.ExitMain(); }");
        }
        cw.Line();
        var lastLayer = p.Layers[p.Layers.Count - 1];
        using (cw.Block("private void CopyOutput(Workspace ws, Span<float> output)"))
        {
            cw.Line("if (ws.Batch == 0) throw new InvalidOperationException(\"call Forward or Predict before GetOutput\");");
            cw.Line("if (output.Length != ws.Batch * OutputSize) throw new ArgumentException($\"output holds {output.Length} floats; the last forward produced {ws.Batch} × {OutputSize}\", nameof(output));");
            cw.Line(ToSamples(lastLayer.OutShape, Last(p), "ws.Batch", "output"));
        }
        cw.Line();
        string logits = p.Trainable && p.Loss is { } lp && lp.Kind is LossKind.SoftmaxCrossEntropy or LossKind.BinaryCrossEntropy or LossKind.MultiClassHinge or LossKind.Hinge
            ? " The outputs are what the last layer computes — <b>logits</b> or scores, not probabilities, since the loss applies the softmax/sigmoid itself" +
              (p.Loss!.Kind is LossKind.SoftmaxCrossEntropy or LossKind.BinaryCrossEntropy ? " (see <see cref=\"PredictProbabilities\"/>)." : ".")
            : "";
        cw.Line("/// <summary>Inference: <c>output[batch, OutputSize] = network(input[batch, InputSize])</c>. Allocates nothing in steady state." + logits);
        cw.Line("/// <para>Thread-safe: any number of threads may call <c>Predict</c> on one model at once (each call runs in a workspace of");
        cw.Line("/// its own; the parameters are shared and only read). Not while the model trains: <c>Step</c>, <c>Load</c>, writes to");
        cw.Line("/// <c>Parameters</c> and <c>Dispose</c> must not overlap a <c>Predict</c>.</para></summary>");
        cw.Line("/// <exception cref=\"ArgumentException\">The input is empty, not a whole number of samples, more than <c>MaxBatch</c> samples,");
        cw.Line("/// or <paramref name=\"output\"/> does not hold exactly <c>batch × OutputSize</c> floats.</exception>");
        cw.Line("/// <exception cref=\"ObjectDisposedException\">The model has been disposed.</exception>");
        cw.Line(GeneratedCode);
        using (cw.Block("public void Predict(ReadOnlySpan<float> input, Span<float> output)"))
        {
            cw.Line("int batch = BatchOf(input.Length);");
            cw.Line("if (output.Length != batch * OutputSize) throw new ArgumentException($\"output holds {output.Length} floats; {batch} samples need {batch * OutputSize}\", nameof(output));");
            if (HasInputCheck(p)) cw.Line("CheckInput(input);");
            if (HasState(p))
                using (cw.Block("if (_stateful)   // one stream of states: the model's own workspace, one caller at a time"))
                {
                    cw.Line("EnterMain();");
                    cw.Line("try { RunForward(_main, input, batch, training: false); CopyOutput(_main, output); }");
                    cw.Line("finally { _workspaces.ExitMain(); }");
                    cw.Line("return;");
                }
            cw.Line("if (_team is { } team && team.TryRun(input, output, batch, InputSize, OutputSize, _predictShare)) return;   // split over Threads");
            cw.Line("PredictShare(input, output);");
        }
        cw.Line();
        cw.Line("/// <summary>Predict on the calling thread: one forward pass in one workspace.</summary>");
        using (cw.Block("private void PredictShare(ReadOnlySpan<float> input, Span<float> output)"))
        {
            cw.Line("int batch = input.Length / InputSize;");
            cw.Line("var ws = _workspaces.Rent();   // the model's own workspace when free, else a spare (created once, then reused)");
            cw.Line("try { RunForward(ws, input, batch, training: false); CopyOutput(ws, output); }");
            cw.Line("finally { _workspaces.Return(ws); }");
        }
        cw.Line();
        cw.Line("/// <summary>Intra-op threads (default 1: off), the calling thread included; the others sleep between calls (after");
        cw.Line("/// at most 100 µs of polling: an idle model burns no core). A <see cref=\"Predict\"/> of 32 samples or more is split into");
        cw.Line("/// whole 16-sample blocks, each run in a workspace of its own; training and smaller batches split each large layer's");
        cw.Line("/// products (samples, or row blocks of a weight gradient), and <see cref=\"Step\"/> updates a block of 256 K parameters or");
        cw.Line("/// more in ranges, one per thread (the built-in optimisers). Every number is computed in the one-thread order, so");
        cw.Line("/// outputs, gradients and trained parameters are bitwise the same for every thread count.</summary>");
        cw.Line("/// <exception cref=\"ArgumentOutOfRangeException\">The value is below 1.</exception>");
        cw.Line(GeneratedCode);
        using (cw.Block("public int Threads"))
        {
            cw.Line("get => _team?.Count ?? 1;");
            using (cw.Block("set"))
            {
                cw.Line("if (value < 1) throw new ArgumentOutOfRangeException(nameof(value), value, \"Threads must be at least 1 (the calling thread)\");");
                cw.Line("if (value == Threads) return;");
                cw.Line("_team?.Dispose();");
                cw.Line($"_team = value > 1 ? new ThreadTeam(value, \"{p.ClassName}\", () => new Workspace(_layout)) : null;");
            }
        }
        cw.Line();
        if (p.Trainable && p.Loss is { } loss && loss.Kind is LossKind.SoftmaxCrossEntropy or LossKind.BinaryCrossEntropy)
        {
            bool softmax = loss.Kind == LossKind.SoftmaxCrossEntropy;
            cw.Line(softmax
                ? "/// <summary><see cref=\"Predict\"/>, then the softmax of each sample's logits: class probabilities, each row summing to 1. Thread-safe as <see cref=\"Predict\"/>.</summary>"
                : "/// <summary><see cref=\"Predict\"/>, then the sigmoid of each sample's logit: the probability of class 1. Thread-safe as <see cref=\"Predict\"/>.</summary>");
            cw.Line("/// <exception cref=\"ArgumentException\">As <see cref=\"Predict\"/>.</exception>");
            cw.Line(GeneratedCode);
            using (cw.Block("public void PredictProbabilities(ReadOnlySpan<float> input, Span<float> probabilities)"))
            {
                cw.Line("Predict(input, probabilities);");
                cw.Line(softmax
                    ? $"MG.Softmax.Rows(probabilities, {(p.Layers[p.Layers.Count - 1].OutShape is { IsSequence: true } so ? so[1].ToString() + ");   // every step's classes" : "OutputSize);")}"
                    : "MG.Activations.Forward(MG.Activation.Sigmoid, 0f, probabilities, probabilities, _width);");
            }
            cw.Line();
        }
        EmitGetActivation(cw, p, busy);
        EmitStateApi(cw, p);
        if (Decodable(p)) EmitDecodeApi(cw, p);
        if (HasInputCheck(p))
        {
            cw.Line("/// <summary>The input's values that a layer cannot take (token ids that are not ids), named by sample and position.</summary>");
            using (cw.Block("private static void CheckInput(ReadOnlySpan<float> input)"))
                foreach (var l in p.Layers)
                    if (l.Kind is ICSharpInputCheck check) check.CheckInput(cw, new CSharpLayer(p, l, new GemmEmitter()));
            cw.Line();
        }
        using (cw.Block("private int BatchOf(int inputLength)"))
        {
            cw.Line($"if (inputLength == 0) throw new ArgumentException(\"input is empty: give at least one {p.ClassName} sample of {p.InputSize} floats ({ShapeText(p)})\", \"input\");");
            cw.Line("if (inputLength % InputSize != 0)");
            cw.Line($"    throw new ArgumentException($\"input holds {{inputLength}} floats, not a whole number of {p.ClassName} samples of {{InputSize}} floats ({ShapeText(p)})\", \"input\");");
            cw.Line("int batch = inputLength / InputSize;");
            cw.Line("if (batch > _maxBatch) throw new ArgumentException($\"batch of {batch} samples exceeds maxBatch = {_maxBatch} given to the constructor\", \"input\");");
            cw.Line("return batch;");
        }
        cw.Line();
    }

    /// <summary><c>GetActivation(name, destination)</c>: a layer's output of the last forward, sample-major. A layer
    /// whose memory a later layer reuses (inference-only networks) or that a folded BatchNorm skips says so.</summary>
    private static void EmitGetActivation(CodeWriter cw, NetworkPlan p, string busy)
    {
        var bufferOf = p.Buffers.Buffers.ToDictionary(b => b.Field, b => b);
        string Slot(int i) { var b = bufferOf[p.Buffers.Layers[i].Output]; return b.AliasOf.Length > 0 ? b.AliasOf : b.Field; }
        string names = string.Join(", ", p.Layers.Select(l => l.Name));
        cw.Line("/// <summary>Copies the output of layer <paramref name=\"layer\"/> (its name, e.g. <c>nameof(Model.Hidden1)</c>) from the last");
        cw.Line("/// <see cref=\"Forward\"/>, sample-major <c>[batch, size of the layer's output shape]</c> (images as <c>[batch, C·H·W]</c>).</summary>");
        cw.Line("/// <exception cref=\"ArgumentException\">No layer has that name, or <paramref name=\"destination\"/> has the wrong length.</exception>");
        cw.Line("/// <exception cref=\"InvalidOperationException\">No forward has run, the output was not kept (memory reused, or a BatchNorm folded");
        cw.Line("/// into it), or another thread is using the model's own workspace.</exception>");
        cw.Line(GeneratedCode);
        using (cw.Block("public void GetActivation(string layer, Span<float> destination)"))
        {
            cw.Line("ArgumentNullException.ThrowIfNull(layer);");
            cw.Line("EnterMain();");
            using (cw.Block("try"))
            {
                cw.Line("var ws = _main;");
                cw.Line("if (ws.Batch == 0) throw new InvalidOperationException(\"call Forward before GetActivation\");");
                using (cw.Block("switch (layer)"))
                {
                    foreach (var l in p.Layers)
                    {
                        cw.Line($"case \"{l.Name}\":");
                        if (p.Buffers.Layers[l.Index].FoldInto >= 0)
                            cw.Line($"    if (!ws.Training && FoldBatchNorm) throw new InvalidOperationException(\"{l.Name}'s own output is not computed in inference: {p.Layers[p.Buffers.Layers[l.Index].FoldInto].Name} is folded into it (set FoldBatchNorm = false to keep it)\");");
                        var own = p.Buffers.Layers[l.Index];
                        if (own.FoldInto < 0 && own.FuseInto >= 0)   // (with a fold, the refusal above names the switch that keeps this output)
                            cw.Line($"    if (!ws.Training && FusePooling) throw new InvalidOperationException(\"{l.Name}'s own output is not computed in inference: {p.Layers[own.FuseInto].Name} is fused into it (set FusePooling = false to keep it)\");");
                        if (own.FoldedInto >= 0 && p.Buffers.Layers[own.FoldedInto].FuseInto >= 0)   // a folded BatchNorm whose pooling is fused in too
                            cw.Line($"    if (!ws.Training && FoldBatchNorm && FusePooling) throw new InvalidOperationException(\"{l.Name}'s output is not computed in inference: it is folded into {p.Layers[own.FoldedInto].Name} and {p.Layers[p.Buffers.Layers[own.FoldedInto].FuseInto].Name} is fused in after it (set FusePooling = false to keep it)\");");
                        var later = p.Layers.FirstOrDefault(o => o.Index > l.Index && Slot(o.Index) == Slot(l.Index));
                        if (later is not null)
                        {
                            cw.Line($"    throw new InvalidOperationException(\"{l.Name}'s output is not kept: this inference-only network reuses its memory for {later.Name}\");");
                            continue;
                        }
                        cw.Line($"    if (destination.Length != ws.Batch * {l.Out}) throw new ArgumentException($\"destination holds {{destination.Length}} floats; {l.Name} {l.OutShape} of {{ws.Batch}} samples needs {{ws.Batch * {l.Out}}}\", nameof(destination));");
                        cw.Line("    " + ToSamples(l.OutShape, p.Buffers.Layers[l.Index].Output, "ws.Batch", "destination"));
                        cw.Line("    return;");
                    }
                    cw.Line("default:");
                    cw.Line($"    throw new ArgumentException($\"{p.ClassName} has no layer named '{{layer}}'; its layers are {names}\", nameof(layer));");
                }
            }
            cw.Line("finally { _workspaces.ExitMain(); }");
        }
        cw.Line();
    }

    private static string ShapeText(NetworkPlan p) => Text.Dims(p.InputShape.Dims);

    /// <summary>The loss's formula, for the banner.</summary>
    private static string LossMath(LossPlan loss) => loss.Kind switch
    {
        LossKind.SoftmaxCrossEntropy => "L = (1/B) Σ_b [log Σ_c e^{z[c,b]} − z[y_b,b]];  dz[c,b] = (softmax(z[:,b])_c − [c = y_b]) / B",
        LossKind.MultiClassHinge => "L = (1/B) Σ_b Σ_{j≠y_b} max(0, s[j,b] − s[y_b,b] + 1);  ds[j,b] = [margin_j > 0]/B, ds[y_b,b] = −(count of margins > 0)/B",
        LossKind.Mse => "L = (1/(B·N)) Σ (y − t)²;  dy = 2(y − t)/(B·N)",
        LossKind.Mae => "L = (1/(B·N)) Σ |y − t|;  dy = sign(y − t)/(B·N)   (0 at y = t)",
        LossKind.Huber => $"d = y − t;  ℓ = ½d² if |d| ≤ δ else δ(|d| − ½δ), δ = {Text.Num(loss.Param)};  L = mean ℓ;  dy = clamp(d, −δ, δ)/(B·N)",
        LossKind.Quantile => $"d = t − y;  ℓ = max(τd, (τ − 1)d), τ = {Text.Num(loss.Param)};  L = mean ℓ;  dy = (d > 0 ? −τ : d < 0 ? 1 − τ : 0)/(B·N)",
        LossKind.BinaryCrossEntropy => "ℓ = max(z, 0) − z·t + log(1 + e^{−|z|})   (= −t·log σ(z) − (1−t)·log(1 − σ(z)), stable);  dz = (σ(z) − t)/B",
        LossKind.Hinge => "ℓ = max(0, 1 − t·s), t ∈ {−1, +1};  L = mean ℓ;  ds = (t·s < 1 ? −t : 0)/B",
        _ => "",
    };

    private static void EmitTrainingApi(CodeWriter cw, NetworkPlan p)
    {
        var loss = p.Loss!;
        bool labels = loss.TakesLabels;
        string last = Last(p), lastGrad = p.Buffers.Layers[p.Layers.Count - 1].OutputGrad;
        var outShape = p.Layers[p.Layers.Count - 1].OutShape;
        string call(string g, string with) => loss.Kind switch
        {
            LossKind.SoftmaxCrossEntropy when outShape.IsSequence =>
                $"MG.Losses.SequenceSoftmaxCrossEntropy(ref ws.Ref({last}), {outShape[1]}, {outShape[0]}, ws.Ld, ws.Batch, labels, ref {g}, {with})",
            LossKind.SoftmaxCrossEntropy or LossKind.MultiClassHinge =>
                $"MG.Losses.{loss.Kind}(ref ws.Ref({last}), OutputSize, ws.Ld, ws.Batch, labels, ref {g}, {with})",
            _ => $"MG.Losses.Elementwise(global::ModelGen.LossKind.{loss.Kind}, {Text.Float(loss.Param)}, ref ws.Ref({last}), OutputSize, ws.Ld, ws.Batch, targets, ref {g}, {with})",
        };
        string good = labels ? "ReadOnlySpan<int> labels" : "ReadOnlySpan<float> targets";
        string bad = labels ? "ReadOnlySpan<float> targets" : "ReadOnlySpan<int> labels";
        string goodArg = labels ? "labels" : "targets";
        string badMsg = labels
            ? $"\"{p.ClassName}'s loss {loss.Name} is {loss.Kind}: it takes integer class labels, not float targets\""
            : $"\"{p.ClassName}'s loss {loss.Name} is {loss.Kind}: it takes float targets, not class labels\"";
        var regularised = p.Tensors.Where(t => t.L2 > 0f).ToList();

        cw.Line("/// <summary>The declared loss.</summary>");
        cw.Line(GeneratedCode);
        cw.Line($"public LossKind LossKind => global::ModelGen.LossKind.{loss.Kind};");
        if (labels && outShape.IsSequence)
        {
            cw.Line($"/// <summary>One label per step: {outShape[0]} per sample, sample-major <c>[batch, {outShape[0]}]</c> (−100 skips a step).</summary>");
            cw.Line(GeneratedCode);
            cw.Line($"public int LabelsPerSample => {outShape[0]};");
        }
        cw.Line("/// <summary>Gradients, laid out as <see cref=\"Parameters\"/>.</summary>");
        cw.Line(GeneratedCode);
        cw.Line("public Span<float> Gradients => _arena.Span(GradientBase, ParameterRegion);");
        cw.Line("/// <summary>Sets every gradient to zero.</summary>");
        cw.Line(GeneratedCode);
        var sparse = p.SparseTensors;
        if (sparse.Count == 0)
            cw.Line("public void ZeroGrad() => ThreadTeam.Clear(_team, Gradients);   // a large block over Threads");
        else
            using (cw.Block("public void ZeroGrad()"))
            {
                cw.Line("var g = Gradients;");
                int at = 0;
                for (int k = 0; k < sparse.Count; k++)
                {
                    var t = sparse[k];
                    if (t.Offset > at) cw.Line($"g.Slice({at}, {t.Offset - at}).Clear();");
                    cw.Line($"_sparseTables[{k}].ClearGradients(g);   // {t.Name}: the rows used since the last ZeroGrad");
                    at = t.Offset + t.Length;
                }
                cw.Line($"g.Slice({at}).Clear();");
            }
        cw.Line("/// <summary>One optimiser update of the parameters from the gradients (optimiser state lives with the model).");
        cw.Line("/// Single-owner, and never during a <see cref=\"Predict\"/> on another thread (it writes the parameters).</summary>");
        cw.Line("/// <exception cref=\"ArgumentNullException\"><paramref name=\"optimizer\"/> is null.</exception>");
        cw.Line(GeneratedCode);
        cw.Line(sparse.Count == 0
            ? "public void Step(global::ModelGen.Training.Optimizer optimizer) => _optimizerState.Step(optimizer, Parameters, Gradients, s_tensors, _width, _team);   // a large block over Threads"
            : "public void Step(global::ModelGen.Training.Optimizer optimizer) => _optimizerState.Step(optimizer, Parameters, Gradients, s_tensors, _width, _sparseTables);   // sparse tables: the rows used only");
        cw.Line();
        cw.Line(regularised.Count == 0
            ? "private float Penalty() => 0f;"
            : "/// <summary>λ·Σ W² over the regularised weights (biases never).</summary>");
        if (regularised.Count > 0)
        {
            cw.Line("private float Penalty() =>");
            cw.Line("    " + string.Join("\n        + ", regularised.Select(t =>
                $"MG.Regularization.L2Penalty(_arena.Span({t.Const}, {t.Length}), {Text.Float(t.L2)}, _width)")) + ";");
        }
        cw.Line();
        cw.Line($"/// <summary>Mean {loss.Kind} loss of the last forward{(regularised.Count > 0 ? " plus the L2 penalty" : "")}.</summary>");
        cw.Line("/// <exception cref=\"InvalidOperationException\">No forward has run, or another thread is using the model's own workspace.</exception>");
        cw.Line("/// <exception cref=\"ArgumentException\">The " + (labels ? "labels do not match the batch, or a label is not a class index" : "targets do not match the batch") + ".</exception>");
        cw.Line(GeneratedCode);
        using (cw.Block($"public float ComputeLoss({good})"))
        {
            cw.Line("EnterMain();");
            using (cw.Block("try"))
            {
                cw.Line("var ws = _main;");
                cw.Line("if (ws.Batch == 0) throw new InvalidOperationException(\"call Forward before ComputeLoss\");");
                cw.Line("return " + call("Unsafe.NullRef<float>()", "false") + " + Penalty();");
            }
            cw.Line("finally { _workspaces.ExitMain(); }");
        }
        cw.Line($"float ITrainableNetwork.ComputeLoss({bad}) => throw new InvalidOperationException({badMsg});");
        cw.Line();
        cw.Line($"// ── {loss.Name}: {loss.Kind} " + new string('─', 80));
        cw.Line("// " + (outShape.IsSequence ? "at every step, over the N labelled (sample, step) pairs (label −100 skips one): " + LossMath(loss).Replace("(1/B)", "(1/N)").Replace(") / B", ") / N") : LossMath(loss)));
        foreach (var t in regularised)
            cw.Line($"// + L2 on {t.Name}: {Text.Num(t.L2)}·Σ W²  (dW += {Text.Num(2 * t.L2)}·W)");
        string exceptions = "/// <exception cref=\"InvalidOperationException\">The last forward was not <c>Forward(input, training: true)</c>, or another thread is using the model's own workspace.</exception>\n" +
            "/// <exception cref=\"ArgumentException\">The " + (labels ? "labels do not match the batch, or a label is not a class index" : "targets do not match the batch") + ".</exception>";
        cw.Line("/// <summary>Loss of the last training forward, back-propagated through every layer; gradients are");
        cw.Line("/// <b>added</b> to <see cref=\"Gradients\"/> (call <see cref=\"ZeroGrad\"/> first). Returns the mean loss.</summary>");
        foreach (var line in exceptions.Split('\n')) cw.Line(line);
        cw.Line(GeneratedCode);
        cw.Line($"public float Backward({good}) => BackwardCore({goodArg}, default, false);");
        cw.Line("/// <summary>As <see cref=\"Backward(" + (labels ? "ReadOnlySpan{int}" : "ReadOnlySpan{float}") + ")\"/>, and also writes d loss / d input to <paramref name=\"inputGradient\"/>,");
        cw.Line("/// row-major <c>[batch, InputSize]</c> like the input (attribution, adversarial examples, gradient checks of the whole model).</summary>");
        foreach (var line in exceptions.Split('\n')) cw.Line(line);
        cw.Line(GeneratedCode);
        cw.Line($"public float Backward({good}, Span<float> inputGradient) => BackwardCore({goodArg}, inputGradient, true);");
        cw.Line();
        using (cw.Block($"private float BackwardCore({good}, Span<float> inputGradient, bool withInputGradient)"))
        {
            cw.Line("EnterMain();");
            using (cw.Block("try"))
            {
                cw.Line("var ws = _main;");
                cw.Line("if (!ws.Training) throw new InvalidOperationException(\"call Forward(input, training: true) before Backward\");");
                cw.Line("int batch = ws.Batch, n = ws.N, ld = ws.Ld;");
                cw.Line("if (withInputGradient && inputGradient.Length != batch * InputSize)");
                cw.Line("    throw new ArgumentException($\"inputGradient holds {inputGradient.Length} floats; the last forward's {batch} samples need {batch * InputSize}\", nameof(inputGradient));");
                cw.Line("ws.InputGradient = withInputGradient;");
                cw.Line($"float loss = {call($"ws.Ref({lastGrad})", "true")};");
                EmitDispatch(cw, p, backward: true);
                foreach (var t in regularised)
                    cw.Line($"loss += MG.Regularization.AddL2Gradient(_arena.Span({t.Const}, {t.Length}), _arena.Span(GradientBase + {t.Const}, {t.Length}), {Text.Float(t.L2)}, _width);");
                cw.Line("if (withInputGradient) " + ToSamples(p.InputShape, p.Buffers.InputGrad, "batch", "inputGradient"));
                cw.Line("return loss;");
            }
            cw.Line("finally { _workspaces.ExitMain(); }");
        }
        cw.Line($"float ITrainableNetwork.Backward({bad}) => throw new InvalidOperationException({badMsg});");
        cw.Line($"float ITrainableNetwork.Backward({bad}, Span<float> inputGradient) => throw new InvalidOperationException({badMsg});");
        cw.Line();
        EmitFindNonFinite(cw, p);
    }

    private static void EmitFindNonFinite(CodeWriter cw, NetworkPlan p)
    {
        cw.Line("/// <summary>The first place, in forward order, that holds a NaN or an infinity: a layer's parameters,");
        cw.Line("/// its output of the last forward, or its gradients. Null when all are finite.</summary>");
        cw.Line(GeneratedCode);
        using (cw.Block("public string? FindNonFinite()"))
        {
            cw.Line("EnterMain();");
            cw.Line("try { return FindNonFinite(_main); }");
            cw.Line("finally { _workspaces.ExitMain(); }");
        }
        cw.Line();
        using (cw.Block("private string? FindNonFinite(Workspace ws)"))
        {
            foreach (var l in p.Layers.Where(l => l.HasParameters))
                cw.Line("if (" + string.Join(" || ", l.Tensors.Select(t => $"!MG.Numerics.AllFinite(_arena.Span({t.Const}, {t.Length}))")) + $") return \"{l.Name} (parameters)\";");
            using (cw.Block("if (ws.Batch > 0)"))
                foreach (var l in p.Layers)
                {
                    string y = p.Buffers.Layers[l.Index].Output;
                    cw.Line(l.ImageOut
                        ? $"if (!MG.Numerics.AllFinite(ref ws.Ref({y}), ws.Batch * {l.OutShape[0]}, {Geometry.LdP(l.OutPixels)}, {l.OutPixels})) return \"{l.Name} (output)\";"
                        : $"if (!MG.Numerics.AllFinite(ref ws.Ref({y}), {l.Out}, ws.Ld, ws.Batch)) return \"{l.Name} (output)\";");
                }
            foreach (var l in p.Layers.Where(l => l.Tensors.Any(t => t.Trainable)))
                cw.Line("if (" + string.Join(" || ", l.Tensors.Where(t => t.Trainable).Select(t => $"!MG.Numerics.AllFinite(_arena.Span(GradientBase + {t.Const}, {t.Length}))")) + $") return \"{l.Name} (gradients)\";");
            cw.Line("return null;");
        }
        cw.Line();
    }

    /// <summary>For a layer a <c>[TransformerBlock]</c> added (it has no member of its own), which block and which part;
    /// for the block's own layer (the one after its parts), that it is the block's output; else nothing.</summary>
    private static string BlockNote(NetworkPlan p, LayerPlan l)
    {
        if (l.Block is not { } block) return "";
        if (l.Name == block) return $"(TransformerBlock {block}: its output) ";
        int part = System.Array.IndexOf(Layers.TransformerBlock.Parts, l.Name.Substring(block.Length)) + 1;
        return $"(TransformerBlock {block}, part {part} of {Layers.TransformerBlock.Parts.Length + 1}) ";
    }

    private static void EmitLayers(CodeWriter cw, NetworkPlan p, GemmEmitter gemm, PartRegistry parts)
    {
        foreach (var l in p.Layers)
        {
            var ctx = new CSharpLayer(p, l, gemm, parts);
            var code = Code(l);
            string title = $"// ── {l.Name}: {l.Description} {l.InShape} → {l.OutShape} {BlockNote(p, l)}";
            cw.Line(title + new string('─', System.Math.Max(4, 110 - title.Length)));
            foreach (var line in l.Kind.Math(l, p)) cw.Line("// " + line);
            foreach (var w in Width.All) { code.Forward(cw, ctx, w); cw.Line(); }
            if (Decodable(p))
            {
                using (cw.Block($"private void {GeneratedNames.StepMethod(l)}(Workspace ws, int t, SimdWidth width)   // incremental decoding: column t of the batch-1 panels"))
                    ((ICSharpDecodeStep)l.Kind).Step(cw, ctx);
                cw.Line();
            }
            if (p.Trainable)
                foreach (var w in Width.All) { code.Backward(cw, ctx, w); cw.Line(); }
        }
    }

    /// <summary>The dispatcher of the layer phases split over threads (each a <c>…Part_…</c> method above).</summary>
    private static void EmitParts(CodeWriter cw, PartRegistry parts)
    {
        cw.Line("// ── Threads ─────────────────────────────────────────────────────────────────────────────────────────────────");
        cw.Line("// A layer phase with at least two units of work (samples, or row blocks of a product) is split over the team's");
        cw.Line("// threads when Threads > 1 and the team is free; part 0 runs on the calling thread. Every output element is");
        cw.Line("// computed by one part, in the order one thread would use: the results are bitwise the same for any thread count.");
        using (cw.Block("private bool TryParallel(Workspace ws, int task, int units, int chunks = 1)"))
            cw.Line("return units >= 2 && _team is { } team && team.TryFor(units, _runPart, ws, task, chunks);");
        cw.Line();
        using (cw.Block("private void RunPart(Workspace ws, Workspace ts, int task, int part, int parts)"))
        using (cw.Block("switch (task)"))
        {
            for (int i = 0; i < parts.Methods.Count; i++)
                cw.Line($"case {i}: {parts.Methods[i]}(ws, ts, part, parts); break;");
            cw.Line("default: throw new ArgumentOutOfRangeException(nameof(task), task, \"no such part task\");");
        }
    }
}
