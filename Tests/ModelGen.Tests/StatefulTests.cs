using System;
using System.Linq;
using ModelGen.Tests.Harness;
using ModelGen.Tests.Models;
using ModelGen.Training;
using Xunit;

namespace ModelGen.Tests;

/// <summary>Stateful recurrent layers: a long sequence fed in consecutive pieces gives what one call on all of it gives
/// (both inference paths), a given initial state (PyTorch's h_0, c_0) is used and reported, and training from a carried
/// state is truncated backpropagation: the gradients of the piece with the state held constant.</summary>
public class StatefulTests
{
    /// <summary>Sequences <c>[batch, steps, 3]</c> cut into pieces of <paramref name="piece"/> steps.</summary>
    private static float[] Piece(float[] x, int batch, int steps, int piece, int k)
    {
        var y = new float[batch * piece * 3];
        for (int b = 0; b < batch; b++) Array.Copy(x, (b * steps + k * piece) * 3, y, b * piece * 3, piece * 3);
        return y;
    }

    [Theory]
    [InlineData(1, SimdWidth.Scalar)]
    [InlineData(1, SimdWidth.V512)]
    [InlineData(3, SimdWidth.Scalar)]
    [InlineData(3, SimdWidth.V256)]
    [InlineData(3, SimdWidth.V512)]
    public void Pieces_of_a_sequence_give_what_the_whole_sequence_gives(int batch, SimdWidth width)
    {
        if (!Simd.IsSupported(width)) return;
        var rng = new Rng(3);
        using (var piece = new GcLstm(4, 1) { Width = width })
        using (var whole = new GcLstmLong(4, 1) { Width = width })
        {
            piece.Parameters.CopyTo(whole.Parameters);
            var x = Enumerable.Range(0, batch * 10 * 3).Select(_ => (float)rng.NextGaussian()).ToArray();
            var expected = new float[batch * 3];
            whole.Predict(x, expected);
            piece.Stateful = true;
            var y = new float[batch * 3];
            piece.Predict(Piece(x, batch, 10, 5, 0), y);
            piece.Predict(Piece(x, batch, 10, 5, 1), y);
            for (int i = 0; i < y.Length; i++) Assert.Equal(expected[i], y[i], 5);
            // ResetStates starts over: the first piece alone again.
            piece.ResetStates();
            var first = new float[batch * 3];
            piece.Predict(Piece(x, batch, 10, 5, 0), first);
            piece.Stateful = false;
            var fresh = new float[batch * 3];
            piece.Predict(Piece(x, batch, 10, 5, 0), fresh);
            Assert.Equal(fresh, first);
        }
        using (var piece = new GcGru(4, 2) { Width = width })
        using (var whole = new GcGruLong(4, 2) { Width = width })
        {
            piece.Parameters.CopyTo(whole.Parameters);
            var x = Enumerable.Range(0, batch * 18 * 3).Select(_ => (float)rng.NextGaussian()).ToArray();
            var expected = new float[batch * 3];
            whole.Predict(x, expected);
            piece.Stateful = true;
            var y = new float[batch * 3];
            for (int k = 0; k < 3; k++) piece.Predict(Piece(x, batch, 18, 6, k), y);
            for (int i = 0; i < y.Length; i++) Assert.Equal(expected[i], y[i], 5);
        }
    }

    /// <summary>The new paths allocate nothing in steady state: stateful streaming (both inference paths), training
    /// from a carried state, and a bidirectional model's training step and predictions.</summary>
    [Fact]
    public void Streaming_and_bidirectional_steps_allocate_nothing()
    {
        using var lstm = new GcLstm(4, 1) { Stateful = true };
        using var bi = new GcBiRecurrent(4, 2);
        var x = Enumerable.Range(0, 3 * 15).Select(i => MathF.Sin(i)).ToArray();
        int[] labels = { 0, 1, 2 }, binary = { 0, 1, 1 };
        var y3 = new float[9];
        var y1 = new float[3];
        var yb = new float[6];
        var adam = new Adam(0.01f);
        void Loop()
        {
            for (int i = 0; i < 3; i++)
            {
                lstm.Predict(x, y3);
                lstm.Predict(x.AsSpan(0, 15), y1);
                lstm.TrainStep(x, labels, adam);
                bi.TrainStep(x, binary, adam);
                bi.Predict(x, yb);
                bi.Predict(x.AsSpan(0, 15), yb.AsSpan(0, 2));
            }
        }
        Loop();
        Assert.Equal(0, Allocations.SteadyState(Loop));
    }

