using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;

namespace ModelGen.IO;

/// <summary>
/// Export to ONNX (opset 17, IR version 8): the inference graph and the weights, so that a model moves to other
/// runtimes (ONNX Runtime, TensorRT, …). Input <c>input</c> of shape <c>[batch, …InputShape]</c> (NCHW for images),
/// output named after the last layer. Every layer kind maps onto standard operators: Dense → Gemm (transB),
/// Conv2D → Conv, pooling → MaxPool / AveragePool / GlobalAveragePool + Flatten, BatchNorm2D → BatchNormalization
/// (running statistics), Add → Add, Flatten → Flatten, Dropout → Identity, activations → Relu / LeakyRelu / Sigmoid /
/// Tanh / Softmax, GELU → Erf (exact) or Tanh (approximate) written out, since opset 17 has no Gelu, Lstm / Gru / Rnn →
/// LSTM / GRU / RNN (between transposes to ONNX's time-major layout, gate blocks reordered from PyTorch's order). The protobuf is
/// written directly (no dependency); the file is written atomically.
/// </summary>
public static class Onnx
{
    /// <summary>The operator set the export targets.</summary>
    public const int Opset = 17;

    /// <summary>Writes <paramref name="model"/>'s inference graph and weights to <paramref name="path"/>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty or a directory.</exception>
    /// <exception cref="NotSupportedException">A layer has no ONNX form (the message names it).</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public static void Export(INetwork model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] bytes = Build(model);
        AtomicFile.Write(path, "export", fs => fs.Write(bytes));
    }

    /// <summary>The ONNX model as bytes (a serialized <c>onnx.ModelProto</c>).</summary>
    public static byte[] Build(INetwork model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var g = new GraphBuilder(model);
        foreach (var layer in model.Layers) g.Layer(layer);

        var graph = new Proto();
        foreach (var n in g.Nodes) graph.Message(1, n);                       // node
        graph.String(2, model.GetType().Name);                               // name
        foreach (var t in g.Initializers) graph.Message(5, t);               // initializer
        graph.Message(11, ValueInfo("input", model.InputShape));             // input
        var last = model.Layers[model.Layers.Count - 1];
        graph.Message(12, ValueInfo(g.Value(last.Name), last.OutputShape));  // output

        var opset = new Proto();
        opset.String(1, "");
        opset.Int(2, Opset);
        var m = new Proto();
        m.Int(1, 8);                     // ir_version (opset 17 ↔ IR 8)
        m.String(2, "ModelGen");         // producer_name
        m.String(3, "0.1.0");            // producer_version
        m.Message(7, graph);             // graph
        m.Message(8, opset);             // opset_import
        return m.ToArray();
    }

    /// <summary>A float tensor value of shape <c>[batch, …shape]</c>, the batch symbolic.</summary>
    private static Proto ValueInfo(string name, IReadOnlyList<int> shape)
    {
        var dims = new Proto();
        var batch = new Proto();
        batch.String(2, "batch");        // dim_param
        dims.Message(1, batch);
        foreach (int d in shape)
        {
            var dim = new Proto();
            dim.Int(1, d);               // dim_value
            dims.Message(1, dim);
        }
        var tensor = new Proto();
        tensor.Int(1, 1);                // elem_type FLOAT
        tensor.Message(2, dims);         // shape
        var type = new Proto();
        type.Message(1, tensor);         // tensor_type
        var v = new Proto();
        v.String(1, name);
        v.Message(2, type);
        return v;
    }

    private sealed class GraphBuilder
    {
        private readonly INetwork _model;
        private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal) { ["(input)"] = "input" };
        private int _constants;
        public readonly List<Proto> Nodes = new();
        public readonly List<Proto> Initializers = new();

        public GraphBuilder(INetwork model) => _model = model;

        public string Value(string layer) => _values[layer];

        public void Layer(Layer l)
        {
            string x = _values[l.Inputs[0]];
            bool fused = l.Activation != ActivationType.None && l.Type != LayerType.Activation;
            string y = fused ? l.Name + ".pre_activation" : l.Name;
            switch (l.Type)
            {
                case LayerType.Dense when l.InputShape.Count == 2:
                    // On every step of a sequence [batch, T, F]: MatMul with Wᵀ [F, units] (broadcast over batch and steps), then + bias.
                    Node("MatMul", new[] { x, TransposedWeight(l) }, l.Name + ".product", l.Name + ".matmul", null);
                    Node("Add", new[] { l.Name + ".product", Weight(l, "bias") }, y, l.Name, null);
                    break;
                case LayerType.Dense:
                    Node("Gemm", new[] { x, Weight(l, "weight"), Weight(l, "bias") }, y, l.Name, a => a.Int("transB", 1));
                    break;
                case LayerType.Conv2D:
                {
                    var inputs = new List<string> { x, Weight(l, "weight") };
                    if (l.Options["bias"] != 0) inputs.Add(Weight(l, "bias"));
                    int kh = Opt(l, "kernel_height"), kw = Opt(l, "kernel_width"), s = Opt(l, "stride"), ph = Opt(l, "padding_height"), pw = Opt(l, "padding_width");
                    Node("Conv", inputs.ToArray(), y, l.Name, a =>
                    {
                        a.Ints("kernel_shape", kh, kw);
                        a.Ints("strides", s, s);
                        a.Ints("pads", ph, pw, ph, pw);
                        a.Ints("dilations", 1, 1);
                        a.Int("group", 1);
                    });
                    break;
                }
                case LayerType.MaxPool2D:
                case LayerType.AvgPool2D:
                {
                    int k = Opt(l, "size"), s = Opt(l, "stride");
                    Node(l.Type == LayerType.MaxPool2D ? "MaxPool" : "AveragePool", new[] { x }, y, l.Name, a => { a.Ints("kernel_shape", k, k); a.Ints("strides", s, s); });
                    break;
                }
                case LayerType.GlobalAvgPool:
                    Node("GlobalAveragePool", new[] { x }, l.Name + ".pooled", l.Name, null);
                    Node("Flatten", new[] { l.Name + ".pooled" }, y, l.Name + ".flatten", a => a.Int("axis", 1));
                    break;
                case LayerType.Flatten:
                    Node("Flatten", new[] { x }, y, l.Name, a => a.Int("axis", 1));
                    break;
                case LayerType.Add:
                    Node("Add", new[] { x, _values[l.Inputs[1]] }, y, l.Name, null);
                    break;
                case LayerType.BatchNorm2D:
                {
                    float eps = (float)l.Options["epsilon"], momentum = (float)l.Options["momentum"];
                    Node("BatchNormalization", new[] { x, Weight(l, "weight"), Weight(l, "bias"), Weight(l, "running_mean"), Weight(l, "running_var") }, y, l.Name,
                        a => { a.Float("epsilon", eps); a.Float("momentum", 1f - momentum); });   // ONNX's momentum weighs the old mean
                    break;
                }
                case LayerType.Dropout:
                    Node("Identity", new[] { x }, y, l.Name, null);   // inference
                    break;
                case LayerType.Activation:
                    Activation(l.Activation, l.Alpha, x, y, l.Name);
                    break;
                case LayerType.Gelu:
                    Gelu(x, y, l.Name, l.Options["tanh"] != 0);
                    break;
                case LayerType.Lstm:
                case LayerType.Gru:
                case LayerType.Rnn:
                    Recurrent(l, x, y);
                    break;
                case LayerType.Masking:
                    throw new NotSupportedException($"layer {l.Name} ({l.Description}) masks padded steps, which ONNX cannot express: " +
                        "its LSTM/GRU/RNN take sequence lengths, padding at the end only. Export a copy declared without Masking and pass right-padded sequences with their lengths");
                case LayerType.Embedding:
                    if (l.Options["mask_zero"] != 0)
                        throw new NotSupportedException($"layer {l.Name} ({l.Description}) masks padded steps (MaskZero), which ONNX cannot express: " +
                            "its LSTM/GRU/RNN take sequence lengths, padding at the end only. Export a copy declared without MaskZero and pass right-padded sequences with their lengths");
                    // The float ids as int64, then a row lookup: [batch, T] → [batch, T, D].
                    Node("Cast", new[] { x }, l.Name + ".ids", l.Name + ".cast", a => a.Int("to", 7));   // INT64
                    Node("Gather", new[] { Weight(l, "weight"), l.Name + ".ids" }, y, l.Name, a => a.Int("axis", 0));
                    break;
                case LayerType.LayerNorm:
                {
                    float eps = (float)l.Options["epsilon"];
                    Node("LayerNormalization", new[] { x, Weight(l, "weight"), Weight(l, "bias") }, y, l.Name, a => { a.Int("axis", -1); a.Float("epsilon", eps); });
                    break;
                }
                case LayerType.PositionEmbedding:
                    Node("Add", new[] { x, Weight(l, "weight") }, y, l.Name, null);   // [batch, T, F] + [T, F], broadcast over the batch
                    break;
                case LayerType.CausalSelfAttention:
                    Attention(l, x, y);
                    break;
                default:
                    throw new NotSupportedException($"layer {l.Name} ({l.Description}) has no ONNX form in this version");
            }
            if (fused) Activation(l.Activation, l.Alpha, y, l.Name, l.Name + ".activation");
            _values[l.Name] = l.Name;
        }

        private void Activation(ActivationType f, float alpha, string x, string y, string name)
        {
            switch (f)
            {
                case ActivationType.Relu: Node("Relu", new[] { x }, y, name, null); break;
                case ActivationType.LeakyRelu: Node("LeakyRelu", new[] { x }, y, name, a => a.Float("alpha", alpha)); break;
                case ActivationType.Sigmoid: Node("Sigmoid", new[] { x }, y, name, null); break;
                case ActivationType.Tanh: Node("Tanh", new[] { x }, y, name, null); break;
                case ActivationType.Softmax: Node("Softmax", new[] { x }, y, name, a => a.Int("axis", -1)); break;
                default: Node("Identity", new[] { x }, y, name, null); break;
            }
        }

        /// <summary>GELU written out: <c>0.5·x·(1 + erf(x/√2))</c>, or GPT-2's <c>0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))</c>.</summary>
        private void Gelu(string x, string y, string name, bool tanh)
        {
            string one = Constant(1f), half = Constant(0.5f);
            string inner;
            if (!tanh)
            {
                Node("Div", new[] { x, Constant(MathF.Sqrt(2f)) }, name + ".scaled", name + ".div", null);
                Node("Erf", new[] { name + ".scaled" }, name + ".erf", name + ".erf", null);
                inner = name + ".erf";
            }
            else
            {
                Node("Mul", new[] { x, x }, name + ".x2", name + ".x2", null);
                Node("Mul", new[] { name + ".x2", x }, name + ".x3", name + ".x3", null);
                Node("Mul", new[] { name + ".x3", Constant(0.044715f) }, name + ".cubic", name + ".cubic", null);
                Node("Add", new[] { x, name + ".cubic" }, name + ".sum", name + ".sum", null);
                Node("Mul", new[] { name + ".sum", Constant(MathF.Sqrt(2f / MathF.PI)) }, name + ".arg", name + ".arg", null);
                Node("Tanh", new[] { name + ".arg" }, name + ".tanh", name + ".tanh", null);
                inner = name + ".tanh";
            }
            Node("Add", new[] { inner, one }, name + ".onePlus", name + ".onePlus", null);
            Node("Mul", new[] { x, name + ".onePlus" }, name + ".product", name + ".product", null);
            Node("Mul", new[] { name + ".product", half }, y, name, null);
        }

        /// <summary>
        /// LSTM / GRU / RNN, one direction, between transposes to and from ONNX's time-major layout. ONNX stacks the
        /// gates in another order than PyTorch — LSTM <c>i, o, f, c</c> (PyTorch <c>i, f, g, o</c>), GRU <c>z, r, h</c>
        /// (PyTorch <c>r, z, n</c>) — so the weights are written with their gate blocks reordered; GRU takes
        /// <c>linear_before_reset = 1</c>, PyTorch's <c>r⊙(W_hn h + b_hn)</c>. Every step's state (<c>Y [T, 1, batch, H]</c>)
        /// or the last (<c>Y_h [1, batch, H]</c>) is brought to the model's shape.
        /// </summary>
        private void Recurrent(Layer l, string x, string y)
        {
            int h = (int)l.Options["hidden"];
            bool sequences = l.Options["return_sequences"] != 0;
            bool bi = l.Options.TryGetValue("bidirectional", out double b2) && b2 != 0;
            int[] order = l.Type switch { LayerType.Lstm => new[] { 0, 3, 1, 2 }, LayerType.Gru => new[] { 1, 0, 2 }, _ => new[] { 0 } };
            string op = l.Type switch { LayerType.Lstm => "LSTM", LayerType.Gru => "GRU", _ => "RNN" };
            string[] dirs = bi ? new[] { "", "_reverse" } : new[] { "" };
            string w = Gates(l, "weight_ih_l0", dirs, order, h), r = Gates(l, "weight_hh_l0", dirs, order, h);
            string b = Biases(l, dirs, order, h);
            // Time-major in and out (ONNX Runtime implements only layout 0): [batch, T, F] → [T, batch, F].
            Node("Transpose", new[] { x }, l.Name + ".time_major", l.Name + ".time_major", a => a.Ints("perm", 1, 0, 2));
            string[] outputs = sequences ? new[] { l.Name + ".Y" } : new[] { "", l.Name + ".Y_h" };
            Node(op, new[] { l.Name + ".time_major", w, r, b }, outputs, l.Name, a =>
            {
                a.Int("hidden_size", h);
                if (bi) a.String("direction", "bidirectional");
                if (l.Type == LayerType.Gru) a.Int("linear_before_reset", 1);
                string act = l.Options.TryGetValue("relu", out double relu) && relu != 0 ? "Relu" : "Tanh";
                if (l.Type == LayerType.Rnn) a.Strings("activations", bi ? new[] { act, act } : new[] { act });
            });
            if (sequences && !bi)
            {
                // Y [T, 1, batch, H] → [T, batch, H] → [batch, T, H]
                Node("Squeeze", new[] { outputs[0], Axes(1) }, l.Name + ".steps", l.Name + ".squeeze", null);
                Node("Transpose", new[] { l.Name + ".steps" }, y, l.Name + ".batch_major", a => a.Ints("perm", 1, 0, 2));
            }
            else if (sequences)
            {
                // Y [T, 2, batch, H] → [batch, T, 2, H] → [batch, T, 2H]: each step's forward state, then its reverse one
                Node("Transpose", new[] { outputs[0] }, l.Name + ".batch_major", l.Name + ".batch_major", a => a.Ints("perm", 2, 0, 1, 3));
                Node("Reshape", new[] { l.Name + ".batch_major", Int64s(0, 0, -1) }, y, l.Name + ".concat", null);
            }
            else if (!bi)
                Node("Squeeze", new[] { outputs[1], Axes(0) }, y, l.Name + ".squeeze", null);   // Y_h [1, batch, H] → [batch, H]
            else
            {
                // Y_h [2, batch, H] → [batch, 2, H] → [batch, 2H]: the forward direction's last state, then the reverse one's
                Node("Transpose", new[] { outputs[1] }, l.Name + ".batch_major", l.Name + ".batch_major", a => a.Ints("perm", 1, 0, 2));
                Node("Reshape", new[] { l.Name + ".batch_major", Int64s(0, -1) }, y, l.Name + ".concat", null);
            }
        }

        /// <summary>
        /// Causal attention written out (opset 17 has no attention operator): q, k, v sliced from the fused
        /// <c>[batch, T, 3C]</c>, split into heads <c>[batch, H, T, d]</c> (keys as <c>[batch, H, d, T]</c>), scores
        /// <c>q·kᵀ/√d</c> plus a constant mask of −∞ above the diagonal, softmax over the keys, times v, heads joined back
        /// to <c>[batch, T, C]</c>.
        /// </summary>
        private void Attention(Layer l, string x, string y)
        {
            int heads = (int)l.Options["heads"], t = l.InputShape[0], c = l.OutputShape[1], d = c / heads;
            string n = l.Name;
            string[] parts = { "q", "k", "v" };
            for (int i = 0; i < 3; i++)
            {
                Node("Slice", new[] { x, Int64s(i * c), Int64s((i + 1) * c), Int64s(2) }, $"{n}.{parts[i]}", $"{n}.slice_{parts[i]}", null);
                Node("Reshape", new[] { $"{n}.{parts[i]}", Int64s(0, 0, heads, d) }, $"{n}.{parts[i]}_heads", $"{n}.reshape_{parts[i]}", null);
                long[] perm = i == 1 ? new long[] { 0, 2, 3, 1 } : new long[] { 0, 2, 1, 3 };
                Node("Transpose", new[] { $"{n}.{parts[i]}_heads" }, $"{n}.{parts[i]}_t", $"{n}.transpose_{parts[i]}", a => a.Ints("perm", perm));
            }
            Node("MatMul", new[] { $"{n}.q_t", $"{n}.k_t" }, $"{n}.scores", $"{n}.scores", null);
            Node("Mul", new[] { $"{n}.scores", Constant(1f / MathF.Sqrt(d)) }, $"{n}.scaled", $"{n}.scale", null);
            var mask = new float[t * t];
            for (int i = 0; i < t; i++) for (int j = i + 1; j < t; j++) mask[i * t + j] = float.NegativeInfinity;
            string maskName = n + ".causal_mask";
            Initializers.Add(Tensor(maskName, new[] { t, t }, mask));
            Node("Add", new[] { $"{n}.scaled", maskName }, $"{n}.masked", $"{n}.mask", null);
            Node("Softmax", new[] { $"{n}.masked" }, $"{n}.p", $"{n}.softmax", a => a.Int("axis", -1));
            Node("MatMul", new[] { $"{n}.p", $"{n}.v_t" }, $"{n}.o_heads", $"{n}.weighted", null);
            Node("Transpose", new[] { $"{n}.o_heads" }, $"{n}.o_steps", $"{n}.join", a => a.Ints("perm", 0, 2, 1, 3));
            Node("Reshape", new[] { $"{n}.o_steps", Int64s(0, 0, c) }, y, n, null);
        }

        /// <summary>An int64 vector constant (a Reshape's target shape).</summary>
        private string Int64s(params long[] values)
        {
            string name = "shape" + (_constants++).ToString(CultureInfo.InvariantCulture);
            var t = new Proto();
            t.Int(1, values.Length);                // dims
            t.Int(2, 7);                            // data_type INT64
            t.String(8, name);
            var raw = new byte[8 * values.Length];
            for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteInt64LittleEndian(raw.AsSpan(8 * i), values[i]);
            t.Bytes(9, raw);
            Initializers.Add(t);
            return name;
        }

        /// <summary>A recurrent weight <c>[G·H, K]</c> per direction as ONNX's <c>[directions, G·H, K]</c>, gate blocks in ONNX's order.</summary>
        private string Gates(Layer l, string local, string[] dirs, int[] order, int h)
        {
            var first = TensorOf(l, local);
            int k = first.Shape[1], block = h * k;
            var data = new float[dirs.Length * first.Length];
            for (int d = 0; d < dirs.Length; d++)
            {
                var t = TensorOf(l, local + dirs[d]);
                var src = _model.Parameters.Slice(t.Offset, t.Length);
                for (int g = 0; g < order.Length; g++) src.Slice(order[g] * block, block).CopyTo(data.AsSpan(d * first.Length + g * block));
            }
            string name = first.Name + ".onnx";
            Initializers.Add(Tensor(name, new[] { dirs.Length, first.Shape[0], k }, data));
            return name;
        }

        /// <summary>ONNX's <c>B [directions, 2·G·H]</c>: per direction the input biases then the recurrent ones, gate blocks reordered.</summary>
        private string Biases(Layer l, string[] dirs, int[] order, int h)
        {
            int g = order.Length;
            var data = new float[dirs.Length * 2 * g * h];
            for (int d = 0; d < dirs.Length; d++)
            {
                var bi = TensorOf(l, "bias_ih_l0" + dirs[d]);
                var bh = TensorOf(l, "bias_hh_l0" + dirs[d]);
                int at = d * 2 * g * h;
                for (int k = 0; k < g; k++)
                {
                    _model.Parameters.Slice(bi.Offset + order[k] * h, h).CopyTo(data.AsSpan(at + k * h));
                    _model.Parameters.Slice(bh.Offset + order[k] * h, h).CopyTo(data.AsSpan(at + (g + k) * h));
                }
            }
            string name = l.Name + ".bias.onnx";
            Initializers.Add(Tensor(name, new[] { dirs.Length, 2 * g * h }, data));
            return name;
        }

        private string Axes(long axis)
        {
            string name = "axes" + (_constants++).ToString(CultureInfo.InvariantCulture);
            var t = new Proto();
            t.Int(1, 1);                            // dims [1]
            t.Int(2, 7);                            // data_type INT64
            t.String(8, name);
            Span<byte> raw = stackalloc byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(raw, axis);
            t.Bytes(9, raw);
            Initializers.Add(t);
            return name;
        }

        /// <summary>The layer's tensor <paramref name="local"/>: its own (<c>Layer.local</c>), or a tied one (another layer's
        /// <c>Owner.local</c>, listed with this layer).</summary>
        private static TensorInfo TensorOf(Layer l, string local)
        {
            foreach (var c in l.Tensors) if (c.Name == l.Name + "." + local) return c;
            foreach (var c in l.Tensors) if (c.Name.EndsWith("." + local, StringComparison.Ordinal)) return c;
            throw new NotSupportedException($"layer {l.Name} has no tensor '{local}' to export");
        }

        private readonly HashSet<string> _initializers = new(StringComparer.Ordinal);

        private static int Opt(Layer l, string key) => (int)l.Options[key];

        /// <summary>The initializer of the layer's tensor <paramref name="local"/>, named as in safetensors.</summary>
        private string Weight(Layer l, string local)
        {
            var t = TensorOf(l, local);
            if (_initializers.Add(t.Name)) Initializers.Add(Tensor(t.Name, t.Shape, _model.Parameters.Slice(t.Offset, t.Length)));   // a tied tensor once
            return t.Name;
        }

        /// <summary>A dense weight <c>[units, in]</c> as its transpose <c>[in, units]</c>, for MatMul.</summary>
        private string TransposedWeight(Layer l)
        {
            var t = TensorOf(l, "weight");
            int units = t.Shape[0], inputs = t.Shape[1];
            var src = _model.Parameters.Slice(t.Offset, t.Length);
            var data = new float[t.Length];
            for (int o = 0; o < units; o++)
                for (int i = 0; i < inputs; i++) data[i * units + o] = src[o * inputs + i];
            string name = t.Name + ".T";
            if (_initializers.Add(name)) Initializers.Add(Tensor(name, new[] { inputs, units }, data));
            return name;
        }

        private string Constant(float value)
        {
            string name = "const" + (_constants++).ToString(CultureInfo.InvariantCulture);
            Initializers.Add(Tensor(name, Array.Empty<int>(), new[] { value }));
            return name;
        }

        private static Proto Tensor(string name, int[] shape, ReadOnlySpan<float> data)
        {
            var t = new Proto();
            foreach (int d in shape) t.Int(1, d);   // dims
            t.Int(2, 1);                            // data_type FLOAT
            t.String(8, name);                      // name
            var raw = new byte[data.Length * 4];
            for (int i = 0; i < data.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(raw.AsSpan(4 * i), data[i]);
            t.Bytes(9, raw);                        // raw_data, little-endian
            return t;
        }

        private void Node(string op, string[] inputs, string output, string name, Action<Attributes>? attributes) =>
            Node(op, inputs, new[] { output }, name, attributes);

        /// <summary>A node with several outputs; an empty name skips an optional output.</summary>
        private void Node(string op, string[] inputs, string[] outputs, string name, Action<Attributes>? attributes)
        {
            var n = new Proto();
            foreach (var i in inputs) n.String(1, i);
            foreach (var o in outputs) n.String(2, o);
            n.String(3, name);
            n.String(4, op);
            if (attributes is not null)
            {
                var a = new Attributes(n);
                attributes(a);
            }
            Nodes.Add(n);
        }
    }

    /// <summary>Writes <c>AttributeProto</c>s into a node.</summary>
    private sealed class Attributes
    {
        private readonly Proto _node;
        public Attributes(Proto node) => _node = node;

        public void Int(string name, long value)
        {
            var a = new Proto();
            a.String(1, name);
            a.Int(3, value);
            a.Int(20, 2);    // INT
            _node.Message(5, a);
        }

        public void Float(string name, float value)
        {
            var a = new Proto();
            a.String(1, name);
            a.Float(2, value);
            a.Int(20, 1);    // FLOAT
            _node.Message(5, a);
        }

        public void String(string name, string value)
        {
            var a = new Proto();
            a.String(1, name);
            a.String(4, value);
            a.Int(20, 3);    // STRING
            _node.Message(5, a);
        }

        public void Strings(string name, params string[] values)
        {
            var a = new Proto();
            a.String(1, name);
            foreach (string v in values) a.String(9, v);
            a.Int(20, 8);    // STRINGS
            _node.Message(5, a);
        }

        public void Ints(string name, params long[] values)
        {
            var a = new Proto();
            a.String(1, name);
            foreach (long v in values) a.Int(8, v);
            a.Int(20, 7);    // INTS
            _node.Message(5, a);
        }
    }

    /// <summary>A protobuf message being written (varints, fixed32, length-delimited fields).</summary>
    private sealed class Proto
    {
        private readonly MemoryStream _s = new();

        private void Varint(ulong v)
        {
            while (v >= 0x80) { _s.WriteByte((byte)(v | 0x80)); v >>= 7; }
            _s.WriteByte((byte)v);
        }

        private void Tag(int field, int wire) => Varint((ulong)((field << 3) | wire));

        public void Int(int field, long value) { Tag(field, 0); Varint((ulong)value); }

        public void Float(int field, float value)
        {
            Tag(field, 5);
            Span<byte> b = stackalloc byte[4];
            BinaryPrimitives.WriteSingleLittleEndian(b, value);
            _s.Write(b);
        }

        public void Bytes(int field, ReadOnlySpan<byte> bytes) { Tag(field, 2); Varint((ulong)bytes.Length); _s.Write(bytes); }

        public void String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

        public void Message(int field, Proto message) => Bytes(field, message.ToArray());

        public byte[] ToArray() => _s.ToArray();
    }
}
