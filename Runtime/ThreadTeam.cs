using System;
using System.ComponentModel;
using System.Runtime.ExceptionServices;
using System.Threading;

namespace ModelGen;

/// <summary>
/// The intra-op threads of one model (<c>model.Threads = n</c>): n − 1 background threads that sleep in the kernel
/// between calls (no spinning: an idle model burns no core), and the calling thread, which always takes the first
/// share. A batch is split into shares of whole 16-sample blocks (the last share takes the remainder), each share
/// runs a complete forward pass in a workspace of its own, and a sample's arithmetic does not depend on which share
/// it is in — so the outputs are bitwise the same for every thread count.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed unsafe class ThreadTeam : IDisposable
{
    /// <summary>A share of a batch: row-major inputs in, row-major outputs out.</summary>
    public delegate void Share(ReadOnlySpan<float> input, Span<float> output);

    /// <summary>Samples per block: shares are whole blocks, so no share takes the batch-1 path.</summary>
    public const int Block = 16;

    private readonly Thread[] _threads;
    private readonly ManualResetEventSlim[] _start;
    private readonly object _gate = new();   // the caller waits on it for the last share (allocated here, not lazily in a call)
    private int _busy, _pending, _shares, _inputSize, _outputSize, _batch;
    private float* _x, _y;
    private Share? _work;
    private ExceptionDispatchInfo? _error;
    private volatile bool _disposed;

    /// <summary><paramref name="threads"/> threads in all, the caller's included.</summary>
    public ThreadTeam(int threads, string owner)
    {
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), threads, "at least one thread (the caller's)");
        Count = threads;
        _threads = new Thread[threads - 1];
        _start = new ManualResetEventSlim[threads - 1];
        for (int i = 0; i < _threads.Length; i++)
        {
            _start[i] = new ManualResetEventSlim(false, spinCount: 0);
            int worker = i + 1;
            _threads[i] = new Thread(() => Work(worker)) { IsBackground = true, Name = $"{owner} worker {worker}" };
            _threads[i].Start();
        }
    }

    /// <summary>Threads in all, the caller's included.</summary>
    public int Count { get; }

    /// <summary>How many shares a batch is split into.</summary>
    public int SharesOf(int batch) => Math.Max(1, Math.Min(Count, batch / Block));

    /// <summary>Runs <paramref name="work"/> on the shares of the batch, the first on the calling thread; false (nothing
    /// run) when the team is busy with another call or the batch is too small to split.</summary>
    public bool TryRun(ReadOnlySpan<float> input, Span<float> output, int batch, int inputSize, int outputSize, Share work)
    {
        int shares = SharesOf(batch);
        if (shares < 2 || _disposed || Interlocked.CompareExchange(ref _busy, 1, 0) != 0) return false;
        try
        {
            fixed (float* x = input, y = output)
            {
                _x = x; _y = y; _batch = batch; _inputSize = inputSize; _outputSize = outputSize; _work = work; _shares = shares;
                _error = null;
                Volatile.Write(ref _pending, shares - 1);
                for (int i = 1; i < shares; i++) _start[i - 1].Set();
                RunShare(0);
                lock (_gate)
                    while (Volatile.Read(ref _pending) != 0) Monitor.Wait(_gate);
                _work = null;
            }
            _error?.Throw();
            return true;
        }
        finally { Volatile.Write(ref _busy, 0); }
    }

    private void RunShare(int share)
    {
        int blocks = _batch / Block;
        int first = share * (blocks / _shares) + Math.Min(share, blocks % _shares);
        int count = blocks / _shares + (share < blocks % _shares ? 1 : 0);
        int start = first * Block, n = count * Block;
        if (share == _shares - 1) n = _batch - start;   // the last share takes the remainder
        try
        {
            _work!(new ReadOnlySpan<float>(_x + (long)start * _inputSize, n * _inputSize), new Span<float>(_y + (long)start * _outputSize, n * _outputSize));
        }
        catch (Exception e) { Interlocked.CompareExchange(ref _error, ExceptionDispatchInfo.Capture(e), null); }
    }

    private void Work(int worker)
    {
        var start = _start[worker - 1];
        while (true)
        {
            start.Wait();
            start.Reset();
            if (_disposed) return;
            RunShare(worker);
            if (Interlocked.Decrement(ref _pending) == 0)
                lock (_gate) Monitor.PulseAll(_gate);
        }
    }

    /// <summary>Stops the threads.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var s in _start) s.Set();
        foreach (var t in _threads) t.Join();
        foreach (var s in _start) s.Dispose();
    }
}
