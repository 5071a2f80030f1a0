using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace ModelGen.Tests.Harness;

/// <summary>
/// An independent double-precision interpreter of a generated network's layers (read from its
/// <see cref="Layer"/> descriptions and parameters): loss, central-difference gradients and plain SGD.
/// It shares no code with the generator or the kernels, so agreement means the generated math is right.
/// </summary>
internal sealed class ReferenceNet
{
    private sealed record L(bool Dense, int In, int Out, string Act, double Alpha, int W, int B, double L2)
    {
        public string Op = "";                 // "", Conv2D, MaxPool2D, AvgPool2D, GlobalAvgPool, Flatten
        public int[] InShape = Array.Empty<int>(), OutShape = Array.Empty<int>();
        public int KH, KW, S = 1, PH, PW;
        public int Input = -1, Skip = -1;      // indices of the layers read (−1: the network input)
        public int Whh, Bhh, Hidden, Gates; public bool Sequences, Relu;   // recurrent: W = weight_ih, B = bias_ih
        public int Vocabulary; public bool MaskZero;                        // embedding: W = weight [V, D]
        public double MaskValue;                                            // masking: the padding value
        public bool Bidirectional; public int WR, BR, WhhR, BhhR;           // the reverse direction's tensors
        public double Eps; public int Heads;                                // layer norm's ε; attention's heads
    }

    private readonly List<L> _layers = new();
    private readonly LossKind _loss;
    private readonly double _param;

    /// <param name="lossParam">Huber's δ or the quantile's τ.</param>
    public ReferenceNet(ITrainableNetwork model, IEnumerable<Layer> layers, double lossParam = 0)
    {
        var index = new Dictionary<string, int>();
        _loss = model.LossKind;
        _param = (float)lossParam;
        var tensors = model.Tensors.ToDictionary(t => t.Name);
        foreach (var l in layers)
        {
            // Structured metadata only: the layer's type, its options and tensors (never its display string).
            int inF = l.InputShape.Aggregate(1, (a, b) => a * b), outF = l.OutputShape.Aggregate(1, (a, b) => a * b);
            bool weighted = l.Type is LayerType.Dense or LayerType.Conv2D or LayerType.BatchNorm2D;
            string act = l.Activation == ActivationType.None ? "Identity" : l.Activation.ToString();
            var layer = new L(weighted, inF, outF, act, l.Alpha,
                weighted ? Own(l, "weight").Offset : 0,
                tensors.TryGetValue(l.Name + ".bias", out var bias) ? bias.Offset : -1, l.L2)
            {
                InShape = l.InputShape.ToArray(), OutShape = l.OutputShape.ToArray(),
                Op = l.Type switch
                {
                    LayerType.Dense or LayerType.Activation or LayerType.Dropout => "",
                    LayerType.Gelu => l.Options["tanh"] != 0 ? "GeluTanh" : "Gelu",
                    _ => l.Type.ToString(),
                },
            };
            if (l.Type is LayerType.Lstm or LayerType.Gru or LayerType.Rnn)
            {
                layer = layer with { W = tensors[l.Name + ".weight_ih_l0"].Offset, B = tensors[l.Name + ".bias_ih_l0"].Offset };
                layer.Whh = tensors[l.Name + ".weight_hh_l0"].Offset; layer.Bhh = tensors[l.Name + ".bias_hh_l0"].Offset;
                layer.Hidden = (int)l.Options["hidden"]; layer.Sequences = l.Options["return_sequences"] != 0;
                layer.InShape = l.InputShape.ToArray(); layer.OutShape = l.OutputShape.ToArray(); layer.Op = l.Type.ToString();
                layer.Gates = l.Type switch { LayerType.Lstm => 4, LayerType.Gru => 3, _ => 1 };
                layer.Relu = l.Options.TryGetValue("relu", out double relu) && relu != 0;
                if (l.Options.TryGetValue("bidirectional", out double bi) && bi != 0)
                {
                    layer.Bidirectional = true;
                    layer.WR = tensors[l.Name + ".weight_ih_l0_reverse"].Offset; layer.BR = tensors[l.Name + ".bias_ih_l0_reverse"].Offset;
                    layer.WhhR = tensors[l.Name + ".weight_hh_l0_reverse"].Offset; layer.BhhR = tensors[l.Name + ".bias_hh_l0_reverse"].Offset;
                }
            }
            if (l.Type == LayerType.Masking) layer.MaskValue = l.Options["value"];
            if (l.Type == LayerType.LayerNorm)
            {
                layer = layer with { Dense = true, W = tensors[l.Name + ".weight"].Offset, B = tensors[l.Name + ".bias"].Offset };
                layer.Eps = l.Options["epsilon"];
            }
            if (l.Type == LayerType.PositionEmbedding) layer = layer with { Dense = true, W = tensors[l.Name + ".weight"].Offset, B = -1 };
            if (l.Type == LayerType.CausalSelfAttention) layer.Heads = (int)l.Options["heads"];
            if (l.Type == LayerType.Embedding)
            {
                layer = layer with { Dense = true, W = tensors[l.Name + ".weight"].Offset, B = -1 };
                layer.Vocabulary = (int)l.Options["vocabulary"]; layer.MaskZero = l.Options["mask_zero"] != 0;
            }
            if (l.Type == LayerType.Conv2D)
            {
                layer.KH = (int)l.Options["kernel_height"]; layer.KW = (int)l.Options["kernel_width"]; layer.S = (int)l.Options["stride"];
                layer.PH = (int)l.Options["padding_height"]; layer.PW = (int)l.Options["padding_width"];
            }
            if (l.Type is LayerType.MaxPool2D or LayerType.AvgPool2D)
            {
                layer.KH = layer.KW = (int)l.Options["size"]; layer.S = (int)l.Options["stride"];
            }
            layer.Input = l.Inputs[0] == "(input)" ? -1 : index[l.Inputs[0]];
            if (l.Type == LayerType.Add) layer.Skip = l.Inputs[1] == "(input)" ? -1 : index[l.Inputs[1]];
            index[l.Name] = _layers.Count;
            _layers.Add(layer);
        }
    }

