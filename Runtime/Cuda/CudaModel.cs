using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Runtime.InteropServices;
using ModelGen.Training;

namespace ModelGen.Cuda;

/// <summary>A host span the twin reads on demand (the host model's parameters or gradients).</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public delegate Span<float> HostSpan();

/// <summary>
/// The hand-written half of a generated GPU twin (<c>MyNet.Cuda</c>): the device arena (the parameter block and its
/// gradients first, in the host's layout, then the batch-sized buffers), the loaded module and its kernels, the
/// host copies of parameters and gradients kept in step with the device, the optimiser updates and the loss mean.
/// The generated code adds the launches of its layers. Not for direct use.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class CudaModel : IDisposable
{
    private readonly ICudaBackend _gpu;
    private readonly bool _ownsBackend;
    private readonly nint _module;
    private readonly nint[] _kernels;
    private readonly nint _sgd, _sgdMomentum, _adam, _scale, _addScaled;   // the module's shared mg_* kernels
    private readonly int _parameters;
    private readonly long _gradientBase;
    private readonly HostSpan _hostParameters;
    private readonly HostSpan? _hostGradients;
    private readonly SparseRows[]? _sparse;
    private readonly long[]? _sparseFlags;
    private readonly (int Start, int Length, int Table)[] _segments;
    private bool _hostParametersChanged = true, _deviceParametersChanged;
    private bool _hostGradientsChanged, _deviceGradientsChanged;
    private Optimizer? _optimizer;
    private long _steps;
    private ulong _state;
    private float[] _losses = Array.Empty<float>();

    /// <summary>Allocates <paramref name="arenaFloats"/> floats on <paramref name="gpu"/>, loads <paramref name="ptx"/> and
    /// finds its kernels (<paramref name="kernels"/> by index, for the generated launches). Parameters start as the host's
    /// and are uploaded before the first launch.</summary>
    /// <remarks><paramref name="sparse"/>: the host model's sparse tables, and <paramref name="sparseFlags"/> the float offset
    /// in the arena of each one's row flags (one float per row, set by the backward kernels for the rows a batch used):
    /// their gradients are cleared with the flags at <see cref="ZeroGradients"/>, and the optimiser updates only the
    /// flagged rows.</remarks>
    public CudaModel(ICudaBackend gpu, bool ownsBackend, ReadOnlySpan<byte> ptx, string[] kernels, long arenaFloats, int parameterRegion, long gradientBase,
        HostSpan hostParameters, HostSpan? hostGradients, SparseRows[]? sparse = null, long[]? sparseFlags = null)
    {
        ArgumentNullException.ThrowIfNull(gpu);
        if ((sparse?.Length ?? 0) != (sparseFlags?.Length ?? 0)) throw new ArgumentException("one row-flag offset per sparse table", nameof(sparseFlags));
        _gpu = gpu; _ownsBackend = ownsBackend;
        _parameters = parameterRegion; _gradientBase = gradientBase;
        _hostParameters = hostParameters; _hostGradients = hostGradients;
        _sparse = sparse is { Length: > 0 } ? sparse : null;
        _sparseFlags = _sparse is null ? null : sparseFlags;
        _segments = _sparse is null ? new[] { (0, parameterRegion, -1) } : SparseRows.Segments(_sparse, parameterRegion);   // the host's state layout
        Base = gpu.Allocate(arenaFloats * 4);
        try
        {
            _module = gpu.LoadModule(ptx);
            _kernels = new nint[kernels.Length];
            for (int i = 0; i < kernels.Length; i++) _kernels[i] = gpu.Kernel(_module, kernels[i]);
            _sgd = gpu.Kernel(_module, "mg_Sgd");
            _sgdMomentum = gpu.Kernel(_module, "mg_SgdMomentum");
            _adam = gpu.Kernel(_module, "mg_Adam");
            _scale = gpu.Kernel(_module, "mg_Scale");
            _addScaled = gpu.Kernel(_module, "mg_AddScaled");
        }
        catch
        {
            if (_module != 0) gpu.UnloadModule(_module);
            gpu.Free(Base);
            throw;
        }
    }

    /// <summary>The backend the kernels run on.</summary>
    public ICudaBackend Gpu => _gpu;
    private Span<float> Grads() => _hostGradients is null ? throw new InvalidOperationException("an inference-only network has no gradients") : _hostGradients();

    /// <summary>The arena's device address.</summary>
    public ulong Base { get; }

    /// <summary>The device address of float <paramref name="offset"/> of the arena.</summary>
    public ulong At(long offset) => Base + (ulong)offset * 4;

    /// <summary>Copies floats to float offset <paramref name="offset"/> of the arena.</summary>
    public void Upload(ReadOnlySpan<float> source, long offset) => _gpu.Upload(MemoryMarshal.AsBytes(source), At(offset));
    /// <summary>Copies 32-bit integers (labels) to float offset <paramref name="offset"/> of the arena.</summary>
    public void Upload(ReadOnlySpan<int> source, long offset) => _gpu.Upload(MemoryMarshal.AsBytes(source), At(offset));
    /// <summary>Copies floats from float offset <paramref name="offset"/> of the arena.</summary>
    public void Download(long offset, Span<float> destination) => _gpu.Download(At(offset), MemoryMarshal.AsBytes(destination));

    private float[] _hostScratch = Array.Empty<float>();

    /// <summary>A host array of at least <paramref name="floats"/> floats, reused from call to call (dropout masks).</summary>
    public Span<float> HostScratch(int floats)
    {
        if (_hostScratch.Length < floats) _hostScratch = new float[floats];
        return _hostScratch.AsSpan(0, floats);
    }

    /// <summary>
    /// A dropout mask drawn exactly as the C# path draws it (<c>Kernels.Dropout.Forward</c> over its feature-major panels,
    /// or sample-major images), written in the GPU's sample-major order: so a twin and its model, seeded alike, drop the
    /// same units. <paramref name="steps"/> is 1 for vectors; <paramref name="image"/>: <paramref name="features"/> =
    /// channels·pixels, drawn in memory order.
    /// </summary>
    public static void DropoutMask(ref Rng rng, float rate, int batch, int steps, int features, bool image, Span<float> mask)
    {
        float scale = 1f / (1f - rate);
        if (image)
        {
            for (int i = 0; i < batch * features; i++) mask[i] = rng.NextFloat() >= rate ? scale : 0f;
            return;
        }
        for (int f = 0; f < features; f++)
            for (int t = 0; t < steps; t++)
                for (int b = 0; b < batch; b++)
                    mask[(b * steps + t) * features + f] = rng.NextFloat() >= rate ? scale : 0f;
    }

    /// <summary>A float argument's 8-byte slot.</summary>
    public static ulong F(float value) => (uint)BitConverter.SingleToInt32Bits(value);

    /// <summary>Launches kernel <paramref name="index"/> of the network.</summary>
    public void Launch(int index, long gridX, long gridY, long gridZ, int block, int sharedBytes, ReadOnlySpan<ulong> args) =>
        _gpu.Launch(_kernels[index], checked((uint)gridX), checked((uint)gridY), checked((uint)gridZ), (uint)block, (uint)sharedBytes, args);

    // ── graphs: each pass's launches recorded once per shape and replayed with one call ──────────────────────────

    private readonly Dictionary<long, nint> _graphs = new();
    private readonly Dictionary<long, int> _uses = new();
    private bool _capturing;

    /// <summary>At most this many graphs per twin (a shape past them runs its launches one by one).</summary>
    public const int MaxGraphs = 64;

    /// <summary>Whether the passes are recorded as graphs (CUDA graphs: one launch for a whole forward or backward pass of
    /// a shape seen before, instead of one per kernel). On by default; off, every kernel is launched by itself.</summary>
    public bool UseGraphs
    {
        get => _useGraphs;
        set
        {
            if (!value) DestroyGraphs();
            _useGraphs = value;
        }
    }
    private bool _useGraphs = true;

    /// <summary>Graphs recorded so far; their launches so far (for tests and logs).</summary>
    public int GraphsRecorded { get; private set; }
    /// <inheritdoc cref="GraphsRecorded"/>
    public long GraphLaunches { get; private set; }

    /// <summary>
    /// Before the launches of a pass whose shape is <paramref name="key"/> (the pass, the batch and the flags its launches
    /// depend on; everything else they read lies in device memory). Returns false when the pass's graph ran (the caller
    /// launches nothing); true when the caller must issue the launches and then call <see cref="Recorded"/>: run one by
    /// one, or — the second time a shape is seen — recorded into its graph, which <see cref="Recorded"/> then runs.
    /// The caller's host work (copies, masks drawn on the host) comes before: nothing but launches and memsets may be
    /// recorded.
    /// </summary>
    public bool Record(long key)
    {
        if (!_useGraphs) return true;
        if (_graphs.TryGetValue(key, out var graph))
        {
            _gpu.LaunchGraph(graph);
            GraphLaunches++;
            return false;
        }
        int uses = _uses.TryGetValue(key, out int u) ? u + 1 : 1;
        _uses[key] = uses;
        if (uses >= 2 && _graphs.Count < MaxGraphs)
        {
            _gpu.BeginCapture();
            _capturing = true;
        }
        return true;
    }

    /// <summary>After the launches <see cref="Record"/> asked for: ends a recording and runs the new graph.</summary>
    public void Recorded(long key)
    {
        if (!_capturing) return;
        _capturing = false;
        var graph = _gpu.EndCapture();
        _graphs.Add(key, graph);
        GraphsRecorded++;
        _gpu.LaunchGraph(graph);
        GraphLaunches++;
    }

    /// <summary>When the launches after <see cref="Record"/> failed: ends a recording without keeping it.</summary>
    public void Abandon()
    {
        if (!_capturing) return;
        _capturing = false;
        try { _gpu.DestroyGraph(_gpu.EndCapture()); }
        catch (CudaException) { }   // an invalidated capture ends with an error; the launch's own error is the one to report
        catch (InvalidOperationException) { }
    }

    private void DestroyGraphs()
    {
        foreach (var graph in _graphs.Values) _gpu.DestroyGraph(graph);
        _graphs.Clear();
        _uses.Clear();
    }

    /// <summary>Grid size: blocks of <paramref name="block"/> threads for <paramref name="count"/> items (at least 1).</summary>
    public static long Blocks(long count, int block) => Math.Max(1, (count + block - 1) / block);

    // ── parameters and gradients: the host copies and the device's, each newer when the other side changed ──────

    /// <summary>Before launches that read parameters or gradients: uploads what the host changed.</summary>
    public void ToDevice()
    {
        if (_hostParametersChanged)
        {
            _gpu.Upload(_hostParameters().Slice(0, _parameters), At(0));
            _hostParametersChanged = false;
        }
        if (_hostGradientsChanged)
        {
            _gpu.Upload(Grads().Slice(0, _parameters), At(_gradientBase));
            _hostGradientsChanged = false;
        }
    }

    /// <summary>The host's parameters, current; <paramref name="forWriting"/>: the caller may change them (uploaded before the next launch).</summary>
    public Span<float> HostParameters(bool forWriting)
    {
        var host = _hostParameters().Slice(0, _parameters);
        if (_deviceParametersChanged) { _gpu.Download(At(0), host); _deviceParametersChanged = false; }
        if (forWriting) _hostParametersChanged = true;
        return host;
    }

    /// <summary>The host's gradients, current (see <see cref="HostParameters"/>).</summary>
    public Span<float> HostGradients(bool forWriting)
    {
        var host = Grads().Slice(0, _parameters);
        if (_deviceGradientsChanged) { _gpu.Download(At(_gradientBase), host); _deviceGradientsChanged = false; }
        if (forWriting) _hostGradientsChanged = true;
        return host;
    }

    /// <summary>After launches that changed the gradients.</summary>
    public void GradientsChanged() => _deviceGradientsChanged = true;

    /// <summary>Zeroes the gradients on the device.</summary>
    public void ZeroGradients()
    {
        _gpu.Zero(At(_gradientBase), 4L * _parameters);
        if (_sparse is not null)
            for (int i = 0; i < _sparse.Length; i++) _gpu.Zero(At(_sparseFlags![i]), 4L * _sparse[i].Rows);
        _hostGradientsChanged = false;
        _deviceGradientsChanged = true;
    }

    /// <summary>Sets <paramref name="floats"/> floats at <paramref name="offset"/> to zero.</summary>
    public void Zero(long offset, long floats) => _gpu.Zero(At(offset), 4 * floats);

    /// <summary>Adds <c>c·w</c> to the gradient of the tensor at <paramref name="offset"/> (an L2 term's gradient).</summary>
    public void AddL2Gradient(int offset, int length, float c)
    {
        Span<ulong> a = stackalloc ulong[4] { At(offset), At(_gradientBase + offset), (uint)length, F(c) };
        _gpu.Launch(_addScaled, (uint)Blocks(length, 256), 1, 1, 256, 0, a);
    }

    /// <summary>The L2 penalty <c>λ·Σ w²</c> of the tensor at <paramref name="offset"/> (from the host copy, made current).</summary>
    public float L2Penalty(int offset, int length, float lambda)
    {
        var w = HostParameters(forWriting: false).Slice(offset, length);
        double s = 0;
        foreach (float x in w) s += (double)x * x;
        return (float)(lambda * s);
    }

    private int _lossScaleBits = -1;   // a NaN: the first scale is always written

    /// <summary>Writes the loss kernel's scale to float <paramref name="offset"/> of the arena, when it differs from the
    /// one written last (a batch of the same size and count needs no copy).</summary>
    public void LossScale(long offset, float scale)
    {
        int bits = BitConverter.SingleToInt32Bits(scale);
        if (bits == _lossScaleBits) return;
        _gpu.Upload(MemoryMarshal.AsBytes(new ReadOnlySpan<float>(in scale)), At(offset));
        _lossScaleBits = bits;
    }

    /// <summary>The mean of the first <paramref name="batch"/> per-sample losses at <paramref name="offset"/>, summed in
    /// sample order, over <paramref name="divisor"/>.</summary>
    public float MeanLoss(long offset, int batch, double divisor)
    {
        if (_losses.Length < batch) _losses = new float[batch];
        _gpu.Download(At(offset), _losses.AsSpan(0, batch));
        double total = 0;
        for (int b = 0; b < batch; b++) total += _losses[b];
        return (float)(total / divisor);
    }

    // ── the optimiser ────────────────────────────────────────────────────────────────────────────────────────

    /// <summary>One update with <paramref name="optimizer"/>: SGD (plain, momentum, Nesterov) and Adam/AdamW run on the
    /// device with their state there (taken from, and given back to, the host model's <see cref="OptimizerState"/> so that
    /// checkpoints see it); any other optimiser runs on the host copies.</summary>
    public void Step(Optimizer optimizer, OptimizerState hostState, IReadOnlyList<TensorInfo> tensors, Action hostStep)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        if (optimizer is not (Sgd or Adam))
        {
            HostParameters(forWriting: true);
            HostGradients(forWriting: false);
            MarkHostRows();
            hostStep();
            return;
        }
        ToDevice();
        int slots = optimizer.StateSlots;
        if (!ReferenceEquals(optimizer, _optimizer) || hostState.Version != _stateVersion)
        {
            // A new optimiser, or the host's state was restored (a checkpoint): continue from the host's state.
            if (_state != 0) { _gpu.Free(_state); _state = 0; }
            if (slots > 0)
            {
                _state = _gpu.Allocate(4L * slots * _parameters);
                if (ReferenceEquals(hostState.Owner, optimizer)) _gpu.Upload(hostState.ExportSlots(slots, _parameters), _state);
            }
            _steps = ReferenceEquals(hostState.Owner, optimizer) ? hostState.StepCount : 0;
            _optimizer = optimizer;
            _stateVersion = hostState.Version;
        }
        _steps++;
        if (optimizer is Adam { WeightDecay: > 0f } decayed)
        {
            Span<ulong> d = stackalloc ulong[5];
            for (int i = 0; i < tensors.Count; i++)   // indexed: an interface foreach would allocate every step
                if (tensors[i] is { IsWeight: true } t)
                {
                    int table = TableAt(t.Offset);
                    d[0] = At(t.Offset); d[1] = (uint)t.Length; d[2] = F(1f - decayed.LearningRate * decayed.WeightDecay);
                    d[3] = table < 0 ? 0 : At(_sparseFlags![table]); d[4] = table < 0 ? 0u : (uint)_sparse![table].RowLength;
                    _gpu.Launch(_scale, (uint)Blocks(t.Length, 256), 1, 1, 256, 0, d);
                }
        }
        // The parameter block in segments (the dense ranges between sparse tables, and each table), each segment's
        // optimiser slots one after the other: the host's OptimizerState layout, so checkpoints move either way.
        foreach (var (start, length, table) in _segments)
            Update(optimizer, start, length, table);
        _deviceParametersChanged = true;
        _stateChanged = true;
    }

    private void Update(Optimizer optimizer, int start, int length, int table)
    {
        uint n = (uint)length, grid = (uint)Blocks(length, 256);
        ulong p = At(start), g = At(_gradientBase + start), state = _state + 4UL * (ulong)optimizer.StateSlots * (ulong)start;
        ulong rows = table < 0 ? 0 : At(_sparseFlags![table]), rowLength = table < 0 ? 0u : (uint)_sparse![table].RowLength;
        switch (optimizer)
        {
            case Sgd { Momentum: 0f } s:
            {
                Span<ulong> a = stackalloc ulong[6] { p, g, n, F(s.LearningRate), rows, rowLength };
                _gpu.Launch(_sgd, grid, 1, 1, 256, 0, a);
                break;
            }
            case Sgd s:
            {
                Span<ulong> a = stackalloc ulong[9] { p, g, state, n, F(s.LearningRate), F(s.Momentum), F(s.Nesterov ? 1f : 0f), rows, rowLength };
                _gpu.Launch(_sgdMomentum, grid, 1, 1, 256, 0, a);
                break;
            }
            case Adam adam:
            {
                double c1 = 1 - Math.Pow(adam.Beta1, _steps), c2 = Math.Sqrt(1 - Math.Pow(adam.Beta2, _steps));
                Span<ulong> a = stackalloc ulong[11] { p, g, state, state + 4UL * n, n, F((float)(adam.LearningRate * c2 / c1)), F((float)(adam.Epsilon * c2)), F(adam.Beta1), F(adam.Beta2), rows, rowLength };
                _gpu.Launch(_adam, grid, 1, 1, 256, 0, a);
                break;
            }
        }
    }

    /// <summary>The host tables' rows set to the rows the device's backward passes flagged (for an update on the host).</summary>
    private void MarkHostRows()
    {
        if (_sparse is null) return;
        for (int i = 0; i < _sparse.Length; i++)
        {
            var flags = HostScratch(_sparse[i].Rows);
            Download(_sparseFlags![i], flags);
            _sparse[i].Forget();
            for (int r = 0; r < flags.Length; r++) if (flags[r] != 0f) _sparse[i].Mark(r);
        }
    }

    /// <summary>The sparse table that starts at parameter <paramref name="offset"/>, or −1.</summary>
    private int TableAt(int offset)
    {
        if (_sparse is null) return -1;
        for (int i = 0; i < _sparse.Length; i++) if (_sparse[i].Offset == offset) return i;
        return -1;
    }

    private long _stateVersion = -1;
    private bool _stateChanged;

    /// <summary>Gives the device's optimiser state back to the host model's <paramref name="hostState"/> (for a checkpoint),
    /// when the device changed it since.</summary>
    public OptimizerState OptimizerState(OptimizerState hostState)
    {
        if (_stateChanged && _optimizer is not null)
        {
            int slots = _optimizer.StateSlots;
            var exported = new float[(long)slots * _parameters];
            if (slots > 0) _gpu.Download(_state, exported.AsSpan());
            hostState.Restore(_optimizer, _steps, exported, _parameters);
            _stateVersion = hostState.Version;
            _stateChanged = false;
        }
        return hostState;
    }

    /// <summary>Frees the device memory and the module (and the backend when this model opened it).</summary>
    public void Dispose()
    {
        if (_state != 0) { _gpu.Free(_state); _state = 0; }
        DestroyGraphs();
        _gpu.UnloadModule(_module);
        _gpu.Free(Base);
        if (_ownsBackend) _gpu.Dispose();
    }
}
