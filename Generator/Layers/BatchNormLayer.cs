using System.Collections.Generic;
using ModelGen.Generator.Analysis;
using ModelGen.Generator.Diagnostics;
using ModelGen.Generator.Emit;
using ModelGen.Generator.Emit.CSharp;
using ModelGen.Generator.Model;

namespace ModelGen.Generator.Layers;

/// <summary>
/// BatchNorm2D: per-channel normalisation with batch statistics in training (running averages updated) and the
/// running averages in inference; γ (weight) and β (bias) are trained. An activation may be fused after it.
/// Layout in the parameter block: weight [C], bias [C], then the buffers running_mean [C], running_var [C]
/// (they get zero gradients, so no optimiser moves them; they are saved with the weights).
/// </summary>
internal static class BatchNormLayer
{
    public static LayerPlan? Infer(LayerSpec s, int index, int[] input, string producer, ref int offset, List<DiagnosticInfo> diags)
    {
        if (input.Length != 3)
        {
            diags.Add(DiagnosticInfo.Create(Descriptors.ShapeMismatch, s.Location, s.Name, "BatchNorm2D", "a [channels, height, width]", producer, string.Join(",", input)));
            return null;
        }
        if (!ActivationLayer.CheckAlpha(s, diags)) return null;
        int c = input[0];
        int wOff = offset;
        offset = NetworkAnalyzer.RoundUp(offset + c);
        int bOff = offset;
        offset = NetworkAnalyzer.RoundUp(offset + 3 * c);   // bias, running_mean, running_var
        var shape = EquatableArray.From(input);
        int f = c * input[1] * input[2];
        return new LayerPlan(index, s.Name, s.Accessibility, LayerKind.BatchNorm2D, s.Activation, s.Alpha, f, f, wOff, c, bOff, c, 4L * f, 0,
            Rate: s.Rate, InShape: shape, OutShape: shape, Epsilon: s.Epsilon, BufferOffset: bOff + c);
    }

    public static IEnumerable<string> Math(LayerPlan l)
    {
        yield return $"forward : training y = {LayerTable.ActivationMath(l.Activation, l.Alpha, "γ[c]·(x − μ_B[c])/√(σ²_B[c] + ε) + β[c]")}, μ_B, σ²_B over (batch, pixels);";
        yield return $"          running r ← (1 − {LayerTable.Float(l.Rate).TrimEnd('f')})·r + {LayerTable.Float(l.Rate).TrimEnd('f')}·stat (unbiased var); inference uses r.   ε = {LayerTable.Float(l.Epsilon).TrimEnd('f')}   x,y:{LayerPlan.ShapeText(l.OutShape)}";
        yield return $"backward: dβ = Σ dy; dγ = Σ dy·x̂; dx = γ/(N·√(σ²+ε))·(N·dy − dβ − x̂·dγ), N = batch·{l.OutPixels}";
    }

    private static string Args(LayerPlan l, LayerContext c) =>
        $"{l.OutShape[0]}, {l.OutPixels}, {Geometry.LdP(l.OutPixels)}, ref _arena.Ref({l.Name}_Weight), ref _arena.Ref({l.Name}_Bias), ref _arena.Ref({l.Name}_Bias + {l.BiasCount}), ref _arena.Ref({l.Name}_Bias + {2 * l.BiasCount})";

    public static void EmitForward(CodeWriter cw, LayerContext c, Width w)
    {
        var l = c.Layer;
        string ext = Geometry.Extent(l, true);
        cw.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
        using (cw.Block($"private void {l.Name}_Forward_{w.Name}(int n, int ld)"))
        {
            using (cw.Block("if (_training)"))
                cw.Line($"MG.BatchNorm.ForwardTraining(ref _arena.Ref({c.Input}), _batch, {Args(l, c)}, {LayerTable.Float(l.Rate)}, {LayerTable.Float(l.Epsilon)}, ref _arena.Ref(_bn{l.Index}), ref _arena.Ref({c.Output}));");
            using (cw.Block(c.Folded ? "else if (!FoldBatchNorm)" : "else"))
                cw.Line($"MG.BatchNorm.ForwardInference(ref _arena.Ref({c.Input}), _batch, {Args(l, c)}, {LayerTable.Float(l.Epsilon)}, ref _arena.Ref({c.Output}));");
            if (c.Folded) cw.Line("else return;   // folded into the convolution before it, which wrote this output (activation included)");
            if (l.Activation != ActivationKind.None)
                cw.Line($"MG.Activations.Forward({LayerTable.RuntimeActivation(l.Activation)}, {LayerTable.Float(l.Alpha)}, _arena.Span({c.Output}, {ext}), _arena.Span({c.Output}, {ext}), {w.Enum});");
        }
    }

    public static void EmitBackward(CodeWriter cw, LayerContext c, Width w)
    {
        var l = c.Layer;
        string ext = Geometry.Extent(l, true);
        cw.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
        using (cw.Block($"private void {l.Name}_Backward_{w.Name}(int batch, int n, int ld)"))
        {
            if (l.Activation != ActivationKind.None)
                cw.Line($"MG.Activations.Backward({LayerTable.RuntimeActivation(l.Activation)}, {LayerTable.Float(l.Alpha)}, _arena.Span({c.OutputGrad}, {ext}), _arena.Span({c.Output}, {ext}), _arena.Span({c.OutputGrad}, {ext}), {w.Enum});");
            string dx = c.InputGrad is null ? "Unsafe.NullRef<float>()" : $"_arena.Ref({c.InputGrad})";
            cw.Line($"MG.BatchNorm.Backward(ref _arena.Ref({c.Input}), ref _arena.Ref({c.OutputGrad}), batch, {l.OutShape[0]}, {l.OutPixels}, {Geometry.LdP(l.OutPixels)}, ref _arena.Ref({l.Name}_Weight), ref _arena.Ref(_bn{l.Index}), " +
                $"ref _arena.Ref(GradientBase + {l.Name}_Weight), ref _arena.Ref(GradientBase + {l.Name}_Bias), ref {dx}, {(c.InputGrad is null ? "false" : "true")});");
        }
    }
}