    /// <summary>The layer's tensor <paramref name="local"/>: its own, or the one it is tied to (listed with the layer).</summary>
    private static TensorInfo Own(Layer l, string local) =>
        l.Tensors.FirstOrDefault(t => t.Name == l.Name + "." + local) ?? l.Tensors.First(t => t.Name.EndsWith("." + local, StringComparison.Ordinal));

    /// <summary>Forward in double: outputs [batch, out].</summary>
    public double[] Forward(double[] p, float[] x, int batch) => Forward(p, x.Select(v => (double)v).ToArray(), batch);

    /// <summary>Forward in double from a double input (for central differences with respect to the input).</summary>
    public double[] Forward(double[] p, double[] x, int batch)
    {
        int inputSize = _layers.First(l => l.Input < 0).In;
        double[] input = x.Take(batch * inputSize).ToArray();
        var outputs = new List<double[]>();
        var masks = new List<bool[]?>();   // per layer: which (sample, step) of its output are padding (an embedding's id 0)
        foreach (var l in _layers)
        {
            double[] a = l.Input < 0 ? input : outputs[l.Input];
            bool[]? mask = l.Input < 0 ? null : masks[l.Input];
            masks.Add(l.Op is "" or "Lstm" or "Gru" or "Rnn" && (l.Op == "" || l.Sequences) ? mask : null);
            var z = new double[batch * l.Out];
            if (l.Op == "Masking")
            {
                // A step whose features all equal the value is padding: zeros, masked.
                int t = l.InShape[0], f = l.InShape[1];
                var padded = new bool[batch * t];
                for (int i = 0; i < batch * t; i++)
                {
                    padded[i] = Enumerable.Range(0, f).All(k => a[i * f + k] == l.MaskValue);
                    for (int k = 0; k < f; k++) z[i * f + k] = padded[i] ? 0 : a[i * f + k];
                }
                masks[^1] = padded;
                outputs.Add(z);
                continue;
            }
            if (l.Op == "Embedding")
            {
                // y[t] = W[id_t]; id 0 is padding with MaskZero: y[t] = 0 and the step is masked.
                int t = l.InShape[0], d = l.OutShape[1];
                var padded = new bool[batch * t];
                for (int i = 0; i < batch * t; i++)
                {
                    int id = (int)Math.Round(a[i]);
                    padded[i] = l.MaskZero && id == 0;
                    for (int k = 0; k < d; k++) z[i * d + k] = padded[i] ? 0 : p[l.W + id * d + k];
                }
                masks[^1] = l.MaskZero ? padded : null;
                outputs.Add(z);
                continue;
            }
            if (l.Op is "LayerNorm" or "PositionEmbedding" or "CausalSelfAttention")
            {
                for (int b = 0; b < batch; b++) Transformer(l, p, a.AsSpan(b * l.In, l.In), z.AsSpan(b * l.Out, l.Out));
                outputs.Add(z);
                continue;
            }
            if (l.Op == "BatchNorm2D")
            {
                // Training mode: each channel normalised with the batch's mean and (biased) variance, ε = 1e-5.
                int c = l.InShape[0], px = l.InShape[1] * l.InShape[2];
                for (int ci = 0; ci < c; ci++)
                {
                    double m = 0, v = 0;
                    for (int b = 0; b < batch; b++) for (int q = 0; q < px; q++) m += a[b * l.In + ci * px + q];
                    m /= batch * px;
                    for (int b = 0; b < batch; b++) for (int q = 0; q < px; q++) { double d = a[b * l.In + ci * px + q] - m; v += d * d; }
                    v /= batch * px;
                    for (int b = 0; b < batch; b++)
                        for (int q = 0; q < px; q++)
                            z[b * l.In + ci * px + q] = p[l.W + ci] * (a[b * l.In + ci * px + q] - m) / Math.Sqrt(v + (double)1e-5f) + p[l.B + ci];
                }
                for (int b = 0; b < batch; b++) Activate(l, z.AsSpan(b * l.Out, l.Out));
                outputs.Add(z);
                continue;
            }
            if (l.Gates > 0)
            {
                for (int b = 0; b < batch; b++)
                    Recurrent(l, p, a.AsSpan(b * l.In, l.In), z.AsSpan(b * l.Out, l.Out), mask is null ? default : mask.AsSpan(b * l.InShape[0], l.InShape[0]));
                outputs.Add(z);
                continue;
            }
            if (l.Op is "Gelu" or "GeluTanh")
            {
                for (int i = 0; i < z.Length; i++) z[i] = Gelu(a[i], l.Op == "GeluTanh");
                outputs.Add(z);
                continue;
            }
            if (l.Op == "Add")
            {
                for (int i = 0; i < z.Length; i++) z[i] = a[i] + (l.Skip < 0 ? input : outputs[l.Skip])[i];
                outputs.Add(z);
                continue;
            }
            for (int b = 0; b < batch; b++)
            {
                if (l.Op.Length > 0)
                    Spatial(l, p, a.AsSpan(b * l.In, l.In), z.AsSpan(b * l.Out, l.Out));
                else if (l.Dense)
                {
                    // On a sequence [T, F] the same weights apply to every step.
                    int steps = l.InShape.Length == 2 ? l.InShape[0] : 1, fin = l.In / steps, fout = l.Out / steps;
                    for (int t = 0; t < steps; t++)
                        for (int o = 0; o < fout; o++)
                        {
                            double s = p[l.B + o];
                            for (int i = 0; i < fin; i++) s += p[l.W + o * fin + i] * a[b * l.In + t * fin + i];
                            z[b * l.Out + t * fout + o] = s;
                        }
                }
                else Array.Copy(a, b * l.In, z, b * l.Out, l.Out);
                Activate(l, z.AsSpan(b * l.Out, l.Out));
            }
            outputs.Add(z);
        }
        return outputs[^1];
    }

