using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using ModelGen.Cuda;

namespace ModelGen.Tests.Harness;

/// <summary>
/// An interpreter of the PTX subset ModelGen emits, as an <see cref="ICudaBackend"/>: global memory with every access
/// checked against the live allocations, per-block shared memory, and the threads of a block run one after another
/// up to each <c>bar.sync</c>. Shared memory is race-checked: a word written by one thread and read or written by
/// another in the same barrier interval (or read by one and then written by another) is an error, so a missing barrier
/// fails here even though sequential threads would often hide it. A thread that exits while others wait at a barrier is
/// an error too. Every error names the kernel, the block, the thread and the instruction.
/// Floating point follows PTX: <c>fma.rn</c> fused, <c>max/min</c> ignore a NaN operand, <c>ex2/lg2.approx.ftz</c> as the
/// exact function (the hardware's is within 2 ulp) with subnormals flushed.
/// </summary>
public sealed class PtxInterpreter : ICudaBackend
{
    private const ulong Origin = 0x1000_0000;
    private byte[] _memory = new byte[1 << 20];
    private ulong _top = Origin;
    private readonly SortedDictionary<ulong, long> _live = new();
    private readonly List<Dictionary<string, Entry>> _modules = new();
    private readonly List<Entry> _kernels = new();

    public string Description => "PTX interpreter (tests)";
    /// <summary>Instructions executed so far, over all threads.</summary>
    public long Instructions { get; private set; }
    /// <summary>Kernels launched so far, by name.</summary>
    public List<string> Launched { get; } = new();

    // ── graphs: the launches and memsets between BeginCapture and EndCapture, kept with their arguments' values ──

    private List<Action>? _capture;
    private readonly List<List<Action>?> _graphs = new();

    /// <summary>Graphs launched so far.</summary>
    public int GraphLaunches { get; private set; }

    private void NotCapturing(string what)
    {
        // The driver's rule (CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED): a synchronous copy, allocation or synchronisation
        // cannot be part of a graph, and a graph replays none of the host's work.
        if (_capture is not null) throw new InvalidOperationException($"{what} while recording a graph: only launches and memsets can be recorded");
    }

    public void BeginCapture()
    {
        if (_capture is not null) throw new InvalidOperationException("a graph is being recorded already");
        _capture = new List<Action>();
    }

    public nint EndCapture()
    {
        if (_capture is null) throw new InvalidOperationException("EndCapture without BeginCapture");
        _graphs.Add(_capture);
        _capture = null;
        return _graphs.Count;
    }

    public void LaunchGraph(nint graph)
    {
        NotCapturing("a graph launch");
        var work = _graphs[(int)graph - 1] ?? throw new InvalidOperationException($"graph {graph} was destroyed");
        GraphLaunches++;
        foreach (var step in work) step();
    }

    public void DestroyGraph(nint graph)
    {
        if (_graphs[(int)graph - 1] is null) throw new InvalidOperationException($"graph {graph} destroyed twice");
        _graphs[(int)graph - 1] = null;
    }

    public ulong Allocate(long bytes)
    {
        NotCapturing("an allocation");
        ulong a = _top;
        long size = Math.Max(bytes, 4);
        _top += (ulong)((size + 255) & ~255L);
        long need = (long)(_top - Origin);
        if (need > _memory.Length) Array.Resize(ref _memory, (int)Math.Max(need, 2L * _memory.Length));
        Array.Clear(_memory, (int)(a - Origin), (int)size);
        _live[a] = size;
        return a;
    }

    public void Free(ulong address)
    {
        NotCapturing("a free");
        if (!_live.Remove(address)) throw new InvalidOperationException($"free of 0x{address:X}, which is not an allocation");
        _hitStart = _hitEnd = 0;
    }

    private ulong _hitStart, _hitEnd;   // the allocation the last access fell in: most accesses hit it again

