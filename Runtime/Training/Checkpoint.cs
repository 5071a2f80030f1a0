using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using ModelGen.IO;

namespace ModelGen.Training;

/// <summary>
/// A training checkpoint (<see cref="TrainOptions.Checkpoint"/>): one safetensors file holding the model's tensors, the
/// optimiser's per-parameter state as the tensor <c>optimizer.state</c> <c>[slots, parameters]</c>, and in its
/// metadata everything else a bit-identical resume needs — epochs and steps done (the schedule's position), the
/// optimiser's type and update count, the augmentation and dropout random streams, the options that must not change,
/// and the history so far. Written atomically; read and checked whole before anything is restored.
/// </summary>
internal static class Checkpoint
{
    private const string Format = "ModelGen training checkpoint 1";
    private const string StateTensor = "optimizer.state";

    /// <summary>What a resumed run continues from.</summary>
    internal sealed record State(int Epoch, long Step, Rng AugmentRandom, History History);

    internal static void Save(string path, ITrainableNetwork model, TrainOptions options, int batchSize, int epoch, long step, Rng augment, History history)
    {
        var parameters = model.Parameters.ToArray();
        var tensors = model.Tensors.Select(t => (t.Name, t.Shape, parameters.AsSpan(t.Offset, t.Length).ToArray())).ToList();
        int slots = options.Optimizer.StateSlots;
        if (slots > 0)
            tensors.Add((StateTensor, new[] { slots, parameters.Length }, model.OptimizerState.ExportSlots(slots, parameters.Length)));
        var meta = new Dictionary<string, string>
        {
            ["format"] = "pt",
            ["checkpoint"] = Format,
            ["network"] = model.GetType().FullName ?? model.GetType().Name,
            ["epoch"] = Num(epoch),
            ["step"] = Num(step),
            ["optimizer"] = options.Optimizer.GetType().Name,
            ["optimizer.step"] = Num(model.OptimizerState.StepCount),
            ["options"] = Options(options, batchSize),
            ["augment_rng"] = Rng(augment),
            ["training_rng"] = Rng(model.TrainingRandom),
            ["history"] = string.Join("\n", history.Epochs.Select(e => string.Join(";",
                Num(e.Epoch), R(e.TrainLoss), R(e.TrainAccuracy), R(e.TestLoss), R(e.TestAccuracy), R(e.Seconds), R(e.SamplesPerSecond), R(e.LearningRate)))),
        };
        SafeTensors.Save(path, tensors, meta);
    }