    /// <summary>One sample through layer norm (each step's features: <c>(x − mean)/√(var + ε)·γ + β</c>), a position
    /// embedding (<c>x[t] + W[t]</c>) or causal attention (per head, <c>o_t = Σ_{u ≤ t} softmax(q_t·k_u/√d)·v_u</c>, the
    /// softmax over the whole row at once), by their definitions.</summary>
    private static void Transformer(L l, double[] p, ReadOnlySpan<double> x, Span<double> y)
    {
        int steps = l.InShape.Length == 2 ? l.InShape[0] : 1, f = l.In / steps;
        switch (l.Op)
        {
            case "LayerNorm":
                for (int t = 0; t < steps; t++)
                {
                    var row = x.Slice(t * f, f);
                    double m = 0, v = 0;
                    foreach (double e in row) m += e;
                    m /= f;
                    foreach (double e in row) v += (e - m) * (e - m);
                    v /= f;
                    for (int i = 0; i < f; i++) y[t * f + i] = (row[i] - m) / Math.Sqrt(v + l.Eps) * p[l.W + i] + p[l.B + i];
                }
                break;
            case "PositionEmbedding":
                for (int i = 0; i < steps * f; i++) y[i] = x[i] + p[l.W + i];
                break;
            default:
            {
                int c = f / 3, d = c / l.Heads;
                var score = new double[steps];
                for (int h = 0; h < l.Heads; h++)
                    for (int t = 0; t < steps; t++)
                    {
                        double max = double.NegativeInfinity, sum = 0;
                        for (int u = 0; u <= t; u++)
                        {
                            double s = 0;
                            for (int j = 0; j < d; j++) s += x[t * f + h * d + j] * x[u * f + c + h * d + j];
                            score[u] = s / Math.Sqrt(d);
                            max = Math.Max(max, score[u]);
                        }
                        for (int u = 0; u <= t; u++) sum += score[u] = Math.Exp(score[u] - max);
                        for (int j = 0; j < d; j++)
                        {
                            double o = 0;
                            for (int u = 0; u <= t; u++) o += score[u] / sum * x[u * f + 2 * c + h * d + j];
                            y[t * c + h * d + j] = o;
                        }
                    }
                break;
            }
        }
    }

