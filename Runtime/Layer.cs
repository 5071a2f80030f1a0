using System;
using System.Collections.Generic;
using System.ComponentModel;

namespace ModelGen;

/// <summary>A layer of a generated network: its kind and hyper-parameters, shapes, the layers it reads, and views of
/// its tensors (parameters and, for training, their gradients) in the model's arena.</summary>
public sealed class Layer
{
    private readonly Arena _arena;
    private readonly long _gradBase;
    private readonly Dictionary<string, double> _options;

    /// <summary>Used by generated code.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public Layer(Arena arena, string name, LayerType type, string description, ActivationType activation, float alpha, float l2,
        int[] inputShape, int[] outputShape, string[] inputs, TensorInfo[] tensors, string[] optionNames, double[] optionValues, long gradientBase)
    {
        ArgumentNullException.ThrowIfNull(arena);
        if (optionNames.Length != optionValues.Length) throw new ArgumentException("option names and values differ in length");
        _arena = arena; Name = name; Type = type; Description = description; Activation = activation; Alpha = alpha; L2 = l2;
        InputShape = inputShape; OutputShape = outputShape; Inputs = inputs; Tensors = tensors; _gradBase = gradientBase;
        _options = new Dictionary<string, double>(StringComparer.Ordinal);
        for (int i = 0; i < optionNames.Length; i++) _options.Add(optionNames[i], optionValues[i]);
        // A tied tensor (another layer's, listed here because this layer reads it) is counted by its owner.
        foreach (var t in tensors) ParameterCount += t.IsBuffer || !t.Name.StartsWith(name + ".", StringComparison.Ordinal) ? 0 : t.Length;
    }

    /// <summary>The member's name.</summary>
    public string Name { get; }
    /// <summary>The layer kind (the attribute that declared it; <see cref="LayerType.Activation"/> for an activation on its own).</summary>
    public LayerType Type { get; }
    /// <summary>Kind and options as the summary prints them, e.g. <c>Conv2D(16, 5, pad 2), Relu</c>.</summary>
    public string Description { get; }
    /// <summary>The activation fused into this layer, or the activation this layer is.</summary>
    public ActivationType Activation { get; }
    /// <summary>Leaky ReLU's slope (0 for other activations).</summary>
    public float Alpha { get; }
    /// <summary>The L2 strength λ on this layer's weights (0: none).</summary>
    public float L2 { get; }
    /// <summary>Hyper-parameters by name, e.g. <c>units</c>; <c>filters</c>, <c>kernel_height</c>, <c>kernel_width</c>,
    /// <c>stride</c>, <c>padding_height</c>, <c>padding_width</c>, <c>bias</c> (1/0); <c>size</c>; <c>rate</c>;
    /// <c>momentum</c>, <c>epsilon</c>; <c>tanh</c> (1/0); <c>alpha</c>.</summary>
    public IReadOnlyDictionary<string, double> Options => _options;
    /// <summary>The layers this one reads, by name (<c>"(input)"</c> for the network input): one, or two for an add.</summary>
    public IReadOnlyList<string> Inputs { get; }
    /// <summary>Shape of one input sample.</summary>
    public IReadOnlyList<int> InputShape { get; }
    /// <summary>Shape of one output sample.</summary>
    public IReadOnlyList<int> OutputShape { get; }
    /// <summary>This layer's saved tensors (safetensors names, e.g. <c>Conv1.weight</c>), in order.</summary>
    public IReadOnlyList<TensorInfo> Tensors { get; }
    /// <summary>Number of trainable parameters.</summary>
    public int ParameterCount { get; }

    /// <summary>The tensor whose name ends in <c>.</c><paramref name="localName"/> (<c>weight</c>, <c>bias</c>,
    /// <c>running_mean</c>…), as a view of the parameters (writing to it changes the model).</summary>
    /// <exception cref="KeyNotFoundException">The layer has no such tensor.</exception>
    public Span<float> Parameter(string localName)
    {
        var t = Find(localName) ?? throw new KeyNotFoundException($"layer {Name} ({Description}) has no tensor '{localName}'; it has: {TensorList()}");
        return View(t);
    }

    /// <summary>The gradient of the loss with respect to <see cref="Parameter"/>(<paramref name="localName"/>).</summary>
    /// <exception cref="KeyNotFoundException">The layer has no such tensor.</exception>
    public Span<float> Gradient(string localName)
    {
        var t = Find(localName) ?? throw new KeyNotFoundException($"layer {Name} ({Description}) has no tensor '{localName}'; it has: {TensorList()}");
        return GradientView(t);
    }

    /// <summary>The weights (PyTorch's layout, e.g. <c>[out, in]</c>); empty for layers without weights.</summary>
    public Span<float> Weight => Find("weight") is { } t ? View(t) : default;
    /// <summary>The biases; empty for layers without biases.</summary>
    public Span<float> Bias => Find("bias") is { } t ? View(t) : default;
    /// <summary>Gradient of the loss with respect to <see cref="Weight"/>.</summary>
    public Span<float> WeightGradient => Find("weight") is { } t ? GradientView(t) : default;
    /// <summary>Gradient of the loss with respect to <see cref="Bias"/>.</summary>
    public Span<float> BiasGradient => Find("bias") is { } t ? GradientView(t) : default;

    /// <summary>A writable view: the model's parameter version moves (folded copies are rebuilt).</summary>
    private Span<float> View(TensorInfo t) { _arena.Touch(); return _arena.Span(t.Offset, t.Length); }

    private Span<float> GradientView(TensorInfo t) => _arena.Span(_gradBase + t.Offset, t.Length);

    private TensorInfo? Find(string local)
    {
        foreach (var t in Tensors)
            if (t.Name.Length == Name.Length + 1 + local.Length && t.Name.StartsWith(Name, StringComparison.Ordinal) && t.Name.EndsWith(local, StringComparison.Ordinal))
                return t;
        return null;
    }

    private string TensorList()
    {
        if (Tensors.Count == 0) return "none";
        var names = new string[Tensors.Count];
        for (int i = 0; i < names.Length; i++) names[i] = Tensors[i].Name.Substring(Name.Length + 1);
        return string.Join(", ", names);
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Name}: {Description} [{string.Join(",", InputShape)}] -> [{string.Join(",", OutputShape)}]";
}
