using System;

namespace ModelGen
{
    /// <summary>
    /// Marks a <c>partial</c> class as a network. The generator reads the class's layer members in
    /// declaration order and emits fixed-shape forward, backward and update code for it.
    /// </summary>
    /// <example>
    /// <code>
    /// [Network(784)]
    /// public partial class MnistMlp
    /// {
    ///     [Dense(256), Relu] public partial Layer Hidden1 { get; }
    ///     [Dense(10)]        public partial Layer Logits { get; }
    ///     [SoftmaxCrossEntropy] public partial Loss Loss { get; }
    /// }
    /// </code>
    /// </example>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
    public sealed class NetworkAttribute : Attribute
    {
        /// <param name="inputShape">The shape of one sample, fixed at build time (e.g. <c>784</c>).
        /// The batch size is chosen at run time, up to the model's <c>maxBatch</c>.</param>
        public NetworkAttribute(params int[] inputShape) => InputShape = inputShape;

        /// <summary>The shape of one input sample.</summary>
        public int[] InputShape { get; }

        /// <summary>When true the network is inference-only: no loss is required and no training code is emitted.</summary>
        public bool InferenceOnly { get; set; }
    }
}
