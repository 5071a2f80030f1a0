using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using ModelGen.Text;
using Xunit;

namespace ModelGen.Tests;

/// <summary>word2vec: the vocabulary, subsampling and noise distribution against their formulas, training (determinism,
/// what co-occurrence does to the vectors), the analogy evaluation, and the C tool's file formats.</summary>
public sealed class Word2VecTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("modelgen-w2v-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void The_vocabulary_is_the_tools_line_ends_first_then_by_count()
    {
        var lines = new[] { "b a a c", "a b d d d", "e" };
        var v = Word2Vec.Vocab.Build(lines, minCount: 2);
        Assert.Equal(new[] { "</s>", "a", "d", "b" }, v.Words);   // a 3, d 3 (ordinal tie), b 2; c and e dropped
        Assert.Equal(new long[] { 3, 3, 3, 2 }, v.Counts);        // one </s> per line
        Assert.Equal(11, v.TrainWords);
        Assert.Equal(new[] { 3, 1, 1, -1, 1, 3, 2, 2, 2, -1, -1 }, v.Encode(lines, out _));
    }

    [Fact]
    public void Noise_words_follow_the_unigram_distribution_to_the_power_three_quarters()
    {
        long[] counts = { 100, 4000, 900, 16, 1 };
        var table = Word2Vec.NoiseTable(counts);
        double total = counts.Sum(c => Math.Pow(c, 0.75));
        for (int w = 0; w < counts.Length; w++)
        {
            double share = table.Count(t => t == w) / (double)table.Length;
            Assert.True(Math.Abs(share - Math.Pow(counts[w], 0.75) / total) < 1e-5, $"word {w}: {share} of the table");
        }
    }

    [Fact]
    public void Subsampling_keeps_a_word_with_the_tools_probability()
    {
        const double threshold = 1e-3 * 1_000_000;   // sample 1e-3 of a million training words
        foreach (long count in new long[] { 50_000, 5_000, 1_000, 200 })
        {
            double p = Word2Vec.KeepProbability(count, threshold);
            Assert.Equal((Math.Sqrt(count / threshold) + 1) * threshold / count, p, 12);
            var rng = new Rng((ulong)count);
            int kept = 0;
            for (int i = 0; i < 200_000; i++) if (!(p < rng.NextDouble())) kept++;
            Assert.True(Math.Abs(kept / 200_000.0 - Math.Min(1, p)) < 0.005, $"count {count}: kept {kept / 200_000.0:F4}, formula {Math.Min(1, p):F4}");
        }
    }

    /// <summary>Two topics that never share a line: after training, words of a topic are nearer each other than the
    /// other topic's (skip-gram and CBOW), and one thread gives the same vectors for the same seed.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Words_that_share_contexts_end_up_close_and_one_thread_is_deterministic(bool cbow)
    {
        var rng = new Rng(5);
        string[] sea = { "ship", "sail", "wave", "harbour", "anchor" }, land = { "field", "plough", "wheat", "barn", "harvest" };
        var lines = Enumerable.Range(0, 600).Select(i =>
        {
            var topic = i % 2 == 0 ? sea : land;
            return string.Join(" ", Enumerable.Range(0, 12).Select(_ => topic[rng.NextInt(topic.Length)]));
        }).ToList();
        var o = new Word2VecOptions { Size = 16, Window = 3, Negative = 4, MinCount = 1, Sample = 0, Iterations = 3, Cbow = cbow, Seed = 7 };
        var a = Word2Vec.Train(lines, o);
        var b = Word2Vec.Train(lines, o);
        Assert.Equal(a.Vectors, b.Vectors);
        var near = a.Nearest("ship", 4).Select(x => x.Word).ToHashSet();
        Assert.True(near.SetEquals(sea.Skip(1)), $"nearest to ship: {string.Join(", ", near)}");
        Assert.True(a.WordsPerSecondPerThread > 0);
    }

    /// <summary>The dot product, update and negative-sampling step at each width against scalar and double sums, on
    /// lengths that leave tails (and shorter than one vector).</summary>
    [Theory]
    [InlineData(SimdWidth.V256)]
    [InlineData(SimdWidth.V512)]
    public void Vector_kernels_at_each_width_agree_with_scalar(SimdWidth width)
    {
        if (!Simd.IsSupported(width)) return;
        var rng = new Rng(11);
        foreach (int n in new[] { 1, 7, 8, 15, 16, 17, 100, 131 })
        {
            var x = Enumerable.Range(0, n).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
            var y = Enumerable.Range(0, n).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
            double exact = 0, mag = 0;
            for (int i = 0; i < n; i++) { exact += (double)x[i] * y[i]; mag += Math.Abs((double)x[i] * y[i]); }
            foreach (var w in new[] { SimdWidth.Scalar, width })
                Assert.True(Math.Abs(Kernels.VectorOps.Dot(x, y, w) - exact) <= 1e-6 * mag + 1e-7, $"dot n = {n} at {w}");
            var a = (float[])y.Clone();
            var b = (float[])y.Clone();
            Kernels.VectorOps.Axpy(0.37f, x, a, SimdWidth.Scalar);
            Kernels.VectorOps.Axpy(0.37f, x, b, width);
            Assert.Equal(a, b);   // one fused multiply-add per element at every width
        }
        const int dim = 37, words = 6;
        var input = Enumerable.Range(0, dim).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        var table = Enumerable.Range(0, dim * words).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        int[] targets = { 3, 0, 5, 1 };
        var t1 = (float[])table.Clone();
        var t2 = (float[])table.Clone();
        var e1 = new float[dim];
        var e2 = new float[dim];
        Kernels.VectorOps.NegativeSamplingStep(input, t1, targets, 0.5f, e1, SimdWidth.Scalar);
        Kernels.VectorOps.NegativeSamplingStep(input, t2, targets, 0.5f, e2, width);
        for (int i = 0; i < t1.Length; i++) Assert.True(Math.Abs(t1[i] - t2[i]) < 1e-6, $"output row value {i}");
        for (int i = 0; i < dim; i++) Assert.True(Math.Abs(e1[i] - e2[i]) < 1e-6, $"input step {i}");
        // And the step is the loss's gradient: −log σ(u·v₃) − Σ log σ(−u·v_k) descended at rate 0.5, word by word.
        var check = (float[])table.Clone();
        var err = new double[dim];
        for (int k = 0; k < targets.Length; k++)
        {
            int row = targets[k] * dim;
            double f = 0;
            for (int d = 0; d < dim; d++) f += input[d] * check[row + d];
            double g = ((k == 0 ? 1 : 0) - 1 / (1 + Math.Exp(-f))) * 0.5;
            for (int d = 0; d < dim; d++) { err[d] += g * check[row + d]; check[row + d] += (float)(g * input[d]); }
        }
        for (int i = 0; i < t1.Length; i++) Assert.True(Math.Abs(t1[i] - check[i]) < 1e-5, $"reference output value {i}");
        for (int i = 0; i < dim; i++) Assert.True(Math.Abs(e1[i] - err[i]) < 1e-5, $"reference input step {i}");
    }

    /// <summary>The negative-sampling loss <c>L = −log σ(u·v_t) − Σ_k log σ(−u·v_k)</c> (distinct rows): one step at rate
    /// <c>alpha</c> must move the output rows by <c>−alpha·∂L/∂v</c> and return <c>−alpha·∂L/∂u</c> as the input's step, with
    /// the derivatives taken by central differences of L in double precision; rows that are not targets stay as they were.</summary>
    [Theory]
    [InlineData(SimdWidth.Scalar)]
    [InlineData(SimdWidth.V256)]
    [InlineData(SimdWidth.V512)]
    public void The_negative_sampling_step_follows_the_finite_difference_gradient_of_its_loss(SimdWidth width)
    {
        if (!Simd.IsSupported(width)) return;
        const int dim = 37, words = 7;
        const float alpha = 0.25f;
        int[] targets = { 4, 0, 6, 1, 3 };   // the true word, then four noise words
        var rng = new Rng(5);
        var u = Enumerable.Range(0, dim).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        var table = Enumerable.Range(0, dim * words).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();

        double Loss(float[] input, float[] rows)
        {
            double l = 0;
            for (int k = 0; k < targets.Length; k++)
            {
                double f = 0;
                for (int d = 0; d < dim; d++) f += (double)input[d] * rows[targets[k] * dim + d];
                Assert.True(Math.Abs(f) < 6, "the check stays inside σ's unsaturated range");
                l -= Math.Log(1 / (1 + Math.Exp(k == 0 ? -f : f)));
            }
            return l;
        }
        double Derivative(float[] values, int i, Func<double> loss)
        {
            const float h = 1e-2f;
            float keep = values[i];
            values[i] = keep + h; double up = loss();
            values[i] = keep - h; double down = loss();
            values[i] = keep;
            return (up - down) / (2.0 * h);
        }

        var after = (float[])table.Clone();
        var error = new float[dim];
        Kernels.VectorOps.NegativeSamplingStep(u, after, targets, alpha, error, width);
        double scale = 0;
        var du = new double[dim];
        for (int d = 0; d < dim; d++) { du[d] = Derivative(u, d, () => Loss(u, table)); scale = Math.Max(scale, Math.Abs(du[d])); }
        var dv = new double[table.Length];
        for (int i = 0; i < table.Length; i++) { dv[i] = Derivative(table, i, () => Loss(u, table)); scale = Math.Max(scale, Math.Abs(dv[i])); }
        double tolerance = 1e-4 * alpha * scale;
        for (int d = 0; d < dim; d++)
            Assert.True(Math.Abs(error[d] + alpha * du[d]) <= tolerance, $"input step {d}: {error[d]} vs −alpha·dL/du = {-alpha * du[d]}");
        for (int i = 0; i < table.Length; i++)
        {
            bool target = targets.Contains(i / dim);
            Assert.True(target || after[i] == table[i], $"row {i / dim} is not a target but changed");
            Assert.True(Math.Abs(after[i] - table[i] + alpha * dv[i]) <= tolerance, $"row {i / dim}, element {i % dim}: moved {after[i] - table[i]}, −alpha·dL/dv = {-alpha * dv[i]}");
        }
    }

    /// <summary>Training at each width gives the scalar path's vectors up to rounding.</summary>
    [Theory]
    [InlineData(SimdWidth.V256)]
    [InlineData(SimdWidth.V512)]
    public void Training_at_each_width_matches_scalar(SimdWidth width)
    {
        if (!Simd.IsSupported(width)) return;
        var rng = new Rng(3);
        string[] words = { "a", "b", "c", "d", "e", "f", "g", "h" };
        var lines = Enumerable.Range(0, 200).Select(_ => string.Join(" ", Enumerable.Range(0, 9).Select(_ => words[rng.NextInt(words.Length)]))).ToList();
        foreach (bool cbow in new[] { false, true })
        {
            var o = new Word2VecOptions { Size = 21, Window = 2, Negative = 3, MinCount = 1, Sample = 0, Iterations = 1, Cbow = cbow, Width = SimdWidth.Scalar };
            var s = Word2Vec.Train(lines, o).Vectors;
            o.Width = width;
            var v = Word2Vec.Train(lines, o).Vectors;
            double num = 0, den = 0;
            for (int i = 0; i < s.Length; i++) { num += (s[i] - v[i]) * (double)(s[i] - v[i]); den += s[i] * (double)s[i]; }
            Assert.True(Math.Sqrt(num / den) < 1e-4, $"{(cbow ? "CBOW" : "skip-gram")}: relative L2 {Math.Sqrt(num / den):E2}");
        }
    }

    [Fact]
    public void Analogies_are_answered_and_scored_as_compute_accuracy_counts_them()
    {
        // king − man + woman = queen exactly; the others are far.
        string[] words = { "</s>", "man", "woman", "king", "queen", "apple" };
        float[] v =
        {
            0, 0, 0, 1,
            1, 0, 0, 0,
            1, 1, 0, 0,
            1, 0, 1, 0,
            1, 1, 1, 0,
            -1, -1, -1, 0.2f,
        };
        var wv = new WordVectors(words, v, 4);
        Assert.Equal("queen", wv.Analogy("man", "king", "woman")[0].Word);
        var report = wv.EvaluateAnalogies(new[]
        {
            ": family", "man king woman queen", "MAN woman KING QUEEN", "man king woman apple", "man king boy girl",
            ": other", "apple man king woman",
        });
        var family = report.Section("family")!;
        Assert.Equal(4, family.Questions);
        Assert.Equal(3, family.Seen);      // boy, girl unknown
        Assert.Equal(2, family.Correct);   // the third expects apple
        Assert.Equal(4, report.Seen);
    }

    /// <summary>A vector's squared length as gcc 12 -O3 -march=native compiles compute-accuracy's normalisation loop: the
    /// squares of whole 16-float blocks, then of one 8-float block when 8 or more remain, rounded before they are added
    /// in order; the last fewer than 8 fused. (A 10-seed run against the tool found one question of 756 counted
    /// differently while every square was fused.) Each length from 1 to 40 against the rule written out here, and a
    /// vector whose fused and unfused sums differ, so that the test tells the two apart.</summary>
    [Fact]
    public void Squared_lengths_round_the_squares_as_compute_accuracy_compiled_does()
    {
        var rng = new Rng(17);
        for (int n = 1; n <= 40; n++)
        {
            var x = Enumerable.Range(0, n).Select(_ => (float)rng.NextGaussian()).ToArray();
            int rounded = n >= 16 ? n / 16 * 16 + (n % 16 >= 8 ? 8 : 0) : n >= 8 ? 8 : 0;
            float expected = 0f;
            for (int i = 0; i < n; i++)
                expected = i < rounded ? expected + x[i] * x[i] : MathF.FusedMultiplyAdd(x[i], x[i], expected);
            Assert.Equal(expected, WordVectors.SquaredLength(x));
        }
        // 100 floats (the benchmark's vectors): 96 rounded squares and 4 fused ones. A vector where that sum differs from
        // both the all-fused and the all-rounded one, so that neither mistake passes.
        for (int tries = 0; ; tries++)
        {
            Assert.True(tries < 1000, "no vector told the three sums apart");
            var x = Enumerable.Range(0, 100).Select(_ => (float)rng.NextGaussian()).ToArray();
            float fused = 0f, rounded = 0f, mixed = 0f;
            for (int i = 0; i < 100; i++)
            {
                fused = MathF.FusedMultiplyAdd(x[i], x[i], fused);
                rounded += x[i] * x[i];
                mixed = i < 96 ? mixed + x[i] * x[i] : MathF.FusedMultiplyAdd(x[i], x[i], mixed);
            }
            if (mixed == fused || mixed == rounded) continue;
            Assert.Equal(mixed, WordVectors.SquaredLength(x));
            break;
        }
    }

    /// <summary>Ties and hopeless questions as compute-accuracy decides them: of two candidates with the same product the
    /// first in the vocabulary wins (its loop replaces the best only on a larger one), and a question whose best product
    /// is not above 0 has no answer (its best starts at 0) — even when the expected word is the largest of them.</summary>
    [Fact]
    public void The_analogy_evaluation_breaks_ties_and_answers_nothing_as_compute_accuracy_does()
    {
        string[] words = { "</s>", "a", "b", "c", "first", "second", "minus" };
        float[] v =
        {
            0, 0, 1,
            1, 0, 0,
            1, 0, 0,   // b − a = 0: the query is c
            0, 1, 0,
            0.6f, 0.8f, 0,    // first and second: the same product with c
            0.6f, 0.8f, 0,
            0, -1, 0,
        };
        var wv = new WordVectors(words, v, 3);
        var r = wv.EvaluateAnalogies(new[] { ": ties", "a b c first", "a b c second" });
        Assert.Equal(1, r.Section("ties")!.Correct);   // "first" wins the tie
        // Every candidate's product ≤ 0: no answer, so not even the expected word counts.
        float[] w = { 0, -0.8f, 0.6f, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, -0.6f, 0.8f, 0, -1, 0 };   // d (−0.6) is the largest product
        var none = new WordVectors(new[] { "</s>", "a", "b", "c", "d", "e" }, w, 3);
        Assert.Equal(0, none.EvaluateAnalogies(new[] { ": none", "a b c d" }).Section("none")!.Correct);
    }

    [Fact]
    public void Text_and_binary_files_round_trip_and_read_the_tools_layout()
    {
        var wv = new WordVectors(new[] { "</s>", "héllo", "world" }, new[] { 0.5f, -1.25f, 1e-7f, 3f, -0f, float.Epsilon }, 2);
        foreach (bool binary in new[] { false, true })
        {
            string path = Path.Combine(_dir, binary ? "v.bin" : "v.txt");
            if (binary) wv.SaveBinary(path); else wv.SaveText(path);
            var back = WordVectors.Load(path);
            Assert.Equal(wv.Words, back.Words);
            Assert.Equal(wv.Vectors, back.Vectors);
        }
        // The C tool's binary layout, byte by byte: "2 3\n", then "word " + 3 little-endian floats + "\n" per word.
        var bytes = new List<byte>(Encoding.ASCII.GetBytes("2 3\n"));
        foreach (var (word, values) in new[] { ("</s>", new[] { 1f, 2f, 3f }), ("the", new[] { -1f, 0.5f, 0.25f }) })
        {
            bytes.AddRange(Encoding.ASCII.GetBytes(word + " "));
            foreach (float f in values) bytes.AddRange(BitConverter.GetBytes(f));
            bytes.Add((byte)'\n');
        }
        string c = Path.Combine(_dir, "tool.bin");
        File.WriteAllBytes(c, bytes.ToArray());
        var tool = WordVectors.Load(c);
        Assert.Equal(new[] { "</s>", "the" }, tool.Words);
        Assert.Equal(new[] { 1f, 2f, 3f, -1f, 0.5f, 0.25f }, tool.Vectors);
        // ModelGen's binary file is that layout byte for byte, so the tool (distance, compute-accuracy) reads it.
        string ours = Path.Combine(_dir, "ours.bin");
        new WordVectors(new[] { "</s>", "the" }, new[] { 1f, 2f, 3f, -1f, 0.5f, 0.25f }, 3).SaveBinary(ours);
        Assert.Equal(bytes.ToArray(), File.ReadAllBytes(ours));
        // The tool's text layout: printf("%s ") then "%lf " per value, so each line ends with a space.
        File.WriteAllText(c, "2 3\n</s> 1.000000 2.000000 3.000000 \nthe -1.000000 0.500000 0.250000 \n");
        Assert.Equal(new[] { 1f, 2f, 3f, -1f, 0.5f, 0.25f }, WordVectors.Load(c).Vectors);
        // A truncated file names the word and the byte where it stops.
        File.WriteAllBytes(c, bytes.Take(bytes.Count - 6).ToArray());
        var e = Assert.Throws<InvalidDataException>(() => WordVectors.Load(c));
        Assert.Contains("'the'", e.Message);
        Assert.Contains("byte", e.Message);
        File.WriteAllText(c, "2 3\n</s> 1 2 3\nthe 1 x 3\n");
        e = Assert.Throws<InvalidDataException>(() => WordVectors.Load(c));
        Assert.Contains("'x' is not a number", e.Message);
    }
}
