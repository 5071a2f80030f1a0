using System;
using Xunit;

namespace ModelGen.Tests.Harness;

/// <summary>The model's own float central differences (h = 1e-3) of every parameter, for checks whose loss cannot go
/// through <see cref="ReferenceNet"/> (a re-seeded dropout mask, a given initial state): <paramref name="lossAt"/> must
/// rebuild whatever the forward depends on besides the parameters.</summary>
internal static class CentralDifferences
{
    public static void CheckParameters(ITrainableNetwork net, float[] gradients, Func<float> lossAt, string prefix = "")
    {
        const float h = 1e-3f;
        foreach (var t in net.Tensors)
            for (int i = 0; i < t.Length; i++)
            {
                int k = t.Offset + i;
                float keep = net.Parameters[k];
                net.Parameters[k] = keep + h; float up = lossAt();
                net.Parameters[k] = keep - h; float down = lossAt();
                net.Parameters[k] = keep;
                float numeric = (up - down) / (2 * h);
                Assert.True(Math.Abs(gradients[k] - numeric) <= 2e-3 + 2e-2 * Math.Abs(numeric), $"{prefix}{t.Name}[{i}]: backward {gradients[k]}, central differences {numeric}");
            }
    }
}
