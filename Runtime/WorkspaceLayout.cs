using System;
using System.Collections.Generic;
using System.ComponentModel;

namespace ModelGen;

/// <summary>The buffers of a model's workspaces (offsets computed once from <c>maxBatch</c> in the constructor), each
/// 64-byte aligned; every <see cref="Workspace"/> of the model is laid out by it.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class WorkspaceLayout
{
    private readonly List<(long Offset, long Length, string Name)> _buffers = new();

    /// <summary>A layout for the model class <paramref name="owner"/>.</summary>
    public WorkspaceLayout(string owner) => Owner = owner ?? throw new ArgumentNullException(nameof(owner));

    /// <summary>The model class.</summary>
    public string Owner { get; }

    /// <summary>Floats in all.</summary>
    public long Length { get; private set; }

    /// <summary>The buffers, in order.</summary>
    public IReadOnlyList<(long Offset, long Length, string Name)> Buffers => _buffers;

    /// <summary>Appends a buffer of <paramref name="floats"/> named <paramref name="name"/>; returns its offset.</summary>
    public long Take(long floats, string name)
    {
        if (floats < 0) throw new ArgumentOutOfRangeException(nameof(floats), floats, $"buffer {name} cannot have a negative size");
        long at = Length;
        Length += (floats + 15) & ~15L;
        _buffers.Add((at, floats, name));
        return at;
    }
}
