using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ModelGen.Training;

/// <summary>Per-model optimiser state: allocated once for the optimiser that first steps the model, and reset
/// (zeroed, step count 0) when a different optimiser instance takes over.</summary>
public sealed unsafe class OptimizerState : IDisposable
{
    private Optimizer? _owner;
    private Arena? _state;
    private long _step;

    /// <summary>The optimiser the state belongs to (null: none yet).</summary>
    internal Optimizer? Owner => _owner;
    /// <summary>Counts takeovers (a new optimiser, a restored checkpoint), so that a copy elsewhere (a GPU twin's) knows when it is stale.</summary>
    internal long Version { get; private set; }

    /// <summary>Updates so far with the current optimiser.</summary>
    public long StepCount => _step;

    /// <summary>One update of <paramref name="parameters"/> by <paramref name="optimizer"/>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="optimizer"/> is null.</exception>
    /// <exception cref="ArgumentException">The gradients are not the size of the parameters.</exception>
    public void Step(Optimizer optimizer, Span<float> parameters, ReadOnlySpan<float> gradients, IReadOnlyList<TensorInfo> tensors, SimdWidth width) =>
        Step(optimizer, parameters, gradients, tensors, width, (ThreadTeam?)null);

    /// <summary>One update of <paramref name="parameters"/> by <paramref name="optimizer"/>, over the threads of
    /// <paramref name="team"/> when there is one free, the block holds at least <see cref="ThreadTeam.ParallelBlock"/>
    /// parameters and the optimiser is a built-in one: each thread updates a range of the block, with the same bits as one thread.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="optimizer"/> is null.</exception>
    /// <exception cref="ArgumentException">The gradients are not the size of the parameters.</exception>
    public void Step(Optimizer optimizer, Span<float> parameters, ReadOnlySpan<float> gradients, IReadOnlyList<TensorInfo> tensors, SimdWidth width, ThreadTeam? team)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        if (!ReferenceEquals(optimizer, _owner))
        {
            _state?.Dispose();
            _state = optimizer.StateSlots > 0 ? new Arena((long)optimizer.StateSlots * parameters.Length) : null;
            _owner = optimizer;
            _step = 0;
            Version++;
        }
        _step++;
        var state = _state is null ? Span<float>.Empty : _state.Span(0, optimizer.StateSlots * parameters.Length);
        var w = Simd.Validate(width);
        if (team is not null && parameters.Length >= ThreadTeam.ParallelBlock && optimizer.UpdatesRanges)
        {
            Optimizer.Check(parameters, gradients, state, optimizer.StateSlots);
            if (team.TryEnter())
            {
                try
                {
                    fixed (float* p = parameters, g = gradients, st = state)
                    {
                        _range = new RangeUpdate(optimizer, p, g, st, parameters.Length, state.Length, _step, tensors, w);
                        team.ForRanges(parameters.Length, 16, _updateRange ??= UpdateRange);   // 16-float bounds: each element takes its whole-block path
                    }
                }
                finally { _range = default; team.Exit(); }
                return;
            }
        }
        optimizer.Update(parameters, gradients, state, _step, tensors, w);
    }

    /// <summary>The arguments of a parallel update, for the threads' parts (pointers into memory the caller holds fixed).</summary>
    private readonly struct RangeUpdate(Optimizer optimizer, float* p, float* g, float* state, int length, int stateLength, long step, IReadOnlyList<TensorInfo> tensors, SimdWidth width)
    {
        public readonly Optimizer Optimizer = optimizer;
        public readonly float* P = p, G = g, State = state;
        public readonly int Length = length, StateLength = stateLength;
        public readonly long Step = step;
        public readonly IReadOnlyList<TensorInfo> Tensors = tensors;
        public readonly SimdWidth Width = width;
    }

    private RangeUpdate _range;
    private Action<int, int>? _updateRange;

    private void UpdateRange(int start, int end)
    {
        var r = _range;
        r.Optimizer.UpdateRange(new Span<float>(r.P, r.Length), new ReadOnlySpan<float>(r.G, r.Length), new Span<float>(r.State, r.StateLength), r.Step, r.Tensors, r.Width, start, end);
    }

    /// <summary>One update of <paramref name="parameters"/> where the tables in <paramref name="sparse"/> are updated only in
    /// the rows their <see cref="SparseRows"/> recorded (a lazy update: other rows keep their values and optimiser
    /// state, as PyTorch's <c>sparse=True</c> embeddings with <c>SparseAdam</c>). The state is laid out per segment
    /// (the dense ranges between the tables, and each table), each segment's slots one after the other; with no table
    /// it is the plain layout of <see cref="Step(Optimizer, Span{float}, ReadOnlySpan{float}, IReadOnlyList{TensorInfo}, SimdWidth)"/>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="optimizer"/> is null.</exception>
    /// <exception cref="ArgumentException">The gradients are not the size of the parameters, or a table lies outside them.</exception>
    public void Step(Optimizer optimizer, Span<float> parameters, ReadOnlySpan<float> gradients, IReadOnlyList<TensorInfo> tensors, SimdWidth width, SparseRows[] sparse)
    {
        ArgumentNullException.ThrowIfNull(sparse);
        if (sparse.Length == 0) { Step(optimizer, parameters, gradients, tensors, width); return; }
        ArgumentNullException.ThrowIfNull(optimizer);
        if (gradients.Length != parameters.Length) throw new ArgumentException("parameters and gradients differ in length");
        var plan = _plan is { } known && ReferenceEquals(known.Sparse, sparse) && ReferenceEquals(known.Tensors, tensors) && known.Length == parameters.Length
            ? known : _plan = new SegmentPlan(sparse, tensors, parameters.Length);
        if (!ReferenceEquals(optimizer, _owner))
        {
            _state?.Dispose();
            _state = optimizer.StateSlots > 0 ? new Arena((long)optimizer.StateSlots * parameters.Length) : null;
            _owner = optimizer;
            _step = 0;
            Version++;
        }
        _step++;
        var w = Simd.Validate(width);
        int slots = optimizer.StateSlots;
        var state = _state is null ? Span<float>.Empty : _state.Span(0, slots * parameters.Length);
        foreach (var seg in plan.Segments)
        {
            var segState = slots == 0 ? Span<float>.Empty : state.Slice(slots * seg.Start, slots * seg.Length);
            if (seg.Table is not { } table)
            {
                optimizer.Update(parameters.Slice(seg.Start, seg.Length), gradients.Slice(seg.Start, seg.Length), segState, _step, seg.Tensors, w);
                continue;
            }
            // A touched row: its slot rows gathered next to each other (the optimiser's layout for one row), updated, put back.
            int d = table.RowLength;
            if (_rowState.Length < slots * d) _rowState = new float[slots * d];
            var rowState = _rowState.AsSpan(0, slots * d);
            foreach (int r in table.Touched)
            {
                for (int k = 0; k < slots; k++) segState.Slice(k * seg.Length + r * d, d).CopyTo(rowState.Slice(k * d, d));
                optimizer.Update(parameters.Slice(seg.Start + r * d, d), gradients.Slice(seg.Start + r * d, d), rowState, _step, seg.Tensors, w);
                for (int k = 0; k < slots; k++) rowState.Slice(k * d, d).CopyTo(segState.Slice(k * seg.Length + r * d, d));
            }
        }
    }

    private SegmentPlan? _plan;
    private float[] _rowState = Array.Empty<float>();

    /// <summary>The parameter block cut at the sparse tables: dense ranges and tables, each with its tensors rebased
    /// (a table's one tensor as one row, for the optimiser's weight decay).</summary>
    private sealed class SegmentPlan
    {
        public readonly SparseRows[] Sparse;
        public readonly IReadOnlyList<TensorInfo> Tensors;
        public readonly int Length;
        public readonly List<Segment> Segments = new();

        public SegmentPlan(SparseRows[] sparse, IReadOnlyList<TensorInfo> tensors, int length)
        {
            Sparse = sparse; Tensors = tensors; Length = length;
            foreach (var (start, count, table) in SparseRows.Segments(sparse, length))
            {
                if (table < 0) { Segments.Add(Dense(start, count)); continue; }
                var t = sparse[table];
                var info = FindTensor(t);
                Segments.Add(new Segment(t.Offset, t.Length, t, new[] { info with { Offset = 0, Length = t.RowLength, Shape = new[] { t.RowLength } } }));
            }
        }

        private TensorInfo FindTensor(SparseRows t)
        {
            foreach (var info in Tensors)
                if (info.Offset == t.Offset && info.Length == t.Length) return info;
            throw new ArgumentException($"sparse table {t.Name} at offset {t.Offset} is not one of the model's tensors");
        }

        private Segment Dense(int start, int length)
        {
            var inside = new List<TensorInfo>();
            foreach (var info in Tensors)
                if (info.Offset >= start && info.Offset + info.Length <= start + length) inside.Add(info with { Offset = info.Offset - start });
            return new Segment(start, length, null, inside);
        }
    }

    private sealed record Segment(int Start, int Length, SparseRows? Table, IReadOnlyList<TensorInfo> Tensors);

    /// <summary>The optimiser's per-parameter buffers (a copy, <c>StateSlots × parameters</c>), for a checkpoint.</summary>
    internal float[] ExportSlots(int slots, int parameterCount) =>
        _state is null || slots == 0 ? new float[(long)slots * parameterCount] : _state.Span(0, slots * parameterCount).ToArray();

    /// <summary>Takes over a checkpoint's state: <paramref name="optimizer"/> continues at update <paramref name="step"/>
    /// + 1 with the given buffers, as if it had made the first <paramref name="step"/> updates itself.</summary>
    internal void Restore(Optimizer optimizer, long step, ReadOnlySpan<float> slots, int parameterCount)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        if (slots.Length != (long)optimizer.StateSlots * parameterCount)
            throw new ArgumentException($"{optimizer.GetType().Name} keeps {optimizer.StateSlots} × {parameterCount} floats of state; the checkpoint has {slots.Length}", nameof(slots));
        _state?.Dispose();
        _state = optimizer.StateSlots > 0 ? new Arena((long)optimizer.StateSlots * parameterCount) : null;
        if (_state is not null) slots.CopyTo(_state.Span(0, slots.Length));
        _owner = optimizer;
        _step = step;
        Version++;
    }

    /// <summary>Frees the state.</summary>
    public void Dispose() { _state?.Dispose(); _state = null; _owner = null; }
}
