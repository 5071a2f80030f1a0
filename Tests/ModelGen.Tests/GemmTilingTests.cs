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
            [Network(2100)] public partial class Streamed { [Dense(130)] public partial Layer A { get; } [Mse] public partial Loss Loss { get; } }
            """;
        var result = GeneratorHarness.Run(source);
        Assert.Empty(result.GeneratorDiagnostics);
        var asm = GeneratorHarness.Load(result.Output);
        return new[] { asm.GetType("Tiling.Even")!, asm.GetType("Tiling.Uneven")!, asm.GetType("Tiling.Short")!, asm.GetType("Tiling.Streamed")! };
    });

    /// <summary>Sets the parameters uniform in [-1, 1) and returns a batch of inputs drawn the same way.</summary>
    private static float[] Randomise(INetwork net, int batch, ref Rng rng)
    {
        var p = net.Parameters;
        for (int i = 0; i < p.Length; i++) p[i] = rng.NextFloat() * 2f - 1f;
        var x = new float[batch * net.InputSize];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextFloat() * 2f - 1f;
        return x;
    }

    public static TheoryData<int, int, SimdWidth> Cases()
    {
        var data = new TheoryData<int, int, SimdWidth>();
        foreach (int model in new[] { 0, 1, 2, 3 })
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
        var x = Randomise(net, batch, ref rng);
        var p = net.Parameters;
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

    /// <summary>A dense layer whose weights exceed L2 (130 × 2100, 1.07 MB): its forward runs unblocked (whole rows of W
    /// streamed), its weight gradient rows outer (21 six-row tiles and one of 4; 32 full column tiles, then 48 columns
    /// and a scalar tail of 4, which multiplies and then adds), its input gradient in K blocks of 64, 64 and 2. Each gradient element is one FMA
    /// chain in order — dW[o,i] over the samples, dx[b,i] over the outputs — whatever the loop order, the blocking and
    /// the thread count (two threads split the rows of dW and of dx from batch 59 on).</summary>
    [Theory]
    [InlineData(2, SimdWidth.V256, 1)]
    [InlineData(40, SimdWidth.V256, 1)]
    [InlineData(64, SimdWidth.V256, 2)]
    [InlineData(2, SimdWidth.V512, 1)]
    [InlineData(40, SimdWidth.V512, 1)]
    [InlineData(64, SimdWidth.V512, 1)]
    [InlineData(64, SimdWidth.V512, 2)]
    [InlineData(100, SimdWidth.V512, 2)]
    [InlineData(100, SimdWidth.V512, 3)]
    public void Dense_gradients_of_weights_larger_than_L2_are_one_fma_chain_per_element(int batch, SimdWidth width, int threads)
    {
        if (!Simd.IsSupported(width)) return;
        using var net = (ITrainableNetwork)Activator.CreateInstance(s_models.Value[3], batch, 1)!;
        net.Width = width;
        net.Threads = threads;
        int inputs = net.InputSize, units = net.OutputSize;
        var rng = new Rng(11);
        var x = Randomise(net, batch, ref rng);
        var p = net.Parameters;
        var targets = new float[batch * units];
        for (int i = 0; i < targets.Length; i++) targets[i] = rng.NextFloat();
        var y = new float[batch * units];
        net.ZeroGrad();
        net.Forward(x, training: true);
        net.GetOutput(y);
        var dx = new float[batch * inputs];
        net.Backward(targets, dx);

        ReadOnlySpan<float> w = p.Slice(net.Tensors[0].Offset, units * inputs);
        ReadOnlySpan<float> dw = net.Gradients.Slice(net.Tensors[0].Offset, units * inputs);
        float scale = 2f / (batch * units);   // the Mse gradient: 2 (y − t) / (B·N)
        var dz = new float[batch * units];
        for (int i = 0; i < dz.Length; i++) dz[i] = scale * (y[i] - targets[i]);
        int tail = inputs - inputs % (width == SimdWidth.V512 ? 16 : 8);   // dW's last columns, less than a vector: the scalar kernel (multiply, then add)
        for (int o = 0; o < units; o++)
            for (int i = 0; i < inputs; i++)
            {
                float acc = 0f;
                for (int b = 0; b < batch; b++)
                    acc = i < tail ? MathF.FusedMultiplyAdd(dz[b * units + o], x[b * inputs + i], acc) : acc + dz[b * units + o] * x[b * inputs + i];
                Assert.True(acc == dw[o * inputs + i], $"{width}, batch {batch}, {threads} threads: dW[{o}, {i}] is {dw[o * inputs + i]:R}, one FMA chain gives {acc:R}");
            }
        for (int b = 0; b < batch; b++)
            for (int i = 0; i < inputs; i++)
            {
                float acc = 0f;
                for (int o = 0; o < units; o++) acc = MathF.FusedMultiplyAdd(w[o * inputs + i], dz[b * units + o], acc);
                Assert.True(BitConverter.SingleToInt32Bits(acc) == BitConverter.SingleToInt32Bits(dx[b * inputs + i]),
                    $"{width}, batch {batch}, {threads} threads: dx[{b}, {i}] is {dx[b * inputs + i]:R}, one FMA chain gives {acc:R}");
            }
    }
}
