using System.Collections.Generic;
using ModelGen.Generator.Analysis;
using ModelGen.Generator.Emit;
using ModelGen.Generator.Emit.CSharp;
using ModelGen.Generator.Emit.Ptx;
using ModelGen.Generator.Model;

namespace ModelGen.Generator.Layers;

internal sealed record GeluOptions(bool Tanh) : LayerOptions;

/// <summary>GELU, <c>y = x·Φ(x)</c>, exact or in GPT-2's tanh form (PyTorch's <c>approximate</c>); element-wise, no
/// parameters, any input shape. Runtime kernel: <c>Runtime/Kernels/Gelu.cs</c>.</summary>
internal sealed class Gelu : LayerKind, ICSharpLayer, ICSharpDecodeStep, IPtxLayer
{
    public static readonly Gelu Instance = new();
    public override string Name => "Gelu";

    public override LayerOptions? Read(AttributeArgs a, LayerDiagnostics d)
    {
        string approximate = a.String(0) ?? "none";
        if (approximate is "none" or "tanh") return new GeluOptions(approximate == "tanh");
        d.Invalid($"Gelu approximate must be \"none\" or \"tanh\" (PyTorch's names), got \"{approximate}\"");
        return null;
    }

    public override LayerShape? Infer(LayerSpec s, IReadOnlyList<Shape> inputs, LayerDiagnostics d) =>
        new(inputs[0], EquatableArray<TensorSpec>.Empty, 8L * inputs[0].Size, s.Options);

    private static bool Tanh(LayerPlan l) => ((GeluOptions)l.Options).Tanh;

    public override string Describe(LayerPlan l) => Tanh(l) ? "Gelu(tanh)" : "Gelu";

    public override IEnumerable<(string Key, double Value)> Hyperparameters(LayerPlan l) { yield return ("tanh", Tanh(l) ? 1 : 0); }

    public override IEnumerable<string> Math(LayerPlan l, NetworkPlan p)
    {
        if (Tanh(l))
        {
            yield return "forward : y = ½x(1 + tanh u),  u = √(2/π)(x + 0.044715x³)".PadRight(64) + $"x,y:{l.OutShape} per sample";
            yield return "backward: dx = dy ⊙ (½(1 + tanh u) + ½x(1 − tanh²u)·√(2/π)(1 + 0.134145x²))   (reads x)";
        }
        else
        {
            yield return "forward : y = x·Φ(x) = ½x(1 + erf(x/√2))".PadRight(64) + $"x,y:{l.OutShape} per sample";
            yield return "backward: dx = dy ⊙ (Φ(x) + x·φ(x)),  φ(x) = e^(−x²/2)/√(2π)   (reads x)";
        }
    }

    public void Forward(CodeWriter cw, CSharpLayer c, Width w)
    {
        using (c.ForwardMethod(cw, w))
            cw.Line($"MG.Gelu.Forward(tanh: {(Tanh(c.Layer) ? "true" : "false")}, ws.Span({c.Input}, {c.Extent(false)}), ws.Span({c.Output}, {c.Extent(true)}), {w.Enum});");
    }

    public bool CanStep(LayerPlan l) => l.OutShape.IsSequence;

    public void Step(CodeWriter cw, CSharpLayer c) =>
        cw.Line($"MG.Decode.Gelu({(Tanh(c.Layer) ? "true" : "false")}, ref ws.Ref({c.Input}), {c.Layer.OutShape[1]}, {c.Layer.OutShape[0]}, t, ref ws.Ref({c.Output}));");

    public void Backward(CodeWriter cw, CSharpLayer c, Width w)
    {
        using (c.BackwardMethod(cw, w))
        {
            if (c.InputGrad is null) { cw.Line("// reads the network input: no gradient flows further down"); return; }
            using var guard = c.InputGradGuard(cw);
            cw.Line($"MG.Gelu.Backward(tanh: {(Tanh(c.Layer) ? "true" : "false")}, ws.Span({c.OutputGrad}, {c.Extent(true)}), ws.Span({c.Input}, {c.Extent(false)}), ws.Span({c.InputGrad}, {c.Extent(false)}), {w.Enum});");
        }
    }

