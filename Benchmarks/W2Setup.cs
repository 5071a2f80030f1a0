/// <summary>The starting point of the benchmark modes that time W2's generated layer and part methods one by one.</summary>
internal static class W2Setup
{
    /// <summary>Three SGD steps and then a forward and backward pass of <paramref name="m"/> on one random batch
    /// (seed 1), so that every buffer of a training step holds real values. Returns the batch, its labels and the
    /// model's own workspace, which the generated part methods take (read by reflection: a diagnostic, not a benchmark).</summary>
    public static (float[] X, int[] Labels, object Workspace) Prepare(Cifar.W2 m, int batch, System.Func<int, int> label)
    {
        var rng = new ModelGen.Rng(1);
        var x = new float[batch * 3072];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextFloat();
        var labels = new int[batch];
        for (int i = 0; i < batch; i++) labels[i] = label(i);
        for (int i = 0; i < 3; i++) ModelGen.NetworkExtensions.TrainStep(m, x, labels, new ModelGen.Training.Sgd(0.01f));
        m.ZeroGrad(); m.Forward(x, training: true); m.Backward(labels);
        var flags = System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance;
        return (x, labels, typeof(Cifar.W2).GetField("_main", flags)!.GetValue(m)!);
    }
}
