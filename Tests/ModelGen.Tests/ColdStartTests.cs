using System;
using System.Runtime;
using ModelGen;
using Xunit;

namespace ModelGen.Tests
{
    /// <summary>
    /// A JIT app's first <c>Predict</c>: the constructor runs the inference path once on zeros, so the first call
    /// compiles nothing and runs at full speed — and the warm-up leaves nothing behind that a user could see.
    /// </summary>
    public class ColdStartTests
    {
        /// <summary>The models are used by no other test, so their code is compiled in this test or not at all: on the
        /// calling thread, the first Predicts at batch 1 and at a batch of 17 compile no method (the constructor did).
        /// Without the warm-up, the first batch-1 Predict of <see cref="Models.ColdCnn"/> compiled 28 methods.</summary>
        [Fact]
        public void The_first_Predict_compiles_nothing()
        {
            AssertNothingCompiled(new Models.ColdCnn(17, 1), "ColdCnn");
            AssertNothingCompiled(new Models.ColdLstm(17, 1), "ColdLstm");
        }

        private static void AssertNothingCompiled(INetwork net, string name)
        {
            using (net)
            {
                var x1 = new float[net.InputSize];
                var y1 = new float[net.OutputSize];
                var x17 = new float[17 * net.InputSize];
                var y17 = new float[17 * net.OutputSize];
                for (int i = 0; i < x17.Length; i++) x17[i] = (i % 7) * 0.25f;   // (token ids 0…6 for an embedding)
                var s1 = new ReadOnlySpan<float>(x17, 0, net.InputSize);
                long before = JitInfo.GetCompiledMethodCount(currentThread: true);
                net.Predict(s1, y1);
                long afterOne = JitInfo.GetCompiledMethodCount(currentThread: true);
                net.Predict(x17, y17);
                long afterBatch = JitInfo.GetCompiledMethodCount(currentThread: true);
                Assert.True(afterOne == before, $"{name}: the first batch-1 Predict compiled {afterOne - before} methods");
                Assert.True(afterBatch == afterOne, $"{name}: the first batch-17 Predict compiled {afterBatch - afterOne} methods");
                for (int i = 0; i < y1.Length; i++) Assert.Equal(y17[i], y1[i], 4);   // and the outputs are those of the input
            }
        }

        /// <summary>After construction no forward has run: <c>GetOutput</c>, <c>GetActivation</c> and <c>Backward</c>
        /// still say so, and a <c>Stateful</c> model starts from zero states (the warm-up's states are not carried).</summary>
        [Fact]
        public void The_warm_up_leaves_no_trace()
        {
            using (var cnn = new Models.ColdCnn(4, 1))
            {
                var e = Assert.Throws<InvalidOperationException>(() => cnn.GetOutput(new float[10]));
                Assert.Contains("before GetOutput", e.Message);
                e = Assert.Throws<InvalidOperationException>(() => cnn.Backward(new[] { 1 }));
                Assert.Contains("before Backward", e.Message);
                e = Assert.Throws<InvalidOperationException>(() => cnn.GetActivation("Conv", new float[1]));
                Assert.Contains("before GetActivation", e.Message);
            }
            using var fresh = new Models.ColdLstm(3, 2);
            using var streaming = new Models.ColdLstm(3, 2);
            var x = new float[3 * 5 * 4];
            for (int i = 0; i < x.Length; i++) x[i] = MathF.Sin(i);
            var expected = new float[3 * 3];
            fresh.Predict(x, expected);   // zero initial states
            streaming.Stateful = true;
            var got = new float[3 * 3];
            streaming.Predict(x, got);
            Assert.Equal(expected, got);
        }
    }
}

namespace ModelGen.Tests.Models
{
    /// <summary>Used only by <see cref="ColdStartTests"/>: convolution (odd channels), pooling, dense.</summary>
    [Network(3, 10, 10)]
    public partial class ColdCnn
    {
        [Conv2D(5, 3, padding: 1), Relu] public partial Layer Conv { get; }
        [MaxPool2D(2)] public partial Layer Pool { get; }
        [Flatten] public partial Layer Flat { get; }
        [Dense(10)] public partial Layer Logits { get; }
        [SoftmaxCrossEntropy] public partial Loss Loss { get; }
    }

    /// <summary>Used only by <see cref="ColdStartTests"/>: a stateful-capable recurrent network, 5 steps × 4 features.</summary>
    [Network(5, 4)]
    public partial class ColdLstm
    {
        [Lstm(6)] public partial Layer Rnn { get; }
        [Dense(3)] public partial Layer Out { get; }
        [Mse] public partial Loss Loss { get; }
    }
}
