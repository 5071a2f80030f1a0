using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Threading;
using ModelGen.Training;
using Xunit;

namespace ModelGen.Tests;

/// <summary>
/// The team's own mechanics, apart from any model: chunked phases (a thread that finishes first takes over the end of
/// another's share), the proportional split they rely on, and the block-wide loops of the runtime (the optimiser's
/// update in ranges, <c>ZeroGrad</c>'s clear), which must give the one-thread bits.
/// </summary>
public sealed class ThreadTeamTests
{
    [Theory]
    [InlineData(32, 1, 2, 8)]
    [InlineData(37, 1, 3, 8)]
    [InlineData(256, 6, 2, 4)]
    [InlineData(22, 1, 2, 8)]
    [InlineData(5, 1, 2, 8)]
    public void Chunks_of_a_share_cover_exactly_that_share(int count, int align, int threads, int k)
    {
        for (int t = 0; t < threads; t++)
        {
            ThreadTeam.Split(count, align, t, threads, out int s, out int e);
            int at = s;
            for (int c = t * k; c < (t + 1) * k; c++)
            {
                ThreadTeam.Split(count, align, c, threads * k, out int cs, out int ce);
                if (cs == ce) continue;
                Assert.Equal(at, cs);
                Assert.True(cs % align == 0, $"chunk {c} starts at {cs}, not a multiple of {align}");
                at = ce;
            }
            Assert.Equal(e, Math.Max(at, s));
        }
        ThreadTeam.Split(count, align, threads - 1, threads, out _, out int last);
        Assert.Equal(count, last);
    }

    /// <summary>The worker's first chunk is held up: the calling thread runs its own share, then takes the worker's
    /// chunks from the end, one at a time. Every chunk runs exactly once, as part c of threads × chunks. (The caller's
    /// first chunk waits until the worker holds its first: on a loaded machine the worker may wake so late that the
    /// caller takes all of its chunks — correct, but not the case this test is about.)</summary>
    [Fact]
    public void A_thread_that_finishes_first_takes_the_others_last_chunks()
    {
        using var ws = new Workspace(new WorkspaceLayout("Test"));
        using var team = new ThreadTeam(2, "Test", () => new Workspace(new WorkspaceLayout("Test")));
        int caller = Environment.CurrentManagedThreadId;
        var ran = new ConcurrentDictionary<int, int>();   // chunk → thread
        var counts = new int[16];
        using var stolen = new ManualResetEventSlim(false);
        using var held = new ManualResetEventSlim(false);
        ThreadTeam.Part body = (_, _, _, part, parts) =>
        {
            Assert.Equal(16, parts);
            Interlocked.Increment(ref counts[part]);
            ran[part] = Environment.CurrentManagedThreadId;
            if (part == 0) held.Wait(TimeSpan.FromSeconds(10));   // the caller's first chunk waits until the worker holds chunk 8
            if (part == 8) { held.Set(); stolen.Wait(TimeSpan.FromSeconds(10)); }   // the worker's first chunk waits until the caller has stolen
            if (part == 9 && Environment.CurrentManagedThreadId == caller) stolen.Set();
        };
        Assert.True(team.TryFor(64, body, ws, task: 0, chunks: 8));
        Assert.All(counts, n => Assert.Equal(1, n));
        for (int c = 0; c < 8; c++) Assert.Equal(caller, ran[c]);
        Assert.NotEqual(caller, ran[8]);
        for (int c = 9; c < 16; c++) Assert.Equal(caller, ran[c]);   // taken from the end, down to the chunk the worker held
    }

    [Fact]
    public void Chunks_fall_back_to_whole_shares_when_there_are_few_units()
    {
        using var ws = new Workspace(new WorkspaceLayout("Test"));
        using var team = new ThreadTeam(2, "Test", () => new Workspace(new WorkspaceLayout("Test")));
        var seen = new ConcurrentBag<(int, int)>();
        Assert.True(team.TryFor(3, (_, _, _, part, parts) => seen.Add((part, parts)), ws, 0, chunks: 8));
        Assert.Equal(new[] { (0, 2), (1, 2) }, seen.OrderBy(p => p.Item1).ToArray());   // 3 units: one chunk each
    }

    private static (float[] P, float[] G, TensorInfo[] Tensors) Block(int n)
    {
        var rng = new Rng(7);
        var p = new float[n]; var g = new float[n];
        for (int i = 0; i < n; i++) { p[i] = (float)rng.NextGaussian(); g[i] = (float)rng.NextGaussian() * 1e-2f; }
        int w1 = 150_001, b1 = 37, w2 = n - w1 - b1 - 3;   // odd sizes: tensor bounds fall inside the threads' ranges
        return (p, g, new[] { new TensorInfo("w1", new[] { w1 }, 0, w1, true), new TensorInfo("b1", new[] { b1 }, w1, b1, false), new TensorInfo("w2", new[] { w2 }, w1 + b1 + 3, w2, true) });
    }

    public static TheoryData<string, SimdWidth> Optimisers()
    {
        var d = new TheoryData<string, SimdWidth>();
        foreach (var o in new[] { "sgd", "momentum", "nesterov", "adam", "adamw" })
            foreach (var w in new[] { SimdWidth.V512, SimdWidth.V256, SimdWidth.Scalar })
                d.Add(o, w);
        return d;
    }

    private static Optimizer Make(string name) => name switch
    {
        "sgd" => new Sgd(0.1f),
        "momentum" => new Sgd(0.1f, 0.9f),
        "nesterov" => new Sgd(0.1f, 0.9f, nesterov: true),
        "adam" => new Adam(1e-2f, weightDecay: 0.05f),
        _ => new AdamW(1e-2f, weightDecay: 0.1f),
    };

