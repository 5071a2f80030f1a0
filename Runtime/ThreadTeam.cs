using System;
using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Runtime.CompilerServices;
using System.Threading;

[assembly: InternalsVisibleTo("ModelGen.Tests")]

namespace ModelGen;

/// <summary>
/// The intra-op threads of one model (<c>model.Threads = n</c>): n − 1 background threads that sleep in the kernel
/// between calls (after at most <see cref="SpinMicroseconds"/> of polling: an idle model burns no core), and the calling thread, which always takes the first
/// share. Two kinds of work:
/// <list type="bullet">
/// <item><see cref="TryRun"/> (Predict): a batch is split into shares of whole 16-sample blocks (the last share takes
/// the remainder), each share runs a complete forward pass in a workspace of its own.</item>
/// <item><see cref="TryFor"/> (one layer's product, in training and in smaller Predict calls): the layer's outputs are
/// split into parts — samples, or rows of a weight gradient — and every output element is computed by exactly one
/// part with the same reduction order it has on one thread.</item>
/// </list>
/// Either way a result's arithmetic does not depend on which share or part computed it, so results are bitwise the
/// same for every thread count. The team is used by one call at a time: a call that finds it busy (a Predict share
/// reaching a layer's <see cref="TryFor"/>, or another thread's call) runs on its own thread instead.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed unsafe class ThreadTeam : IDisposable
{
    /// <summary>A share of a batch: row-major inputs in, row-major outputs out.</summary>
    public delegate void Share(ReadOnlySpan<float> input, Span<float> output);

    /// <summary>Part <paramref name="part"/> of <paramref name="parts"/> of the generated task <paramref name="task"/>:
    /// activations in <paramref name="ws"/>, per-part scratch in <paramref name="scratch"/> (<paramref name="ws"/> itself
    /// for part 0, a workspace of the team's for the others).</summary>
    public delegate void Part(Workspace ws, Workspace scratch, int task, int part, int parts);

    /// <summary>Samples per block: shares are whole blocks, so no share takes the batch-1 path.</summary>
    public const int Block = 16;

    /// <summary>FLOPs below which a layer's phase runs on one thread. Splitting a product moves its data between the
    /// cores' caches (a part's outputs are read by every part of the next layer, the gradients written by one core are
    /// updated by another): measured on a 2-core EPYC VM, a 25 MFLOP dense product (the MNIST MLP's at batch 64) ran
    /// no faster on two threads and the optimiser step after it 4× slower, while 100+ MFLOP convolutions ran 1.7–1.9×
    /// faster. Waking a sleeping thread costs ~100 µs there too.</summary>
    /// <remarks>Settable by the project's own tests only, which lower it to run every split on small models.</remarks>
    public static long MinWork { get; internal set; } = DefaultMinWork;

    /// <summary>The default of <see cref="MinWork"/>: 64 MFLOP.</summary>
    public const long DefaultMinWork = 1L << 26;

    /// <summary>The same for a phase split by samples, whose parts keep their data on their own core: 8 MFLOP. A
    /// float moved counts as 16 FLOPs (memory-bound layers such as pooling move floats, one core streams ~12 G/s).</summary>
    public static long MinSampleWork { get; internal set; } = DefaultMinSampleWork;

    /// <summary>The default of <see cref="MinSampleWork"/>.</summary>
    public const long DefaultMinSampleWork = 1L << 23;

    /// <summary>How long a thread polls for the next part (or the caller for the last part) before it sleeps:
    /// long enough to bridge the gap between two layers of one call, short enough that an idle model burns nothing
    /// measurable (ONNX Runtime's pool spins for milliseconds after each call).</summary>
    public const int SpinMicroseconds = 100;

    private static readonly long s_spinTicks = Stopwatch.Frequency * SpinMicroseconds / 1_000_000;
    private static readonly long s_callerSpinTicks = Stopwatch.Frequency / 1000;

    private readonly Thread[] _threads;
    private readonly ManualResetEventSlim[] _start;
    private readonly object _gate = new();   // the caller waits on it for the last share (allocated here, not lazily in a call)
    private readonly Func<Workspace>? _newScratch;
    private Workspace[]? _scratch;            // per-part scratch of parts 1…n−1, made at the first TryFor
    private readonly int[] _claimed;          // per chunk of a TryFor phase: 1 once a thread has begun it
    private int _chunks = 1;
    private int _busy, _pending, _shares, _inputSize, _outputSize, _batch, _task;
    private float* _x, _y;
    private Share? _work;
    private Part? _part;
    private Action<int, int>? _range;          // a block-wide loop of the runtime (ForRanges): its ranges' body
    private int _rangeLength, _rangeAlign;
    private Action<int, int>? _clearRange;
    private float* _clearAt;
    private Workspace? _ws;
    private ExceptionDispatchInfo? _error;
    private volatile bool _disposed;

    /// <summary><paramref name="threads"/> threads in all, the caller's included; <paramref name="newScratch"/> makes
    /// the scratch workspace of each part after the first (only when <see cref="TryFor"/> is first used: its pages
    /// are touched only where a part writes).</summary>
    public ThreadTeam(int threads, string owner, Func<Workspace>? newScratch = null)
    {
        _newScratch = newScratch;
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), threads, "at least one thread (the caller's)");
        Count = threads;
        _claimed = new int[threads * MaxChunks];
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
        if (shares < 2 || !TryEnter()) return false;
        try
        {
            fixed (float* x = input, y = output)
            {
                _x = x; _y = y; _batch = batch; _inputSize = inputSize; _outputSize = outputSize; _work = work;
                Dispatch(shares);
                _work = null;
            }
            _error?.Throw();
            return true;
        }
        finally { Exit(); }
    }

    /// <summary>Runs <paramref name="body"/> for parts 0 … <paramref name="parts"/> − 1 of <paramref name="task"/>
    /// (at most <see cref="Count"/>), part 0 on the calling thread, and returns when all are done; false (nothing run)
    /// when there are fewer than two parts, or the team is busy with another call.</summary>
    /// <remarks>With <paramref name="chunks"/> &gt; 1 (at most <see cref="MaxChunks"/>; fewer when there are fewer
    /// units) each thread's share is cut into that many chunks: parts c = t·chunks … (t + 1)·chunks − 1 of
    /// threads·chunks, which <see cref="Split"/> makes exactly thread t's share. A thread runs its own chunks first to last,
    /// then takes the chunks another thread has not begun, from the end of that thread's share: when one core runs slower
    /// (a VM's cores do, by tens of percent and for seconds), the other takes over the end of its share instead of waiting.
    /// Which thread runs a chunk changes nothing in its arithmetic.</remarks>
    public bool TryFor(int parts, Part body, Workspace ws, int task, int chunks = 1)
    {
        int units = parts;
        parts = Math.Min(parts, Count);
        if (parts < 2 || !TryEnter()) return false;
        try
        {
            if (_scratch is null)
            {
                var scratch = new Workspace[Count - 1];
                for (int i = 0; i < scratch.Length; i++)
                    scratch[i] = _newScratch?.Invoke() ?? throw new InvalidOperationException("this team was made without scratch workspaces");
                _scratch = scratch;
            }
            _chunks = Math.Clamp(Math.Min(chunks, units / parts), 1, MaxChunks);
            if (_chunks > 1) Array.Clear(_claimed, 0, parts * _chunks);
            _part = body; _ws = ws; _task = task;
            Dispatch(parts);
            _part = null; _ws = null;
            _error?.Throw();
            return true;
        }
        finally { Exit(); }
    }

    /// <summary>The most chunks a thread's share of a <see cref="TryFor"/> phase is cut into.</summary>
    public const int MaxChunks = 8;

    /// <summary>Claims the team for one call: false when it is disposed or busy with another call (whose caller then
    /// runs alone). Every use of the team's threads is between this and <see cref="Exit"/>.</summary>
    internal bool TryEnter() => !_disposed && Interlocked.CompareExchange(ref _busy, 1, 0) == 0;

    /// <summary>Releases the team claimed by <see cref="TryEnter"/>.</summary>
    internal void Exit() => Volatile.Write(ref _busy, 0);

    /// <summary>With the team claimed (<see cref="TryEnter"/>): <paramref name="body"/>(start, end) over
    /// [0, <paramref name="length"/>) in one range per thread (<see cref="Split"/>, bounds multiples of
    /// <paramref name="align"/>), the first on the calling thread — the runtime's own block-wide loops (the optimiser's
    /// update, <c>ZeroGrad</c>). The caller keeps the delegate, so a call allocates nothing.</summary>
    internal void ForRanges(int length, int align, Action<int, int> body)
    {
        _range = body; _rangeLength = length; _rangeAlign = align;
        try { Dispatch(Count); }
        finally { _range = null; }
        _error?.Throw();
    }

    /// <summary>Floats from which a block-wide loop of the runtime (<see cref="Clear"/>, the optimiser's update) is split
    /// over the team: 1 MB (below it, waking a sleeping thread costs more than the half it would take).</summary>
    public const int ParallelBlock = 1 << 18;

    /// <summary>Zeroes <paramref name="block"/> (a model's <c>ZeroGrad</c>): in ranges, one per thread, when there is a
    /// team free for it and the block holds at least <see cref="ParallelBlock"/> floats; else on the calling thread.</summary>
    public static void Clear(ThreadTeam? team, Span<float> block)
    {
        if (team is not null && block.Length >= ParallelBlock && team.TryEnter())
        {
            try
            {
                fixed (float* p = block)
                {
                    team._clearAt = p;
                    team.ForRanges(block.Length, 16, team._clearRange ??= team.ClearRange);
                }
            }
            finally { team._clearAt = null; team.Exit(); }
            return;
        }
        block.Clear();
    }

    private void ClearRange(int start, int end) => new Span<float>(_clearAt + start, end - start).Clear();

    /// <summary>Splits <paramref name="count"/> items into <paramref name="parts"/> contiguous ranges whose bounds are
    /// multiples of <paramref name="align"/> (except the end of the last), as even as that allows; part
    /// <paramref name="part"/>'s range is [<paramref name="start"/>, <paramref name="end"/>), possibly empty.</summary>
    public static void Split(int count, int align, int part, int parts, out int start, out int end)
    {
        // Proportional bounds ⌊units·part/parts⌋ nest: parts t·k … (t + 1)·k − 1 of parts·k cover exactly part t of parts.
        long units = (count + align - 1) / align;
        start = (int)Math.Min(count, units * part / parts * align);
        end = (int)Math.Min(count, units * (part + 1) / parts * align);
    }

    /// <summary>How many sample groups a weight gradient over <paramref name="batch"/> samples sums separately: one per
    /// <see cref="Block"/> samples, at most <paramref name="cap"/>. It depends on the batch alone, so every thread count
    /// adds the same partial sums in the same order; group g holds the samples <see cref="Split"/>(batch, 1, g, groups)
    /// gives it.</summary>
    public static int Groups(int batch, int cap) => Math.Max(1, Math.Min(cap, (batch + Block - 1) / Block));

    /// <summary>Part <paramref name="part"/> of <paramref name="parts"/> of a grid of <paramref name="groups"/> sample
    /// groups × <paramref name="tiles"/> row tiles, split group after group: the tiles [<paramref name="t0"/>,
    /// <paramref name="t1"/>) of group <paramref name="group"/> are this part's (possibly none). When the parts divide the
    /// groups evenly a part takes whole groups, whose samples its own core produced in the sample-split phases.</summary>
    public static void SplitGroups(int groups, int tiles, int group, int part, int parts, out int t0, out int t1)
    {
        Split(groups * tiles, 1, part, parts, out int u0, out int u1);
        t0 = Math.Clamp(u0 - group * tiles, 0, tiles);
        t1 = Math.Clamp(u1 - group * tiles, t0, tiles);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimised from the first call: no Tier-0 polling or OSR
    private void Dispatch(int shares)
    {
        _shares = shares;
        _error = null;
        Volatile.Write(ref _pending, shares - 1);
        for (int i = 1; i < shares; i++) _start[i - 1].Set();
        RunShare(0);
        // The other parts are running (the call is not idle): poll for up to a millisecond before sleeping — waking a
        // sleeping caller can take ~100 µs on a VM, long enough for the workers' own polling to lapse meanwhile.
        long deadline = Stopwatch.GetTimestamp() + s_callerSpinTicks;
        while (Volatile.Read(ref _pending) != 0 && Stopwatch.GetTimestamp() < deadline) Thread.SpinWait(16);
        if (Volatile.Read(ref _pending) != 0)
            lock (_gate)
                while (Volatile.Read(ref _pending) != 0) Monitor.Wait(_gate);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimised from the first call: no Tier-0 polling or OSR
    private void RunShare(int share)
    {
        if (_range is { } range)
        {
            Split(_rangeLength, _rangeAlign, share, _shares, out int from, out int to);
            try { if (from < to) range(from, to); }
            catch (Exception e) { Interlocked.CompareExchange(ref _error, ExceptionDispatchInfo.Capture(e), null); }
            return;
        }
        if (_part is { } part)
        {
            var ws = _ws!;
            var ts = share == 0 ? ws : _scratch![share - 1];
            try
            {
                int k = _chunks, shares = _shares;
                if (k == 1) { part(ws, ts, _task, share, shares); return; }
                for (int c = share * k; c < (share + 1) * k; c++)   // this thread's chunks, first to last
                {
                    if (Interlocked.CompareExchange(ref _claimed[c], 1, 0) != 0) break;   // the rest were taken from the end
                    part(ws, ts, _task, c, shares * k);
                }
                for (int i = 1; i < shares; i++)   // then the others' chunks not begun, from the end of each share
                {
                    int q = (share + i) % shares;
                    for (int c = (q + 1) * k - 1; c >= q * k; c--)
                    {
                        if (Interlocked.CompareExchange(ref _claimed[c], 1, 0) != 0) break;
                        part(ws, ts, _task, c, shares * k);
                    }
                }
            }
            catch (Exception e) { Interlocked.CompareExchange(ref _error, ExceptionDispatchInfo.Capture(e), null); }
            return;
        }
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

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // optimised from the first call: no Tier-0 polling or OSR
    private void Work(int worker)
    {
        var start = _start[worker - 1];
        while (true)
        {
            // The layers of one call follow each other within microseconds: poll for the next part for at most
            // SpinMicroseconds before sleeping in the kernel (a sleeping thread takes ~30 µs to wake on some VMs).
            long deadline = Stopwatch.GetTimestamp() + s_spinTicks;
            while (!start.IsSet && Stopwatch.GetTimestamp() < deadline) Thread.SpinWait(16);
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
        if (_scratch is { } scratch) foreach (var w in scratch) w.Dispose();
    }
}
