using System;
using System.Collections.Generic;
using ModelGen.IO;
using ModelGen.Training;

namespace ModelGen;

/// <summary>Operations every generated network shares.</summary>
public static class NetworkExtensions
{
    /// <summary>Saves the parameters as safetensors (names = layer names, e.g. <c>Hidden1.weight</c>), atomically.</summary>
    public static void Save(this INetwork model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        SafeTensors.Save(path, model.Tensors, model.Parameters,
            new Dictionary<string, string> { ["generator"] = "ModelGen", ["network"] = model.GetType().Name });
    }

    /// <summary>Loads parameters saved by <see cref="Save"/> (or by PyTorch with the same names and shapes).
    /// On any error the model is unchanged.</summary>
    public static void Load(this INetwork model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        SafeTensors.Load(path, model.Tensors, model.Parameters);
    }

    /// <summary>One training step on one batch: <c>ZeroGrad</c>, forward, loss, backward, update. Returns the loss.</summary>
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
