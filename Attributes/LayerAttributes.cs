using System;

namespace ModelGen
{
    /// <summary>The layer kinds, one per layer attribute (<c>Layer.Type</c> at run time). A member with only an
    /// activation attribute is an <see cref="Activation"/> layer.</summary>
    public enum LayerType
    {
        /// <summary><see cref="DenseAttribute"/></summary>
        Dense,
        /// <summary>An activation on a member of its own (<see cref="ReluAttribute"/>, <see cref="TanhAttribute"/>…).</summary>
        Activation,
        /// <summary><see cref="DropoutAttribute"/></summary>
        Dropout,
        /// <summary><see cref="Conv2DAttribute"/></summary>
        Conv2D,
        /// <summary><see cref="MaxPool2DAttribute"/></summary>
        MaxPool2D,
        /// <summary><see cref="AvgPool2DAttribute"/></summary>
        AvgPool2D,
        /// <summary><see cref="GlobalAvgPoolAttribute"/></summary>
        GlobalAvgPool,
        /// <summary><see cref="FlattenAttribute"/></summary>
        Flatten,
        /// <summary><see cref="AddAttribute"/></summary>
        Add,
        /// <summary><see cref="BatchNorm2DAttribute"/></summary>
        BatchNorm2D,
        /// <summary><see cref="GeluAttribute"/></summary>
        Gelu,
        /// <summary><see cref="LstmAttribute"/></summary>
        Lstm,
        /// <summary><see cref="GruAttribute"/></summary>
        Gru,
        /// <summary><see cref="RnnAttribute"/></summary>
        Rnn,
        /// <summary><see cref="EmbeddingAttribute"/></summary>
        Embedding,
        /// <summary><see cref="MaskingAttribute"/></summary>
        Masking,
        /// <summary><see cref="LayerNormAttribute"/></summary>
        LayerNorm,
        /// <summary><see cref="PositionEmbeddingAttribute"/></summary>
        PositionEmbedding,
        /// <summary><see cref="CausalSelfAttentionAttribute"/></summary>
        CausalSelfAttention,
    }

    /// <summary>The element-wise activations (fused into a layer, or a layer of their own).</summary>
    public enum ActivationType
    {
        /// <summary>No activation.</summary>
        None,
        /// <summary><see cref="ReluAttribute"/></summary>
        Relu,
        /// <summary><see cref="LeakyReluAttribute"/></summary>
        LeakyRelu,
        /// <summary><see cref="SigmoidAttribute"/></summary>
        Sigmoid,
        /// <summary><see cref="TanhAttribute"/></summary>
        Tanh,
        /// <summary><see cref="SoftmaxAttribute"/></summary>
        Softmax,
    }

    /// <summary>Base of the attributes that make a property a layer.</summary>
    [AttributeUsage(AttributeTargets.Property, AllowMultiple = false, Inherited = false)]
    public abstract class LayerAttribute : Attribute
    {
        /// <summary>The name of the network input, for <see cref="Input"/> and <c>[Add(...)]</c>: <c>Input = LayerAttribute.NetworkInput</c>.</summary>
        public const string NetworkInput = "input";

        /// <summary>The earlier layer whose output this layer takes (<c>nameof(...)</c>), or <c>"input"</c>
        /// (<see cref="NetworkInput"/>) for the network input; by default the layer declared just before. This makes
        /// the network a graph: e.g. a projection shortcut reading a block's input, or the network's input itself.</summary>
        public string? Input { get; set; }
    }

    /// <summary>
    /// Residual connection: <c>y = x + s</c>, where x is this layer's input (the previous layer's output) and s the
    /// output of the earlier layer named by <c>from</c> (<c>nameof(...)</c>); both of the same shape.
    /// Backward: both receive <c>dy</c>; a tensor used twice sums its gradients.
    /// </summary>
    public sealed class AddAttribute : LayerAttribute
    {
        /// <param name="from">The earlier layer whose output is added.</param>
        public AddAttribute(string from) => From = from;

        /// <summary>The earlier layer whose output is added.</summary>
        public string From { get; }
    }

    /// <summary>Fully connected layer <c>y = W·x + b</c>, <c>W: [units, in]</c> (PyTorch's layout).</summary>
    public sealed class DenseAttribute : LayerAttribute
    {
        /// <param name="units">Number of outputs.</param>
        public DenseAttribute(int units) => Units = units;

        /// <summary>Number of outputs.</summary>
        public int Units { get; }

