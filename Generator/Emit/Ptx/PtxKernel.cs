using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace ModelGen.Generator.Emit.Ptx;

/// <summary>
/// One PTX kernel being written: its banner (math, grid, block, shared memory), parameters, virtual registers by
/// class (<c>%r</c> 32-bit integers, <c>%rd</c> 64-bit addresses, <c>%f</c> floats, <c>%p</c> predicates), an optional
/// shared array and the instruction list. ptxas does register allocation; the writer only numbers them.
/// Instructions come from a small fixed vocabulary (what <see cref="PtxGemm"/> and the layer kinds use), which is also
/// exactly what the tests' PTX interpreter implements.
/// </summary>
internal sealed class PtxKernel
{
    private readonly List<string> _params = new();
    private readonly List<string> _body = new();
    private int _r, _rd, _f, _p, _labels;

    public PtxKernel(string name, KernelLaunch launch)
    {
        Name = name;
        Launch = launch;
    }

    /// <summary>The entry name (<c>Hidden1_Forward</c>): unique in the network's module.</summary>
    public string Name { get; }
    /// <summary>How the host launches it: grid and block shape, shared bytes, the arguments in order.</summary>
    public KernelLaunch Launch { get; }
    /// <summary>Banner lines: the math, the shapes, the grid/block shape and shared memory.</summary>
    public List<string> Banner { get; } = new();
    /// <summary>Bytes of the kernel's one shared array (<c>smem</c>), 0 for none.</summary>
    public int SharedBytes { get; private set; }
    /// <summary>C# statements the host runs before the launch (e.g. drawing and uploading a dropout mask).</summary>
    public List<string> HostBefore { get; } = new();
    /// <summary>A C# condition over <c>training</c> under which the forward launches it (batch statistics or running ones), or null.</summary>
    public string? Condition { get; set; }
    /// <summary>The kernel only computes d loss / d network input: the host launches it only when that was asked for.</summary>
    public bool OnlyForInputGradient { get; set; }
    /// <summary>The host launches it once per step of a loop (a recurrence): consecutive kernels with the same loop run
    /// in one <c>for (int k = 0; k &lt; Count; k++)</c>, each launch's arguments may use <c>k</c>; null: launched once.</summary>
    public HostLoop? Loop { get; set; }

    /// <summary>Declares the next parameter (a pointer <c>.u64</c>, a count <c>.u32</c> or a scalar <c>.f32</c>) and returns its name.</summary>
    public string Param(string type, string name)
    {
        _params.Add($".param .{type} {name}");
        return name;
    }

    public string R() => "%r" + _r++;
    public string Rd() => "%rd" + _rd++;
    public string F() => "%f" + _f++;
    public string P() => "%p" + _p++;
    public string NewLabel(string hint) => $"L_{hint}_{_labels++}";

    /// <summary>Declares the kernel's shared array <c>smem</c> of <paramref name="bytes"/> and returns a register with its address.</summary>
    public string Shared(int bytes)
    {
        if (SharedBytes != 0) throw new InvalidOperationException("one shared array per kernel");
        SharedBytes = bytes;
        string r = R();
        Op($"mov.u32 {r}, smem");
        return r;
    }

    /// <summary>One instruction, without the semicolon.</summary>
    public void Op(string instruction) => _body.Add("\t" + instruction + ";");

    /// <summary>An instruction under predicate <paramref name="pred"/> (<c>!%p1</c> for its negation).</summary>
    public void Op(string pred, string instruction) => _body.Add("\t@" + pred + " " + instruction + ";");

    public void Label(string label) => _body.Add(label + ":");
    public void Comment(string text) => _body.Add("\t// " + text);

    // ── common sequences ───────────────────────────────────────────────────────────────────────────────────────

    /// <summary>A pointer parameter loaded and converted to a global address.</summary>
    public string GlobalPointer(string param)
    {
        string a = Rd(), g = Rd();
        Op($"ld.param.u64 {a}, [{param}]");
        Op($"cvta.to.global.u64 {g}, {a}");
        return g;
    }

    public string LoadU32(string param)
    {
        string r = R();
        Op($"ld.param.u32 {r}, [{param}]");
        return r;
    }

    public string LoadF32(string param)
    {
        string f = F();
        Op($"ld.param.f32 {f}, [{param}]");
        return f;
    }

    /// <summary><c>ctaid.x · ntid.x + tid.x</c>: the thread's index in a 1-D grid.</summary>
    public string GlobalThreadIndex()
    {
        string b = R(), n = R(), t = R(), i = R();
        Op($"mov.u32 {b}, %ctaid.x");
        Op($"mov.u32 {n}, %ntid.x");
        Op($"mov.u32 {t}, %tid.x");
        Op($"mad.lo.s32 {i}, {b}, {n}, {t}");
        return i;
    }

    /// <summary>The address of float <paramref name="index"/> (a 32-bit register or immediate) of array <paramref name="baseAddress"/>.</summary>
    public string Element(string baseAddress, string index)
    {
        string off = Rd(), a = Rd();
        Op($"mul.wide.u32 {off}, {index}, 4");
        Op($"add.s64 {a}, {baseAddress}, {off}");
        return a;
    }

    public string LoadGlobal(string address, int offsetBytes = 0)
    {
        string f = F();
        Op($"ld.global.f32 {f}, [{address}{Offset(offsetBytes)}]");
        return f;
    }

    public void StoreGlobal(string address, string value, int offsetBytes = 0) => Op($"st.global.f32 [{address}{Offset(offsetBytes)}], {value}");

    public static string Offset(int bytes) => bytes == 0 ? "" : "+" + bytes.ToString(CultureInfo.InvariantCulture);

