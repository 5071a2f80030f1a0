using System;
using System.Linq;
using ModelGen.Tests.Models;
using ModelGen.Training;
using Xunit;

namespace ModelGen.Tests;

/// <summary>
/// Training over <c>Threads</c>: each layer's products are split into parts (samples for the forward and the input
/// gradient, row blocks for the weight gradients) and every element is computed by one part in the one-thread order,
/// so parameters, gradients and d loss / d input after training steps are bitwise those of one thread.
/// </summary>
[Collection(nameof(MinWorkCollection))]
public sealed class TrainingThreadsTests : MinWorkLowered
{

    private static float[] Random(int n, int seed)
    {
        var rng = new Rng((ulong)seed);
        return Enumerable.Range(0, n).Select(_ => (float)rng.NextGaussian()).ToArray();
    }

    public static TheoryData<string, SimdWidth> Cases()
    {
        var d = new TheoryData<string, SimdWidth>();
        foreach (var model in new[] { nameof(ThreadNet), nameof(ServeNetTrainable) })
            foreach (var w in new[] { SimdWidth.V512, SimdWidth.V256, SimdWidth.Scalar })
                d.Add(model, w);
        d.Add(nameof(SmallLeNet), SimdWidth.V512);   // 5×5 convolutions, max-pooling (its scalar path is slow and adds nothing)
        d.Add(nameof(LstmTwinTrainable), SimdWidth.V512);   // a bidirectional LSTM (its kept tanh(c) per direction) before a split dense layer
        d.Add(nameof(LstmTwinTrainable), SimdWidth.Scalar);
        return d;
    }

    private static ITrainableNetwork Make(string model) => model switch
    {
        nameof(ThreadNet) => new ThreadNet(64, 3),
        nameof(ServeNetTrainable) => new ServeNetTrainable(64, 3),
        nameof(LstmTwinTrainable) => new LstmTwinTrainable(64, 3),
        _ => new SmallLeNet(64, 3),
    };

    /// <summary>Three SGD-with-momentum steps at batch 64 and one at an odd batch (37), then a backward asking for
    /// d loss / d input: 2 and 3 threads agree with 1 bit for bit.</summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void Training_over_threads_is_bitwise_the_single_thread_result(string model, SimdWidth width)
    {
        if (!Simd.IsSupported(width)) return;
        (float[] Params, float[] Grads, float[] InputGrad, float Loss) Run(int threads)
        {
            using var net = Make(model);
            net.Width = width;
            net.Threads = threads;
            var sgd = new Sgd(0.05f, momentum: 0.9f);
            float loss = 0f;
            foreach (var (batch, seed) in new[] { (64, 1), (64, 2), (37, 3), (64, 4) })
            {
                var x = Random(batch * net.InputSize, seed);
                var labels = Enumerable.Range(0, batch).Select(i => (i * 7 + seed) % net.OutputSize).ToArray();
                loss = net.TrainStep(x, labels, sgd);
            }
            var xi = Random(50 * net.InputSize, 9);
            var dx = new float[xi.Length];
            net.ZeroGrad();
            net.Forward(xi, training: true);
            net.Backward(Enumerable.Range(0, 50).Select(i => i % net.OutputSize).ToArray(), dx);
            return (net.Parameters.ToArray(), net.Gradients.ToArray(), dx, loss);
        }
        var one = Run(1);
        Assert.True(one.InputGrad.Any(v => v != 0f), "the input gradient is not all zero");
        foreach (int threads in new[] { 2, 3 })
        {
            var many = Run(threads);
            Assert.Equal(one.Loss, many.Loss);
            Assert.True(one.Params.AsSpan().SequenceEqual(many.Params), $"{model} {width}: parameters after {threads}-thread training differ from one thread's");
            Assert.True(one.Grads.AsSpan().SequenceEqual(many.Grads), $"{model} {width}: gradients with {threads} threads differ from one thread's");
            Assert.True(one.InputGrad.AsSpan().SequenceEqual(many.InputGrad), $"{model} {width}: d loss / d input with {threads} threads differs from one thread's");
        }
    }

    /// <summary>Attention split by heads (and the dense, layer-norm layers around it by rows or samples): AdamW steps over
    /// 70 steps of 2 heads at batch 17 and 16 give the one-thread parameters bit for bit, and allocate nothing.</summary>
    [Theory]
    [InlineData(SimdWidth.V512)]
    [InlineData(SimdWidth.Scalar)]
    public void Attention_training_over_threads_is_bitwise_the_single_thread_result(SimdWidth width)
    {
        if (!Simd.IsSupported(width)) return;
        (float[] Params, float Loss, long Allocated) Run(int threads)
        {
            using var net = new GcLongAttention(17, 3) { Width = width, Threads = threads };
            var adam = new AdamW(1e-2f);
            float loss = 0f;
            long allocated = 0;
            foreach (var (batch, seed) in new[] { (17, 1), (16, 2), (17, 3), (17, 4) })
            {
                var x = Random(batch * GcLongAttention.InputSize, seed);
                var labels = Enumerable.Range(0, batch * 70).Select(i => (i * 7 + seed) % 3).ToArray();
                long before = GC.GetAllocatedBytesForCurrentThread();
                loss = net.TrainStep(x, labels, adam);
                if (seed == 4) allocated = GC.GetAllocatedBytesForCurrentThread() - before;   // warm: the same batch ran before
            }
            return (net.Parameters.ToArray(), loss, allocated);
        }
        var one = Run(1);
        foreach (int threads in new[] { 2, 3 })
        {
            var many = Run(threads);
            Assert.Equal(one.Loss, many.Loss);
            Assert.True(one.Params.AsSpan().SequenceEqual(many.Params), $"{width}: parameters after {threads}-thread training differ from one thread's");
            Assert.Equal(0, many.Allocated);
        }
        Assert.Equal(0, one.Allocated);
    }

    /// <summary>A training step over two threads allocates nothing once the team's scratch exists.</summary>
    [Fact]
    public void Training_over_threads_allocates_nothing_after_warm_up()
    {
        using var net = new ThreadNet(64, 1) { Threads = 2 };
        var x = Random(64 * ThreadNet.InputSize, 5);
        var labels = Enumerable.Range(0, 64).Select(i => i % 5).ToArray();
        var sgd = new Sgd(0.01f);
        for (int i = 0; i < 3; i++) net.TrainStep(x, labels, sgd);
        Assert.Equal(0, Allocations.SteadyState(() => { for (int i = 0; i < 10; i++) net.TrainStep(x, labels, sgd); }));
    }
}

/// <summary>The base of tests that split every phase of small models over threads (the default thresholds keep them on
/// one thread): lowers <see cref="ThreadTeam.MinWork"/> and <see cref="ThreadTeam.MinSampleWork"/> to 0 for the test and
/// restores them after. Such classes join <see cref="MinWorkCollection"/>.</summary>
public abstract class MinWorkLowered : IDisposable
{
    protected MinWorkLowered() { ThreadTeam.MinWork = 0; ThreadTeam.MinSampleWork = 0; }

    public void Dispose()
    {
        ThreadTeam.MinWork = ThreadTeam.DefaultMinWork;
        ThreadTeam.MinSampleWork = ThreadTeam.DefaultMinSampleWork;
        GC.SuppressFinalize(this);
    }
}

/// <summary>Tests that lower <see cref="ThreadTeam.MinWork"/> run one at a time (results do not depend on it; timing does).</summary>
[CollectionDefinition(nameof(MinWorkCollection), DisableParallelization = true)]
public sealed class MinWorkCollection { }