    /// <summary>Two threads on one model: training an embedding + bidirectional model with Threads = 2 gives bitwise the
    /// parameters one thread gives, and a stateful model's Predict from two threads at once is serialised, not corrupted.</summary>
    [Fact]
    public void Threads_change_nothing_for_recurrent_and_embedding_models()
    {
        float[] Train(int threads)
        {
            using var net = new GcBiMasked(32, 9) { Threads = threads };
            var rng = new Rng(4);
            var x = GradientCheckTests.InputsFor(net, 32, ref rng);
            var labels = Enumerable.Range(0, 32).Select(i => i % 3).ToArray();
            var adam = new Adam(0.01f);
            for (int i = 0; i < 5; i++) net.TrainStep(x, labels, adam);
            return net.Parameters.ToArray();
        }
        Assert.Equal(Train(1), Train(2));
        using var lstm = new GcLstm(8, 3) { Stateful = true, Threads = 2 };
        var xs = Enumerable.Range(0, 15).Select(i => MathF.Sin(i)).ToArray();
        var errors = 0;
        var workers = Enumerable.Range(0, 2).Select(_ => new System.Threading.Thread(() =>
        {
            var y = new float[3];
            for (int i = 0; i < 200; i++)
            {
                try { lstm.Predict(xs, y); if (!y.All(float.IsFinite)) System.Threading.Interlocked.Increment(ref errors); }
                catch (InvalidOperationException) { }   // the other thread holds the one stream of states: refused, not corrupted
            }
        })).ToList();
        workers.ForEach(t => t.Start());
        workers.ForEach(t => t.Join());
        Assert.Equal(0, errors);
    }

    [Fact]
    public void A_bidirectional_model_cannot_stream_and_says_why()
    {
        using var net = new GcBiRecurrent(2, 1);
        var e = Assert.Throws<NotSupportedException>(() => net.Stateful = true);
        Assert.Contains("G is bidirectional", e.Message);
        Assert.False(net.Stateful);
    }

    /// <summary>Padding and carried states together: a piece that starts (or is entirely) padding carries the state the
    /// previous piece left through its padded steps — stacked LSTMs, every width, batch 3 and batch 1.</summary>
    [Theory]
    [InlineData(3, SimdWidth.Scalar)]
    [InlineData(3, SimdWidth.V512)]
    [InlineData(1, SimdWidth.V256)]
    public void Padded_steps_in_a_later_piece_carry_the_state_through(int batch, SimdWidth width)
    {
        if (!Simd.IsSupported(width)) return;
        using var piece = new GcEmbedLstmStacked(4, 3) { Width = width };
        using var whole = new GcEmbedLstmStackedLong(4, 3) { Width = width };
        piece.Parameters.CopyTo(whole.Parameters);
        float[][] samples =
        {
            new float[] { 1, 2, 3, 4, 5, 0, 0, 2, 0, 1 },   // the second piece starts with padding
            new float[] { 5, 4, 3, 0, 0, 0, 0, 0, 0, 0 },   // the second piece is all padding
            new float[] { 0, 0, 1, 0, 2, 3, 0, 4, 5, 1 },
        };
        var x = samples.Take(batch).SelectMany(v => v).ToArray();
        var expected = new float[batch * 2];
        whole.Predict(x, expected);
        piece.Stateful = true;
        var y = new float[batch * 2];
        for (int k = 0; k < 2; k++)
            piece.Predict(samples.Take(batch).SelectMany(v => v.Skip(5 * k).Take(5)).ToArray(), y);
        for (int i = 0; i < y.Length; i++) Assert.Equal(expected[i], y[i], 5);
    }

