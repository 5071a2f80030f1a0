namespace ModelGen;

/// <summary>A named parameter tensor: its place in <see cref="INetwork.Parameters"/> and its shape
/// (PyTorch's layout, e.g. <c>[out, in]</c> for a dense weight).</summary>
/// <param name="Name">Safetensors name, e.g. <c>Hidden1.weight</c>.</param>
/// <param name="Shape">Shape.</param>
/// <param name="Offset">Offset in floats into <see cref="INetwork.Parameters"/>.</param>
/// <param name="Length">Number of floats.</param>
/// <param name="IsWeight">True for weights (subject to weight decay), false for biases.</param>
/// <param name="IsBuffer">True for state that is saved but not trained (BatchNorm's running statistics).</param>
public sealed record TensorInfo(string Name, int[] Shape, int Offset, int Length, bool IsWeight, bool IsBuffer = false);
