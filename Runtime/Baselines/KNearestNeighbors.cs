using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using ModelGen.Data;
using ModelGen.Kernels;

namespace ModelGen.Baselines;

/// <summary>
/// k-nearest-neighbours classifier — the study note's baseline. "Training" stores the set; a query is labelled
/// by a majority vote of its k nearest training samples (ties go to the class of the nearest tied neighbour).
/// The training set is stored as packed panels of 32 samples, feature-major inside a panel (<c>[panel][feature][32]</c>),
/// so a distance tile of 8 queries × 32 samples streams one contiguous block; blocks of 64 queries share each panel
/// while it is in cache. For L2 the cross term is a matrix product (FMA tiles). The k nearest are kept in a
/// per-query insertion list, so no distance matrix is stored.
/// </summary>
public sealed class KNearestNeighbors
{
    private const int QueryTile = 8, TrainTile = 32, QueryBlock = 64;
    private float[] _xt = Array.Empty<float>();      // [panel][feature][32], padding samples far away
    private float[] _norms = Array.Empty<float>();   // |x|² per training sample (+∞ in the padding)
    private int[] _labels = Array.Empty<int>();
    private int _count, _ld, _features, _classes;

    /// <summary>A classifier voting over <paramref name="k"/> neighbours with the given distance.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is below 1.</exception>
    public KNearestNeighbors(int k = 1, Distance distance = Distance.L2)
    {
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), k, "k must be ≥ 1");
        K = k; Metric = distance;
    }

    /// <summary>Neighbours that vote.</summary>
    public int K { get; }
    /// <summary>The distance.</summary>
    public Distance Metric { get; }
    /// <summary>Use the Vector512 path when the machine has it (false: scalar reference).</summary>
    public bool Vectorized { get; set; } = Vector512.IsHardwareAccelerated;

    /// <summary>Stores the training set.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="train"/> is null.</exception>
    /// <exception cref="ArgumentException">The set has no labels, or fewer samples than k.</exception>
    public KNearestNeighbors Fit(Dataset train)
    {
        ArgumentNullException.ThrowIfNull(train);
        if (train.Labels is null) throw new ArgumentException("kNN needs a classification set (class labels)", nameof(train));
        if (train.Count < K) throw new ArgumentException($"k = {K} but the training set has {train.Count} samples", nameof(train));
        _count = train.Count; _features = train.FeatureSize;
        _ld = (_count + TrainTile - 1) / TrainTile * TrainTile;
        _xt = new float[(long)_features * _ld];
        _norms = new float[_ld];
        Array.Fill(_xt, 1e18f); // padding samples: far from everything (L1); their L2 norm is +∞ below
        for (int p = 0; p * TrainTile < _count; p++)
        {
            int rows = Math.Min(TrainTile, _count - p * TrainTile);
            Layout.Transpose(ref train.Features[(long)p * TrainTile * _features], rows, _features, _features, ref _xt[(long)p * TrainTile * _features], TrainTile);
        }
        for (int j = 0; j < _ld; j++)
        {
            if (j >= _count) { _norms[j] = float.PositiveInfinity; continue; }
            double s = 0;
            for (int f = 0; f < _features; f++) { float v = train.Features[(long)j * _features + f]; s += v * v; }
            _norms[j] = (float)s;
        }
        _labels = train.Labels;
        _classes = 0;
        foreach (int l in _labels) _classes = Math.Max(_classes, l + 1);
        return this;
    }

    /// <summary>Predicted labels for every sample of <paramref name="test"/>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="test"/> is null.</exception>
    /// <exception cref="InvalidOperationException"><see cref="Fit"/> has not been called.</exception>
    /// <exception cref="ArgumentException">The set's samples are not the size of the training samples.</exception>
    public int[] Predict(Dataset test)
    {
        ArgumentNullException.ThrowIfNull(test);
        return Predict(test.Features, test.Count);
    }

    /// <summary>Predicted labels for <paramref name="count"/> row-major queries.</summary>
    /// <exception cref="InvalidOperationException"><see cref="Fit"/> has not been called.</exception>
    /// <exception cref="ArgumentException"><paramref name="queries"/> holds fewer than <paramref name="count"/> samples of the training size.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int[] Predict(ReadOnlySpan<float> queries, int count)
    {
        if (_count == 0) throw new InvalidOperationException("call Fit before Predict");
        if (queries.Length < (long)count * _features) throw new ArgumentException($"queries hold {queries.Length} floats, expected {count} × {_features}", nameof(queries));
        var result = new int[count];
        var q = new float[QueryBlock * _features];
        var qn = new float[QueryBlock];
        var tile = new float[QueryTile * TrainTile];
        var bestD = new float[QueryBlock * K];
        var bestL = new int[QueryBlock * K];
        var filled = new int[QueryBlock];
        var votes = new int[_classes];
        bool l2 = Metric == Distance.L2;
        for (int q0 = 0; q0 < count; q0 += QueryBlock)
        {
            int nq = Math.Min(QueryBlock, count - q0);
            Array.Clear(q);
            queries.Slice(q0 * _features, nq * _features).CopyTo(q);
            for (int i = 0; i < QueryBlock; i++)
            {
                double s = 0;
                for (int f = 0; f < _features; f++) s += q[i * _features + f] * q[i * _features + f];
                qn[i] = (float)s;
            }
            Array.Clear(filled);
            for (int p = 0; p * TrainTile < _ld; p++)
                for (int t = 0; t * QueryTile < nq; t++)
                {
                    int qi = t * QueryTile;
                    if (Vectorized && Vector512.IsHardwareAccelerated) Tile512(ref q[qi * _features], ref _xt[(long)p * TrainTile * _features], tile, l2);
                    else TileScalar(q, qi, p, tile, l2);
                    for (int i = 0; i < QueryTile && qi + i < nq; i++)
                        for (int j = 0; j < TrainTile; j++)
                        {
                            int sample = p * TrainTile + j;
                            if (sample >= _count) break;
                            float d = tile[i * TrainTile + j];
                            if (l2) d = qn[qi + i] + _norms[sample] - 2f * d;   // |q|² + |x|² − 2q·x
                            Insert(qi + i, d, _labels[sample], bestD, bestL, filled);
                        }
                }
            for (int i = 0; i < nq; i++) result[q0 + i] = Vote(bestD.AsSpan(i * K, K), bestL.AsSpan(i * K, K), votes);
        }
        return result;
    }

    private void Insert(int query, float d, int label, float[] bestD, int[] bestL, int[] filled)
    {
        int o = query * K, n = filled[query];
        if (n == K && d >= bestD[o + K - 1]) return;
        int at = n < K ? n : K - 1;
        if (n < K) filled[query] = n + 1;
        while (at > 0 && bestD[o + at - 1] > d) { bestD[o + at] = bestD[o + at - 1]; bestL[o + at] = bestL[o + at - 1]; at--; }
        bestD[o + at] = d; bestL[o + at] = label;
    }

    private int Vote(ReadOnlySpan<float> bestD, ReadOnlySpan<int> bestL, int[] votes)
    {
        Array.Clear(votes);
        int top = 0;
        for (int i = 0; i < K; i++) top = Math.Max(top, ++votes[bestL[i]]);
        for (int i = 0; i < K; i++) if (votes[bestL[i]] == top) return bestL[i]; // the nearest of the tied classes
        return bestL[0];
    }

    /// <summary>Fraction of <paramref name="test"/> classified correctly.</summary>
    public float Score(Dataset test)
    {
        var p = Predict(test);
        int ok = 0;
        for (int i = 0; i < p.Length; i++) if (p[i] == test.Labels![i]) ok++;
        return (float)ok / p.Length;
    }

    private void TileScalar(float[] q, int qi, int panel, float[] tile, bool l2)
    {
        long baseX = (long)panel * TrainTile * _features;
        for (int i = 0; i < QueryTile; i++)
            for (int j = 0; j < TrainTile; j++)
            {
                float acc = 0f;
                for (int f = 0; f < _features; f++)
                {
                    float a = q[(qi + i) * _features + f], b = _xt[baseX + f * TrainTile + j];
                    acc += l2 ? a * b : MathF.Abs(a - b);
                }
                tile[i * TrainTile + j] = acc;
            }
    }

    /// <summary>8 queries × 32 samples: 16 zmm accumulators; per feature two loads of the training panel, one
    /// broadcast per query (L2: the dot product by FMA; L1: Σ|a − b|).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Tile512(ref float qs, ref float x, float[] tile, bool l2)
    {
        const nint ld = TrainTile;
        nint nf = _features;
        Vector512<float> c0_0 = default, c0_1 = default, c1_0 = default, c1_1 = default, c2_0 = default, c2_1 = default, c3_0 = default, c3_1 = default, c4_0 = default, c4_1 = default, c5_0 = default, c5_1 = default, c6_0 = default, c6_1 = default, c7_0 = default, c7_1 = default;
        if (l2)
        {
            for (nint f = 0; f < nf; f++)
            {
                var b0 = Mem.Load512(ref x, (nuint)(f * ld));
                var b1 = Mem.Load512(ref x, (nuint)(f * ld + 16));
                var a0 = Vector512.Create(Mem.Add(ref qs, 0 * nf + f));
                c0_0 = Vector512.FusedMultiplyAdd(a0, b0, c0_0);
                c0_1 = Vector512.FusedMultiplyAdd(a0, b1, c0_1);
                var a1 = Vector512.Create(Mem.Add(ref qs, 1 * nf + f));
                c1_0 = Vector512.FusedMultiplyAdd(a1, b0, c1_0);
                c1_1 = Vector512.FusedMultiplyAdd(a1, b1, c1_1);
                var a2 = Vector512.Create(Mem.Add(ref qs, 2 * nf + f));
                c2_0 = Vector512.FusedMultiplyAdd(a2, b0, c2_0);
                c2_1 = Vector512.FusedMultiplyAdd(a2, b1, c2_1);
                var a3 = Vector512.Create(Mem.Add(ref qs, 3 * nf + f));
                c3_0 = Vector512.FusedMultiplyAdd(a3, b0, c3_0);
                c3_1 = Vector512.FusedMultiplyAdd(a3, b1, c3_1);
                var a4 = Vector512.Create(Mem.Add(ref qs, 4 * nf + f));
                c4_0 = Vector512.FusedMultiplyAdd(a4, b0, c4_0);
                c4_1 = Vector512.FusedMultiplyAdd(a4, b1, c4_1);
                var a5 = Vector512.Create(Mem.Add(ref qs, 5 * nf + f));
                c5_0 = Vector512.FusedMultiplyAdd(a5, b0, c5_0);
                c5_1 = Vector512.FusedMultiplyAdd(a5, b1, c5_1);
                var a6 = Vector512.Create(Mem.Add(ref qs, 6 * nf + f));
                c6_0 = Vector512.FusedMultiplyAdd(a6, b0, c6_0);
                c6_1 = Vector512.FusedMultiplyAdd(a6, b1, c6_1);
                var a7 = Vector512.Create(Mem.Add(ref qs, 7 * nf + f));
                c7_0 = Vector512.FusedMultiplyAdd(a7, b0, c7_0);
                c7_1 = Vector512.FusedMultiplyAdd(a7, b1, c7_1);
            }
        }
        else
        {
            for (nint f = 0; f < nf; f++)
            {
                var b0 = Mem.Load512(ref x, (nuint)(f * ld));
                var b1 = Mem.Load512(ref x, (nuint)(f * ld + 16));
                var a0 = Vector512.Create(Mem.Add(ref qs, 0 * nf + f));
                c0_0 += Vector512.Abs(a0 - b0);
                c0_1 += Vector512.Abs(a0 - b1);
                var a1 = Vector512.Create(Mem.Add(ref qs, 1 * nf + f));
                c1_0 += Vector512.Abs(a1 - b0);
                c1_1 += Vector512.Abs(a1 - b1);
                var a2 = Vector512.Create(Mem.Add(ref qs, 2 * nf + f));
                c2_0 += Vector512.Abs(a2 - b0);
                c2_1 += Vector512.Abs(a2 - b1);
                var a3 = Vector512.Create(Mem.Add(ref qs, 3 * nf + f));
                c3_0 += Vector512.Abs(a3 - b0);
                c3_1 += Vector512.Abs(a3 - b1);
                var a4 = Vector512.Create(Mem.Add(ref qs, 4 * nf + f));
                c4_0 += Vector512.Abs(a4 - b0);
                c4_1 += Vector512.Abs(a4 - b1);
                var a5 = Vector512.Create(Mem.Add(ref qs, 5 * nf + f));
                c5_0 += Vector512.Abs(a5 - b0);
                c5_1 += Vector512.Abs(a5 - b1);
                var a6 = Vector512.Create(Mem.Add(ref qs, 6 * nf + f));
                c6_0 += Vector512.Abs(a6 - b0);
                c6_1 += Vector512.Abs(a6 - b1);
                var a7 = Vector512.Create(Mem.Add(ref qs, 7 * nf + f));
                c7_0 += Vector512.Abs(a7 - b0);
                c7_1 += Vector512.Abs(a7 - b1);
            }
        }
        c0_0.StoreAt(ref tile[0]);
        c0_1.StoreAt(ref tile[16]);
        c1_0.StoreAt(ref tile[32]);
        c1_1.StoreAt(ref tile[48]);
        c2_0.StoreAt(ref tile[64]);
        c2_1.StoreAt(ref tile[80]);
        c3_0.StoreAt(ref tile[96]);
        c3_1.StoreAt(ref tile[112]);
        c4_0.StoreAt(ref tile[128]);
        c4_1.StoreAt(ref tile[144]);
        c5_0.StoreAt(ref tile[160]);
        c5_1.StoreAt(ref tile[176]);
        c6_0.StoreAt(ref tile[192]);
        c6_1.StoreAt(ref tile[208]);
        c7_0.StoreAt(ref tile[224]);
        c7_1.StoreAt(ref tile[240]);
    }
}
