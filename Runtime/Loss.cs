using System.ComponentModel;

namespace ModelGen;

/// <summary>The declared loss of a generated network.</summary>
public sealed class Loss
{
    /// <summary>Used by generated code.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public Loss(string name, LossKind kind) { Name = name; Kind = kind; }
    /// <summary>The member's name.</summary>
    public string Name { get; }
    /// <summary>Which loss.</summary>
    public LossKind Kind { get; }
    /// <inheritdoc/>
    public override string ToString() => $"{Name}: {Kind}";
}