        /// <summary>Weight tying (GPT-2's output head): this layer's <c>weight [units, in]</c> is the named earlier
        /// layer's <c>weight</c> — an <c>[Embedding(units, in, Sparse = false)]</c> — one tensor, trained by both, saved once
        /// under the embedding's name (PyTorch's <c>lm_head.weight = wte.weight</c>). The bias stays this layer's own.</summary>
        public string? TiedTo { get; set; }
    }

    /// <summary>
    /// A lookup table, PyTorch's <c>nn.Embedding</c>: token ids in, one learned vector per id out. It reads the network
    /// input <c>[steps]</c> of token ids (given as floats holding whole numbers in <c>[0, vocabulary)</c>: every API takes
    /// float samples, and ids up to 2²⁴ are exact) and outputs the sequence <c>[steps, dimension]</c>:
    /// <c>y[t] = weight[id_t]</c>, parameter <c>weight [vocabulary, dimension]</c> (PyTorch's name and layout).
    /// Backward adds <c>dy[t]</c> to row <c>id_t</c>; with <see cref="Sparse"/> (the default) only the rows a batch
    /// used are cleared and updated (PyTorch's <c>sparse=True</c> with a lazy optimiser: rows not used keep their momentum
    /// and are not decayed). With <see cref="MaskZero"/> id 0 is padding (Keras's <c>mask_zero</c>): its steps output
    /// zeros, get no gradient, and the recurrent layers that read them carry their state through them unchanged, so a
    /// batch can hold sequences of different lengths (as PyTorch's <c>pack_padded_sequence</c>).
    /// </summary>
    public sealed class EmbeddingAttribute : LayerAttribute
    {
        /// <param name="vocabulary">Number of ids (rows of the table).</param>
        /// <param name="dimension">Length of each vector.</param>
        public EmbeddingAttribute(int vocabulary, int dimension) { Vocabulary = vocabulary; Dimension = dimension; }

        /// <summary>Number of ids (rows of the table).</summary>
        public int Vocabulary { get; }

        /// <summary>Length of each vector.</summary>
        public int Dimension { get; }

        /// <summary>Id 0 is padding: masked steps (see the class summary). Default false.</summary>
        public bool MaskZero { get; set; }

        /// <summary>Only the rows a batch used are touched by <c>ZeroGrad</c> and the optimiser's update (default true);
        /// false updates the whole table every step (PyTorch's default <c>sparse=False</c>).</summary>
        public bool Sparse { get; set; } = true;
    }

    /// <summary>
    /// Variable-length sequences of features (Keras's <c>Masking</c>): a step whose features all equal
    /// <see cref="Value"/> is padding — it outputs zeros and gets no gradient, and the recurrent layers above carry
    /// their state through it unchanged (as <see cref="EmbeddingAttribute.MaskZero"/> does for token ids), so a batch
    /// can hold sequences of different lengths padded with that value.
    /// </summary>
    public sealed class MaskingAttribute : LayerAttribute
    {
        /// <param name="value">The padding value (Keras's <c>mask_value</c>).</param>
        public MaskingAttribute(double value = 0.0) => Value = value;

        /// <summary>The padding value.</summary>
        public double Value { get; }
    }

    /// <summary>
    /// A long short-term memory layer, PyTorch's <c>nn.LSTM</c> (one layer, one direction, <c>batch_first=True</c>) on a
    /// sequence input <c>[steps, features]</c>: per step, gates in PyTorch's order
    /// <c>i = σ(W_ii x + b_ii + W_hi h + b_hi)</c>, <c>f = σ(…)</c>, <c>g = tanh(…)</c>, <c>o = σ(…)</c>,
    /// <c>c' = f⊙c + i⊙g</c>, <c>h' = o⊙tanh(c')</c>, from zero states. Output: the last <c>h</c> <c>[hidden]</c>, or every
    /// step's <c>[steps, hidden]</c> with <see cref="ReturnSequences"/> (to stack another recurrent layer). Parameters
    /// as PyTorch names them: <c>weight_ih_l0 [4·hidden, features]</c>, <c>weight_hh_l0 [4·hidden, hidden]</c>,
    /// <c>bias_ih_l0</c>, <c>bias_hh_l0</c> — weights trained in PyTorch load as they are.
    /// </summary>
    public sealed class LstmAttribute : LayerAttribute
    {
        /// <param name="hidden">Size of the hidden and cell states.</param>
        public LstmAttribute(int hidden) => Hidden = hidden;