    private int Check(ulong address, long bytes, string what)
    {
        if (address >= _hitStart && address + (ulong)bytes <= _hitEnd) return (int)(address - Origin);
        foreach (var (start, size) in _live)
            if (address >= start && address + (ulong)bytes <= start + (ulong)size)
            {
                _hitStart = start; _hitEnd = start + (ulong)size;
                return (int)(address - Origin);
            }
        throw new InvalidOperationException($"{what}: 0x{address:X} (+{bytes} bytes) is outside every live allocation");
    }

    private int CheckAccess(ulong a, Instr i, Entry k, int t, uint bx, uint by, uint bz)
    {
        if (a >= _hitStart && a + 4 <= _hitEnd) return (int)(a - Origin);
        return Check(a, 4, $"{k.Name}, block ({bx},{by},{bz}), thread {t}, line {i.Line}: {i.Text}");
    }

    public void Upload(ReadOnlySpan<byte> source, ulong destination)
    {
        NotCapturing("an upload");
        source.CopyTo(_memory.AsSpan(Check(destination, source.Length, "upload"), source.Length));
    }

    public void Download(ulong source, Span<byte> destination)
    {
        NotCapturing("a download");
        _memory.AsSpan(Check(source, destination.Length, "download"), destination.Length).CopyTo(destination);
    }

    public void Zero(ulong address, long bytes)
    {
        if (_capture is not null) { _capture.Add(() => Zero(address, bytes)); return; }
        _memory.AsSpan(Check(address, bytes, "zero"), (int)bytes).Clear();
    }

    public nint LoadModule(ReadOnlySpan<byte> ptx)
    {
        var text = Encoding.UTF8.GetString(ptx);
        _modules.Add(Parse(text).ToDictionary(k => k.Name));
        return _modules.Count;
    }

    public nint Kernel(nint module, string name)
    {
        if (!_modules[(int)module - 1].TryGetValue(name, out var k)) throw new InvalidOperationException($"the module has no kernel '{name}'");
        _kernels.Add(k);
        return _kernels.Count;
    }

    public void UnloadModule(nint module) { }
    public void Synchronize() => NotCapturing("a synchronisation");
    public void Dispose() { }

    // ── parsing ──────────────────────────────────────────────────────────────────────────────────────────────────

    private enum Op
    {
        LdParam, Cvta, Mov, MadLo, MulLo, Add, Sub, And, Or, Shr, Shl, Setp, AndPred, Selp, MulWide, LdGlobal, StGlobal, LdShared, StShared,
        Bar, Div, Rem, Fma, FAdd, FSub, FMul, FDiv, FMax, FMin, FNeg, FAbs, Rcp, Sqrt, Ex2, Lg2, Bra, Ret, CvtF32U32, CvtS32F32,
    }

    private enum Kind { Reg, Imm, Special, Param, Symbol }

    private struct Operand
    {
        public Kind Kind;
        public int Reg;       // register index, special id, param index
        public ulong Imm;
        public int Offset;    // memory operands: + bytes
    }

    private sealed class Instr
    {
        public Op Op;
        public string Type = "";   // u32, s32, f32, u64, s64, pred…
        public string Cmp = "";    // setp's comparison
        public int Pred = -1;
        public bool Negate;
        public Operand[] A = Array.Empty<Operand>();
        public int Target;         // bra
        public string Text = "";
        public int Line;
    }

    private sealed class Entry
    {
        public string Name = "";
        public List<(string Name, string Type)> Params = new();
        public int Shared;
        public List<Instr> Code = new();
        public int Registers;
    }