    /// <summary><c>e^x</c> as <c>2^(x·log2 e)</c> (<c>ex2.approx</c>: relative error ≤ 2⁻²² on the hardware).</summary>
    public string Exp(string x)
    {
        string t = F(), e = F();
        Op($"mul.f32 {t}, {x}, {PtxText.F(1.44269504f)}");
        Op($"ex2.approx.ftz.f32 {e}, {t}");
        return e;
    }

    /// <summary><c>ln x</c> as <c>log2(x)·ln 2</c>.</summary>
    public string Log(string x)
    {
        string t = F(), l = F();
        Op($"lg2.approx.ftz.f32 {t}, {x}");
        Op($"mul.f32 {l}, {t}, {PtxText.F(0.693147182f)}");
        return l;
    }

    /// <summary>A loop <c>for (i = 0; i &lt; count; i++) body(i)</c> (<paramref name="count"/> a register or immediate; none when 0).</summary>
    public void For(string count, Action<string> body)
    {
        string i = R(), empty = P(), more = P(), top = NewLabel("loop"), end = NewLabel("end");
        Op($"mov.u32 {i}, 0");
        Op($"setp.eq.u32 {empty}, {count}, 0");
        Op(empty, $"bra {end}");
        Label(top);
        body(i);
        Op($"add.s32 {i}, {i}, 1");
        Op($"setp.lt.u32 {more}, {i}, {count}");
        Op(more, $"bra {top}");
        Label(end);
    }

    /// <summary>The kernel's text: banner, entry, declarations, body.</summary>
    public string Text()
    {
        var sb = new StringBuilder();
        sb.Append("// ── ").Append(Name).Append(' ').Append('─', Math.Max(3, 100 - Name.Length)).Append('\n');
        foreach (var b in Banner) sb.Append("// ").Append(b).Append('\n');
        sb.Append("// launch: ").Append(Launch.Describe()).Append(SharedBytes > 0 ? $", shared {SharedBytes} B" : "").Append('\n');
        sb.Append(".visible .entry ").Append(Name).Append("(\n");
        for (int i = 0; i < _params.Count; i++) sb.Append('\t').Append(_params[i]).Append(i + 1 < _params.Count ? ",\n" : "\n");
        sb.Append(")\n{\n");
        if (_p > 0) sb.Append("\t.reg .pred %p<").Append(_p).Append(">;\n");
        if (_r > 0) sb.Append("\t.reg .b32 %r<").Append(_r).Append(">;\n");
        if (_rd > 0) sb.Append("\t.reg .b64 %rd<").Append(_rd).Append(">;\n");
        if (_f > 0) sb.Append("\t.reg .f32 %f<").Append(_f).Append(">;\n");
        if (SharedBytes > 0) sb.Append("\t.shared .align 16 .b8 smem[").Append(SharedBytes).Append("];\n");
        foreach (var line in _body) sb.Append(line).Append('\n');
        sb.Append("\tret;\n}\n");
        return sb.ToString();
    }
}

/// <summary>Exact text for PTX operands.</summary>
internal static class PtxText
{
    /// <summary>A float immediate as its exact bit pattern (<c>0f3F800000</c> = 1): no decimal rounding, no culture.</summary>
    public static string F(float f) => "0f" + BitConverter.ToInt32(BitConverter.GetBytes(f), 0).ToString("X8", CultureInfo.InvariantCulture);

    public static string I(long n) => n.ToString(CultureInfo.InvariantCulture);
}

/// <summary>A kernel argument: a device buffer (its field in the generated twin), the batch, or a scalar expression.</summary>
internal readonly record struct KernelArg(KernelArgKind Kind, string Expression)
{
    /// <summary>A pointer into the device arena: float offset <paramref name="offset"/> (a C# expression).</summary>
    public static KernelArg Buffer(string offset) => new(KernelArgKind.Pointer, offset);
    /// <summary>A 32-bit unsigned count (a C# expression over <c>n</c>, the batch).</summary>
    public static KernelArg Count(string expression) => new(KernelArgKind.U32, expression);
    /// <summary>A float (a C# expression).</summary>
    public static KernelArg Float(string expression) => new(KernelArgKind.F32, expression);
}

internal enum KernelArgKind { Pointer, U32, F32 }

/// <summary>How the host launches a kernel: grid x/y as C# expressions over the batch <c>n</c>, threads per block,
/// and the arguments in the order of the kernel's parameters.</summary>
internal sealed class KernelLaunch
{
    public KernelLaunch(string gridX, string gridY, int block) { GridX = gridX; GridY = gridY; Block = block; }

    public string GridX { get; }
    public string GridY { get; }
    /// <summary>Grid z (one GEMM per sample: <c>n</c>), 1 by default.</summary>
    public string GridZ { get; init; } = "1";
    public int Block { get; }
    public List<KernelArg> Args { get; } = new();

    /// <summary>A grid of enough <paramref name="block"/>-thread blocks to give each of <paramref name="count"/> items one thread.</summary>
    public static KernelLaunch PerItem(string count, int block = 256) => new($"global::ModelGen.Cuda.CudaModel.Blocks({count}, {block})", "1", block);

    public string Describe() => $"grid ({GridX}, {GridY}{(GridZ == "1" ? "" : ", " + GridZ)}), block {Block}";
}

/// <summary>A host-side loop over the steps of a recurrence (see <see cref="PtxKernel.Loop"/>): its launches go into one
/// method of the twin, <c>{Method}(n, k)</c>, called for k = 0…Count−1.</summary>
internal sealed record HostLoop(string Method, int Count, string Comment);