        /// <summary>Size of the hidden and cell states.</summary>
        public int Hidden { get; }

        /// <summary>A second direction reads the sequence from its last step to its first (PyTorch's <c>bidirectional=True</c>,
        /// parameters <c>weight_ih_l0_reverse</c>…); the output concatenates both: <c>[steps, 2·hidden]</c> with
        /// <see cref="ReturnSequences"/>, else <c>[2·hidden]</c> (the forward direction's last state, then the reverse
        /// direction's, which has read the whole sequence back to its first step).</summary>
        public bool Bidirectional { get; set; }

        /// <summary>Output every step's hidden state <c>[steps, hidden]</c> instead of the last one.</summary>
        public bool ReturnSequences { get; set; }
    }

    /// <summary>
    /// A gated recurrent unit layer, PyTorch's <c>nn.GRU</c> (one layer, one direction, <c>batch_first=True</c>) on a
    /// sequence input <c>[steps, features]</c>: gates in PyTorch's order <c>r = σ(W_ir x + b_ir + W_hr h + b_hr)</c>,
    /// <c>z = σ(…)</c>, <c>n = tanh(W_in x + b_in + r⊙(W_hn h + b_hn))</c>, <c>h' = (1 − z)⊙n + z⊙h</c>, from a zero
    /// state. Output and parameters as <see cref="LstmAttribute"/> with 3 gates (<c>weight_ih_l0 [3·hidden, features]</c>…).
    /// </summary>
    public sealed class GruAttribute : LayerAttribute
    {
        /// <param name="hidden">Size of the hidden state.</param>
        public GruAttribute(int hidden) => Hidden = hidden;

        /// <summary>Size of the hidden state.</summary>
        public int Hidden { get; }

        /// <summary>A second direction reads the sequence from its last step to its first (PyTorch's <c>bidirectional=True</c>,
        /// parameters <c>weight_ih_l0_reverse</c>…); the output concatenates both: <c>[steps, 2·hidden]</c> with
        /// <see cref="ReturnSequences"/>, else <c>[2·hidden]</c> (the forward direction's last state, then the reverse
        /// direction's, which has read the whole sequence back to its first step).</summary>
        public bool Bidirectional { get; set; }

        /// <summary>Output every step's hidden state <c>[steps, hidden]</c> instead of the last one.</summary>
        public bool ReturnSequences { get; set; }
    }

    /// <summary>
    /// The Elman recurrent layer, PyTorch's <c>nn.RNN</c> (one layer, one direction, <c>batch_first=True</c>):
    /// <c>h' = tanh(W_ih x + b_ih + W_hh h + b_hh)</c> (or ReLU), from a zero state. Output and parameters as
    /// <see cref="LstmAttribute"/> with one gate.
    /// </summary>
    public sealed class RnnAttribute : LayerAttribute
    {
        /// <param name="hidden">Size of the hidden state.</param>
        public RnnAttribute(int hidden) => Hidden = hidden;

        /// <summary>Size of the hidden state.</summary>
        public int Hidden { get; }

        /// <summary>A second direction reads the sequence from its last step to its first (PyTorch's <c>bidirectional=True</c>,
        /// parameters <c>weight_ih_l0_reverse</c>…); the output concatenates both: <c>[steps, 2·hidden]</c> with
        /// <see cref="ReturnSequences"/>, else <c>[2·hidden]</c> (the forward direction's last state, then the reverse
        /// direction's, which has read the whole sequence back to its first step).</summary>
        public bool Bidirectional { get; set; }

        /// <summary>Output every step's hidden state <c>[steps, hidden]</c> instead of the last one.</summary>
        public bool ReturnSequences { get; set; }

        /// <summary><c>"tanh"</c> (default) or <c>"relu"</c>, PyTorch's names.</summary>
        public string Nonlinearity { get; set; } = "tanh";
    }

    /// <summary>Base of the element-wise activations. On a layer member it is fused into that layer's output;
    /// on a member of its own it is a separate layer.</summary>
    [AttributeUsage(AttributeTargets.Property, AllowMultiple = false, Inherited = false)]
    public abstract class ActivationAttribute : Attribute { }

    /// <summary><c>y = max(0, x)</c>.</summary>
    public sealed class ReluAttribute : ActivationAttribute { }