    /// <summary>Checks <paramref name="path"/> against the model and options, then restores parameters, optimiser state
    /// and the dropout stream; returns where the run continues. Nothing is changed when a check fails.</summary>
    internal static State Restore(string path, ITrainableNetwork model, TrainOptions options, int batchSize)
    {
        var (meta, entries, file) = SafeTensors.ReadRaw(path);
        string Get(string key) => meta.TryGetValue(key, out var v) ? v : throw Bad(path, $"its metadata has no '{key}'");
        if (!meta.TryGetValue("checkpoint", out var format) || format != Format)
            throw Bad(path, "it is not a ModelGen training checkpoint (a weights file loads with model.Load)");
        string network = model.GetType().FullName ?? model.GetType().Name;
        if (Get("network") != network) throw Bad(path, $"it was written for {Get("network")}, not {network}");
        if (Get("optimizer") != options.Optimizer.GetType().Name)
            throw Bad(path, $"it was written with the optimiser {Get("optimizer")}, and this run uses {options.Optimizer.GetType().Name}");
        if (Get("options") != Options(options, batchSize))
            throw Bad(path, $"it was written with the options {Get("options")}, and this run has {Options(options, batchSize)}: a resumed run must use the same ones");
        int epoch = (int)Long(path, Get("epoch"));
        long step = Long(path, Get("step")), optimizerStep = Long(path, Get("optimizer.step"));
        var augment = ReadRng(path, Get("augment_rng"));
        var training = ReadRng(path, Get("training_rng"));
        var history = new History();
        foreach (var line in Get("history").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var f = line.Split(';');
            if (f.Length != 8) throw Bad(path, $"its history line '{line}' does not have 8 fields");
            history.Epochs.Add(new EpochStats((int)Long(path, f[0]), Float(path, f[1]), Float(path, f[2]), Float(path, f[3]), Float(path, f[4]),
                Double(path, f[5]), Double(path, f[6]), Float(path, f[7])));
        }
        var parameters = model.Parameters;
        var staged = SafeTensors.Stage(path, file, entries.Where(e => e.Name != StateTensor).ToList(), model.Tensors);
        int slots = options.Optimizer.StateSlots;
        float[] state = Array.Empty<float>();
        var stateEntry = entries.FirstOrDefault(e => e.Name == StateTensor);
        if (slots > 0)
        {
            if (stateEntry is null || stateEntry.DType != "F32" || stateEntry.Shape.Length != 2 || stateEntry.Shape[0] != slots || stateEntry.Shape[1] != parameters.Length)
                throw Bad(path, $"its '{StateTensor}' is not F32 [{slots}, {parameters.Length}] as {options.Optimizer.GetType().Name} on this model needs");
            state = new float[slots * parameters.Length];
            var src = file.AsSpan((int)(stateEntry.DataStart + stateEntry.Begin), state.Length * 4);
            for (int i = 0; i < state.Length; i++) state[i] = System.Buffers.Binary.BinaryPrimitives.ReadSingleLittleEndian(src.Slice(4 * i));
        }
        // Everything checked: restore.
        var tensors = model.Tensors;
        for (int i = 0; i < tensors.Count; i++) staged[i]!.CopyTo(parameters.Slice(tensors[i].Offset, tensors[i].Length));
        model.OptimizerState.Restore(options.Optimizer, optimizerStep, state, parameters.Length);
        model.TrainingRandom = training;
        return new State(epoch, step, augment, history);
    }

    /// <summary>The options a resumed run must share with the one that wrote the checkpoint.</summary>
    private static string Options(TrainOptions o, int batchSize) =>
        $"mode={o.Mode};batch={Num(batchSize)};seed={o.Seed.ToString(CultureInfo.InvariantCulture)};shuffle={(o.Shuffle ? 1 : 0)};augment={(o.Augment is null ? 0 : 1)}";

    private static string Num(long v) => v.ToString(CultureInfo.InvariantCulture);
    private static string R(double v) => v.ToString("R", CultureInfo.InvariantCulture);
    private static string R(float v) => v.ToString("R", CultureInfo.InvariantCulture);

    private static string Rng(Rng r)
    {
        var (a, b, c, d) = r.State;
        return string.Join(",", new[] { a, b, c, d }.Select(v => v.ToString("x16", CultureInfo.InvariantCulture)));
    }

    private static Rng ReadRng(string path, string text)
    {
        var parts = text.Split(',');
        var v = new ulong[4];
        if (parts.Length != 4 || !parts.Select((p, i) => ulong.TryParse(p, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out v[i])).All(ok => ok)
            || (v[0] | v[1] | v[2] | v[3]) == 0)
            throw Bad(path, $"its random state '{text}' is not four non-zero 64-bit hex words");
        return ModelGen.Rng.FromState((v[0], v[1], v[2], v[3]));
    }

    private static long Long(string path, string s) =>
        long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out long v) && v >= 0 ? v : throw Bad(path, $"'{s}' is not a count");
    private static float Float(string path, string s) =>
        float.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out float v) ? v : throw Bad(path, $"'{s}' is not a number");
    private static double Double(string path, string s) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v : throw Bad(path, $"'{s}' is not a number");

    private static InvalidDataException Bad(string path, string why) =>
        new($"{path}: cannot resume from this checkpoint: {why}; nothing was changed");
}
