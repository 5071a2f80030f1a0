using System;
using TorchSharp;
using static TorchSharp.torch;

namespace ModelGen.Benchmarks;

/// <summary>`--torch-grad-check`: are TorchSharp's float32 convolution gradients right on this host? PERF.md reports
/// that on an AMD AVX-512 host its default (oneDNN AVX-512) path computed input gradients 40–100 % wrong, and issue 9's
/// training target is against TorchSharp's correct path. Each of W2's four convolutions at batch 32, float32 against the
/// same layer in float64 (the same weights and inputs): relative L2 errors of the output, the input gradient and the
/// weight gradient. Run it twice, as is and with <c>ONEDNN_MAX_CPU_ISA=AVX2</c>, to compare the two paths.</summary>
internal static class TorchGradCheck
{
    public static void Run()
    {
        torch.set_num_threads(1);
        torch.manual_seed(1);
        Console.WriteLine($"ONEDNN_MAX_CPU_ISA={Environment.GetEnvironmentVariable("ONEDNN_MAX_CPU_ISA") ?? "(unset)"}");
        foreach (var (cin, cout, hw) in new[] { (3, 32, 32), (32, 32, 32), (32, 64, 16), (64, 64, 16) })
        {
            using var scope = torch.NewDisposeScope();
            const int batch = 32;
            var conv = nn.Conv2d(cin, cout, 3, padding: 1);
            var conv64 = nn.Conv2d(cin, cout, 3, padding: 1, dtype: ScalarType.Float64);
            using (torch.no_grad())
            {
                conv64.weight!.copy_(conv.weight!.to(ScalarType.Float64));
                conv64.bias!.copy_(conv.bias!.to(ScalarType.Float64));
            }
            var x = torch.randn(batch, cin, hw, hw);
            var g = torch.randn(batch, cout, hw, hw);
            var x32 = x.clone().requires_grad_(true);
            var y32 = conv.forward(x32);
            (y32 * g).sum().backward();
            var x64 = x.to(ScalarType.Float64).requires_grad_(true);
            var y64 = conv64.forward(x64);
            (y64 * g.to(ScalarType.Float64)).sum().backward();
            static double Rel(Tensor a, Tensor reference) => (a.to(ScalarType.Float64) - reference).norm().item<double>() / reference.norm().item<double>();
            Console.WriteLine($"conv {cin,2} → {cout,2} on {hw}×{hw}, batch {batch}: output {Rel(y32, y64):E1}, input gradient {Rel(x32.grad!, x64.grad!):E1}, weight gradient {Rel(conv.weight!.grad!, conv64.weight!.grad!):E1}");
        }
    }
}
