using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;

namespace ModelGen;

/// <summary>
/// The per-call memory of a model: activations, gradients of activations and scratch, laid out by the generated
/// code (offsets from <c>maxBatch</c>), plus the state of the forward that filled it (batch, panel width and
/// stride, training or not). Parameters are not here: they live in the model's arena and are shared, so several
/// workspaces let several threads run <c>Predict</c> on one model at once.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class Workspace : IDisposable
{
    private readonly Arena _memory;

    /// <summary>Allocates the buffers of <paramref name="layout"/>, zeroed.</summary>
    public Workspace(WorkspaceLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        _memory = new Arena(Math.Max(layout.Length, 16), layout.Owner);
        Owner = layout.Owner;
        foreach (var (offset, length, name) in layout.Buffers) _memory.Describe(offset, length, name);
    }

    /// <summary>The model class this workspace belongs to.</summary>
    public string Owner { get; }

    /// <summary>Samples in the last forward (0: none yet).</summary>
    public int Batch;
    /// <summary>Columns computed in the last forward (1 for the batch-1 inference path, else the batch rounded up).</summary>
    public int N;
    /// <summary>Row stride of the panels in the last forward.</summary>
    public int Ld;
    /// <summary>The last forward kept what the backward pass needs.</summary>
    public bool Training;
    /// <summary>The backward pass also computes d loss / d input.</summary>
    public bool InputGradient;
    /// <summary>The last forward started its recurrent layers from the states the call before left (<c>Stateful</c>).</summary>
    public bool Carried;
    /// <summary>The parameter version the folded weights held here were built from (−1: none).</summary>
    public int FoldedVersion = -1;
    /// <summary>The parameter version the weights packed for every forward (Winograd filter transforms) were built from (−1: none).</summary>
    public int PackedVersion = -1;
    /// <summary>The parameter version the weights packed for the batch-1 path (transposed recurrent and dense weights) were built from (−1: none).</summary>
    public int Batch1Version = -1;
    /// <summary>The parameter version the GEMM panels of the batch-panel path (recurrent weights) were built from (−1: none).</summary>
    public int PanelVersion = -1;

    /// <summary>The parameter version the panels of <c>Wᵀ</c> of a dense layer that reads the caller's input in place were
    /// built from (−1: none).</summary>
    public int RowsVersion = -1;

    private unsafe float* _input;

    /// <summary>The caller's input, row-major <c>[batch, features]</c>, while <see cref="WithInput{T}"/> runs the layers: a
    /// first dense layer reads it in place at inference, not a transposed copy.</summary>
    /// <exception cref="InvalidOperationException">Read outside <see cref="WithInput{T}"/>.</exception>
    public unsafe ref float Input
    {
        get
        {
            if (_input == null) throw new InvalidOperationException("the caller's input is readable only while WithInput runs the layers");
            return ref *_input;
        }
    }

    /// <summary>Runs <paramref name="layers"/> with <paramref name="input"/> pinned and its address in <see cref="Input"/>
    /// (read by any thread of the model's team during the call), then forgets it. No allocation: pass a cached delegate.</summary>
    public unsafe void WithInput<T>(ReadOnlySpan<float> input, T model, Action<T, Workspace> layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        fixed (float* p = input)
        {
            _input = p;
#if MODELGEN_CHECKED
            int named = Kernels.Bounds.AddCall((nint)p, (nint)(p + input.Length));   // reads past its end throw
#endif
            try { layers(model, this); }
            finally
            {
                _input = null;
#if MODELGEN_CHECKED
                Kernels.Bounds.RemoveCall(named);
#endif
            }
        }
    }

    /// <summary>A reference to the float at <paramref name="offset"/> (no bounds check: generated code owns the layout).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref float Ref(long offset) => ref _memory.Ref(offset);

    /// <summary>A bounds-checked view of <paramref name="length"/> floats at <paramref name="offset"/>.</summary>
    public Span<float> Span(long offset, int length) => _memory.Span(offset, length);

    /// <summary>Frees the memory.</summary>
    public void Dispose() => _memory.Dispose();
}
