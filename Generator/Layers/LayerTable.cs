using System.Collections.Generic;
using ModelGen.Generator.Analysis;
using ModelGen.Generator.Emit;
using ModelGen.Generator.Emit.CSharp;
using ModelGen.Generator.Model;

namespace ModelGen.Generator.Layers;

/// <summary>What a layer method needs to know about its surroundings: its buffers (arena offset fields)
/// and whether a gradient must flow further down.</summary>
internal sealed record LayerContext(LayerPlan Layer, string Input, string Output, string OutputGrad, string? InputGrad, GemmEmitter Gemm)
{
    /// <summary>For a convolution whose only reader is a BatchNorm2D: that BatchNorm, folded into it for inference.</summary>
    public LayerPlan? FoldInto { get; init; }
    /// <summary>For a BatchNorm2D folded into the convolution before it.</summary>
    public bool Folded { get; init; }

    /// <summary>The second input of an Add layer and where its gradient goes.</summary>
    public string Skip { get; init; } = "";
    public string? SkipGrad { get; init; }

    /// <summary>Sample-major copy of the layer input for the weight gradient; null when it must be transposed from <see cref="Input"/>.</summary>
    public string? SampleMajorInput { get; init; }
}

/// <summary>
/// The table of layer kinds: each kind describes its math once (shape inference, counts, banner) and
/// emits forward and backward per width. A test enumerates <see cref="Kinds"/> so that every kind is
/// covered by a gradient check.
/// </summary>
internal static class LayerTable
{
    public static readonly LayerKind[] Kinds =
    {
        LayerKind.Dense, LayerKind.Activation, LayerKind.Dropout, LayerKind.Conv2D, LayerKind.MaxPool2D, LayerKind.AvgPool2D,
        LayerKind.GlobalAvgPool, LayerKind.Flatten, LayerKind.Add, LayerKind.BatchNorm2D,
    };

    public static LayerPlan? Infer(LayerSpec spec, int index, int[] inputShape, string producer, ref int paramOffset, List<DiagnosticInfo> diags, float networkL2) =>
        spec.Kind switch
        {
            LayerKind.Dense => DenseLayer.Infer(spec, index, inputShape, producer, ref paramOffset, diags, networkL2),
            LayerKind.Dropout => DropoutLayer.Infer(spec, index, inputShape, producer, diags),
            LayerKind.Conv2D => ConvLayer.Infer(spec, index, inputShape, producer, ref paramOffset, diags, networkL2),
            LayerKind.BatchNorm2D => BatchNormLayer.Infer(spec, index, inputShape, producer, ref paramOffset, diags),
            LayerKind.MaxPool2D or LayerKind.AvgPool2D or LayerKind.GlobalAvgPool or LayerKind.Flatten => PoolLayer.Infer(spec, index, inputShape, producer, diags),
            _ => ActivationLayer.Infer(spec, index, inputShape, producer, diags),
        };

    public static void EmitBanner(CodeWriter cw, LayerPlan l, string skipName = "")
    {
        string title = $"// ── {l.Name}: {Title(l)} ";
        cw.Line(title + new string('─', System.Math.Max(4, 110 - title.Length)));
        var math = l.Kind switch
        {
            LayerKind.Dense => DenseLayer.Math(l),
            LayerKind.Dropout => DropoutLayer.Math(l),
            LayerKind.Conv2D => ConvLayer.Math(l),
            LayerKind.Activation => ActivationLayer.Math(l),
            LayerKind.Add => AddLayer.Math(l, skipName),
            LayerKind.BatchNorm2D => BatchNormLayer.Math(l),
            _ => PoolLayer.Math(l),
        };
        foreach (var line in math) cw.Line("// " + line);
    }

    private static string Title(LayerPlan l) => l.Kind switch
    {
        LayerKind.Dense => $"Dense {l.In} → {l.Out}" + (l.Activation == ActivationKind.None ? "" : ", " + l.ActivationName),
        LayerKind.Conv2D or LayerKind.MaxPool2D or LayerKind.AvgPool2D or LayerKind.GlobalAvgPool or LayerKind.Flatten =>
            $"{l.Description} {LayerPlan.ShapeText(l.InShape)} → {LayerPlan.ShapeText(l.OutShape)}",
        LayerKind.Dropout or LayerKind.Add or LayerKind.BatchNorm2D => $"{l.Description} {LayerPlan.ShapeText(l.OutShape)}",
        _ => $"{l.ActivationName} {LayerPlan.ShapeText(l.OutShape)}",
    };

