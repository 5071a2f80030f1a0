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
    /// Mean squared error (L2 loss) with float targets, averaged over every element (as PyTorch's <c>MSELoss</c>):
    /// <c>L = (1/(B·N)) Σ (y − t)²</c>; <c>∂L/∂y = 2 (y − t) / (B·N)</c>.
    /// </summary>
    public sealed class MseAttribute : LossAttribute { }

    /// <summary>
    /// Mean absolute error (L1 loss): <c>L = (1/(B·N)) Σ |y − t|</c>; <c>∂L/∂y = sign(y − t) / (B·N)</c>, with the
    /// subgradient 0 at <c>y = t</c>.
    /// </summary>
    public sealed class MaeAttribute : LossAttribute { }

    /// <summary>
    /// Huber loss: quadratic near zero, linear beyond <c>delta</c> (as PyTorch's <c>HuberLoss</c>).
    /// With <c>d = y − t</c>: <c>ℓ = ½d²</c> for <c>|d| ≤ δ</c>, else <c>δ(|d| − ½δ)</c>; <c>L = mean ℓ</c>;
    /// <c>∂ℓ/∂y = d</c> for <c>|d| ≤ δ</c>, else <c>δ·sign(d)</c>.
    /// </summary>
    public sealed class HuberAttribute : LossAttribute
    {
        /// <param name="delta">Where the loss turns from quadratic to linear, δ &gt; 0.</param>
        public HuberAttribute(double delta = 1.0) => Delta = delta;

        /// <summary>δ.</summary>
        public double Delta { get; }
    }

    /// <summary>
    /// Quantile (pinball) loss: under-estimates weigh <c>τ</c>, over-estimates <c>1 − τ</c>, so the model learns the
    /// τ-quantile of the target. With <c>d = t − y</c>: <c>ℓ = max(τd, (τ − 1)d)</c>; <c>L = mean ℓ</c>;
    /// <c>∂ℓ/∂y = −τ</c> when <c>d &gt; 0</c>, <c>1 − τ</c> when <c>d &lt; 0</c>, 0 at 0.
    /// </summary>
    public sealed class QuantileAttribute : LossAttribute
    {
        /// <param name="tau">The quantile, 0 &lt; τ &lt; 1.</param>
        public QuantileAttribute(double tau) => Tau = tau;

        /// <summary>τ.</summary>
        public double Tau { get; }
    }

    /// <summary>
    /// Binary cross-entropy on one logit <c>z</c> (the loss applies the sigmoid itself) with targets in [0, 1]:
    /// <c>ℓ = max(z, 0) − z·t + log(1 + e^{−|z|})</c> — the stable form of <c>−t·log σ(z) − (1−t)·log(1−σ(z))</c>;
    /// <c>∂ℓ/∂z = σ(z) − t</c>; <c>L = mean ℓ</c>.
    /// </summary>
    public sealed class BinaryCrossEntropyAttribute : LossAttribute { }

    /// <summary>
    /// Hinge loss for binary labels <c>t ∈ {−1, +1}</c> on one score <c>s</c>: <c>ℓ = max(0, 1 − t·s)</c>;
    /// <c>∂ℓ/∂s = −t</c> where <c>t·s &lt; 1</c>, else 0; <c>L = mean ℓ</c>.
    /// </summary>
    public sealed class HingeAttribute : LossAttribute { }

    /// <summary>
    /// Multi-class SVM hinge loss (Weston–Watkins, margin 1) with integer labels:
    /// <c>L = (1/B) Σ_b Σ_{j ≠ y_b} max(0, s_j − s_{y_b} + 1)</c>. With L2 this is the linear SVM.
    /// </summary>
    public sealed class MultiClassHingeAttribute : LossAttribute { }
}
