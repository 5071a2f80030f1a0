using System.Collections.Generic;

namespace ModelGen.Generator.Emit.CSharp;

/// <summary>The layer phases of one model that can be split over its threads (<c>model.Threads</c>), numbered in
/// the order the layers emit them; the model's <c>RunPart</c> dispatches on the number.</summary>
internal sealed class PartRegistry
{
    private readonly List<string> _methods = new();

    /// <summary>The part methods, by task number.</summary>
    public IReadOnlyList<string> Methods => _methods;

    /// <summary>Registers a part method; returns its task number.</summary>
    public int Add(string method)
    {
        _methods.Add(method);
        return _methods.Count - 1;
    }
}
