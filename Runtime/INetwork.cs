using System;
using System.Collections.Generic;

namespace ModelGen;

/// <summary>A generated network: fixed shapes, one arena, zero allocation per call.</summary>
public interface INetwork : IDisposable
{
    /// <summary>Floats per input sample.</summary>
    int InputSize { get; }
    /// <summary>Floats per output sample.</summary>
    int OutputSize { get; }
    /// <summary>Largest batch this instance accepts (set at construction).</summary>
    int MaxBatch { get; }
    /// <summary>Number of trainable parameters.</summary>
    int ParameterCount { get; }
    /// <summary>Threads a large <see cref="Predict"/> is split over (1: off, the default); outputs do not depend on it.</summary>
    int Threads { get; set; }
    /// <summary>Which generated code path runs; defaults to <see cref="Simd.Best"/>.</summary>
    SimdWidth Width { get; set; }
    /// <summary>The shape of one input sample (<c>[C, H, W]</c> for images, <c>[features]</c> otherwise).</summary>
    IReadOnlyList<int> InputShape { get; }
    /// <summary>The layers, in declaration order (the graph's order: a layer reads earlier ones).</summary>
    IReadOnlyList<Layer> Layers { get; }
    /// <summary>Every parameter tensor, in declaration order.</summary>
    IReadOnlyList<TensorInfo> Tensors { get; }
    /// <summary>All parameters, one contiguous block (tensors at <see cref="TensorInfo.Offset"/>, zero padding between),
    /// writable. Reading the property marks the parameters changed: what the model derives from them (the batch-1
    /// transposes, Winograd filter transforms, a folded BatchNorm, the recurrent panels) is rebuilt at the next call.
    /// Writes through a view taken before a call are not seen by later calls until the property is read again (reading
    /// it costs nothing) — as ONNX Runtime's pre-packed weights do not follow later writes to an initializer.</summary>
    Span<float> Parameters { get; }
    /// <summary>Runs the network on <c>input.Length / InputSize</c> samples (row-major <c>[batch, InputSize]</c>).
    /// With <paramref name="training"/> the activations are kept for <c>Backward</c>.</summary>
    void Forward(ReadOnlySpan<float> input, bool training = false);
    /// <summary>Copies the last forward's outputs, row-major <c>[batch, OutputSize]</c>.</summary>
    void GetOutput(Span<float> output);
    /// <summary>Inference, <c>output[batch, OutputSize] = network(input)</c>. Thread-safe: many threads may call it on one
    /// model at once (each call runs in a workspace of its own); not while the model trains or loads.</summary>
    void Predict(ReadOnlySpan<float> input, Span<float> output);
    /// <summary>Copies a layer's output of the last <see cref="Forward"/>, sample-major <c>[batch, size]</c>.</summary>
    void GetActivation(string layer, Span<float> destination);
}
