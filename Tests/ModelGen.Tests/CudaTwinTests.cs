using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using ModelGen.Cuda;
using ModelGen.Tests.Harness;
using ModelGen.Tests.Models;
using ModelGen.Training;
using Xunit;

namespace ModelGen.Tests;

/// <summary>
/// The GPU twins (<c>Model.Cuda</c>) run on the PTX interpreter and are compared with the C# path on the same
/// parameters: outputs, losses, parameter and input gradients, optimiser updates, a whole <c>Trainer.Fit</c>. Every
/// kernel launch goes through the generated launch code, so a wrong offset, grid or argument order fails here.
/// </summary>
public class CudaTwinTests
{
    private const double Tolerance = 1e-5;

    /// <summary>Every test model with a GPU twin: the C# model and its twin on a backend, same seed.</summary>
    public static readonly Dictionary<string, (Func<int, ITrainableNetwork> Cpu, Func<ICudaBackend, int, ITrainableNetwork> Gpu)> Twins = new()
    {
        ["GcRelu"] = (n => new GcRelu(n, 3), (b, n) => new GcRelu.Cuda(b, n, 3)),
        ["GcLeaky"] = (n => new GcLeaky(n, 3), (b, n) => new GcLeaky.Cuda(b, n, 3)),
        ["GcSigmoid"] = (n => new GcSigmoid(n, 3), (b, n) => new GcSigmoid.Cuda(b, n, 3)),
        ["GcTanh"] = (n => new GcTanh(n, 3), (b, n) => new GcTanh.Cuda(b, n, 3)),
        ["GcSoftmaxFused"] = (n => new GcSoftmaxFused(n, 3), (b, n) => new GcSoftmaxFused.Cuda(b, n, 3)),
        ["GcStandalone"] = (n => new GcStandalone(n, 3), (b, n) => new GcStandalone.Cuda(b, n, 3)),
        ["GcWide"] = (n => new GcWide(n, 3), (b, n) => new GcWide.Cuda(b, n, 3)),
        ["GcMae"] = (n => new GcMae(n, 3), (b, n) => new GcMae.Cuda(b, n, 3)),
        ["GcHuber"] = (n => new GcHuber(n, 3), (b, n) => new GcHuber.Cuda(b, n, 3)),
        ["GcQuantile"] = (n => new GcQuantile(n, 3), (b, n) => new GcQuantile.Cuda(b, n, 3)),
        ["GcBce"] = (n => new GcBce(n, 3), (b, n) => new GcBce.Cuda(b, n, 3)),
        ["GcHinge"] = (n => new GcHinge(n, 3), (b, n) => new GcHinge.Cuda(b, n, 3)),
        ["GcMultiHinge"] = (n => new GcMultiHinge(n, 3), (b, n) => new GcMultiHinge.Cuda(b, n, 3)),
        ["GcL2"] = (n => new GcL2(n, 3), (b, n) => new GcL2.Cuda(b, n, 3)),
        ["GcFlatInputReaders"] = (n => new GcFlatInputReaders(n, 3), (b, n) => new GcFlatInputReaders.Cuda(b, n, 3)),
        ["GcConv"] = (n => new GcConv(n, 3), (b, n) => new GcConv.Cuda(b, n, 3)),
        ["GcConvStride"] = (n => new GcConvStride(n, 3), (b, n) => new GcConvStride.Cuda(b, n, 3)),
        ["GcConvRect"] = (n => new GcConvRect(n, 3), (b, n) => new GcConvRect.Cuda(b, n, 3)),
        ["GcConvChannels"] = (n => new GcConvChannels(n, 3), (b, n) => new GcConvChannels.Cuda(b, n, 3)),
        ["GcResidual"] = (n => new GcResidual(n, 3), (b, n) => new GcResidual.Cuda(b, n, 3)),
        ["GcInputReaders"] = (n => new GcInputReaders(n, 3), (b, n) => new GcInputReaders.Cuda(b, n, 3)),
        ["GcBatchNorm"] = (n => new GcBatchNorm(n, 3), (b, n) => new GcBatchNorm.Cuda(b, n, 3)),
        ["GcDropout"] = (n => new GcDropout(n, 3), (b, n) => new GcDropout.Cuda(b, n, 3)),
        ["GcGelu"] = (n => new GcGelu(n, 3), (b, n) => new GcGelu.Cuda(b, n, 3)),
        ["TwinVectorNorm"] = (n => new TwinVectorNorm(n, 3), (b, n) => new TwinVectorNorm.Cuda(b, n, 3)),
        ["GcLayerNorm"] = (n => new GcLayerNorm(n, 3), (b, n) => new GcLayerNorm.Cuda(b, n, 3)),
        ["GcAttentionSeq"] = (n => new GcAttentionSeq(n, 3), (b, n) => new GcAttentionSeq.Cuda(b, n, 3)),
        ["TwinTokens"] = (n => new TwinTokens(n, 3), (b, n) => new TwinTokens.Cuda(b, n, 3)),
        ["GcTiedGpt"] = (n => new GcTiedGpt(n, 3), (b, n) => new GcTiedGpt.Cuda(b, n, 3)),
        ["GcGpt16"] = (n => new GcGpt16(n, 3), (b, n) => new GcGpt16.Cuda(b, n, 3)),
        ["GcLstm"] = (n => new GcLstm(n, 3), (b, n) => new GcLstm.Cuda(b, n, 3)),
        ["GcLstmStacked"] = (n => new GcLstmStacked(n, 3), (b, n) => new GcLstmStacked.Cuda(b, n, 3)),
        ["GcLstmOneStep"] = (n => new GcLstmOneStep(n, 3), (b, n) => new GcLstmOneStep.Cuda(b, n, 3)),
        ["GcLstmLong"] = (n => new GcLstmLong(n, 3), (b, n) => new GcLstmLong.Cuda(b, n, 3)),
        ["GcGru"] = (n => new GcGru(n, 3), (b, n) => new GcGru.Cuda(b, n, 3)),
        ["GcGruLast"] = (n => new GcGruLast(n, 3), (b, n) => new GcGruLast.Cuda(b, n, 3)),
        ["GcSeqDense"] = (n => new GcSeqDense(n, 3), (b, n) => new GcSeqDense.Cuda(b, n, 3)),
        ["GcBiRecurrent"] = (n => new GcBiRecurrent(n, 3), (b, n) => new GcBiRecurrent.Cuda(b, n, 3)),
        ["GcEmbedGruDense"] = (n => new GcEmbedGruDense(n, 3), (b, n) => new GcEmbedGruDense.Cuda(b, n, 3)),
        ["GcEmbedLstmStacked"] = (n => new GcEmbedLstmStacked(n, 3), (b, n) => new GcEmbedLstmStacked.Cuda(b, n, 3)),
        ["GcMasking"] = (n => new GcMasking(n, 3), (b, n) => new GcMasking.Cuda(b, n, 3)),
        // Sparse tables (the default): only the rows a batch used are cleared and updated, the optimiser state too.
        ["GcCharLm"] = (n => new GcCharLm(n, 3), (b, n) => new GcCharLm.Cuda(b, n, 3)),
        ["GcEmbedGru"] = (n => new GcEmbedGru(n, 3), (b, n) => new GcEmbedGru.Cuda(b, n, 3)),
        ["GcBiMasked"] = (n => new GcBiMasked(n, 3), (b, n) => new GcBiMasked.Cuda(b, n, 3)),
        ["GcGptBlock"] = (n => new GcGptBlock(n, 3), (b, n) => new GcGptBlock.Cuda(b, n, 3)),
    };

