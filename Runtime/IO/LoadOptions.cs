namespace ModelGen.IO;

/// <summary>How <see cref="SafeTensors.Load(string, System.Collections.Generic.IReadOnlyList{TensorInfo}, System.Span{float}, LoadOptions?)"/>
/// treats a file that is not exactly the model's tensors in F32.</summary>
public sealed class LoadOptions
{
    /// <summary>As PyTorch's <c>load_state_dict(strict=True)</c> (the default): every tensor of the model must be in
    /// the file and the file may hold no other. With false, tensors the model lacks are skipped and tensors the file
    /// lacks keep their values; <see cref="LoadReport"/> lists both.</summary>
    public bool Strict { get; init; } = true;

    /// <summary>Accept F16, BF16 and F64 tensors and convert them to F32 (F64 values beyond F32's range are an error).
    /// Off by default: a file of another precision is then an error that says so.</summary>
    public bool ConvertToFloat32 { get; init; }
}
