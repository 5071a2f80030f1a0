using System;
using System.Collections.Generic;
using BenchmarkDotNet.Attributes;
using ModelGen.Training;
using TinyGpt;
using TorchSharp;
using static TorchSharp.torch;

namespace ModelGen.Benchmarks;

/// <summary>The TinyGpt sample's GPT (4 pre-LN blocks, width 128, 4 heads, context 128, 28 symbols): one AdamW training
/// step at batch 8 × 128, and generating 128 tokens with a KV cache at batch 1 — ModelGen and the same model in
/// TorchSharp (libtorch CPU: <c>scaled_dot_product_attention</c>, the cache as concatenated k/v tensors), one thread,
/// same run.</summary>
[MemoryDiagnoser]
public class GptBenchmarks
{
    private const int Batch = 8, T = Gpt.Context, C = 128, Heads = 4, V = Gpt.Symbols;
    private Gpt _model = null!;
    private float[] _x = null!, _logits = null!;
    private int[] _labels = null!;
    private AdamW _adam = null!;
    private TorchGpt _torch = null!;
    private Tensor _tx = null!, _ty = null!;
    private optim.Optimizer _torchAdam = null!;

    private sealed class Block : nn.Module<Tensor, Tensor>
    {
        public readonly TorchSharp.Modules.LayerNorm Ln1 = nn.LayerNorm(C), Ln2 = nn.LayerNorm(C);
        public readonly TorchSharp.Modules.Linear Qkv = nn.Linear(C, 3 * C), Proj = nn.Linear(C, C), Fc = nn.Linear(C, 4 * C), Fc2 = nn.Linear(4 * C, C);
        public Block(string name) : base(name) => RegisterComponents();

        private Tensor Mlp(Tensor x) => Fc2.forward(nn.functional.gelu(Fc.forward(Ln2.forward(x)), approximate: TorchSharp.Modules.GELU.Approximate.tanh));

        public override Tensor forward(Tensor x)
        {
            long b = x.shape[0], t = x.shape[1];
            var qkv = Qkv.forward(Ln1.forward(x)).view(b, t, 3, Heads, C / Heads).permute(2, 0, 3, 1, 4);   // [3, b, H, t, d]
            var a = nn.functional.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], is_casual: true);
            x = x + Proj.forward(a.transpose(1, 2).reshape(b, t, C));
            return x + Mlp(x);
        }

        /// <summary>One new token [1, 1, C] against the cached keys and values of this block (appended to).</summary>
        public Tensor Step(Tensor x, ref Tensor? k, ref Tensor? v)
        {
            var qkv = Qkv.forward(Ln1.forward(x)).view(1, 1, 3, Heads, C / Heads).permute(2, 0, 3, 1, 4);
            k = k is null ? qkv[1] : cat(new[] { k, qkv[1] }, 2);
            v = v is null ? qkv[2] : cat(new[] { v, qkv[2] }, 2);
            var a = nn.functional.scaled_dot_product_attention(qkv[0], k, v);
            x = x + Proj.forward(a.transpose(1, 2).reshape(1, 1, C));
            return x + Mlp(x);
        }
    }

    private sealed class TorchGpt : nn.Module<Tensor, Tensor>
    {
        private readonly TorchSharp.Modules.Embedding _tok = nn.Embedding(V, C);
        private readonly TorchSharp.Modules.Parameter _pos = nn.Parameter(randn(T, C));
        private readonly TorchSharp.Modules.ModuleList<Block> _blocks = nn.ModuleList(new Block("b0"), new Block("b1"), new Block("b2"), new Block("b3"));
        private readonly TorchSharp.Modules.LayerNorm _lnf = nn.LayerNorm(C);
        private readonly TorchSharp.Modules.Linear _head = nn.Linear(C, V);
        public TorchGpt() : base("TinyGpt") => RegisterComponents();

        public override Tensor forward(Tensor ids)
        {
            var x = _tok.forward(ids) + _pos;
            foreach (var b in _blocks) x = b.forward(x);
            return _head.forward(_lnf.forward(x));
        }

        public Tensor Step(long token, int position, Tensor?[] k, Tensor?[] v)
        {
            using var id = tensor(new[] { token }, new long[] { 1, 1 });
            var x = _tok.forward(id) + _pos[position];
            for (int i = 0; i < _blocks.Count; i++) x = _blocks[i].Step(x, ref k[i], ref v[i]);
            return _head.forward(_lnf.forward(x));
        }
    }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Rng(5);
        _model = new Gpt(maxBatch: Batch, seed: 1);
        _x = new float[Batch * T];
        _labels = new int[Batch * T];
        for (int i = 0; i < _x.Length; i++) { _x[i] = rng.NextInt(V); _labels[i] = rng.NextInt(V); }
        _logits = new float[V];
        _adam = new AdamW(1e-3f);
        torch.set_num_threads(1);
        _torch = new TorchGpt();
        var ids = new long[Batch * T];
        var ys = new long[Batch * T];
        for (int i = 0; i < ids.Length; i++) { ids[i] = (long)_x[i]; ys[i] = _labels[i]; }
        _tx = torch.tensor(ids, new long[] { Batch, T });
        _ty = torch.tensor(ys);
        _torchAdam = optim.AdamW(_torch.parameters(), 1e-3);
    }

    [GlobalCleanup]
    public void Cleanup() => _model.Dispose();

    [Benchmark(Description = "ModelGen: TinyGpt train step batch 8 x 128")]
    public float ModelGen_Train() => _model.TrainStep(_x, _labels, _adam);

    [Benchmark(Description = "TorchSharp: TinyGpt train step batch 8 x 128")]
    public void Torch_Train()
    {
        using var scope = torch.NewDisposeScope();
        _torchAdam.zero_grad();
        var loss = nn.functional.cross_entropy(_torch.forward(_tx).view(-1, V), _ty);
        loss.backward();
        _torchAdam.step();
    }

    [Benchmark(Description = "ModelGen: TinyGpt generate 128 tokens (KV cache)")]
    public int ModelGen_Generate()
    {
        _model.ResetCache();
        int token = 1;
        for (int t = 0; t < T; t++) { _model.Append(token, _logits); token = (token * 7 + 3) % V; }
        return token;
    }

    [Benchmark(Description = "TorchSharp: TinyGpt generate 128 tokens (KV cache)")]
    public long Torch_Generate()
    {
        using var scope = torch.NewDisposeScope();
        using var mode = torch.inference_mode();
        var k = new Tensor?[4];
        var v = new Tensor?[4];
        long token = 1;
        for (int t = 0; t < T; t++) { _torch.Step(token, t, k, v); token = (token * 7 + 3) % V; }
        return token;
    }
}