    public static void EmitForward(CodeWriter cw, LayerContext ctx, Width w)
    {
        switch (ctx.Layer.Kind)
        {
            case LayerKind.Dense: DenseLayer.EmitForward(cw, ctx, w); break;
            case LayerKind.Dropout: DropoutLayer.EmitForward(cw, ctx, w); break;
            case LayerKind.Conv2D: ConvLayer.EmitForward(cw, ctx, w); break;
            case LayerKind.Activation: ActivationLayer.EmitForward(cw, ctx, w); break;
            case LayerKind.Add: AddLayer.EmitForward(cw, ctx, w); break;
            case LayerKind.BatchNorm2D: BatchNormLayer.EmitForward(cw, ctx, w); break;
            default: PoolLayer.EmitForward(cw, ctx, w); break;
        }
    }

    public static void EmitBackward(CodeWriter cw, LayerContext ctx, Width w)
    {
        switch (ctx.Layer.Kind)
        {
            case LayerKind.Dense: DenseLayer.EmitBackward(cw, ctx, w); break;
            case LayerKind.Dropout: DropoutLayer.EmitBackward(cw, ctx, w); break;
            case LayerKind.Conv2D: ConvLayer.EmitBackward(cw, ctx, w); break;
            case LayerKind.Activation: ActivationLayer.EmitBackward(cw, ctx, w); break;
            case LayerKind.Add: AddLayer.EmitBackward(cw, ctx, w); break;
            case LayerKind.BatchNorm2D: BatchNormLayer.EmitBackward(cw, ctx, w); break;
            default: PoolLayer.EmitBackward(cw, ctx, w); break;
        }
    }

    /// <summary>The runtime's <c>Activation</c> member for a fused or standalone element-wise activation.</summary>
    public static string RuntimeActivation(ActivationKind a) => "MG.Activation." + (a switch
    {
        ActivationKind.Relu => "Relu",
        ActivationKind.LeakyRelu => "LeakyRelu",
        ActivationKind.Sigmoid => "Sigmoid",
        ActivationKind.Tanh => "Tanh",
        _ => "Identity",
    });

    /// <summary>The GEMM epilogue that fuses bias and, where it is piecewise linear, the activation into the store.</summary>
    public static string FusedEpilogue(ActivationKind a) => a switch
    {
        ActivationKind.Relu => "MG.Epilogue.BiasRelu",
        ActivationKind.LeakyRelu => "MG.Epilogue.BiasLeakyRelu",
        _ => "MG.Epilogue.Bias",
    };

    public static string Float(float f) => f.ToString("R", System.Globalization.CultureInfo.InvariantCulture) + "f";

    /// <summary>The activation's math as banner text, over pre-activation z.</summary>
    public static string ActivationMath(ActivationKind a, float alpha, string z) => a switch
    {
        ActivationKind.Relu => $"max(0, {z})",
        ActivationKind.LeakyRelu => $"leaky({z}, {Float(alpha).TrimEnd('f')})",
        ActivationKind.Sigmoid => $"σ({z})",
        ActivationKind.Tanh => $"tanh({z})",
        ActivationKind.Softmax => $"softmax_o({z})",
        _ => z,
    };

    /// <summary>The derivative factor, in terms of the output y, as banner text.</summary>
    public static string DerivativeMath(ActivationKind a, float alpha) => a switch
    {
        ActivationKind.Relu => "dz = dy ⊙ [y > 0]",
        ActivationKind.LeakyRelu => $"dz = dy ⊙ (y > 0 ? 1 : {Float(alpha).TrimEnd('f')})",
        ActivationKind.Sigmoid => "dz = dy ⊙ y(1 − y)",
        ActivationKind.Tanh => "dz = dy ⊙ (1 − y²)",
        ActivationKind.Softmax => "dz[:,b] = y[:,b] ⊙ (dy[:,b] − Σ_o dy[o,b]·y[o,b])",
        _ => "dz = dy",
    };
}