    /// <summary>A block of more than <see cref="ThreadTeam.ParallelBlock"/> parameters, updated over 2 and 3 threads
    /// (each a range of the block, bounds inside tensors) for three steps: the parameters and the optimiser's state are
    /// bitwise those of one thread.</summary>
    [Theory]
    [MemberData(nameof(Optimisers))]
    public void The_update_over_threads_is_bitwise_the_single_thread_update(string optimiser, SimdWidth width)
    {
        if (!Simd.IsSupported(width)) return;
        int n = ThreadTeam.ParallelBlock + 4_321;
        (float[] P, float[] State) Run(int threads)
        {
            var (p, g, tensors) = Block(n);
            using var team = threads > 1 ? new ThreadTeam(threads, "Test") : null;
            using var state = new OptimizerState();
            var opt = Make(optimiser);
            for (int step = 0; step < 3; step++) state.Step(opt, p, g, tensors, width, team);
            return (p, state.ExportSlots(opt.StateSlots, n));
        }
        var one = Run(1);
        foreach (int threads in new[] { 2, 3 })
        {
            var many = Run(threads);
            Assert.True(one.P.AsSpan().SequenceEqual(many.P), $"{optimiser} {width}: parameters over {threads} threads differ");
            Assert.True(one.State.AsSpan().SequenceEqual(many.State), $"{optimiser} {width}: optimiser state over {threads} threads differs");
        }
    }

    private sealed class CountingAdam : Adam
    {
        public int Calls;
        public override void Update(Span<float> parameters, ReadOnlySpan<float> gradients, Span<float> state, long step, System.Collections.Generic.IReadOnlyList<TensorInfo> tensors, SimdWidth width)
        {
            Calls++;
            base.Update(parameters, gradients, state, step, tensors, width);
        }
    }

    /// <summary>A subclass of a built-in optimiser may override <c>Update</c>: the team must not bypass it.</summary>
    [Fact]
    public void A_subclass_that_overrides_the_update_gets_the_whole_block()
    {
        var (p, g, tensors) = Block(ThreadTeam.ParallelBlock + 16);
        using var team = new ThreadTeam(2, "Test");
        using var state = new OptimizerState();
        var opt = new CountingAdam();
        state.Step(opt, p, g, tensors, SimdWidth.Scalar, team);
        Assert.Equal(1, opt.Calls);
    }

    [Theory]
    [InlineData(ThreadTeam.ParallelBlock + 3)]
    [InlineData(1_000)]
    public void Clear_zeroes_the_whole_block_over_the_team(int n)
    {
        using var team = new ThreadTeam(3, "Test");
        var block = Enumerable.Repeat(1f, n + 2).ToArray();
        ThreadTeam.Clear(team, block.AsSpan(1, n));
        Assert.Equal(1f, block[0]);
        Assert.Equal(1f, block[^1]);
        Assert.True(block.AsSpan(1, n).IndexOfAnyExcept(0f) < 0, "a float of the block was left");
    }

    /// <summary>Two threads share one team: each clears its own block 200 times. Whichever finds the team busy clears
    /// alone; neither may clear the other's block or leave part of its own.</summary>
    [Fact]
    public void Two_callers_clearing_through_one_team_each_clear_their_own_block()
    {
        using var team = new ThreadTeam(2, "Test");
        int n = ThreadTeam.ParallelBlock + 5;
        var blocks = new[] { new float[n], new float[n] };
        var failures = new ConcurrentBag<string>();
        using var go = new Barrier(2);
        var threads = Enumerable.Range(0, 2).Select(k => new Thread(() =>
        {
            var mine = blocks[k];
            go.SignalAndWait();
            for (int round = 0; round < 200; round++)
            {
                mine.AsSpan().Fill(k + 1f);
                ThreadTeam.Clear(team, mine);
                if (mine.AsSpan().IndexOfAnyExcept(0f) is int at and >= 0) failures.Add($"caller {k}, round {round}: float {at} left at {mine[at]}");
            }
        })).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        Assert.Empty(failures);
    }

    /// <summary>Two optimiser states stepping two blocks through one team at once (one finds it busy and updates
    /// alone): each gives the bits it gives without a team.</summary>
    [Fact]
    public void Two_callers_stepping_through_one_team_get_the_single_thread_bits()
    {
        int n = ThreadTeam.ParallelBlock + 77;
        float[] Alone()
        {
            var (p, g, tensors) = Block(n);
            using var state = new OptimizerState();
            var opt = new Sgd(0.1f, 0.9f);
            for (int step = 0; step < 20; step++) state.Step(opt, p, g, tensors, SimdWidth.V256);
            return p;
        }
        var expected = Alone();
        using var team = new ThreadTeam(2, "Test");
        var results = new float[2][];
        using var go = new Barrier(2);
        var threads = Enumerable.Range(0, 2).Select(k => new Thread(() =>
        {
            var (p, g, tensors) = Block(n);
            using var state = new OptimizerState();
            var opt = new Sgd(0.1f, 0.9f);
            go.SignalAndWait();
            for (int step = 0; step < 20; step++) state.Step(opt, p, g, tensors, SimdWidth.V256, team);
            results[k] = p;
        })).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        Assert.True(expected.AsSpan().SequenceEqual(results[0]), "the first caller's parameters differ from one thread's");
        Assert.True(expected.AsSpan().SequenceEqual(results[1]), "the second caller's parameters differ from one thread's");
    }
}