    /// <summary><c>y = x</c> for x &gt; 0, else <c>alpha·x</c>.</summary>
    public sealed class LeakyReluAttribute : ActivationAttribute
    {
        /// <param name="alpha">Slope for negative inputs, 0 ≤ alpha &lt; 1.</param>
        public LeakyReluAttribute(float alpha = 0.01f) => Alpha = alpha;

        /// <summary>Slope for negative inputs.</summary>
        public float Alpha { get; }
    }

    /// <summary><c>y = 1 / (1 + e^-x)</c>.</summary>
    public sealed class SigmoidAttribute : ActivationAttribute { }

    /// <summary><c>y = tanh(x)</c>.</summary>
    public sealed class TanhAttribute : ActivationAttribute { }

    /// <summary><c>y_i = e^{x_i} / Σ_j e^{x_j}</c> over the features of one sample.</summary>
    public sealed class SoftmaxAttribute : ActivationAttribute { }
}

namespace ModelGen
{
    /// <summary>
    /// Inverted dropout: in training each feature is kept with probability <c>1 − rate</c> and scaled by
    /// <c>1/(1 − rate)</c> (so inference needs no rescaling); in inference it is the identity. The mask comes from
    /// the model's seeded generator and is kept for the backward pass.
    /// </summary>
    public sealed class DropoutAttribute : LayerAttribute
    {
        /// <param name="rate">Probability of dropping a feature, 0 ≤ rate &lt; 1.</param>
        public DropoutAttribute(double rate) => Rate = rate;

        /// <summary>Probability of dropping a feature.</summary>
        public double Rate { get; }
    }

    /// <summary>
    /// L2 regularisation <c>λ·Σ W²</c> over weights (never biases): added to the loss, and <c>2λ·W</c> to the
    /// weight gradients. On the network class it applies to every layer with weights; on a layer member it
    /// sets that layer's λ (0 turns it off).
    /// </summary>
    [AttributeUsage(AttributeTargets.Class | AttributeTargets.Property, AllowMultiple = false, Inherited = false)]
    public sealed class L2Attribute : Attribute
    {
        /// <param name="lambda">Regularisation strength λ ≥ 0.</param>
        public L2Attribute(double lambda) => Lambda = lambda;

        /// <summary>Regularisation strength λ.</summary>
        public double Lambda { get; }
    }
}

namespace ModelGen
{
    /// <summary>
    /// 2-D convolution over a <c>[channels, height, width]</c> input:
    /// <c>y[o,i,j] = Σ_{c,u,v} W[o,c,u,v] · x[c, i·S + u − P, j·S + v − P] + bias[o]</c> (zero padding), one bias per
    /// filter, weights in PyTorch's <c>[out, in, kh, kw]</c> layout. Output size per dimension: <c>(H + 2P − F)/S + 1</c>.
    /// </summary>
    public sealed class Conv2DAttribute : LayerAttribute
    {
        /// <param name="filters">Output channels.</param>
        /// <param name="kernel">Square kernel size F (see <see cref="KernelHeight"/>/<see cref="KernelWidth"/> for rectangular ones).</param>
        /// <param name="stride">Stride S.</param>
        /// <param name="padding">Zero padding P on every side (see <see cref="Same"/>).</param>
        public Conv2DAttribute(int filters, int kernel, int stride = 1, int padding = 0)
        {
            Filters = filters; Kernel = kernel; Stride = stride; Padding = padding;
        }

        /// <summary>Output channels.</summary>
        public int Filters { get; }
        /// <summary>Square kernel size.</summary>
        public int Kernel { get; }
        /// <summary>Stride.</summary>
        public int Stride { get; }
        /// <summary>Zero padding on every side.</summary>
        public int Padding { get; }
        /// <summary>Kernel height, when it differs from <see cref="Kernel"/>.</summary>
        public int KernelHeight { get; set; }
        /// <summary>Kernel width, when it differs from <see cref="Kernel"/>.</summary>
        public int KernelWidth { get; set; }
        /// <summary>"Same" padding: <c>P = (F − 1)/2</c> per dimension, so a stride-1 convolution keeps the size (odd kernels).</summary>
        public bool Same { get; set; }
        /// <summary>False drops the bias (as PyTorch's <c>bias=False</c>, usual before a BatchNorm, whose β takes its place).</summary>
        public bool Bias { get; set; } = true;
        /// <summary>How the CPU code computes the convolution; by default the generator chooses per layer (see
        /// <see cref="ConvAlgorithm"/>) and the layer's banner and the model summary say which.</summary>
        public ConvAlgorithm Algorithm { get; set; }
    }