    // ── PTX: element-wise, the C# path's formulas (erf by Abramowitz–Stegun 7.1.26, tanh through e^{−2|u|}) ────────

    private const float InvSqrt2 = 0.70710678118654752f, InvSqrt2Pi = 0.39894228040143268f, Sqrt2OverPi = 0.79788456080286536f, C = 0.044715f;

    /// <summary>tanh(u) = sign(u)·(1 − e)/(1 + e), e = e^{−2|u|}.</summary>
    private static string TanhOf(PtxKernel k, string u)
    {
        string a = k.F(), m = k.F(), num = k.F(), den = k.F(), t = k.F(), neg = k.P();
        k.Op($"abs.f32 {a}, {u}");
        k.Op($"mul.f32 {m}, {a}, {PtxText.F(-2f)}");
        string e = k.Exp(m);
        k.Op($"sub.f32 {num}, {PtxMath.One}, {e}");
        k.Op($"add.f32 {den}, {PtxMath.One}, {e}");
        k.Op($"div.rn.f32 {t}, {num}, {den}");
        k.Op($"setp.lt.f32 {neg}, {u}, {PtxMath.Zero}");
        k.Op(neg, $"neg.f32 {t}, {t}");
        return t;
    }

    /// <summary>Φ(x) (exact: ½(1 + erf(x/√2)); tanh form: ½(1 + tanh u)), and tanh u for the tanh form's slope.</summary>
    private static (string Cdf, string? T) Cdf(PtxKernel k, bool tanh, string x)
    {
        string cdf = k.F();
        if (tanh)
        {
            string x3 = k.F(), u = k.F();
            k.Op($"mul.f32 {x3}, {x}, {x}");
            k.Op($"mul.f32 {x3}, {x3}, {x}");
            k.Op($"fma.rn.f32 {u}, {x3}, {PtxText.F(C)}, {x}");
            k.Op($"mul.f32 {u}, {u}, {PtxText.F(Sqrt2OverPi)}");
            string t = TanhOf(k, u);
            k.Op($"add.f32 {cdf}, {t}, {PtxMath.One}");
            k.Op($"mul.f32 {cdf}, {cdf}, {PtxText.F(0.5f)}");
            return (cdf, t);
        }
        // erf(z) = sign(z)(1 − poly(t)·e^{−z²}), t = 1/(1 + P|z|), z = x/√2
        string z = k.F(), a = k.F(), d = k.F(), tt = k.F(), poly = k.F(), z2 = k.F(), erf = k.F(), neg = k.P();
        k.Op($"mul.f32 {z}, {x}, {PtxText.F(InvSqrt2)}");
        k.Op($"abs.f32 {a}, {z}");
        k.Op($"fma.rn.f32 {d}, {a}, {PtxText.F(0.3275911f)}, {PtxMath.One}");
        k.Op($"rcp.rn.f32 {tt}, {d}");
        k.Op($"fma.rn.f32 {poly}, {PtxText.F(1.061405429f)}, {tt}, {PtxText.F(-1.453152027f)}");
        k.Op($"fma.rn.f32 {poly}, {poly}, {tt}, {PtxText.F(1.421413741f)}");
        k.Op($"fma.rn.f32 {poly}, {poly}, {tt}, {PtxText.F(-0.284496736f)}");
        k.Op($"fma.rn.f32 {poly}, {poly}, {tt}, {PtxText.F(0.254829592f)}");
        k.Op($"mul.f32 {poly}, {poly}, {tt}");
        k.Op($"mul.f32 {z2}, {a}, {a}");
        k.Op($"neg.f32 {z2}, {z2}");
        string e = k.Exp(z2);
        k.Op($"mul.f32 {erf}, {poly}, {e}");
        k.Op($"sub.f32 {erf}, {PtxMath.One}, {erf}");
        k.Op($"setp.lt.f32 {neg}, {z}, {PtxMath.Zero}");
        k.Op(neg, $"neg.f32 {erf}, {erf}");
        k.Op($"add.f32 {cdf}, {erf}, {PtxMath.One}");
        k.Op($"mul.f32 {cdf}, {cdf}, {PtxText.F(0.5f)}");
        return (cdf, null);
    }

