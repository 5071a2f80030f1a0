using System;
using System.Collections.Generic;
using System.IO;
using ModelGen.IO;
using ModelGen.Training;

namespace ModelGen;

/// <summary>Operations every generated network shares.</summary>
public static class NetworkExtensions
{
    /// <summary>Saves the parameters as safetensors (names = layer names, e.g. <c>Hidden1.weight</c>), atomically: a
    /// failure never leaves a half-written file, and an existing file is replaced only by a complete one.</summary>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty or a directory.</exception>
    /// <exception cref="IOException">The file cannot be written (the message names <paramref name="path"/>).</exception>
    /// <exception cref="UnauthorizedAccessException">No permission to write in the folder.</exception>
    public static void Save(this INetwork model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        SafeTensors.Save(path, model.Tensors, model.Parameters,
            new Dictionary<string, string> { ["generator"] = "ModelGen", ["network"] = model.GetType().Name });
    }

    /// <summary>Loads parameters saved by <see cref="Save"/> (or by PyTorch's <c>safetensors.torch.save_file</c> for a
    /// module with the same names and shapes). On any error the model is unchanged. <paramref name="options"/>: load a
    /// subset of a larger file (<c>Strict = false</c>, as PyTorch's <c>load_state_dict</c>) and convert F16/BF16/F64
    /// (<c>ConvertToFloat32 = true</c>); the report says what was loaded, converted, skipped and missing.
    /// Not while another thread runs <c>Predict</c> on the model.</summary>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty or a directory.</exception>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">The file is not valid safetensors or does not fit the model (the message names
    /// the tensor and the byte offset).</exception>
    public static LoadReport Load(this INetwork model, string path, LoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        return SafeTensors.Load(path, model.Tensors, model.Parameters, options);
    }

    /// <summary>Exports the inference graph and the weights to ONNX (opset 17; see <see cref="Onnx"/>), so that ONNX Runtime
    /// and other runtimes can run the model. Input <c>input</c> <c>[batch, …InputShape]</c> (NCHW for images).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty or a directory.</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public static void ExportOnnx(this INetwork model, string path) => Onnx.Export(model, path);

    /// <summary>
    /// Gradient clipping by global norm, PyTorch's <c>clip_grad_norm_</c>: the L2 norm of all gradients together (in
    /// double) is returned, and when it exceeds <paramref name="maxNorm"/> every gradient is scaled by
    /// <c>maxNorm / (norm + 1e-6)</c>. The note's remedy for exploding gradients in recurrent networks. A non-finite
    /// norm is returned and nothing is scaled (the non-finite check reports it).
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxNorm"/> is not positive and finite.</exception>
    public static double ClipGradientNorm(this ITrainableNetwork model, float maxNorm)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!(maxNorm > 0f) || float.IsInfinity(maxNorm)) throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, "the largest gradient norm must be positive and finite");
        var g = model.Gradients;
        double sum = 0;
        foreach (float v in g) sum += (double)v * v;
        double norm = Math.Sqrt(sum);
        if (double.IsFinite(norm) && norm > maxNorm)
        {
            float scale = (float)(maxNorm / (norm + 1e-6));
            for (int i = 0; i < g.Length; i++) g[i] *= scale;
        }
        return norm;
    }

    /// <summary>One training step on one batch: <c>ZeroGrad</c>, forward, loss, backward, update. Returns the loss.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> or <paramref name="optimizer"/> is null.</exception>
    /// <exception cref="ArgumentException">The input is not a whole batch of at most <c>MaxBatch</c> samples, or the labels do not match it.</exception>
    public static float TrainStep(this ITrainableNetwork model, ReadOnlySpan<float> input, ReadOnlySpan<int> labels, Optimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(model);
        model.ZeroGrad();
        model.Forward(input, training: true);
        float loss = model.Backward(labels);
        model.Step(optimizer);
        return loss;
    }

    /// <summary>One training step against float targets. Returns the loss.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> or <paramref name="optimizer"/> is null.</exception>
    /// <exception cref="ArgumentException">The input is not a whole batch of at most <c>MaxBatch</c> samples, or the targets do not match it.</exception>
    public static float TrainStep(this ITrainableNetwork model, ReadOnlySpan<float> input, ReadOnlySpan<float> targets, Optimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(model);
        model.ZeroGrad();
        model.Forward(input, training: true);
        float loss = model.Backward(targets);
        model.Step(optimizer);
        return loss;
    }
}