    [Fact]
    public void A_given_initial_state_is_used_and_the_final_state_reported()
    {
        using var net = new GcLstm(2, 4);
        var x = Enumerable.Range(0, 2 * 15).Select(i => MathF.Sin(i)).ToArray();
        Assert.Throws<InvalidOperationException>(() => net.SetState(nameof(GcLstm.Rnn), new float[8], new float[8]));
        net.Stateful = true;
        var zero = new float[6];
        net.Predict(x, zero);
        var h = new float[8];
        var c = new float[8];
        net.GetState(nameof(GcLstm.Rnn), h, c);
        Assert.Contains(h, v => v != 0f);
        net.SetState(nameof(GcLstm.Rnn), Enumerable.Repeat(0.5f, 8).ToArray(), Enumerable.Repeat(-1f, 8).ToArray());
        var given = new float[6];
        net.Predict(x, given);
        Assert.NotEqual(zero, given);
        var e = Assert.Throws<ArgumentException>(() => net.SetState(nameof(GcLstm.Rnn), new float[7], new float[7]));
        Assert.Contains("[samples, 4]", e.Message);
        e = Assert.Throws<ArgumentException>(() => net.SetState(nameof(GcLstm.Rnn), new float[8]));
        Assert.Contains("cell state", e.Message);
        e = Assert.Throws<ArgumentException>(() => net.SetState("Out", new float[8], new float[8]));
        Assert.Contains("recurrent layers are Rnn", e.Message);
    }

    /// <summary>Training from a given state: the backward's gradients are those of the loss of this piece with the
    /// initial states held fixed (truncated backpropagation through time), by central differences in float, every
    /// recurrent kind stacked (GRU, tanh RNN, ReLU RNN) and the LSTM's cell state, at every width.</summary>
    [Theory]
    [InlineData(SimdWidth.Scalar)]
    [InlineData(SimdWidth.V256)]
    [InlineData(SimdWidth.V512)]
    public void Training_from_a_carried_state_has_the_gradients_of_the_piece(SimdWidth width)
    {
        if (!Simd.IsSupported(width)) return;
        Check(new GcLstm(4, 5) { Width = width, Stateful = true }, net =>
        {
            ((GcLstm)net).SetState(nameof(GcLstm.Rnn), Enumerable.Range(0, 12).Select(i => 0.9f * MathF.Sin(1 + i)).ToArray(),
                Enumerable.Range(0, 12).Select(i => 1.5f * MathF.Cos(2 * i)).ToArray());
        });
        Check(new GcGru(4, 6) { Width = width, Stateful = true }, net =>
        {
            var g = (GcGru)net;
            g.SetState(nameof(GcGru.G), Enumerable.Range(0, 15).Select(i => 0.9f * MathF.Cos(i)).ToArray());
            g.SetState(nameof(GcGru.R), Enumerable.Range(0, 12).Select(i => 0.9f * MathF.Sin(i)).ToArray());
            g.SetState(nameof(GcGru.Relu), Enumerable.Range(0, 9).Select(i => 0.5f + 0.2f * i).ToArray());
        });
    }

    private static void Check(ITrainableNetwork net, Action<ITrainableNetwork> setState)
    {
        using var _ = net;
        var rng = new Rng(11);
        foreach (var t in net.Tensors.Where(t => !t.IsWeight))
            for (int i = 0; i < t.Length; i++) net.Parameters[t.Offset + i] = (float)(rng.NextGaussian() * 0.3);
        var x = Enumerable.Range(0, 3 * net.InputSize).Select(_ => (float)rng.NextGaussian()).ToArray();
        int[] labels = { 0, 2, 1 };
        float LossAt()
        {
            setState(net);
            net.Forward(x, training: true);
            return net.ComputeLoss(labels);
        }
        net.ZeroGrad();
        setState(net);
        net.Forward(x, training: true);
        net.Backward(labels);
        CentralDifferences.CheckParameters(net, net.Gradients.ToArray(), LossAt, net.GetType().Name + " ");
    }
}
