using System;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace ModelGen.Generator.Analysis;

/// <summary>Typed reads of one layer attribute's arguments (constructor position or named property) for
/// <see cref="LayerKind.Read"/>. Lives only during parsing: nothing from Roslyn goes into a spec.</summary>
internal readonly struct AttributeArgs
{
    private readonly AttributeData _a;

    public AttributeArgs(AttributeData a) => _a = a;

    /// <summary>The attribute as written, e.g. <c>Conv2D</c>.</summary>
    public string Short
    {
        get
        {
            string n = _a.AttributeClass?.Name ?? "?";
            return n.EndsWith("Attribute", StringComparison.Ordinal) ? n.Substring(0, n.Length - "Attribute".Length) : n;
        }
    }

    public bool HasPositional(int position) => _a.ConstructorArguments.Length > position;

    public int Int(int position, int fallback) =>
        _a.ConstructorArguments.Length > position && _a.ConstructorArguments[position].Value is int v ? v : fallback;

    public int NamedInt(string name, int fallback) =>
        _a.NamedArguments.FirstOrDefault(a => a.Key == name).Value.Value is int v ? v : fallback;

    public bool NamedBool(string name, bool fallback) =>
        _a.NamedArguments.FirstOrDefault(a => a.Key == name).Value.Value is bool v ? v : fallback;

    public string? NamedString(string name) => _a.NamedArguments.FirstOrDefault(a => a.Key == name).Value.Value as string;

    public string? String(int position) =>
        _a.ConstructorArguments.Length > position ? _a.ConstructorArguments[position].Value as string : null;

    /// <summary>A float or double argument as float; NaN when it is missing.</summary>
    public float Float(int position, float fallback) =>
        _a.ConstructorArguments.Length > position && _a.ConstructorArguments[position].Value is { } v
            ? (float)Convert.ToDouble(v, System.Globalization.CultureInfo.InvariantCulture) : fallback;

    /// <summary>A named float or double argument as float; <paramref name="fallback"/> when it is not given.</summary>
    public float NamedFloat(string name, float fallback) =>
        _a.NamedArguments.FirstOrDefault(a => a.Key == name).Value.Value is { } v
            ? (float)Convert.ToDouble(v, System.Globalization.CultureInfo.InvariantCulture) : fallback;
}