    /// <summary>The input of a twin test: token ids for an embedding (every id, some repeated within a sample and across
    /// samples: rows of the table gradient collect several tokens); else uniform in [−1, 1].</summary>
    private static float[] InputOf(string name, int count, int seed) => name switch
    {
        // Padding (id 0, or a step of zeros) at the start, inside and at the end of the sequences.
        _ when Padded.TryGetValue(name, out int v) => Enumerable.Range(0, count).Select(i => i % 5 == 1 || i % 7 == 3 ? 0f : 1 + (i * 5 + seed) % (v - 1)).ToArray(),
        "GcMasking" => Random(count, seed).Select((v, i) => i / 2 % 6 == 0 || i / 2 % 4 == 3 ? 0f : v).ToArray(),
        _ => Vocabulary.TryGetValue(name, out int v) ? Enumerable.Range(0, count).Select(i => (float)((i * 7 + seed) % v)).ToArray() : Random(count, seed),
    };

    /// <summary>The token models' vocabularies (the embedding GcTiedGpt and GcGpt16 tie to their heads).</summary>
    private static readonly Dictionary<string, int> Vocabulary = new() { ["TwinTokens"] = 11, ["GcTiedGpt"] = 6, ["GcGpt16"] = 5, ["GcCharLm"] = 5, ["GcGptBlock"] = 7 };

    /// <summary>The MaskZero models' vocabularies: their inputs have padding (id 0).</summary>
    private static readonly Dictionary<string, int> Padded = new() { ["GcEmbedGruDense"] = 9, ["GcEmbedLstmStacked"] = 6, ["GcEmbedGru"] = 9, ["GcBiMasked"] = 7 };

    public static IEnumerable<object[]> TwinNames => Twins.Keys.Select(k => new object[] { k });

    private static float[] Random(int count, int seed, float scale = 1f)
    {
        var rng = new System.Random(seed);
        return Enumerable.Range(0, count).Select(_ => (float)(rng.NextDouble() * 2 - 1) * scale).ToArray();
    }

