namespace ModelGen;

/// <summary>The training loss a network declares; it fixes what the targets are.</summary>
public enum LossKind
{
    /// <summary>Inference-only network.</summary>
    None = 0,
    /// <summary>Softmax cross-entropy on logits; targets are integer class labels.</summary>
    SoftmaxCrossEntropy = 1,
    /// <summary>Mean squared error (L2); targets are floats, one per output.</summary>
    Mse = 2,
    /// <summary>Mean absolute error (L1); float targets.</summary>
    Mae = 3,
    /// <summary>Huber (δ): quadratic near 0, linear beyond; float targets.</summary>
    Huber = 4,
    /// <summary>Quantile / pinball (τ); float targets.</summary>
    Quantile = 5,
    /// <summary>Binary cross-entropy on one logit; float targets in [0, 1].</summary>
    BinaryCrossEntropy = 6,
    /// <summary>Binary hinge on one score; float targets −1 / +1.</summary>
    Hinge = 7,
    /// <summary>Multi-class SVM hinge (margin 1); integer class labels.</summary>
    MultiClassHinge = 8,
}
