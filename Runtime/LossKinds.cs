namespace ModelGen;

/// <summary>Facts about each loss.</summary>
public static class LossKinds
{
    /// <summary>True when the loss takes integer class labels (else float targets).</summary>
    public static bool TakesLabels(this LossKind kind) => kind is LossKind.SoftmaxCrossEntropy or LossKind.MultiClassHinge;
}