    /// <summary>How a convolution's CPU code computes its products.</summary>
    public enum ConvAlgorithm
    {
        /// <summary>The generator chooses: <see cref="Winograd"/> for a 3×3 stride-1 convolution with at least 16 input
        /// and 16 output channels, else <see cref="Direct"/>.</summary>
        Auto,
        /// <summary>A GEMM over the 3×3·C products of every output (im2col-free for stride 1).</summary>
        Direct,
        /// <summary>Winograd's F(2×2, 3×3): 16 multiplications per 2×2 output tile and channel pair instead of 36, at the
        /// price of transforming the input and output tiles (3×3 stride-1 kernels only). Outputs differ from the direct
        /// product by rounding (relative error ~1e-6).</summary>
        Winograd,
    }

    /// <summary>Max pooling over <c>size × size</c> windows: <c>y = max</c>; the gradient goes to the maximum only
    /// (ties: the first in row-major order).</summary>
    public sealed class MaxPool2DAttribute : LayerAttribute
    {
        /// <param name="size">Window size.</param>
        /// <param name="stride">Stride; 0 means the window size.</param>
        public MaxPool2DAttribute(int size = 2, int stride = 0) { Size = size; Stride = stride; }
        /// <summary>Window size.</summary>
        public int Size { get; }
        /// <summary>Stride (0: the window size).</summary>
        public int Stride { get; }
    }

    /// <summary>Average pooling over <c>size × size</c> windows; the gradient is shared equally.</summary>
    public sealed class AvgPool2DAttribute : LayerAttribute
    {
        /// <param name="size">Window size.</param>
        /// <param name="stride">Stride; 0 means the window size.</param>
        public AvgPool2DAttribute(int size = 2, int stride = 0) { Size = size; Stride = stride; }
        /// <summary>Window size.</summary>
        public int Size { get; }
        /// <summary>Stride (0: the window size).</summary>
        public int Stride { get; }
    }

    /// <summary>Global average pooling: <c>[C, H, W] → [C]</c>, the mean of each channel.</summary>
    public sealed class GlobalAvgPoolAttribute : LayerAttribute { }

    /// <summary>Flattens <c>[C, H, W]</c> to <c>[C·H·W]</c> in PyTorch's order (channel, row, column).</summary>
    public sealed class FlattenAttribute : LayerAttribute { }
}

namespace ModelGen
{
    /// <summary>
    /// Batch normalisation over the channels of an image (as PyTorch's <c>BatchNorm2d</c>): in training,
    /// <c>y = γ·(x − μ_B)/√(σ²_B + ε) + β</c> with the batch's per-channel statistics, and running averages
    /// <c>r ← (1 − m)·r + m·stat</c> (unbiased variance); in inference the running averages replace the batch's.
    /// Parameters <c>weight</c> (γ) and <c>bias</c> (β); buffers <c>running_mean</c>, <c>running_var</c>.
    /// </summary>
    public sealed class BatchNorm2DAttribute : LayerAttribute
    {
        /// <param name="momentum">Weight m of the newest batch in the running averages.</param>
        /// <param name="epsilon">ε added to the variance.</param>
        public BatchNorm2DAttribute(double momentum = 0.1, double epsilon = 1e-5) { Momentum = momentum; Epsilon = epsilon; }
        /// <summary>m.</summary>
        public double Momentum { get; }
        /// <summary>ε.</summary>
        public double Epsilon { get; }
    }
}

namespace ModelGen
{
    /// <summary>
    /// GELU, <c>y = x·Φ(x)</c> (Φ the standard normal CDF), element-wise on any shape, as PyTorch's <c>nn.GELU</c>:
    /// <c>approximate: "none"</c> (default) is exact, <c>"tanh"</c> is GPT-2's <c>½x(1 + tanh(√(2/π)(x + 0.044715x³)))</c>.
    /// </summary>
    public sealed class GeluAttribute : LayerAttribute
    {
        /// <param name="approximate"><c>"none"</c> or <c>"tanh"</c>.</param>
        public GeluAttribute(string approximate = "none") => Approximate = approximate;

        /// <summary><c>"none"</c> or <c>"tanh"</c>.</summary>
        public string Approximate { get; }
    }
}