    /// <summary>PyTorch's LSTM, GRU and RNN by their equations, one sample: x <c>[T, F]</c>, zero initial states.</summary>
    /// <paramref name="padded"/>: steps that leave the state as it was and output zeros (empty: none). Bidirectional:
    /// the reverse direction is the same recurrence, with its own parameters, over the steps last to first; the outputs
    /// are concatenated per step ([T, 2H]) or as [forward's last state, reverse's last state].
    private static void Recurrent(L l, double[] p, ReadOnlySpan<double> x, Span<double> y, ReadOnlySpan<bool> padded)
    {
        if (!l.Bidirectional) { Direction(l, p, x, y, padded); return; }
        int t = l.InShape[0], f = l.InShape[1], hd = l.Hidden;
        var fwd = new double[l.Sequences ? t * hd : hd];
        var rev = new double[fwd.Length];
        var xr = new double[t * f];
        var pr = new bool[padded.Length];
        for (int s = 0; s < t; s++)
        {
            x.Slice((t - 1 - s) * f, f).CopyTo(xr.AsSpan(s * f, f));
            if (!padded.IsEmpty) pr[s] = padded[t - 1 - s];
        }
        Direction(l, p, x, fwd, padded);
        Direction(l with { W = l.WR, B = l.BR }, p, xr, rev, pr, l.WhhR, l.BhhR);
        if (!l.Sequences) { fwd.CopyTo(y); rev.CopyTo(y.Slice(hd)); return; }
        for (int s = 0; s < t; s++)
        {
            fwd.AsSpan(s * hd, hd).CopyTo(y.Slice(s * 2 * hd, hd));
            rev.AsSpan((t - 1 - s) * hd, hd).CopyTo(y.Slice(s * 2 * hd + hd, hd));
        }
    }

