using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using ModelGen.IO;
using ModelGen.Tests.Harness;
using ModelGen.Tests.Models;
using Xunit;

namespace ModelGen.Tests;

/// <summary>A weight file written as PyTorch writes one — <c>nn.GRU(3, 4, batch_first=True, bidirectional=True)</c>
/// and <c>nn.LSTM(8, 3, bidirectional=True)</c> state-dict names and shapes (<c>weight_ih_l0 [G·H, I]</c>, …,
/// <c>_reverse</c>), written here tensor by tensor in PyTorch's row-major layout — loads as it is, and the model's
/// outputs are those of the hand-written double-precision recurrence (PyTorch's equations) on the file's arrays.</summary>
public sealed class PyTorchLayoutTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("modelgen-pt-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_PyTorch_state_dict_loads_and_reproduces_the_reference_recurrence()
    {
        var rng = new Rng(42);
        // name → shape, as torch.nn.GRU / LSTM / Linear name and shape them
        var shapes = new List<(string Name, int[] Shape)>();
        foreach (var (layer, gates, input, hidden) in new[] { ("G", 3, 3, 4), ("L", 4, 8, 3) })
            foreach (var dir in new[] { "", "_reverse" })
            {
                shapes.Add(($"{layer}.weight_ih_l0{dir}", new[] { gates * hidden, input }));
                shapes.Add(($"{layer}.weight_hh_l0{dir}", new[] { gates * hidden, hidden }));
                shapes.Add(($"{layer}.bias_ih_l0{dir}", new[] { gates * hidden }));
                shapes.Add(($"{layer}.bias_hh_l0{dir}", new[] { gates * hidden }));
            }
        shapes.Add(("Out.weight", new[] { 2, 6 }));
        shapes.Add(("Out.bias", new[] { 2 }));
        var file = shapes.Select(s => (s.Name, s.Shape, Data: Enumerable.Range(0, s.Shape.Aggregate(1, (a, b) => a * b)).Select(_ => (float)(rng.NextGaussian() * 0.4)).ToArray())).ToList();
        string path = Path.Combine(_dir, "pytorch.safetensors");
        SafeTensors.Save(path, file, null);

        using var net = GcBiRecurrent.FromFile(path, maxBatch: 4);
        // The reference reads the file's arrays placed by name — nothing of the model's own loading.
        var p = new double[net.Parameters.Length];
        foreach (var (name, _, data) in file)
        {
            var t = net.Tensors.Single(x => x.Name == name);
            for (int i = 0; i < data.Length; i++) p[t.Offset + i] = data[i];
        }
        var reference = new ReferenceNet(net, GradientCheckTests.LayersOf(net));
        var x = Enumerable.Range(0, 3 * 15).Select(_ => (float)rng.NextGaussian()).ToArray();
        var expected = reference.Forward(p, x, 3);
        var y = new float[3 * 2];
        net.Predict(x, y);
        for (int i = 0; i < y.Length; i++) Assert.True(Math.Abs(y[i] - expected[i]) <= 1e-5 + 1e-5 * Math.Abs(expected[i]), $"output {i}: {y[i]} vs {expected[i]}");
        var one = new float[2];
        net.Predict(x.AsSpan(15, 15), one);   // batch 1: the step-major path
        for (int i = 0; i < 2; i++) Assert.True(Math.Abs(one[i] - expected[2 + i]) <= 1e-5 + 1e-5 * Math.Abs(expected[2 + i]), $"batch 1, output {i}: {one[i]} vs {expected[2 + i]}");
    }
}
