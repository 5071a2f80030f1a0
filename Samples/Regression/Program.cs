using System;
using System.Globalization;
using System.IO;
using System.Linq;
using ModelGen;
using ModelGen.Data;
using Regression;
using ModelGen.Training;

// Regression on scikit-learn's diabetes set (442 patients, 10 inputs, disease progression after a year):
// a fixed 80/20 split, inputs and target standardised on the training part, one MLP per loss. Prints test MAE
// and RMSE (original units) and, for the quantile models, the fraction of test targets below the prediction
// — about τ when the model learned the τ-quantile.
int epochs = args.Length > 1 && args[0] == "--epochs" ? int.Parse(args[1], CultureInfo.InvariantCulture) : 60;
string dir = Path.Combine(AppContext.BaseDirectory, "data", "sklearn");
var x = Csv.ReadRows(Path.Combine(dir, "diabetes_data_raw.csv.gz"), separator: null);
var t = Csv.ReadRows(Path.Combine(dir, "diabetes_target.csv.gz"), separator: null);
var all = new Dataset(x.SelectMany(r => r).ToArray(), 10, t.Select(r => r[0]).ToArray(), 1);
var (train, test) = all.Split(0.8, seed: 7);
var inputs = Standardizer.Fit(train.Features, 10);
inputs.Apply(train.Features); inputs.Apply(test.Features);
var target = Standardizer.Fit(train.Targets, 1);
target.Apply(train.Targets); target.Apply(test.Targets);
Console.WriteLine($"diabetes: {train.Count} training / {test.Count} test patients, 10 standardised inputs");

void Fit(string name, ITrainableNetwork model, float? tau = null)
{
    using (model)
    {
        var h = Trainer.Fit(model, train, null, new TrainOptions
        {
            Epochs = epochs, BatchSize = 32, Optimizer = new Adam(3e-3f), Schedule = new InverseTimeDecay(3e-3f, 0.01f), Seed = 3, Log = null,
        });
        var pred = new float[test.Count];
        for (int i = 0; i < test.Count; i += model.MaxBatch)
        {
            int n = Math.Min(model.MaxBatch, test.Count - i);
            model.Predict(test.Features.AsSpan(i * 10, n * 10), pred.AsSpan(i, n));
        }
        var truth = test.Targets!.ToArray();
        target.Invert(pred); target.Invert(truth);
        double mae = 0, mse = 0; int below = 0;
        for (int i = 0; i < pred.Length; i++)
        {
            double d = pred[i] - truth[i];
            mae += Math.Abs(d); mse += d * d;
            if (truth[i] < pred[i]) below++;
        }
        mae /= pred.Length; mse /= pred.Length;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name,-16} train loss {h.Epochs[^1].TrainLoss,7:F4}   test MAE {mae,6:F2}   test RMSE {Math.Sqrt(mse),6:F2}   below prediction {(double)below / pred.Length:F2}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"result: {name.Replace(" ", "")} test MAE: {mae:F2} RMSE: {Math.Sqrt(mse):F2}"));
        if (tau is float q)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"result: quantile tau={q:0.0#} coverage: {(double)below / pred.Length:F2}"));
    }
}

Fit("mse", new MseNet(64, 1));
Fit("mae", new MaeNet(64, 1));
Fit("huber", new HuberNet(64, 1));
Fit("quantile 0.1", new Quantile10Net(64, 1), 0.1f);
Fit("quantile 0.5", new Quantile50Net(64, 1), 0.5f);
Fit("quantile 0.9", new Quantile90Net(64, 1), 0.9f);
return 0;
