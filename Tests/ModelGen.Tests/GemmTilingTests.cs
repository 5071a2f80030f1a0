using System;
using ModelGen.Tests.Harness;
using Xunit;

namespace ModelGen.Tests;

/// <summary>The register tiles and K blocks of the generated matrix products, checked bit for bit: a dense layer's
/// output element is one FMA chain over the reduction in order (then bias and activation), whatever the tile, the
/// column remainder or the K blocking — a later K block resumes the chain from the stored partial sum.</summary>
public class GemmTilingTests
{
    private static readonly Lazy<Type[]> s_models = new(() =>
    {
        // 600 inputs: 5 K blocks of 120; 601: four of 121 and one of 117 (the last one shorter); 120: one block.
        const string source = """
            using ModelGen;
            namespace Tiling;
            [Network(600, InferenceOnly = true)] public partial class Even { [Dense(20), Relu] public partial Layer A { get; } }
            [Network(601, InferenceOnly = true)] public partial class Uneven { [Dense(13), LeakyRelu(0.1f)] public partial Layer A { get; } }
            [Network(120, InferenceOnly = true)] public partial class Short { [Dense(7)] public partial Layer A { get; } }
            """;
        var result = GeneratorHarness.Run(source);
        Assert.Empty(result.GeneratorDiagnostics);
        var asm = GeneratorHarness.Load(result.Output);
        return new[] { asm.GetType("Tiling.Even")!, asm.GetType("Tiling.Uneven")!, asm.GetType("Tiling.Short")! };
    });

    public static TheoryData<int, int, SimdWidth> Cases()
    {
        var data = new TheoryData<int, int, SimdWidth>();
        foreach (int model in new[] { 0, 1, 2 })
            // panels of 16, 48 (32 + 16), 64 (one full 6×4 tile), 112 (64 + 32 + 16), 160 (64 + 64 + 32)
            foreach (int batch in new[] { 2, 40, 64, 100, 150 })
                foreach (var width in new[] { SimdWidth.V256, SimdWidth.V512 })
                    data.Add(model, batch, width);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Dense_outputs_are_one_fma_chain_per_element(int model, int batch, SimdWidth width)
    {
        if (!Simd.IsSupported(width)) return;   // the AVX2-only leg of CI runs V256
        using var net = (INetwork)Activator.CreateInstance(s_models.Value[model], batch, 1)!;
        net.Width = width;
        int inputs = net.InputSize, units = net.OutputSize;
        var rng = new Rng(7);
        var p = net.Parameters;
        for (int i = 0; i < p.Length; i++) p[i] = rng.NextFloat() * 2f - 1f;
        var x = new float[batch * inputs];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextFloat() * 2f - 1f;
        var y = new float[batch * units];
        net.Predict(x, y);

        ReadOnlySpan<float> w = p.Slice(net.Tensors[0].Offset, units * inputs), bias = p.Slice(net.Tensors[1].Offset, units);   // A.weight, A.bias
        for (int b = 0; b < batch; b++)
            for (int o = 0; o < units; o++)
            {
                float acc = 0f;
                for (int i = 0; i < inputs; i++) acc = MathF.FusedMultiplyAdd(w[o * inputs + i], x[b * inputs + i], acc);
                float z = acc + bias[o];
                float expected = model switch { 0 => MathF.Max(0f, z), 1 => z > 0f ? z : z * 0.1f, _ => z };
                Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(y[b * units + o]),
                    $"{width}, batch {batch}, sample {b}, unit {o}: {y[b * units + o]:R} from the generated product, {expected:R} from one FMA chain");
            }
    }
}
