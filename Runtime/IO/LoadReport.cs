using System.Collections.Generic;

namespace ModelGen.IO;

/// <summary>What a load did: the tensors copied into the model, those converted from another dtype, those of the
/// file the model does not have (skipped), and those of the model the file does not have (left as they were).</summary>
public sealed record LoadReport(
    IReadOnlyList<string> Loaded,
    IReadOnlyList<string> Converted,
    IReadOnlyList<string> Skipped,
    IReadOnlyList<string> Missing);