    private static IEnumerable<Entry> Parse(string text)
    {
        var lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string line = Strip(lines[i]);
            if (!line.StartsWith(".visible .entry ", StringComparison.Ordinal)) continue;
            var k = new Entry { Name = line.Substring(16).TrimEnd('(').Trim() };
            for (i++; Strip(lines[i]) != ")"; i++)
            {
                var parts = Strip(lines[i]).TrimEnd(',').Split(' ', StringSplitOptions.RemoveEmptyEntries);   // .param .u64 pA
                k.Params.Add((parts[2], parts[1].TrimStart('.')));
            }
            var regs = new Dictionary<string, int>();
            var labels = new Dictionary<string, int>();
            var pending = new List<(Instr I, string Label)>();
            for (i += 2; Strip(lines[i]) != "}"; i++)
            {
                string s = Strip(lines[i]);
                if (s.Length == 0 || s.StartsWith(".reg", StringComparison.Ordinal)) continue;
                if (s.StartsWith(".shared", StringComparison.Ordinal)) { k.Shared = int.Parse(s[(s.IndexOf('[') + 1)..s.IndexOf(']')], CultureInfo.InvariantCulture); continue; }
                if (s.EndsWith(':')) { labels[s.TrimEnd(':')] = k.Code.Count; continue; }
                var ins = Decode(s.TrimEnd(';'), k, regs, out string? target);
                ins.Line = i + 1;
                if (target is not null) pending.Add((ins, target));
                k.Code.Add(ins);
            }
            foreach (var (ins, label) in pending)
                ins.Target = labels.TryGetValue(label, out int at) ? at : throw new FormatException($"{k.Name}: branch to unknown label {label}");
            k.Registers = regs.Count;
            yield return k;
        }
    }

    private static string Strip(string line)
    {
        int c = line.IndexOf("//", StringComparison.Ordinal);
        return (c >= 0 ? line[..c] : line).Trim();
    }

    private static Instr Decode(string s, Entry k, Dictionary<string, int> regs, out string? target)
    {
        target = null;
        var ins = new Instr { Text = s };
        if (s.StartsWith('@'))
        {
            int sp = s.IndexOf(' ');
            string p = s[1..sp];
            ins.Negate = p.StartsWith('!');
            ins.Pred = Reg(regs, p.TrimStart('!'));
            s = s[(sp + 1)..].Trim();
        }
        int space = s.IndexOf(' ');
        string opcode = space < 0 ? s : s[..space];
        var operands = space < 0 ? Array.Empty<string>() : s[(space + 1)..].Split(',').Select(x => x.Trim()).ToArray();
        var parts = opcode.Split('.');
        ins.Type = parts[^1];
        ins.Op = parts[0] switch
        {
            "ld" when parts[1] == "param" => Op.LdParam,
            "ld" when parts[1] == "global" => Op.LdGlobal,
            "ld" when parts[1] == "shared" => Op.LdShared,
            "st" when parts[1] == "global" => Op.StGlobal,
            "st" when parts[1] == "shared" => Op.StShared,
            "cvta" => Op.Cvta,
            "cvt" when opcode == "cvt.rn.f32.u32" => Op.CvtF32U32,
            "cvt" when opcode == "cvt.rzi.s32.f32" => Op.CvtS32F32,
            "mov" => Op.Mov,
            "mad" => Op.MadLo,
            "mul" when parts[1] == "lo" => Op.MulLo,
            "mul" when parts[1] == "wide" => Op.MulWide,
            "mul" when ins.Type == "f32" => Op.FMul,
            "add" when ins.Type == "f32" => Op.FAdd,
            "add" => Op.Add,
            "sub" when ins.Type == "f32" => Op.FSub,
            "sub" => Op.Sub,
            "and" when ins.Type == "pred" => Op.AndPred,
            "and" => Op.And,
            "or" => Op.Or,
            "shr" => Op.Shr,
            "shl" => Op.Shl,
            "setp" => Op.Setp,
            "selp" => Op.Selp,
            "bar" => Op.Bar,
            "fma" => Op.Fma,
            "div" when ins.Type == "f32" => Op.FDiv,
            "div" => Op.Div,
            "rem" => Op.Rem,
            "max" when ins.Type == "f32" => Op.FMax,
            "min" when ins.Type == "f32" => Op.FMin,
            "neg" when ins.Type == "f32" => Op.FNeg,
            "abs" when ins.Type == "f32" => Op.FAbs,
            "rcp" => Op.Rcp,
            "sqrt" => Op.Sqrt,
            "ex2" => Op.Ex2,
            "lg2" => Op.Lg2,
            "bra" => Op.Bra,
            "ret" => Op.Ret,
            _ => throw new FormatException($"{k.Name}: the interpreter does not know '{opcode}' (in '{s}')"),
        };
        if (ins.Op == Op.Setp) ins.Cmp = parts[1];
        if (ins.Op == Op.Bra) { target = operands[0]; return ins; }
        ins.A = operands.Select(o => ParseOperand(o, k, regs)).ToArray();
        return ins;
    }

    private static int Reg(Dictionary<string, int> regs, string name)
    {
        if (!regs.TryGetValue(name, out int r)) regs[name] = r = regs.Count;
        return r;
    }

    private static readonly string[] s_special = { "%tid.x", "%ctaid.x", "%ctaid.y", "%ntid.x", "%nctaid.x", "%nctaid.y", "%ctaid.z" };

    private static Operand ParseOperand(string o, Entry k, Dictionary<string, int> regs)
    {
        if (o.StartsWith('['))
        {
            string inner = o.Trim('[', ']');
            int plus = inner.IndexOf('+');
            int offset = plus < 0 ? 0 : int.Parse(inner[(plus + 1)..], CultureInfo.InvariantCulture);
            string b = plus < 0 ? inner : inner[..plus];
            int param = k.Params.FindIndex(p => p.Name == b);
            if (param >= 0) return new Operand { Kind = Kind.Param, Reg = param };
            return new Operand { Kind = Kind.Reg, Reg = Reg(regs, b), Offset = offset };
        }
        int special = Array.IndexOf(s_special, o);
        if (special >= 0) return new Operand { Kind = Kind.Special, Reg = special };
        if (o == "smem") return new Operand { Kind = Kind.Symbol };
        if (o.StartsWith('%')) return new Operand { Kind = Kind.Reg, Reg = Reg(regs, o) };
        if (o.StartsWith("0f", StringComparison.Ordinal)) return new Operand { Kind = Kind.Imm, Imm = uint.Parse(o[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture) };
        return new Operand { Kind = Kind.Imm, Imm = (ulong)long.Parse(o, CultureInfo.InvariantCulture) };
    }

    // ── execution ────────────────────────────────────────────────────────────────────────────────────────────────

    public void Launch(nint kernel, uint gridX, uint gridY, uint gridZ, uint block, uint sharedBytes, ReadOnlySpan<ulong> args)
    {
        if (_capture is not null)
        {
            var values = args.ToArray();   // the arguments as they are now, as the driver records them
            _capture.Add(() => Launch(kernel, gridX, gridY, gridZ, block, sharedBytes, values));
            return;
        }
        var k = _kernels[(int)kernel - 1];
        if (args.Length != k.Params.Count) throw new InvalidOperationException($"{k.Name}: launched with {args.Length} arguments, declares {k.Params.Count}");
        if (sharedBytes != k.Shared) throw new InvalidOperationException($"{k.Name}: launched with {sharedBytes} bytes of shared memory, declares {k.Shared}");
        if (block == 0 || block > 1024 || gridX == 0 || gridY == 0 || gridZ == 0) throw new InvalidOperationException($"{k.Name}: launch shape ({gridX}, {gridY}) × {block} is invalid");
        Launched.Add(k.Name);
        var param = args.ToArray();
        var shared = new byte[Math.Max(k.Shared, 4)];
        int words = shared.Length / 4;
        var writer = new int[words]; var writeEpoch = new int[words]; var reader = new int[words]; var readEpoch = new int[words];
        var regs = new ulong[block][];
        var pc = new int[block];
        var state = new byte[block];   // 0 running, 1 at a barrier, 2 done
        for (uint bz = 0; bz < gridZ; bz++)
        for (uint by = 0; by < gridY; by++)
            for (uint bx = 0; bx < gridX; bx++)
            {
                Array.Clear(shared);
                Array.Fill(writeEpoch, -1); Array.Fill(readEpoch, -1);
                for (int t = 0; t < block; t++) { regs[t] = new ulong[k.Registers]; Array.Fill(regs[t], Unwritten); pc[t] = 0; state[t] = 0; }
                int epoch = 0;
                while (true)
                {
                    for (int t = 0; t < block; t++)
                        if (state[t] == 0) Run(k, t, regs[t], ref pc[t], ref state[t], param, shared, writer, writeEpoch, reader, readEpoch, epoch, bx, by, bz, block, gridX, gridY);
                    int waiting = 0, done = 0;
                    for (int t = 0; t < block; t++) { if (state[t] == 1) waiting++; else if (state[t] == 2) done++; }
                    if (done == block) break;
                    if (done > 0)
                        throw new InvalidOperationException($"{k.Name}, block ({bx},{by}): {done} thread(s) exited while {waiting} wait at bar.sync (line {k.Code[pc[Array.IndexOf(state, (byte)1)] - 1].Line})");
                    for (int t = 0; t < block; t++) state[t] = 0;
                    epoch++;
                }
            }
    }

    /// <summary>Every register's value before its first write: no 32-bit result (stored zero-extended) and no address can
    /// equal it, so reading it is reading a register no instruction on the thread's path has written — an error
    /// (a value computed on one branch and used on another).</summary>
    private const ulong Unwritten = 0xBAD0_BAD0_BAD0_BAD0UL;

    private static float F(ulong bits) => BitConverter.Int32BitsToSingle((int)(uint)bits);
    private static ulong B(float f) => (uint)BitConverter.SingleToInt32Bits(f);
    private static float Ftz(float f) => float.IsSubnormal(f) ? (f < 0 ? -0f : 0f) : f;

    private void Run(Entry k, int t, ulong[] r, ref int pc, ref byte state, ulong[] param, byte[] shared,
        int[] writer, int[] writeEpoch, int[] reader, int[] readEpoch, int epoch, uint bx, uint by, uint bz, uint block, uint gx, uint gy)
    {
        var code = k.Code;
        while (true)
        {
            if (pc >= code.Count) { state = 2; return; }
            var i = code[pc++];
            Instructions++;
            if (i.Pred >= 0 && r[i.Pred] == Unwritten) throw new InvalidOperationException($"{k.Name}, block ({bx},{by},{bz}), thread {t}, line {i.Line}: {i.Text}: its predicate was never written on this thread's path");
            if (i.Pred >= 0 && ((r[i.Pred] != 0) == i.Negate)) continue;
            ulong S(int n)
            {
                ref var o = ref i.A[n];
                return o.Kind switch
                {
                    Kind.Reg => r[o.Reg] != Unwritten ? r[o.Reg] : throw new InvalidOperationException($"{k.Name}, block ({bx},{by},{bz}), thread {t}, line {i.Line}: {i.Text}: reads a register never written on this thread's path"),
                    Kind.Imm => o.Imm,
                    Kind.Special => o.Reg switch { 0 => (ulong)t, 1 => bx, 2 => by, 3 => block, 4 => gx, 5 => gy, _ => bz },
                    Kind.Symbol => 0,
                    _ => param[o.Reg],
                };
            }
            int D() => i.A[0].Reg;
            string Where() => $"{k.Name}, block ({bx},{by},{bz}), thread {t}, line {i.Line}: {i.Text}";
            try
            {
                switch (i.Op)
                {
                    case Op.LdParam: r[D()] = i.Type is "u32" or "f32" ? (uint)param[i.A[1].Reg] : param[i.A[1].Reg]; break;
                    case Op.Cvta: r[D()] = S(1); break;
                    case Op.Mov: r[D()] = i.Type is "u64" or "b64" ? S(1) : (uint)S(1); break;
                    case Op.MadLo: r[D()] = (uint)((int)S(1) * (int)S(2) + (int)S(3)); break;
                    case Op.MulLo: r[D()] = (uint)((int)S(1) * (int)S(2)); break;
                    case Op.MulWide: r[D()] = i.Type == "u32" ? (ulong)(uint)S(1) * (uint)S(2) : (ulong)((long)(int)S(1) * (int)S(2)); break;
                    case Op.Add: r[D()] = i.Type is "s64" or "u64" ? S(1) + S(2) : (uint)(S(1) + S(2)); break;
                    case Op.Sub: r[D()] = i.Type is "s64" or "u64" ? S(1) - S(2) : (uint)(S(1) - S(2)); break;
                    case Op.And: r[D()] = S(1) & S(2); break;
                    case Op.Div: r[D()] = i.Type == "s32" ? (uint)((int)S(1) / (int)S(2)) : (uint)S(1) / (uint)S(2); break;
                    case Op.Rem: r[D()] = i.Type == "s32" ? (uint)((int)S(1) % (int)S(2)) : (uint)S(1) % (uint)S(2); break;
                    case Op.Or: r[D()] = S(1) | S(2); break;
                    case Op.Shr: r[D()] = (uint)S(1) >> (int)S(2); break;
                    case Op.Shl: r[D()] = i.Type == "b64" ? S(1) << (int)S(2) : (uint)((uint)S(1) << (int)S(2)); break;
                    case Op.AndPred: r[D()] = (S(1) != 0 && S(2) != 0) ? 1UL : 0UL; break;
                    case Op.Selp: r[D()] = S(3) != 0 ? S(1) : S(2); break;
                    case Op.CvtF32U32: r[D()] = B((uint)S(1)); break;
                    case Op.CvtS32F32: r[D()] = (uint)(int)MathF.Truncate(F(S(1))); break;   // toward zero (ids are whole numbers)
                    case Op.Setp:
                    {
                        bool v;
                        if (i.Type == "f32")
                        {
                            float a = F(S(1)), b = F(S(2));
                            v = i.Cmp switch { "lt" => a < b, "le" => a <= b, "gt" => a > b, "ge" => a >= b, "eq" => a == b, "ne" => a != b && !float.IsNaN(a) && !float.IsNaN(b), _ => throw new FormatException(i.Cmp) };
                        }
                        else if (i.Type == "s32")
                        {
                            int a = (int)S(1), b = (int)S(2);
                            v = i.Cmp switch { "lt" => a < b, "le" => a <= b, "gt" => a > b, "ge" => a >= b, "eq" => a == b, "ne" => a != b, _ => throw new FormatException(i.Cmp) };
                        }
                        else if (i.Type is "u64" or "s64")
                        {
                            ulong a = S(1), b = S(2);
                            v = i.Cmp switch { "eq" => a == b, "ne" => a != b, _ => throw new FormatException($"setp.{i.Cmp}.{i.Type} is not in the emitted subset") };
                        }
                        else
                        {
                            uint a = (uint)S(1), b = (uint)S(2);
                            v = i.Cmp switch { "lt" => a < b, "le" => a <= b, "gt" => a > b, "ge" => a >= b, "eq" => a == b, "ne" => a != b, _ => throw new FormatException(i.Cmp) };
                        }
                        r[D()] = v ? 1UL : 0UL;
                        break;
                    }
                    case Op.LdGlobal:
                    {
                        ulong a = S(1) + (ulong)i.A[1].Offset;
                        int at = CheckAccess(a, i, k, t, bx, by, bz);
                        r[D()] = BitConverter.ToUInt32(_memory, at);
                        break;
                    }
                    case Op.StGlobal:
                    {
                        ulong a = S(0) + (ulong)i.A[0].Offset;
                        int at = CheckAccess(a, i, k, t, bx, by, bz);
                        BitConverter.TryWriteBytes(_memory.AsSpan(at, 4), (uint)S(1));
                        break;
                    }
                    case Op.LdShared:
                    {
                        ulong sa = S(1) + (ulong)i.A[1].Offset;
                        if (sa % 4 != 0 || sa + 4 > (ulong)shared.Length) throw new InvalidOperationException($"{Where()}: shared address {sa} is outside the {shared.Length}-byte shared array (or unaligned)");
                        int w = (int)(sa / 4);
                        if (writeEpoch[w] == epoch && writer[w] != t)
                            throw new InvalidOperationException($"shared-memory race: {Where()} reads word {w} that thread {writer[w]} wrote since the last bar.sync");
                        if (readEpoch[w] != epoch) { readEpoch[w] = epoch; reader[w] = t; }
                        else if (reader[w] != t) reader[w] = -2;
                        r[D()] = BitConverter.ToUInt32(shared, 4 * w);
                        break;
                    }
                    case Op.StShared:
                    {
                        ulong sa = S(0) + (ulong)i.A[0].Offset;
                        if (sa % 4 != 0 || sa + 4 > (ulong)shared.Length) throw new InvalidOperationException($"{Where()}: shared address {sa} is outside the {shared.Length}-byte shared array (or unaligned)");
                        int w = (int)(sa / 4);
                        if (writeEpoch[w] == epoch && writer[w] != t)
                            throw new InvalidOperationException($"shared-memory race: {Where()} writes word {w} that thread {writer[w]} wrote since the last bar.sync");
                        if (readEpoch[w] == epoch && reader[w] != t)
                            throw new InvalidOperationException($"shared-memory race: {Where()} overwrites word {w} that {(reader[w] == -2 ? "other threads" : "thread " + reader[w])} read since the last bar.sync");
                        writeEpoch[w] = epoch; writer[w] = t;
                        BitConverter.TryWriteBytes(shared.AsSpan(4 * w, 4), (uint)S(1));
                        break;
                    }
                    case Op.Bar: state = 1; return;
                    case Op.Fma: r[D()] = B(MathF.FusedMultiplyAdd(F(S(1)), F(S(2)), F(S(3)))); break;
                    case Op.FAdd: r[D()] = B(F(S(1)) + F(S(2))); break;
                    case Op.FSub: r[D()] = B(F(S(1)) - F(S(2))); break;
                    case Op.FMul: r[D()] = B(F(S(1)) * F(S(2))); break;
                    case Op.FDiv: r[D()] = B(F(S(1)) / F(S(2))); break;
                    case Op.FMax: { float a = F(S(1)), b = F(S(2)); r[D()] = B(float.IsNaN(a) ? b : float.IsNaN(b) ? a : MathF.Max(a, b)); break; }
                    case Op.FMin: { float a = F(S(1)), b = F(S(2)); r[D()] = B(float.IsNaN(a) ? b : float.IsNaN(b) ? a : MathF.Min(a, b)); break; }
                    case Op.FNeg: r[D()] = B(-F(S(1))); break;
                    case Op.FAbs: r[D()] = B(MathF.Abs(F(S(1)))); break;
                    case Op.Rcp: r[D()] = B(1f / F(S(1))); break;
                    case Op.Sqrt: r[D()] = B(MathF.Sqrt(F(S(1)))); break;
                    case Op.Ex2: r[D()] = B(Ftz((float)Math.Pow(2.0, Ftz(F(S(1)))))); break;
                    case Op.Lg2: r[D()] = B(Ftz((float)Math.Log2(Ftz(F(S(1)))))); break;
                    case Op.Bra: pc = i.Target; break;
                    case Op.Ret: state = 2; return;
                }
            }
            catch (InvalidOperationException) { throw; }
            catch (Exception e) { throw new InvalidOperationException($"{Where()}: {e.Message}", e); }
        }
    }

}