    internal static double RelL2(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        double num = 0, den = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.False(float.IsNaN(actual[i]), $"NaN at {i}");
            double d = (double)expected[i] - actual[i];
            num += d * d; den += (double)expected[i] * expected[i];
        }
        return Math.Sqrt(num / Math.Max(den, 1e-30));
    }

    private static void Close(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what, double tol = Tolerance)
    {
        double e = RelL2(expected, actual);
        Assert.True(e < tol, $"{what}: rel. L2 error {e:E2} (≥ {tol:E0})");
    }

    /// <summary>Labels or targets that the model's loss accepts.</summary>
    private static (int[]? Labels, float[]? Targets) Targets(ITrainableNetwork m, int batch, int seed)
    {
        var rng = new System.Random(seed);
        if (m.LossKind is LossKind.SoftmaxCrossEntropy or LossKind.MultiClassHinge)
        {
            // One label per step for a sequence output (every fifth skipped with −100), else one per sample.
            int per = m.LabelsPerSample, classes = m.OutputSize / per;
            return (Enumerable.Range(0, batch * per).Select(i => per > 1 && i % 5 == 4 ? -100 : rng.Next(classes)).ToArray(), null);
        }
        var t = Enumerable.Range(0, batch * m.OutputSize).Select(_ => m.LossKind switch
        {
            LossKind.BinaryCrossEntropy => (float)rng.NextDouble(),
            LossKind.Hinge => rng.Next(2) == 0 ? -1f : 1f,
            _ => (float)(rng.NextDouble() * 2 - 1),
        }).ToArray();
        return (null, t);
    }

    private static float Backward(ITrainableNetwork m, (int[]? Labels, float[]? Targets) t, Span<float> inputGradient) =>
        inputGradient.IsEmpty
            ? (t.Labels is not null ? m.Backward(t.Labels) : m.Backward(t.Targets!))
            : (t.Labels is not null ? m.Backward(t.Labels, inputGradient) : m.Backward(t.Targets!, inputGradient));

    [Theory]
    [MemberData(nameof(TwinNames))]
    public void Twin_matches_the_CSharp_path_forward_backward_and_updates(string name)
    {
        var (cpuOf, gpuOf) = Twins[name];
        // Batch 70 crosses the 64-row tiles of the dense GEMMs; a convolution's reduction over n·pixels crosses them already at 3.
        bool images = cpuOf(1) is var probe && probe.InputShape.Count == 3;
        probe.Dispose();
        foreach (int batch in images ? new[] { 1, 3 } : new[] { 1, 3, 70 })
        {
            using var cpu = cpuOf(batch);
            using var gpu = gpuOf(new PtxInterpreter(), batch);
            Assert.Equal(cpu.Parameters.ToArray(), gpu.Parameters.ToArray());
            var x = InputOf(name, batch * cpu.InputSize, 11 + batch);

            var yc = new float[batch * cpu.OutputSize];
            var yg = new float[batch * cpu.OutputSize];
            cpu.Predict(x, yc);
            gpu.Predict(x, yg);
            Close(yc, yg, $"{name} batch {batch}: Predict");

            var t = Targets(cpu, batch, 5 + batch);
            cpu.Forward(x, training: true);
            gpu.Forward(x, training: true);
            var dxc = new float[batch * cpu.InputSize];
            var dxg = new float[batch * cpu.InputSize];
            cpu.ZeroGrad(); gpu.ZeroGrad();
            float lc = Backward(cpu, t, dxc), lg = Backward(gpu, t, dxg);
            Assert.True(Math.Abs(lc - lg) <= 1e-5 * Math.Max(1, Math.Abs(lc)), $"{name} batch {batch}: loss {lg} vs {lc}");
            Close(cpu.Gradients, gpu.Gradients, $"{name} batch {batch}: parameter gradients");
            Close(dxc, dxg, $"{name} batch {batch}: input gradient");
            foreach (var layer in cpu.Layers)
            {
                var ac = new float[batch * layer.OutputShape.Aggregate(1, (a, b) => a * b)];
                var ag = new float[batch * layer.OutputShape.Aggregate(1, (a, b) => a * b)];
                cpu.GetActivation(layer.Name, ac);
                gpu.GetActivation(layer.Name, ag);
                Close(ac, ag, $"{name} batch {batch}: {layer.Name}'s output");
            }

            // Two updates of each optimiser on the device against the C# updates. Adam divides by √v + ε: a gradient that is
            // zero in exact arithmetic (a bias before a normalisation, the key bias of attention, a cancelling MAE or
            // hinge sum) comes out as ±1e-10 on one path and 0 on the other, and with ε = 1e-8 one path steps by the
            // learning rate and the other not at all. ε = 1e-3 keeps such noise negligible and still tests every term.
            var optimizers = new List<Func<Optimizer>>
            {
                () => new Sgd(0.1f), () => new Sgd(0.05f, 0.9f, nesterov: true), () => new Sgd(0.05f, 0.5f),
                () => new Adam(0.01f, epsilon: 1e-3f), () => new AdamW(0.01f, weightDecay: 0.1f, epsilon: 1e-3f),
            };
            foreach (var make in optimizers)
            {
                // Each optimiser from the same parameters: drift left by the one before would otherwise add up.
                cpu.Parameters.CopyTo(gpu.Parameters);
                Optimizer oc = make(), og = make();
                for (int s = 0; s < 2; s++)
                {
                    cpu.Forward(x, training: true); gpu.Forward(x, training: true);
                    cpu.ZeroGrad(); gpu.ZeroGrad();
                    Backward(cpu, t, default); Backward(gpu, t, default);
                    cpu.Step(oc); gpu.Step(og);
                }
                Close(cpu.Parameters, gpu.Parameters, $"{name} batch {batch}: parameters after two {oc.GetType().Name} steps");
            }
        }
    }

    [Theory]
    [InlineData("GcDropout")]      // dropout masks drawn on the host before each recorded forward
    [InlineData("GcSeqDense")]     // a GRU's step loop; labels per step, a different number skipped (−100) in each batch
    [InlineData("GcBatchNorm")]    // batch statistics in training, running ones in inference: two forward graphs
    [InlineData("GcL2")]           // L2 gradient launches inside the backward graph, the penalty on the host
    [InlineData("GcCharLm")]       // a sparse table: each batch uses other rows, and Adam leaves the others (and their state) alone
    [InlineData("GcEmbedGru")]     // a sparse table with padding, which is never a row used
    public void Graphs_replay_each_pass_bit_for_bit_as_the_launches_one_by_one(string name)
    {
        var (cpuOf, gpuOf) = Twins[name];
        var recorded = new PtxInterpreter();
        var eager = new PtxInterpreter();
        const int batch = 3;
        using var g = gpuOf(recorded, batch);
        using var e = gpuOf(eager, batch);
        using var cpu = cpuOf(batch);
        ((dynamic)e).UseGraphs = false;
        var rng = new System.Random(4);
        Optimizer og = new Adam(0.01f, epsilon: 1e-3f), oe = new Adam(0.01f, epsilon: 1e-3f), oc = new Adam(0.01f, epsilon: 1e-3f);
        var yg = new float[batch * g.OutputSize]; var ye = new float[batch * e.OutputSize];
        var dxg = new float[batch * g.InputSize]; var dxe = new float[batch * e.InputSize];
        for (int step = 0; step < 5; step++)
        {
            // New inputs and targets every step: the graphs read them from device memory, not from their recording.
            var x = InputOf(name, batch * g.InputSize, 20 + step);
            var t = Targets(g, batch, 30 + step);
            if (t.Labels is { } labels && g.LabelsPerSample > 1)
                for (int i = 0; i < labels.Length; i++) if (rng.Next(3) == 0) labels[i] = -100;
            g.Forward(x, training: true); e.Forward(x, training: true); cpu.Forward(x, training: true);
            g.ZeroGrad(); e.ZeroGrad(); cpu.ZeroGrad();
            bool input = step % 2 == 1;   // with and without d loss / d input: two backward graphs
            float lg = Backward(g, t, input ? dxg : default), le = Backward(e, t, input ? dxe : default), lc = Backward(cpu, t, default);
            Assert.Equal(le, lg);
            Assert.True(Math.Abs(lc - lg) <= 1e-5 * Math.Max(1, Math.Abs(lc)), $"{name} step {step}: loss {lg} vs the C# path's {lc}");
            if (input) Assert.Equal(dxe, dxg);
            Assert.Equal(e.Gradients.ToArray(), g.Gradients.ToArray());
            Close(cpu.Gradients, g.Gradients, $"{name} step {step}: gradients against the C# path");
            g.Step(og); e.Step(oe); cpu.Step(oc);
            Assert.Equal(e.Parameters.ToArray(), g.Parameters.ToArray());
            g.Predict(x, yg); e.Predict(x, ye);
            Assert.Equal(ye, yg);
        }
        Assert.Equal(0, eager.GraphLaunches);
        // Forward (training), backward with and without the input gradient, inference: each recorded at its second use.
        Assert.True(recorded.GraphLaunches >= 10, $"{recorded.GraphLaunches} graph launches");
    }

    [Theory]
    [InlineData("GcLstm")]       // h and the cell carried
    [InlineData("GcGru")]        // a GRU, a tanh RNN and a ReLU RNN stacked: every layer carries its state
    [InlineData("GcEmbedGru")]   // padding (which carries the state) at the start, inside and at the end of a piece
    public void Stateful_twins_carry_the_state_from_call_to_call_as_the_CSharp_path(string name)
    {
        var (cpuOf, gpuOf) = Twins[name];
        using var cpu = cpuOf(3);
        using var gpu = gpuOf(new PtxInterpreter(), 3);
        StateOps c = StateOps.Of(cpu), g = StateOps.Of(gpu);
        c.SetStateful(true); g.SetStateful(true);
        Optimizer oc = new Adam(0.01f, epsilon: 1e-3f), og = new Adam(0.01f, epsilon: 1e-3f);
        // Consecutive pieces, the batch changing between them (the state is kept per sample index), training on some
        // (truncated BPTT: the carried state is a constant, and W_hh's gradient includes the first step's product).
        foreach (var (batch, seed, train) in new[] { (3, 1, true), (2, 2, false), (3, 3, true), (3, 4, true) })
        {
            var x = InputOf(name, batch * cpu.InputSize, seed);
            var yc = new float[batch * cpu.OutputSize]; var yg = new float[batch * cpu.OutputSize];
            if (!train) { cpu.Predict(x, yc); gpu.Predict(x, yg); Close(yc, yg, $"{name} piece {seed}: Predict"); continue; }
            cpu.Forward(x, true); gpu.Forward(x, true);
            cpu.GetOutput(yc); gpu.GetOutput(yg);
            Close(yc, yg, $"{name} piece {seed}: output");
            var t = Targets(cpu, batch, seed);
            cpu.ZeroGrad(); gpu.ZeroGrad();
            Backward(cpu, t, default); Backward(gpu, t, default);
            Close(cpu.Gradients, gpu.Gradients, $"{name} piece {seed}: gradients");
            cpu.Step(oc); gpu.Step(og);
        }
        // The carried states themselves, and a state set from outside.
        foreach (var layer in cpu.Layers.Where(l => l.Type is LayerType.Lstm or LayerType.Gru or LayerType.Rnn))
        {
            int h = layer.OutputShape[^1];
            bool lstm = layer.Type == LayerType.Lstm;
            float[] hc = new float[3 * h], hg = new float[3 * h], cc = new float[lstm ? 3 * h : 0], cg = new float[lstm ? 3 * h : 0];
            c.Get(layer.Name, hc, cc); g.Get(layer.Name, hg, cg);
            Close(hc, hg, $"{name}: {layer.Name}'s carried h");
            if (lstm) Close(cc, cg, $"{name}: {layer.Name}'s carried cell");
            var set = Random(2 * h, 9);
            var setCell = lstm ? Random(2 * h, 10) : Array.Empty<float>();
            c.Set(layer.Name, set, setCell); g.Set(layer.Name, set, setCell);
        }
        var xs = InputOf(name, 2 * cpu.InputSize, 11);
        var ys = new float[2 * cpu.OutputSize]; var zs = new float[2 * cpu.OutputSize];
        cpu.Predict(xs, ys); gpu.Predict(xs, zs);
        Close(ys, zs, $"{name}: Predict from a state set from outside");
        // ResetStates: the next piece starts from zero, as without Stateful.
        c.Reset(); g.Reset();
        cpu.Predict(xs, ys); gpu.Predict(xs, zs);
        Close(ys, zs, $"{name}: Predict after ResetStates");
        g.SetStateful(false);
        var fresh = new float[zs.Length];
        gpu.Predict(xs, fresh);
        Assert.Equal(zs, fresh);
        var e = Assert.Throws<InvalidOperationException>(() => g.Set(cpu.Layers.First(l => l.Type is LayerType.Lstm or LayerType.Gru).Name, new float[3], Array.Empty<float>()));
        Assert.Contains("set Stateful = true first", e.Message);
    }

    /// <summary>The Stateful surface of the recurrent test models and their twins (no interface carries it).</summary>
    private sealed record StateOps(Action<bool> SetStateful, Action Reset, Action<string, float[], float[]> Set, Action<string, float[], float[]> Get)
    {
        public static StateOps Of(ITrainableNetwork m) => m switch
        {
            GcLstm n => new(v => n.Stateful = v, n.ResetStates, (l, h, c) => n.SetState(l, h, c), (l, h, c) => n.GetState(l, h, c)),
            GcLstm.Cuda n => new(v => n.Stateful = v, n.ResetStates, (l, h, c) => n.SetState(l, h, c), (l, h, c) => n.GetState(l, h, c)),
            GcGru n => new(v => n.Stateful = v, n.ResetStates, (l, h, c) => n.SetState(l, h, c), (l, h, c) => n.GetState(l, h, c)),
            GcGru.Cuda n => new(v => n.Stateful = v, n.ResetStates, (l, h, c) => n.SetState(l, h, c), (l, h, c) => n.GetState(l, h, c)),
            GcEmbedGru n => new(v => n.Stateful = v, n.ResetStates, (l, h, c) => n.SetState(l, h, c), (l, h, c) => n.GetState(l, h, c)),
            GcEmbedGru.Cuda n => new(v => n.Stateful = v, n.ResetStates, (l, h, c) => n.SetState(l, h, c), (l, h, c) => n.GetState(l, h, c)),
            _ => throw new ArgumentException(m.GetType().Name),
        };
    }

    [Fact]
    public void A_bidirectional_twin_refuses_Stateful_with_the_hosts_reason()
    {
        using var gpu = new GcBiRecurrent.Cuda(new PtxInterpreter(), 2, 1);
        Assert.Contains("is bidirectional", Assert.Throws<NotSupportedException>(() => gpu.Stateful = true).Message);
    }

    /// <summary>A user's optimiser (not one the device knows): it runs on the host copies.</summary>
    private sealed class SignDescent : Optimizer
    {
        public SignDescent(float lr) : base(lr) { }
        public override void Update(Span<float> parameters, ReadOnlySpan<float> gradients, Span<float> state, long step, IReadOnlyList<TensorInfo> tensors, SimdWidth width)
        {
            for (int i = 0; i < parameters.Length; i++) parameters[i] -= LearningRate * MathF.Sign(gradients[i]);
        }
    }

    [Theory]
    [InlineData("adamw")]
    [InlineData("momentum")]
    [InlineData("host")]
    public void Sparse_tables_update_only_the_rows_a_batch_used(string optimizer)
    {
        // GcCharLm's table has 5 rows of 3. Each step's batch uses two of them: a row used before and not now keeps its
        // value and its optimiser state (momentum, Adam's moments, AdamW's decay do not touch it), as on the C# path.
        const int batch = 2;
        using var cpu = new GcCharLm(batch, 3);
        using var gpu = new GcCharLm.Cuda(new PtxInterpreter(), batch, 3);
        Optimizer Make() => optimizer switch
        {
            "adamw" => new AdamW(0.05f, weightDecay: 0.5f, epsilon: 1e-3f),
            "momentum" => new Sgd(0.1f, 0.9f),
            _ => new SignDescent(0.01f),
        };
        Optimizer oc = Make(), og = Make();
        int table = gpu.Tensors.First(t => t.Name == "Embed.weight").Offset;
        var rows = new[] { (0, 1), (2, 3), (4, 2), (1, 0) };
        for (int step = 0; step < rows.Length; step++)
        {
            var (a, b) = rows[step];
            var x = Enumerable.Range(0, batch * 6).Select(i => (float)(i % 3 == 0 ? a : b)).ToArray();
            var labels = Enumerable.Range(0, batch * 6).Select(i => (i * 3 + step) % 5).ToArray();
            var before = gpu.Parameters.Slice(table, 15).ToArray();
            cpu.Forward(x, true); gpu.Forward(x, true);
            cpu.ZeroGrad(); gpu.ZeroGrad();
            cpu.Backward(labels); gpu.Backward(labels);
            cpu.Step(oc); gpu.Step(og);
            var after = gpu.Parameters.Slice(table, 15).ToArray();
            for (int r = 0; r < 5; r++)
            {
                bool used = r == a || r == b;
                bool same = before.AsSpan(r * 3, 3).SequenceEqual(after.AsSpan(r * 3, 3));
                Assert.True(used != same, $"step {step}: row {r} {(used ? "was used but did not change" : "was not used but changed")}");
            }
            Close(cpu.Parameters, gpu.Parameters, $"{optimizer} step {step}: parameters against the C# path");
        }
        // The device's optimiser state in the host's layout (a segment per sparse table): a checkpoint moves either way.
        int slots = oc.StateSlots, count = cpu.Parameters.Length;
        if (slots > 0) Close(cpu.OptimizerState.ExportSlots(slots, count), gpu.OptimizerState.ExportSlots(slots, count), $"{optimizer}: optimiser state");
    }

    [Fact]
    public void A_graph_refuses_host_work_inside_the_recording()
    {
        // The interpreter holds a recording to the driver's rule: a copy while recording is an error, so a twin that put
        // an upload among its recorded launches fails here, not only on a GPU.
        var gpu = new PtxInterpreter();
        ulong a = gpu.Allocate(64);
        gpu.BeginCapture();
        gpu.Zero(a, 64);
        Assert.Contains("while recording a graph", Assert.Throws<InvalidOperationException>(() => gpu.Upload(new byte[4], a)).Message);
        Assert.Contains("while recording a graph", Assert.Throws<InvalidOperationException>(() => gpu.Download(a, new byte[4])).Message);
        var graph = gpu.EndCapture();
        gpu.Upload(new byte[] { 1, 2, 3, 4 }, a);
        gpu.LaunchGraph(graph);   // the recorded memset runs now, not when it was recorded
        var back = new byte[4];
        gpu.Download(a, back);
        Assert.Equal(new byte[4], back);
        gpu.DestroyGraph(graph);
        Assert.Throws<InvalidOperationException>(() => gpu.LaunchGraph(graph));
    }

    [Fact]
    public void Twin_of_the_sample_MLP_matches_across_tile_edges()
    {
        // 784 → 256 → 128 → 10 at batch 65: every GEMM has a partial 64-row tile and K not a multiple of 16 (784 = 49·16, 65).
        using var cpu = new SampleMlp(65, 1);
        var gpuBackend = new PtxInterpreter();
        using var gpu = new SampleMlp.Cuda(gpuBackend, 65, 1);
        var x = Random(65 * 784, 3);
        var labels = Enumerable.Range(0, 65).Select(i => i % 10).ToArray();
        cpu.Forward(x, true); gpu.Forward(x, true);
        cpu.ZeroGrad(); gpu.ZeroGrad();
        float lc = cpu.Backward(labels), lg = gpu.Backward(labels);
        Assert.Equal(lc, lg, 4);
        Close(cpu.Gradients, gpu.Gradients, "SampleMlp gradients");
        Assert.DoesNotContain("Hidden1_Dx", gpuBackend.Launched);   // d loss / d input was not asked for
    }

    [Fact]
    public void Trainer_fits_a_twin_as_it_fits_the_CSharp_model()
    {
        int n = 48;
        var features = Random(n * 5, 9);
        var labels = Enumerable.Range(0, n).Select(i => features[i * 5] + features[i * 5 + 1] > 0 ? 1 : features[i * 5 + 2] > 0 ? 2 : 0).ToArray();
        var data = new ModelGen.Data.Dataset(features, 5, labels);
        TrainOptions Options() => new() { Epochs = 3, BatchSize = 16, Optimizer = new Sgd(0.2f, 0.9f), Seed = 2, Log = null };
        using var cpu = new GcRelu(16, 8);
        using var gpu = new GcRelu.Cuda(new PtxInterpreter(), 16, 8);
        var hc = Trainer.Fit(cpu, data, null, Options());
        var hg = Trainer.Fit(gpu, data, null, Options());
        Assert.Equal(hc.Epochs.Count, hg.Epochs.Count);
        for (int e = 0; e < hc.Epochs.Count; e++) Assert.Equal(hc.Epochs[e].TrainLoss, hg.Epochs[e].TrainLoss, 4);
        Close(cpu.Parameters, gpu.Parameters, "parameters after Fit", 1e-4);
    }

    [Fact]
    public void Host_changes_reach_the_device_and_device_updates_reach_the_host()
    {
        using var gpu = new GcRelu.Cuda(new PtxInterpreter(), 2, 1);
        using var cpu = new GcRelu(2, 1);
        var x = Random(10, 1);
        // Change a weight through Parameters: the next launch uses it.
        gpu.Parameters[0] = 5f; cpu.Parameters[0] = 5f;
        var yc = new float[8]; var yg = new float[8];
        cpu.Predict(x, yc); gpu.Predict(x, yg);
        Close(yc, yg, "after a host-side change");
        // A device-side step shows in Parameters and in the host model.
        gpu.Forward(x, true); gpu.ZeroGrad(); gpu.Backward(new[] { 1, 2 }); gpu.Step(new Sgd(0.5f));
        cpu.Forward(x, true); cpu.ZeroGrad(); cpu.Backward(new[] { 1, 2 }); cpu.Step(new Sgd(0.5f));
        Close(cpu.Parameters, gpu.Parameters, "after a device step");
        Close(cpu.Parameters, gpu.Host.Parameters, "the host model after a device step");
        // RepeatForward runs the kernels again on the input on the device, with the parameters as they are now.
        gpu.Parameters[1] = -3f; cpu.Parameters[1] = -3f;
        gpu.RepeatForward();
        gpu.GetOutput(yg);
        cpu.Predict(x, yc);
        Close(yc, yg, "RepeatForward after a host-side change");
    }

    [Fact]
    public void Two_threads_on_one_twin_get_their_own_results()
    {
        // Calls on one twin are serialised (one device arena): each thread's Predict returns its own batch's output.
        using var gpu = new GcWide.Cuda(new PtxInterpreter(), 5, 2);
        using var cpu = new GcWide(5, 2);
        var inputs = new[] { Random(3 * 37, 1), Random(5 * 37, 2) };
        var expected = inputs.Select(x => { var y = new float[x.Length / 37 * 19]; cpu.Predict(x, y); return y; }).ToArray();
        var errors = new System.Collections.Concurrent.ConcurrentBag<string>();
        var threads = Enumerable.Range(0, 2).Select(t => new System.Threading.Thread(() =>
        {
            var y = new float[expected[t].Length];
            for (int i = 0; i < 4; i++)
            {
                gpu.Predict(inputs[t], y);
                if (RelL2(expected[t], y) >= Tolerance) errors.Add($"thread {t}, call {i}");
            }
        })).ToList();
        threads.ForEach(th => th.Start());
        threads.ForEach(th => th.Join());
        Assert.Empty(errors);
    }

    [Fact]
    public void Twin_rejects_bad_input_with_the_CSharp_paths_messages()
    {
        using var gpu = new GcRelu.Cuda(new PtxInterpreter(), 4, 1);
        Assert.Contains("not a whole number of samples", Assert.Throws<ArgumentException>(() => gpu.Predict(new float[7], new float[4])).Message);
        Assert.Contains("at most 4", Assert.Throws<ArgumentException>(() => gpu.Predict(new float[25], new float[20])).Message);
        Assert.Throws<InvalidOperationException>(() => gpu.Backward(new[] { 0 }));
        gpu.Forward(new float[10], training: true);
        Assert.Contains("the network has 4 classes", Assert.Throws<ArgumentOutOfRangeException>(() => gpu.Backward(new[] { 0, 4 })).Message);
        Assert.Contains("got 1 labels for a batch of 2", Assert.Throws<ArgumentException>(() => gpu.Backward(new[] { 0 })).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new GcRelu.Cuda(new PtxInterpreter(), 0));
        // A token id outside the table: the host's check, before the device would gather a row outside the table.
        using var tokens = new TwinTokens.Cuda(new PtxInterpreter(), 2, 1);
        var ids = new float[12];
        ids[8] = 11;
        var m = Assert.Throws<ArgumentException>(() => tokens.Predict(ids, new float[2 * 24])).Message;
        Assert.Contains("Tok: sample 1, step 2 holds 11, which is not a token id", m);
        ids[8] = 2.5f;
        Assert.Contains("not a token id", Assert.Throws<ArgumentException>(() => tokens.Forward(ids, training: true)).Message);
    }

    [Fact]
    public void Without_a_GPU_the_twin_says_why_in_one_message()
    {
        var status = CudaStatus.Query();
        if (status.State == CudaState.Ready) return;   // a GPU machine: the twins run for real there (gpu/check.sh)
        var e = Assert.Throws<InvalidOperationException>(() => new GcRelu.Cuda(4));
        Assert.Contains("the CUDA path needs an NVIDIA GPU and its driver", e.Message);
        Assert.Contains(status.Message, e.Message);
    }

    [Fact]
    public void Inference_only_twins_predict()
    {
        using (var cpu = new InferenceOnlyNet(5, 2))
        using (var gpu = new InferenceOnlyNet.Cuda(new PtxInterpreter(), 5, 2))
        {
            var x = Random(40, 2);
            var yc = new float[10]; var yg = new float[10];
            cpu.Predict(x, yc); gpu.Predict(x, yg);
            Close(yc, yg, "InferenceOnlyNet");
        }
        // A sequence: dense layers, LayerNorm and GELU on every step; batch 70 crosses the 64-row tiles (70·4 rows).
        foreach (int batch in new[] { 1, 70 })
        {
            using var cpu = new TwinSequenceNorm(batch, 4);
            using var gpu = new TwinSequenceNorm.Cuda(new PtxInterpreter(), batch, 4);
            var x = Random(batch * 24, batch);
            var yc = new float[batch * 12]; var yg = new float[batch * 12];
            cpu.Predict(x, yc); gpu.Predict(x, yg);
            Close(yc, yg, $"TwinSequenceNorm batch {batch}");
            foreach (var layer in new[] { "G" })   // the C# model reuses A's and N's memory (inference only)
            {
                var ac = new float[batch * 40]; var ag = new float[batch * 40];
                cpu.GetActivation(layer, ac); gpu.GetActivation(layer, ag);
                Close(ac, ag, $"TwinSequenceNorm batch {batch}: {layer}");
            }
        }
    }

    [Fact]
    public void Interpreter_finds_a_missing_barrier_and_an_access_outside_memory()
    {
        string ptx = Encoding.UTF8.GetString(GcWide.Cuda.Ptx);
        // Drop the barrier after the staging of each K slice: the threads then read tiles others have not written.
        int at = ptx.IndexOf("\tbar.sync 0;", ptx.IndexOf(".entry A_Forward", StringComparison.Ordinal), StringComparison.Ordinal);
        string broken = ptx.Remove(at, "\tbar.sync 0;\n".Length);
        var gpu = new PtxInterpreter();
        var module = gpu.LoadModule(Encoding.UTF8.GetBytes(broken));
        var k = gpu.Kernel(module, "A_Forward");
        ulong mem = gpu.Allocate(4 * 100_000);
        var e = Assert.Throws<InvalidOperationException>(() => gpu.Launch(k, 1, 1, 1, 256, 8192, new ulong[] { mem, mem + 40_000, mem + 80_000, mem + 90_000, 3 }));
        Assert.Contains("shared-memory race", e.Message);

        var good = gpu.LoadModule(GcWide.Cuda.Ptx);
        var ok = gpu.Kernel(good, "A_Forward");
        ulong small = gpu.Allocate(4 * 50);   // far too small for 3 samples of 37 inputs and a [41, 37] weight
        e = Assert.Throws<InvalidOperationException>(() => gpu.Launch(ok, 1, 1, 1, 256, 8192, new ulong[] { small, small, small, small, 3 }));
        Assert.Contains("outside every live allocation", e.Message);
        Assert.Contains("A_Forward", e.Message);
    }
}
