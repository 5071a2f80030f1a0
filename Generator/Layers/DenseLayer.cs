using System.Collections.Generic;
using ModelGen.Generator.Analysis;
using ModelGen.Generator.Diagnostics;
using ModelGen.Generator.Emit;
using ModelGen.Generator.Emit.CSharp;
using ModelGen.Generator.Model;

namespace ModelGen.Generator.Layers;

/// <summary>
/// Dense: <c>y[o,b] = act(Σ_i W[o,i]·x[i,b] + bias[o])</c>, W in PyTorch's <c>[out, in]</c> layout.
/// Activations are feature-major panels <c>[features, ld]</c>, so the forward is <c>Yᵀ = W·Xᵀ</c> with the
/// batch in the vector lanes; ReLU / leaky ReLU and the bias are fused into the kernel's store.
/// </summary>
internal static class DenseLayer
{
    public static LayerPlan? Infer(LayerSpec s, int index, int[] input, string producer, ref int offset, List<DiagnosticInfo> diags, float networkL2 = 0f)
    {
        if (s.Units <= 0)
        {
            diags.Add(DiagnosticInfo.Create(Descriptors.NonPositiveSize, s.Location, s.Name, "units", s.Units));
            return null;
        }
        if (input.Length != 1)
        {
            diags.Add(DiagnosticInfo.Create(Descriptors.ShapeMismatch, s.Location, s.Name, $"Dense({s.Units})", "a 1-D (add [Flatten] or [GlobalAvgPool] before it)", producer, string.Join(",", input)));
            return null;
        }
        if (!ActivationLayer.CheckAlpha(s, diags)) return null;
        int inF = input[0];
        long weights = (long)inF * s.Units;
        if (weights > int.MaxValue / 4)
        {
            diags.Add(DiagnosticInfo.Create(Descriptors.InvalidArgument, s.Location, s.Name, $"{inF}×{s.Units} = {weights} weights is more than one arena can address"));
            return null;
        }
        int wOff = offset;
        offset = NetworkAnalyzer.RoundUp(offset + (int)weights);
        int bOff = offset;
        offset = NetworkAnalyzer.RoundUp(offset + s.Units);
        return new LayerPlan(index, s.Name, s.Accessibility, LayerKind.Dense, s.Activation, s.Alpha, inF, s.Units,
            wOff, (int)weights, bOff, s.Units, 2 * weights, -1, L2: float.IsNaN(s.L2) ? networkL2 : s.L2,
            InShape: EquatableArray.From(input), OutShape: EquatableArray.From(new[] { s.Units }));
    }

    public static IEnumerable<string> Math(LayerPlan l)
    {
        string z = "Σ_i W[o,i]·x[i,b] + bias[o]";
        yield return $"forward : y[o,b] = {LayerTable.ActivationMath(l.Activation, l.Alpha, z)}".PadRight(64) + $"x:[{l.In},B] W:[{l.Out},{l.In}] bias:[{l.Out}] y:[{l.Out},B]";
        yield return $"backward: {LayerTable.DerivativeMath(l.Activation, l.Alpha)}; dbias[o] += Σ_b dz[o,b]";
        yield return $"          dW[o,i] += Σ_b dz[o,b]·x[i,b]   (dW = dZ·X, X sample-major)   dx[i,b] = Σ_o W[o,i]·dz[o,b]   (dXᵀ = Wᵀ·dZᵀ)";
        if (l.L2 > 0f)
            yield return $"L2      : loss += {LayerTable.Float(l.L2).TrimEnd('f')}·Σ W²;  dW += {LayerTable.Float(2 * l.L2).TrimEnd('f')}·W   (weights only, not bias)";
        yield return $"params  : {l.ParameterCount:N0} (W {l.WeightCount:N0} + bias {l.BiasCount:N0})   FLOPs/sample: {l.Flops:N0}";
    }

    private static void Locals(CodeWriter cw, LayerContext c, bool grads)
    {
        var l = c.Layer;
        cw.Line($"ref float w = ref _arena.Ref({l.Name}_Weight);   // [{l.Out}, {l.In}]");
        if (!grads) cw.Line($"ref float bias = ref _arena.Ref({l.Name}_Bias);   // [{l.Out}]");
        cw.Line($"ref float x = ref _arena.Ref({c.Input});   // [{l.In}, ld]");
        cw.Line($"ref float y = ref _arena.Ref({c.Output});   // [{l.Out}, ld]");
        if (grads)
        {
            cw.Line($"ref float dw = ref _arena.Ref(GradientBase + {l.Name}_Weight);");
            cw.Line($"ref float db = ref _arena.Ref(GradientBase + {l.Name}_Bias);");
            cw.Line($"ref float dy = ref _arena.Ref({c.OutputGrad});   // [{l.Out}, ld], becomes dz in place");
        }
    }

