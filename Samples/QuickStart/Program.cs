using System;
using System.IO;
using System.Linq;
using ModelGen;
using ModelGen.Data;       // Idx, Dataset
using ModelGen.Training;   // Trainer, TrainOptions, Sgd

// Samples/QuickStart: MNIST as shipped in this repository; run from the repository root
// (dotnet run --project Samples/QuickStart). In your project, point dir at your copy of the files.
string dir = Path.Combine("Samples", "data", "mnist");
Dataset train = Idx.Load(Path.Combine(dir, "train-images-idx3-ubyte.gz"), Path.Combine(dir, "train-labels-idx1-ubyte.gz"));
Dataset test = Idx.Load(Path.Combine(dir, "t10k-images-idx3-ubyte.gz"), Path.Combine(dir, "t10k-labels-idx1-ubyte.gz"));

using var model = new MnistMlp(maxBatch: 64, seed: 42);         // one arena, allocated once; He/Xavier init from the seed
Console.WriteLine(MnistMlp.Summary);                             // layers, output shapes, parameters, FLOPs
var history = Trainer.Fit(model, train, test, new TrainOptions
{
    Epochs = 3, BatchSize = 64, Optimizer = new Sgd(0.1f),
    Checkpoint = "mnist.ckpt",                                    // written after each epoch; a rerun resumes from it
});
Console.WriteLine($"test accuracy: {Trainer.Evaluate(model, test).Accuracy:F4}");
model.Save("mnist.safetensors");                                 // atomic; model.Load("mnist.safetensors") reads it back

// Inference: spans [batch, 784] → [batch, 10]; Predict returns logits, PredictProbabilities the softmax.
ReadOnlySpan<float> image = test.Features.AsSpan(0, MnistMlp.InputSize);
var p = new float[MnistMlp.OutputSize];
model.PredictProbabilities(image, p);
int best = Trainer.ArgMax(p);
Console.WriteLine($"image 0: class {best} (p = {p[best]:F3}), label {test.Labels![0]}");

// One training step by hand (what Trainer.Fit does per batch), also asking for d loss / d input.
ReadOnlySpan<float> x = train.Features.AsSpan(0, 64 * MnistMlp.InputSize);
ReadOnlySpan<int> labels = train.Labels.AsSpan(0, 64);
var dx = new float[x.Length];
model.ZeroGrad();
model.Forward(x, training: true);                                // keeps the activations
float loss = model.Backward(labels, dx);                         // gradients added to model.Gradients; d loss / d input in dx
model.Step(new Sgd(0.01f));
var hidden = new float[64 * 256];
model.GetActivation(nameof(model.Hidden1), hidden);             // any layer's output of the last forward, [64, 256]
Console.WriteLine($"loss {loss:F4}, |d loss / d input| = {Math.Sqrt(dx.Sum(v => (double)v * v)):E2}");

[Network(784)]
public partial class MnistMlp
{
    [Dense(256), Relu] public partial Layer Hidden1 { get; }
    [Dense(128), Relu] public partial Layer Hidden2 { get; }
    [Dense(10)]        public partial Layer Logits { get; }
    [SoftmaxCrossEntropy] public partial Loss Loss { get; }
}