namespace ModelGen
{
    /// <summary>
    /// Layer normalisation, PyTorch's <c>nn.LayerNorm(features)</c>: each sample's (on a sequence: each step's) features
    /// are normalised, <c>y = (x − mean)/√(var + ε)·weight + bias</c> (biased variance), parameters <c>weight</c> (γ, ones)
    /// and <c>bias</c> (β, zeros) over the last dimension. No running statistics: training and inference compute the same.
    /// </summary>
    public sealed class LayerNormAttribute : LayerAttribute
    {
        /// <param name="epsilon">ε added to the variance (PyTorch's default 1e-5).</param>
        public LayerNormAttribute(double epsilon = 1e-5) => Epsilon = epsilon;
        /// <summary>ε.</summary>
        public double Epsilon { get; }
    }

    /// <summary>
    /// A learned position embedding (GPT-2's <c>wpe</c>) added to a sequence <c>[steps, features]</c>:
    /// <c>y[t] = x[t] + weight[t]</c>, parameter <c>weight [steps, features]</c>, N(0, 1) as <c>nn.Embedding</c>.
    /// </summary>
    public sealed class PositionEmbeddingAttribute : LayerAttribute { }

    /// <summary>
    /// Causal multi-head self-attention on the fused query/key/value projection of a sequence: it reads
    /// <c>[steps, 3·C]</c> (a <c>[Dense(3 * C)]</c> on the sequence, GPT-2's <c>c_attn</c>: queries, then keys, then values)
    /// and outputs <c>[steps, C]</c>, each head <c>h</c> (channels <c>h·C/heads … (h + 1)·C/heads − 1</c> of each part) computing
    /// <c>o_t = Σ_{u ≤ t} softmax_u(q_t·k_u/√(C/heads))·v_u</c> — PyTorch's
    /// <c>F.scaled_dot_product_attention(q, k, v, is_causal=True)</c> with the heads split as nanoGPT splits them. A step
    /// never sees a later one. The softmax runs online over tiles of keys (no <c>T×T</c> matrix is held); no parameters
    /// (the projections are the Dense layers around it).
    /// </summary>
    public sealed class CausalSelfAttentionAttribute : LayerAttribute
    {
        /// <param name="heads">Number of heads; must divide C.</param>
        public CausalSelfAttentionAttribute(int heads) => Heads = heads;
        /// <summary>Number of heads.</summary>
        public int Heads { get; }
    }

    /// <summary>
    /// A pre-LN Transformer block, GPT-2's (PyTorch's <c>nn.TransformerEncoderLayer(width, heads, norm_first=True)</c> with
    /// a causal mask and GELU): <c>h = x + Proj(CausalSelfAttention(Qkv(LayerNorm(x))))</c>, then
    /// <c>y = h + Fc2(Gelu(Fc(LayerNorm(h))))</c>, the MLP <see cref="FeedForward"/> wide (4·width by default). It reads
    /// and writes a sequence <c>[steps, width]</c>. The generator expands it into ten layers named after the property P,
    /// each listed in <c>Layers</c> with its parameters as if declared one by one: <c>PLn1</c> (LayerNorm), <c>PQkv</c>
    /// (Dense 3·width), <c>PAttn</c> (CausalSelfAttention), <c>PProj</c> (Dense width), <c>PRes1</c> (Add), <c>PLn2</c>,
    /// <c>PFc</c> (Dense), <c>PAct</c> (Gelu), <c>PFc2</c> (Dense width) and P itself, the second residual add — the
    /// block's output, which later layers name. An <c>[L2]</c> on the block applies to its four Dense layers.
    /// </summary>
    public sealed class TransformerBlockAttribute : LayerAttribute
    {
        /// <param name="width">The model width C (the input's features per step).</param>
        /// <param name="heads">Attention heads; must divide <paramref name="width"/>.</param>
        public TransformerBlockAttribute(int width, int heads) { Width = width; Heads = heads; }
        /// <summary>The model width C.</summary>
        public int Width { get; }
        /// <summary>Attention heads.</summary>
        public int Heads { get; }
        /// <summary>The MLP's hidden width; 0 (the default) takes 4 × <see cref="Width"/>.</summary>
        public int FeedForward { get; set; }
        /// <summary>The GELU's form: <c>"tanh"</c> (GPT-2's, the default) or <c>"none"</c> (exact).</summary>
        public string Gelu { get; set; } = "tanh";
        /// <summary>The layer norms' ε (PyTorch's default 1e-5).</summary>
        public double Epsilon { get; set; } = 1e-5;
    }
}
