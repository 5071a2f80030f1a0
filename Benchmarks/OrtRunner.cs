using System;
using System.IO;
using Microsoft.ML.OnnxRuntime;
using ModelGen;

namespace ModelGen.Benchmarks;

/// <summary>ONNX Runtime on the same weights as a ModelGen model: the model is exported with <c>ExportOnnx</c>, loaded
/// with all graph optimisations and a given number of intra-op threads, and run with pre-allocated input and output
/// tensors over pinned arrays (no copies, no allocation per call but ONNX Runtime's own).</summary>
public sealed class OrtRunner : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _run = new();
    private readonly OrtValue _input, _output;
    private readonly string[] _inputNames = { "input" }, _outputNames;

    public OrtRunner(INetwork model, int batch, int threads, float[] x, float[] y)
    {
        string path = Path.Combine(Path.GetTempPath(), $"modelgen-bench-{model.GetType().Name}-{Environment.ProcessId}.onnx");
        model.ExportOnnx(path);
        using var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        };
        var sw = System.Diagnostics.Stopwatch.StartNew();
        _session = new InferenceSession(path, options);
        SessionMilliseconds = sw.Elapsed.TotalMilliseconds;
        File.Delete(path);
        var shape = new long[model.InputShape.Count + 1];
        shape[0] = batch;
        for (int i = 0; i < model.InputShape.Count; i++) shape[i + 1] = model.InputShape[i];
        _input = OrtValue.CreateTensorValueFromMemory(x, shape);
        _output = OrtValue.CreateTensorValueFromMemory(y, new long[] { batch, model.OutputSize });
        _outputNames = new[] { model.Layers[model.Layers.Count - 1].Name };
    }

    /// <summary>The time <c>new InferenceSession</c> took (graph load and optimisation, kernel creation).</summary>
    public double SessionMilliseconds { get; }

    public void Run() => _session.Run(_run, _inputNames, new[] { _input }, _outputNames, new[] { _output });

    public void Dispose()
    {
        _input.Dispose(); _output.Dispose(); _run.Dispose(); _session.Dispose();
    }
}