    public static void EmitForward(CodeWriter cw, LayerContext c, Width w)
    {
        var l = c.Layer;
        cw.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
        using (cw.Block($"private void {l.Name}_Forward_{w.Name}(int n, int ld)"))
        {
            Locals(cw, c, grads: false);
            string alpha = LayerTable.Float(l.Alpha);
            var gemm = new GemmCall("w", l.In.ToString(), "1", "x", "ld", "y", "ld", l.In.ToString(), l.Out, null, "bias", LayerTable.FusedEpilogue(l.Activation), alpha);
            if (w.IsScalar)
                c.Gemm.Emit(cw, w, gemm);
            else
            {
                using (cw.Block("if (n == 1)"))
                    cw.Line($"MG.Gemm.Gemv{w.Name}(ref w, {l.In}, ref x, ref y, {l.Out}, ref bias, {LayerTable.FusedEpilogue(l.Activation)}, {alpha});   // batch 1: stream W once");
                using (cw.Block("else"))
                    c.Gemm.Emit(cw, w, gemm);
            }
            EmitPostActivation(cw, c, w);
        }
    }

    private static void EmitPostActivation(CodeWriter cw, LayerContext c, Width w)
    {
        var l = c.Layer;
        if (l.Activation is ActivationKind.Sigmoid or ActivationKind.Tanh)
            cw.Line($"MG.Activations.Forward({LayerTable.RuntimeActivation(l.Activation)}, 0f, _arena.Span({c.Output}, {l.Out} * ld), _arena.Span({c.Output}, {l.Out} * ld), {w.Enum});");
        else if (l.Activation == ActivationKind.Softmax)
            cw.Line($"MG.Softmax.Forward(ref y, ref y, {l.Out}, ld, n);");
    }

    public static void EmitBackward(CodeWriter cw, LayerContext c, Width w)
    {
        var l = c.Layer;
        cw.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
        using (cw.Block($"private void {l.Name}_Backward_{w.Name}(int batch, int n, int ld)"))
        {
            Locals(cw, c, grads: true);
            if (l.Activation == ActivationKind.Softmax)
                cw.Line($"MG.Softmax.Backward(ref dy, ref y, ref dy, {l.Out}, ld, n);");
            else if (l.Activation != ActivationKind.None)
                cw.Line($"MG.Activations.Backward({LayerTable.RuntimeActivation(l.Activation)}, {LayerTable.Float(l.Alpha)}, _arena.Span({c.OutputGrad}, {l.Out} * ld), _arena.Span({c.Output}, {l.Out} * ld), _arena.Span({c.OutputGrad}, {l.Out} * ld), {w.Enum});");
            cw.Line($"MG.Reductions.AddRowSums(ref dy, {l.Out}, ld, batch, ref db, {w.Enum});   // dbias[o] += Σ_b dz[o,b]");
            if (c.SampleMajorInput is not null)
                cw.Line($"ref float xs = ref _arena.Ref({c.SampleMajorInput});   // the input as given, [batch, {l.In}]");
            else
            {
                cw.Line($"MG.Layout.ToSampleMajor(ref x, {l.In}, ld, batch, _arena.Span(_xs, batch * {l.In}));");
                cw.Line($"ref float xs = ref _arena.Ref(_xs);   // x as [batch, {l.In}]");
            }
            cw.Line($"// dW[o,i] += Σ_b dz[o,b]·xs[b,i]");
            c.Gemm.Emit(cw, w, new GemmCall("dy", "ld", "1", "xs", l.In.ToString(), "dw", l.In.ToString(), "batch", l.Out, l.In, null, "MG.Epilogue.Accumulate", "0f"));
            if (c.InputGrad is not null)
            {
                cw.Line($"ref float dx = ref _arena.Ref({c.InputGrad});   // [{l.In}, ld]");
                cw.Line($"// dx[i,b] = Σ_o W[o,i]·dz[o,b]   (A = Wᵀ: row stride 1, reduction stride {l.In})");
                c.Gemm.Emit(cw, w, new GemmCall("w", "1", l.In.ToString(), "dy", "ld", "dx", "ld", l.Out.ToString(), l.In, null, null, "MG.Epilogue.Store", "0f"));
            }
        }
    }
}
