using System;

namespace ModelGen
{
    /// <summary>Base of the attributes that make a property the network's training loss.</summary>
    [AttributeUsage(AttributeTargets.Property, AllowMultiple = false, Inherited = false)]
    public abstract class LossAttribute : Attribute { }

    /// <summary>
    /// Softmax cross-entropy on the logits of the last layer with integer class labels:
    /// <c>L = (1/B) Σ_b [ log Σ_c e^{z_bc} − z_{b,y_b} ]</c>; <c>∂L/∂z_bc = (softmax(z_b)_c − [c = y_b]) / B</c>.
    /// </summary>
    public sealed class SoftmaxCrossEntropyAttribute : LossAttribute { }

    /// <summary>
    /// Mean squared error with float targets, averaged over every element (as PyTorch's <c>MSELoss</c>):
    /// <c>L = (1/(B·N)) Σ (y − t)²</c>; <c>∂L/∂y = 2 (y − t) / (B·N)</c>.
    /// </summary>
    public sealed class MseAttribute : LossAttribute { }
}