    public void Forward(PtxLayer c)
    {
        var l = c.Layer;
        var k = PtxMath.PerElement(c.Name("Forward"), $"{l.Out} * n", new[] { "pX", "pY" }, new[] { c.Input, c.Output }, (k, a, i) =>
        {
            string x = k.LoadGlobal(k.Element(a[0], i)), y = k.F();
            var (cdf, _) = Cdf(k, Tanh(l), x);
            k.Op($"mul.f32 {y}, {x}, {cdf}");
            k.StoreGlobal(k.Element(a[1], i), y);
        });
        k.Banner.Add((Tanh(l) ? "y = ½x(1 + tanh(√(2/π)(x + 0.044715x³)))" : "y = ½x(1 + erf(x/√2))") + " element-wise");
        c.ForwardKernels.Add(k);
    }

    public void Backward(PtxLayer c)
    {
        var l = c.Layer;
        if (c.InputGrad is null) return;
        bool tanh = Tanh(l);
        var k = PtxMath.PerElement(c.Name("Backward"), $"{l.Out} * n", new[] { "pX", "pDY", "pDX" }, new[] { c.Input, c.OutputGrad, c.InputGrad }, (k, a, i) =>
        {
            string x = k.LoadGlobal(k.Element(a[0], i)), slope = k.F();
            var (cdf, t) = Cdf(k, tanh, x);
            if (!tanh)
            {
                // Φ(x) + x·φ(x), φ(x) = e^{−x²/2}/√(2π)
                string h = k.F(), p = k.F();
                k.Op($"mul.f32 {h}, {x}, {x}");
                k.Op($"mul.f32 {h}, {h}, {PtxText.F(-0.5f)}");
                k.Op($"mul.f32 {p}, {k.Exp(h)}, {PtxText.F(InvSqrt2Pi)}");
                k.Op($"fma.rn.f32 {slope}, {x}, {p}, {cdf}");
            }
            else
            {
                // ½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 3·0.044715x²)
                string one = k.F(), q = k.F(), x2 = k.F();
                string nt = NegOf(k, t!);
                k.Op($"fma.rn.f32 {one}, {t}, {nt}, {PtxMath.One}");
                k.Op($"mul.f32 {x2}, {x}, {x}");
                k.Op($"fma.rn.f32 {q}, {x2}, {PtxText.F(3f * C)}, {PtxMath.One}");
                k.Op($"mul.f32 {q}, {q}, {PtxText.F(Sqrt2OverPi)}");
                k.Op($"mul.f32 {q}, {q}, {one}");
                k.Op($"mul.f32 {q}, {q}, {x}");
                k.Op($"mul.f32 {q}, {q}, {PtxText.F(0.5f)}");
                k.Op($"add.f32 {slope}, {cdf}, {q}");
            }
            string dxa = k.Element(a[2], i), r = k.F();
            k.Op($"fma.rn.f32 {r}, {k.LoadGlobal(k.Element(a[1], i))}, {slope}, {k.LoadGlobal(dxa)}");
            k.StoreGlobal(dxa, r);
        });
        k.Banner.Add("dx += dy ⊙ gelu'(x) element-wise (reads x)");
        k.OnlyForInputGradient = c.ReadsNetworkInput();
        c.BackwardKernels.Add(k);
    }

    private static string NegOf(PtxKernel k, string v)
    {
        string m = k.F();
        k.Op($"neg.f32 {m}, {v}");
        return m;
    }
}