    private static void Direction(L l, double[] p, ReadOnlySpan<double> x, Span<double> y, ReadOnlySpan<bool> padded, int whh = -1, int bhh = -1)
    {
        if (whh < 0) { whh = l.Whh; bhh = l.Bhh; }
        int t = l.InShape[0], f = l.InShape[1], hd = l.Hidden, g = l.Gates * hd;
        var h = new double[hd];
        var c = new double[hd];
        var gi = new double[g];
        var gh = new double[g];
        static double Sig(double v) => 1 / (1 + Math.Exp(-v));
        for (int s = 0; s < t; s++)
        {
            if (!padded.IsEmpty && padded[s])
            {
                if (l.Sequences) y.Slice(s * hd, hd).Clear();
                continue;
            }
            for (int r = 0; r < g; r++)
            {
                double a = p[l.B + r], b = p[bhh + r];
                for (int i = 0; i < f; i++) a += p[l.W + r * f + i] * x[s * f + i];
                for (int j = 0; j < hd; j++) b += p[whh + r * hd + j] * h[j];
                gi[r] = a; gh[r] = b;
            }
            for (int j = 0; j < hd; j++)
            {
                switch (l.Op)
                {
                    case "Lstm":
                    {
                        double ig = Sig(gi[j] + gh[j]), fg = Sig(gi[hd + j] + gh[hd + j]), gg = Math.Tanh(gi[2 * hd + j] + gh[2 * hd + j]), og = Sig(gi[3 * hd + j] + gh[3 * hd + j]);
                        c[j] = fg * c[j] + ig * gg;
                        h[j] = og * Math.Tanh(c[j]);
                        break;
                    }
                    case "Gru":
                    {
                        double rg = Sig(gi[j] + gh[j]), zg = Sig(gi[hd + j] + gh[hd + j]), ng = Math.Tanh(gi[2 * hd + j] + rg * gh[2 * hd + j]);
                        h[j] = (1 - zg) * ng + zg * h[j];   // h[j] is still h_(t−1): gh was computed from it above
                        break;
                    }
                    default:
                        h[j] = l.Relu ? Math.Max(0, gi[j] + gh[j]) : Math.Tanh(gi[j] + gh[j]);
                        break;
                }
                if (l.Sequences) y[s * hd + j] = h[j];
            }
        }
        if (!l.Sequences) h.CopyTo(y);
    }

