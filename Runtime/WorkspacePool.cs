using System;
using System.ComponentModel;
using System.Threading;

namespace ModelGen;

/// <summary>
/// A model's workspaces for concurrent <c>Predict</c> calls. The model's own workspace serves a call whenever it is
/// free (so one thread never needs a second one); a call that finds it busy takes a spare one from this pool, and
/// creates one only when every spare is in use. Spares are kept for reuse, so a service with N request threads
/// settles at N workspaces and then allocates nothing.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class WorkspacePool : IDisposable
{
    private readonly Workspace _main;
    private readonly Func<Workspace> _create;
    private readonly object _lock = new();
    private Workspace[] _spare = new Workspace[4];
    private int _count, _mainBusy;
    private bool _disposed;

    /// <summary>A pool around the model's own workspace <paramref name="main"/>; <paramref name="create"/> makes spares.</summary>
    public WorkspacePool(Workspace main, Func<Workspace> create)
    {
        _main = main ?? throw new ArgumentNullException(nameof(main));
        _create = create ?? throw new ArgumentNullException(nameof(create));
    }

    /// <summary>The model's own workspace (the one <c>Forward</c>, <c>Backward</c> and <c>GetOutput</c> use).</summary>
    public Workspace Main => _main;

    /// <summary>Claims the model's own workspace for a single-owner call (<c>Forward</c>, <c>Backward</c>…); false
    /// when a concurrent <c>Predict</c> is running on it.</summary>
    public bool TryEnterMain() => Interlocked.CompareExchange(ref _mainBusy, 1, 0) == 0;

    /// <summary>Releases the model's own workspace.</summary>
    public void ExitMain() => Volatile.Write(ref _mainBusy, 0);

    /// <summary>A workspace for one <c>Predict</c>: the model's own when free, else a spare.</summary>
    public Workspace Rent()
    {
        if (TryEnterMain()) return _main;
        lock (_lock)
        {
            if (_disposed) throw new ObjectDisposedException(_main.Owner, $"this {_main.Owner} has been disposed");
            if (_count > 0) { var ws = _spare[--_count]; _spare[_count] = null!; return ws; }
        }
        return _create();
    }

    /// <summary>Gives back what <see cref="Rent"/> returned.</summary>
    public void Return(Workspace ws)
    {
        if (ReferenceEquals(ws, _main)) { ExitMain(); return; }
        lock (_lock)
        {
            if (_disposed) { ws.Dispose(); return; }
            if (_count == _spare.Length) Array.Resize(ref _spare, _count * 2);
            _spare[_count++] = ws;
        }
    }

    /// <summary>Frees every workspace.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
            for (int i = 0; i < _count; i++) _spare[i].Dispose();
            _count = 0;
        }
        _main.Dispose();
    }
}
