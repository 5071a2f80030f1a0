using ModelGen.Generator.Analysis;
using ModelGen.Generator.Diagnostics;
using ModelGen.Generator.Model;

namespace ModelGen.Generator.Layers;

/// <summary>The element-wise activations that fuse into a layer (or stand alone as <see cref="Activation"/>):
/// their math as banner text, the runtime's enum member, and the GEMM epilogue that fuses them into the store.</summary>
internal static class Fused
{
    /// <summary>Leaky ReLU's slope must be a number in [0, 1) (MG0008).</summary>
    public static bool CheckAlpha(LayerSpec s, LayerDiagnostics diags)
    {
        if (s.Activation != ActivationKind.LeakyRelu || (s.Alpha >= 0f && s.Alpha < 1f)) return true;
        diags.Invalid($"LeakyRelu alpha must be in [0, 1), got {Text.Num(s.Alpha)}");
        return false;
    }

    /// <summary>The runtime's <c>Activation</c> member for an element-wise activation.</summary>
    public static string Runtime(ActivationKind a) => "MG.Activation." + (a switch
    {
        ActivationKind.Relu => "Relu",
        ActivationKind.LeakyRelu => "LeakyRelu",
        ActivationKind.Sigmoid => "Sigmoid",
        ActivationKind.Tanh => "Tanh",
        ActivationKind.None => "Identity",
        _ => throw new System.ArgumentOutOfRangeException(nameof(a), a, "softmax is not element-wise"),
    });

    /// <summary>The GEMM epilogue that fuses bias and, where it is piecewise linear, the activation into the store.</summary>
    public static string Epilogue(ActivationKind a) => a switch
    {
        ActivationKind.Relu => "MG.Epilogue.BiasRelu",
        ActivationKind.LeakyRelu => "MG.Epilogue.BiasLeakyRelu",
        _ => "MG.Epilogue.Bias",
    };

    /// <summary>True when <see cref="Epilogue"/> already applied the activation.</summary>
    public static bool InEpilogue(ActivationKind a) => a is ActivationKind.None or ActivationKind.Relu or ActivationKind.LeakyRelu;

    /// <summary>The activation's math as banner text, over pre-activation <paramref name="z"/>.</summary>
    public static string Math(ActivationKind a, float alpha, string z) => a switch
    {
        ActivationKind.Relu => $"max(0, {z})",
        ActivationKind.LeakyRelu => $"leaky({z}, {Text.Num(alpha)})",
        ActivationKind.Sigmoid => $"σ({z})",
        ActivationKind.Tanh => $"tanh({z})",
        ActivationKind.Softmax => $"softmax_o({z})",
        _ => z,
    };

    /// <summary>The derivative factor in terms of the output y, as banner text.</summary>
    public static string Derivative(ActivationKind a, float alpha) => a switch
    {
        ActivationKind.Relu => "dz = dy ⊙ [y > 0]",
        ActivationKind.LeakyRelu => $"dz = dy ⊙ (y > 0 ? 1 : {Text.Num(alpha)})",
        ActivationKind.Sigmoid => "dz = dy ⊙ y(1 − y)",
        ActivationKind.Tanh => "dz = dy ⊙ (1 − y²)",
        ActivationKind.Softmax => "dz[:,b] = y[:,b] ⊙ (dy[:,b] − Σ_o dy[o,b]·y[o,b])",
        _ => "dz = dy",
    };

    /// <summary>The L2 banner line of a layer with regularised weights.</summary>
    public static string L2Line(LayerPlan l) =>
        $"L2      : loss += {Text.Num(l.L2)}·Σ W²;  dW += {Text.Num(2 * l.L2)}·W   (weights only, not bias)";

    /// <summary>A MG0014 "needs a … input" for a layer given the wrong rank.</summary>
    public static void WrongInput(LayerDiagnostics d, string what, string needs, Shape got) =>
        d.Report(Descriptors.ShapeMismatch, what, needs, d.Producer, string.Join(",", got.Dims));
}