    /// <summary>GELU by its definition: <c>x·Φ(x)</c> with erf from its Maclaurin series (or the tanh form).</summary>
    internal static double Gelu(double x, bool tanh) =>
        tanh ? 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x))) : 0.5 * x * (1 + Erf(x / Math.Sqrt(2)));

    /// <summary>erf(x) = 2/√π Σ (−1)ⁿ x^(2n+1) / (n!(2n+1)) for |x| &lt; 3; beyond, 1 − erfc by its continued fraction
    /// erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))).</summary>
    internal static double Erf(double x)
    {
        if (Math.Abs(x) >= 3)
        {
            double a = Math.Abs(x), f = a;
            for (int k = 80; k >= 1; k--) f = a + k / 2.0 / f;
            return Math.Sign(x) * (1 - Math.Exp(-a * a) / Math.Sqrt(Math.PI) / f);
        }
        double term = x, sum = x;
        for (int n = 1; n < 200; n++)
        {
            term *= -x * x / n;
            double t = term / (2 * n + 1);
            sum += t;
            if (Math.Abs(t) < 1e-17 * Math.Abs(sum)) break;
        }
        return 2 / Math.Sqrt(Math.PI) * sum;
    }

    /// <summary>Convolution and pooling by their definitions: loops over every output and window, zero padding.</summary>
    private static void Spatial(L l, double[] p, ReadOnlySpan<double> x, Span<double> y)
    {
        if (l.Op == "Flatten") { x.CopyTo(y); return; }
        int c = l.InShape[0], h = l.InShape[1], w = l.InShape[2];
        if (l.Op == "GlobalAvgPool")
        {
            for (int ci = 0; ci < c; ci++)
            {
                double s = 0;
                for (int q = 0; q < h * w; q++) s += x[ci * h * w + q];
                y[ci] = s / (h * w);
            }
            return;
        }
        int oc = l.OutShape[0], ho = l.OutShape[1], wo = l.OutShape[2];
        for (int o = 0; o < oc; o++)
            for (int i = 0; i < ho; i++)
                for (int j = 0; j < wo; j++)
                {
                    double acc = l.Op == "Conv2D" ? (l.B < 0 ? 0 : p[l.B + o]) : l.Op == "MaxPool2D" ? double.NegativeInfinity : 0;
                    for (int ci = 0; ci < (l.Op == "Conv2D" ? c : 1); ci++)
                        for (int u = 0; u < l.KH; u++)
                            for (int v = 0; v < l.KW; v++)
                            {
                                int hi = i * l.S + u - l.PH, wi = j * l.S + v - l.PW;
                                int ch = l.Op == "Conv2D" ? ci : o;
                                double xv = hi >= 0 && hi < h && wi >= 0 && wi < w ? x[(ch * h + hi) * w + wi] : 0;
                                if (l.Op == "Conv2D") acc += p[l.W + ((o * c + ci) * l.KH + u) * l.KW + v] * xv;
                                else if (l.Op == "MaxPool2D") acc = Math.Max(acc, xv);
                                else acc += xv / (l.KH * l.KW);
                            }
                    y[(o * ho + i) * wo + j] = acc;
                }
    }

    private static void Activate(L l, Span<double> v)
    {
        switch (l.Act)
        {
            case "Relu": for (int i = 0; i < v.Length; i++) v[i] = Math.Max(0, v[i]); break;
            case "LeakyRelu": for (int i = 0; i < v.Length; i++) v[i] = v[i] > 0 ? v[i] : l.Alpha * v[i]; break;
            case "Sigmoid": for (int i = 0; i < v.Length; i++) v[i] = 1 / (1 + Math.Exp(-v[i])); break;
            case "Tanh": for (int i = 0; i < v.Length; i++) v[i] = Math.Tanh(v[i]); break;
            case "Softmax":
                double m = double.NegativeInfinity, s = 0;
                foreach (var t in v) m = Math.Max(m, t);
                for (int i = 0; i < v.Length; i++) { v[i] = Math.Exp(v[i] - m); s += v[i]; }
                for (int i = 0; i < v.Length; i++) v[i] /= s;
                break;
            case "Identity": break;
            default: throw new NotSupportedException("reference has no activation " + l.Act);
        }
    }

    /// <summary>Data loss (straight from the textbook definitions, in double) plus λ·Σ W².</summary>
    public double Loss(double[] p, float[] x, int batch, int[]? labels, float[]? targets) =>
        Loss(p, x.Select(v => (double)v).ToArray(), batch, labels, targets);

    public double Loss(double[] p, double[] x, int batch, int[]? labels, float[]? targets)
    {
        var y = Forward(p, x, batch);
        int n = _layers[^1].Out;
        double total = 0;
        if (_loss == LossKind.SoftmaxCrossEntropy && _layers[^1].OutShape.Length == 2)
        {
            // One label per step (sample-major [batch, T]), −100 skipped: the mean over the labelled steps.
            int steps = _layers[^1].OutShape[0], classes = _layers[^1].OutShape[1], counted = 0;
            for (int r = 0; r < batch * steps; r++)
            {
                if (labels![r] == -100) continue;
                counted++;
                double m = double.NegativeInfinity, s = 0;
                for (int c = 0; c < classes; c++) m = Math.Max(m, y[r * classes + c]);
                for (int c = 0; c < classes; c++) s += Math.Exp(y[r * classes + c] - m);
                total += m + Math.Log(s) - y[r * classes + labels[r]];
            }
            return (counted == 0 ? 0 : total / counted) + Penalty(p);
        }
        for (int b = 0; b < batch; b++)
        {
            switch (_loss)
            {
                case LossKind.SoftmaxCrossEntropy:
                {
                    double m = double.NegativeInfinity, s = 0;
                    for (int c = 0; c < n; c++) m = Math.Max(m, y[b * n + c]);
                    for (int c = 0; c < n; c++) s += Math.Exp(y[b * n + c] - m);
                    total += m + Math.Log(s) - y[b * n + labels![b]];
                    break;
                }
                case LossKind.MultiClassHinge:
                    for (int j = 0; j < n; j++)
                        if (j != labels![b]) total += Math.Max(0, y[b * n + j] - y[b * n + labels[b]] + 1);
                    break;
                default:
                    for (int o = 0; o < n; o++) total += Elementwise(y[b * n + o], targets![b * n + o]);
                    break;
            }
        }
        double data = _loss is LossKind.SoftmaxCrossEntropy or LossKind.MultiClassHinge ? total / batch : total / (batch * n);
        return data + Penalty(p);
    }

    private double Penalty(double[] p)
    {
        double penalty = 0;
        foreach (var l in _layers.Where(l => l.Dense && l.L2 > 0))
            for (int i = 0; i < WeightCount(l); i++) penalty += l.L2 * p[l.W + i] * p[l.W + i];
        return penalty;
    }

    private double Elementwise(double y, double t)
    {
        double d = y - t;
        switch (_loss)
        {
            case LossKind.Mse: return d * d;
            case LossKind.Mae: return Math.Abs(d);
            case LossKind.Huber: return Math.Abs(d) <= _param ? 0.5 * d * d : _param * (Math.Abs(d) - 0.5 * _param);
            case LossKind.Quantile: return t >= y ? _param * (t - y) : (1 - _param) * (y - t);
            case LossKind.BinaryCrossEntropy:
            {
                double s = 1 / (1 + Math.Exp(-y));
                return -(t * Math.Log(s) + (1 - t) * Math.Log(1 - s));
            }
            case LossKind.Hinge: return Math.Max(0, 1 - t * y);
            default: throw new NotSupportedException(_loss.ToString());
        }
    }

    private static IEnumerable<int> ParameterIndices(L l)
    {
        if (l.Op == "Embedding") return Enumerable.Range(l.W, l.Vocabulary * l.OutShape[1]);
        if (l.Gates > 0)
        {
            int g = l.Gates * l.Hidden;
            var own = Enumerable.Range(l.W, g * l.InShape[1]).Concat(Enumerable.Range(l.Whh, g * l.Hidden))
                .Concat(Enumerable.Range(l.B, g)).Concat(Enumerable.Range(l.Bhh, g));
            return !l.Bidirectional ? own : own.Concat(Enumerable.Range(l.WR, g * l.InShape[1])).Concat(Enumerable.Range(l.WhhR, g * l.Hidden))
                .Concat(Enumerable.Range(l.BR, g)).Concat(Enumerable.Range(l.BhhR, g));
        }
        return Enumerable.Range(l.W, WeightCount(l)).Concat(l.B < 0 ? Enumerable.Empty<int>() : Enumerable.Range(l.B, BiasCount(l)));
    }

    private static int WeightCount(L l) => l.Op switch { "Embedding" => l.Vocabulary * l.OutShape[1], "PositionEmbedding" => l.In, "LayerNorm" => l.InShape[^1], "Conv2D" => l.OutShape[0] * l.InShape[0] * l.KH * l.KW, "BatchNorm2D" => l.InShape[0],
        _ when l.InShape.Length == 2 => l.In / l.InShape[0] * (l.Out / l.InShape[0]), _ => l.In * l.Out };
    private static int BiasCount(L l) => l.Op is "Conv2D" or "BatchNorm2D" ? l.OutShape[0] : l.Op == "LayerNorm" ? l.InShape[^1] : l.OutShape.Length == 2 ? l.OutShape[1] : l.Out;

    /// <summary>Central differences <c>(L(θ+h) − L(θ−h)) / 2h</c> in double for every parameter.</summary>
    public double[] NumericGradient(double[] p, float[] x, int batch, int[]? labels, float[]? targets, double h = 1e-6)
    {
        var g = new double[p.Length];
        var q = (double[])p.Clone();
        foreach (var l in _layers.Where(l => l.Dense || l.Gates > 0))
            foreach (int i in ParameterIndices(l))
            {
                q[i] = p[i] + h; double up = Loss(q, x, batch, labels, targets);
                q[i] = p[i] - h; double down = Loss(q, x, batch, labels, targets);
                q[i] = p[i];
                g[i] = (up - down) / (2 * h);
            }
        return g;
    }

    /// <summary>Central differences of the loss with respect to the input values at <paramref name="indices"/>, in double.</summary>
    public double[] NumericInputGradient(double[] p, float[] x, int batch, int[]? labels, float[]? targets, IEnumerable<int> indices, double h = 1e-6)
    {
        var q = x.Select(v => (double)v).ToArray();
        var g = new double[q.Length];
        foreach (int i in indices)
        {
            double keep = q[i];
            q[i] = keep + h; double up = Loss(p, q, batch, labels, targets);
            q[i] = keep - h; double down = Loss(p, q, batch, labels, targets);
            q[i] = keep;
            g[i] = (up - down) / (2 * h);
        }
        return g;
    }
}
