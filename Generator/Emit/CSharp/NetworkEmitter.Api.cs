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
                    cw.Line(backward ? $"    {GeneratedNames.BackwardMethod(l, w.Name)}(batch, n, ld);" : $"    {GeneratedNames.ForwardMethod(l, w.Name)}(n, ld);");
                    if (!backward) continue;
                    // A tensor read by several layers sums their gradients: the later readers add theirs here.
                    foreach (var add in p.Buffers.GradientAdds.Where(a => a.AfterLayer == l.Index))
                    {
                        var t = p.Layers[add.Tensor];
                        string grad = p.Buffers.Layers[add.Tensor].OutputGrad, ext = CSharpLayer.Extent(t.OutShape);
                        cw.Line($"    MG.Sum.Add(_arena.Span({grad}, {ext}), _arena.Span({add.Private}, {ext}), _arena.Span({grad}, {ext}), {w.Enum});   // d{t.Name} += from {l.Name}");
                    }
                }
                cw.Line("    break;");
            }
        }
    }

    private static void EmitForwardApi(CodeWriter cw, NetworkPlan p)
    {
        cw.Line("/// <summary>Runs the network on <c>input.Length / InputSize</c> samples, row-major <c>[batch, InputSize]</c>.");
        cw.Line("/// With <paramref name=\"training\"/> the activations are kept for <c>Backward</c>. Allocates nothing.</summary>");
        cw.Line(GeneratedCode);
        using (cw.Block("public void Forward(ReadOnlySpan<float> input, bool training = false)"))
        {
            cw.Line("int batch = BatchOf(input.Length);");
            if (!p.Trainable)
                cw.Line("if (training) throw new InvalidOperationException(\"" + p.ClassName + " is inference-only (no loss): it cannot run a training forward\");");
            cw.Line("int n = batch == 1 && !training ? 1 : global::ModelGen.Simd.PanelWidth(batch);   // columns computed");
            cw.Line("int ld = global::ModelGen.Simd.PanelStride(n);                                     // row stride of every panel");
            if (p.ImageInput)
            {
                int c = p.InputShape[0], px = p.InputShape[1] * p.InputShape[2];
                cw.Line($"MG.Images.FromSamples(input, batch, {c}, {px}, {Geometry.LdP(px)}, ref _arena.Ref({p.Buffers.Input}));   // [batch][{c}][{Geometry.LdP(px)}]");
            }
            else
                cw.Line($"MG.Layout.ToFeatureMajor(input, batch, InputSize, ref _arena.Ref({p.Buffers.Input}), ld);");
            if (p.Buffers.InputRows.Length > 0) cw.Line($"if (training) input.Slice(0, batch * InputSize).CopyTo(_arena.Span({p.Buffers.InputRows}, batch * InputSize));");
            cw.Line("_batch = batch; _n = n; _ld = ld; _training = training;");
            if (p.Trainable && p.Tensors.Any(t => t.Role == TensorRole.Buffer)) cw.Line("if (training) _arena.Touch();   // the running statistics move");
            if (p.Buffers.Folds.Any()) cw.Line("if (!training && FoldBatchNorm && _foldedVersion != _arena.Version) FoldBatchNorms();");
            EmitDispatch(cw, p, backward: false);
        }
        cw.Line();
        cw.Line("/// <summary>Copies the last forward's outputs, row-major <c>[batch, OutputSize]</c>.</summary>");
        cw.Line(GeneratedCode);
        using (cw.Block("public void GetOutput(Span<float> output)"))
        {
            cw.Line("if (_batch == 0) throw new InvalidOperationException(\"call Forward or Predict before GetOutput\");");
            cw.Line("if (output.Length != _batch * OutputSize) throw new ArgumentException($\"output holds {output.Length} floats; the last forward produced {_batch} × {OutputSize}\", nameof(output));");
            var lastLayer = p.Layers[p.Layers.Count - 1];
            if (lastLayer.ImageOut)
                cw.Line($"MG.Images.ToSamples(ref _arena.Ref({Last(p)}), _batch, {lastLayer.OutShape[0]}, {lastLayer.OutPixels}, {Geometry.LdP(lastLayer.OutPixels)}, output);");
            else
                cw.Line($"MG.Layout.ToSampleMajor(ref _arena.Ref({Last(p)}), OutputSize, _ld, _batch, output);");
        }
        cw.Line();
        cw.Line("/// <summary>Inference: <c>output[batch, OutputSize] = network(input[batch, InputSize])</c>. Allocates nothing.</summary>");
        cw.Line(GeneratedCode);
        using (cw.Block("public void Predict(ReadOnlySpan<float> input, Span<float> output)"))
        {
            cw.Line("int batch = BatchOf(input.Length);");
            cw.Line("if (output.Length != batch * OutputSize) throw new ArgumentException($\"output holds {output.Length} floats; {batch} samples need {batch * OutputSize}\", nameof(output));");
            cw.Line("Forward(input, training: false);");
            cw.Line("GetOutput(output);");
        }
        cw.Line();
        using (cw.Block("private int BatchOf(int inputLength)"))
        {
            cw.Line("if (inputLength == 0 || inputLength % InputSize != 0)");
            cw.Line($"    throw new ArgumentException($\"input holds {{inputLength}} floats, not a whole number of {p.ClassName} samples of {{InputSize}} floats ({ShapeText(p)})\", \"input\");");
            cw.Line("int batch = inputLength / InputSize;");
            cw.Line("if (batch > _maxBatch) throw new ArgumentException($\"batch of {batch} samples exceeds maxBatch = {_maxBatch} given to the constructor\", \"input\");");
            cw.Line("return batch;");
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
        string call(string g, string with) => loss.Kind switch
        {
            LossKind.SoftmaxCrossEntropy or LossKind.MultiClassHinge =>
                $"MG.Losses.{loss.Kind}(ref _arena.Ref({last}), OutputSize, _ld, _batch, labels, ref {g}, {with})",
            _ => $"MG.Losses.Elementwise(global::ModelGen.LossKind.{loss.Kind}, {Text.Float(loss.Param)}, ref _arena.Ref({last}), OutputSize, _ld, _batch, targets, ref {g}, {with})",
        };
        string good = labels ? "ReadOnlySpan<int> labels" : "ReadOnlySpan<float> targets";
        string bad = labels ? "ReadOnlySpan<float> targets" : "ReadOnlySpan<int> labels";
        string badMsg = labels
            ? $"\"{p.ClassName}'s loss {loss.Name} is {loss.Kind}: it takes integer class labels, not float targets\""
            : $"\"{p.ClassName}'s loss {loss.Name} is {loss.Kind}: it takes float targets, not class labels\"";
        var regularised = p.Tensors.Where(t => t.L2 > 0f).ToList();

        cw.Line("/// <summary>The declared loss.</summary>");
        cw.Line(GeneratedCode);
        cw.Line($"public LossKind LossKind => global::ModelGen.LossKind.{loss.Kind};");
        cw.Line("/// <summary>Gradients, laid out as <see cref=\"Parameters\"/>.</summary>");
        cw.Line(GeneratedCode);
        cw.Line("public Span<float> Gradients => _arena.Span(GradientBase, ParameterRegion);");
        cw.Line("/// <summary>Sets every gradient to zero.</summary>");
        cw.Line(GeneratedCode);
        cw.Line("public void ZeroGrad() => Gradients.Clear();");
        cw.Line("/// <summary>One optimiser update of the parameters from the gradients (optimiser state lives with the model).</summary>");
        cw.Line(GeneratedCode);
        cw.Line("public void Step(global::ModelGen.Training.Optimizer optimizer) => _optimizerState.Step(optimizer, Parameters, Gradients, s_tensors, _width);");
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
        cw.Line(GeneratedCode);
        using (cw.Block($"public float ComputeLoss({good})"))
        {
            cw.Line("if (_batch == 0) throw new InvalidOperationException(\"call Forward before ComputeLoss\");");
            cw.Line("return " + call("Unsafe.NullRef<float>()", "false") + " + Penalty();");
        }
        cw.Line($"float ITrainableNetwork.ComputeLoss({bad}) => throw new InvalidOperationException({badMsg});");
        cw.Line();
        cw.Line($"// ── {loss.Name}: {loss.Kind} " + new string('─', 80));
        cw.Line("// " + LossMath(loss));
        foreach (var t in regularised)
            cw.Line($"// + L2 on {t.Name}: {Text.Num(t.L2)}·Σ W²  (dW += {Text.Num(2 * t.L2)}·W)");
        cw.Line("/// <summary>Loss of the last training forward, back-propagated through every layer; gradients are");
        cw.Line("/// <b>added</b> to <see cref=\"Gradients\"/> (call <see cref=\"ZeroGrad\"/> first). Returns the mean loss.</summary>");
        cw.Line(GeneratedCode);
        using (cw.Block($"public float Backward({good})"))
        {
            cw.Line("if (!_training) throw new InvalidOperationException(\"call Forward(input, training: true) before Backward\");");
            cw.Line("int batch = _batch, n = _n, ld = _ld;");
            cw.Line($"float loss = {call($"_arena.Ref({lastGrad})", "true")};");
            EmitDispatch(cw, p, backward: true);
            foreach (var t in regularised)
                cw.Line($"loss += MG.Regularization.AddL2Gradient(_arena.Span({t.Const}, {t.Length}), _arena.Span(GradientBase + {t.Const}, {t.Length}), {Text.Float(t.L2)}, _width);");
            cw.Line("return loss;");
        }
        cw.Line($"float ITrainableNetwork.Backward({bad}) => throw new InvalidOperationException({badMsg});");
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
            foreach (var l in p.Layers.Where(l => l.HasParameters))
                cw.Line("if (" + string.Join(" || ", l.Tensors.Select(t => $"!MG.Numerics.AllFinite(_arena.Span({t.Const}, {t.Length}))")) + $") return \"{l.Name} (parameters)\";");
            using (cw.Block("if (_batch > 0)"))
                foreach (var l in p.Layers)
                {
                    string y = p.Buffers.Layers[l.Index].Output;
                    cw.Line(l.ImageOut
                        ? $"if (!MG.Numerics.AllFinite(ref _arena.Ref({y}), _batch * {l.OutShape[0]}, {Geometry.LdP(l.OutPixels)}, {l.OutPixels})) return \"{l.Name} (output)\";"
                        : $"if (!MG.Numerics.AllFinite(ref _arena.Ref({y}), {l.Out}, _ld, _batch)) return \"{l.Name} (output)\";");
                }
            foreach (var l in p.Layers.Where(l => l.Tensors.Any(t => t.Trainable)))
                cw.Line("if (" + string.Join(" || ", l.Tensors.Where(t => t.Trainable).Select(t => $"!MG.Numerics.AllFinite(_arena.Span(GradientBase + {t.Const}, {t.Length}))")) + $") return \"{l.Name} (gradients)\";");
            cw.Line("return null;");
        }
        cw.Line();
    }

    private static void EmitLayers(CodeWriter cw, NetworkPlan p, GemmEmitter gemm)
    {
        foreach (var l in p.Layers)
        {
            var ctx = new CSharpLayer(p, l, gemm);
            var code = Code(l);
            string title = $"// ── {l.Name}: {l.Description} {l.InShape} → {l.OutShape} ";
            cw.Line(title + new string('─', System.Math.Max(4, 110 - title.Length)));
            foreach (var line in l.Kind.Math(l, p)) cw.Line("// " + line);
            foreach (var w in Width.All) { code.Forward(cw, ctx, w); cw.Line(); }
            if (p.Trainable)
                foreach (var w in Width.All) { code.Backward(cw, ctx, w); cw.Line(); }
        }
    }
}
