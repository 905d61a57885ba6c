using System.Diagnostics;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Evaluation;
using Serverless.Lifecycle.Scoring;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Serverless.Trainer.Deep;

/// <summary>
/// Trains the <c>mlp</c> algorithm with TorchSharp: <see cref="MlpPreprocessor"/>'s inputs, ReLU
/// hidden layers with dropout, AdamW on shuffled mini-batches, and early stopping on the
/// validation loss that keeps the best epoch's weights. The loss is the task's: binary cross-entropy
/// on the logit, cross-entropy over the classes, or squared error on the standardized target. It
/// trains on CUDA when the process sees a GPU, else on one CPU thread, so the same data, spec and
/// seed give the same ONNX bytes on the CPU. The export (<see cref="MlpOnnx"/>) is checked against
/// TorchSharp's own predictions on the validation split with ONNX Runtime.
/// </summary>
public sealed class MlpTrainer : IAlgorithmTrainer
{
    public IReadOnlySet<string> Algorithms { get; } = new HashSet<string>(StringComparer.Ordinal) { TrainerAlgorithms.Mlp };

    public TrainedModel Train(ModelSpec spec, string trainCsv, string validationCsv, LabelFacts? checkedLabels, IProgress<TrainingProgress>? progress)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var device = TorchRuntime.Device();
        var timings = new PhaseTimer();
        var train = Read(trainCsv, spec);
        var validation = Read(validationCsv, spec);
        var labels = MlpLabels.Fit(spec, train);
        var preprocessor = MlpPreprocessor.Fit(spec, train.Features);
        if (preprocessor.Width == 0)
        {
            throw new TrainingFailedException("No feature has a value in the training split: the network would have no inputs.");
        }

        var hyper = spec.Trainer.Hyperparameters;
        var widths = MlpHyperparameters.HiddenLayers(hyper);
        var (dropout, rate, maxEpochs, batchSize, decay, patience) = (
            MlpHyperparameters.Get(hyper, MlpHyperparameters.Dropout), MlpHyperparameters.Get(hyper, MlpHyperparameters.LearningRate),
            (int)MlpHyperparameters.Get(hyper, MlpHyperparameters.Epochs), (int)MlpHyperparameters.Get(hyper, MlpHyperparameters.BatchSize),
            MlpHyperparameters.Get(hyper, MlpHyperparameters.WeightDecay), (int)MlpHyperparameters.Get(hyper, MlpHyperparameters.Patience));
        if ((long)Math.Max(train.Rows, validation.Rows) * preprocessor.Width > Array.MaxLength)
        {
            throw new TrainingFailedException(
                $"The encoded training matrix would have {(long)train.Rows * preprocessor.Width} cells ({train.Rows} rows x {preprocessor.Width} columns), more than one array holds; "
                + "use fewer rows or categorical features with fewer categories.");
        }

        var (trainX, validationX) = (preprocessor.Transform(train.Features), preprocessor.Transform(validation.Features));
        timings.Lap("load");

        torch.manual_seed(spec.Trainer.Seed);
        if (device.Cuda)
        {
            torch.cuda.manual_seed_all(spec.Trainer.Seed);
        }

        var dense = new List<Linear>();
        var modules = new List<(string, nn.Module<Tensor, Tensor>)>();
        var inputs = preprocessor.Width;
        foreach (var (width, i) in widths.Select((w, i) => (w, i)))
        {
            var layer = nn.Linear(inputs, width);
            dense.Add(layer);
            modules.Add(($"dense{i}", layer));
            modules.Add(($"relu{i}", nn.ReLU()));
            if (dropout > 0)
            {
                modules.Add(($"dropout{i}", nn.Dropout(dropout)));
            }

            inputs = width;
        }

        var output = nn.Linear(inputs, labels.Outputs);
        dense.Add(output);
        modules.Add(("output", output));
        using var network = nn.Sequential(modules).to(device.Torch);
        var parameters = network.parameters().ToList();
        using var optimizer = optim.AdamW(parameters, rate, weight_decay: decay);

        using var x = torch.tensor(trainX, [train.Rows, preprocessor.Width], device: device.Torch);
        using var y = labels.Tensor(train, device.Torch);
        using var xv = torch.tensor(validationX, [validation.Rows, preprocessor.Width], device: device.Torch);
        using var yv = labels.Tensor(validation, device.Torch);

        var epochs = new List<EpochProgress>();
        var (bestLoss, bestEpoch) = (double.PositiveInfinity, 0);
        var best = parameters.Select(p => p.detach().clone()).ToList();
        var order = Enumerable.Range(0, train.Rows).ToArray();
        var random = new Random(spec.Trainer.Seed);
        var fit = Stopwatch.StartNew();
        for (var epoch = 1; epoch <= maxEpochs; epoch++)
        {
            network.train();
            random.Shuffle(order);
            var lossSum = 0.0;
            for (var start = 0; start < train.Rows; start += batchSize)
            {
                using var scope = torch.NewDisposeScope();
                var count = Math.Min(batchSize, train.Rows - start);
                var index = torch.tensor(order.AsSpan(start, count).ToArray().Select(i => (long)i).ToArray(), device: device.Torch);
                optimizer.zero_grad();
                var loss = labels.Loss(network.forward(x.index_select(0, index)), y.index_select(0, index));
                loss.backward();
                optimizer.step();
                lossSum += loss.item<float>() * count;
            }

            var (validationLoss, metric) = Check(network, labels, xv, yv);
            epochs.Add(new EpochProgress(epoch, lossSum / train.Rows, validationLoss, labels.MetricName, metric));
            if (validationLoss < bestLoss)
            {
                (bestLoss, bestEpoch) = (validationLoss, epoch);
                foreach (var (saved, parameter) in best.Zip(parameters))
                {
                    saved.copy_(parameter.detach());
                }
            }

            var stop = patience > 0 && epoch - bestEpoch >= patience;
            progress?.Report(new TrainingProgress(
                "", TrainerAlgorithms.Mlp, device.Name, epoch, maxEpochs, bestEpoch, stop || epoch == maxEpochs,
                (double)train.Rows * epoch / Math.Max(fit.Elapsed.TotalSeconds, 1e-9), [.. epochs], DateTimeOffset.UtcNow));
            if (stop)
            {
                break;
            }
        }

        if (bestEpoch == 0)
        {
            // No epoch had a finite validation loss: the weights diverged, or no validation row could be scored.
            throw new TrainingFailedException(
                $"The validation loss was never a finite number in {epochs.Count} epoch(s) (last training loss {epochs[^1].TrainLoss:G4}); "
                + $"lower {MlpHyperparameters.LearningRate} (now {rate:G3}), or check that the validation split has labels the training split has.");
        }

        var rowsPerSecond = (double)train.Rows * epochs.Count / Math.Max(fit.Elapsed.TotalSeconds, 1e-9);
        using (torch.no_grad())
        {
            foreach (var (saved, parameter) in best.Zip(parameters))
            {
                parameter.copy_(saved);
                saved.Dispose();
            }
        }

        timings.Lap("fit");

        // What TorchSharp predicts for the validation split: the metrics, and the reference for parity.
        network.eval();
        var predictions = labels.Predict(network, xv, validation.Rows);
        var metrics = TaskMetrics.Compute(spec.Task, validation, predictions, labels.Classes, Enumerable.Range(0, validation.Rows).ToList());
        timings.Lap("validate");

        var layers = dense.Select(l => new DenseLayer((int)l.in_features, (int)l.out_features, l.weight!.cpu().data<float>().ToArray(), l.bias!.cpu().data<float>().ToArray())).ToList();
        var onnx = MlpOnnx.Export(spec, preprocessor, layers, labels.Classes, labels.Target, TrainingJobRunner.TrainerVersion);
        timings.Lap("export");
        var parity = CheckParity(spec, onnx, validation, predictions);
        timings.Lap("parity");
        return new TrainedModel(onnx, metrics, parity, timings.Seconds, device.Name, rowsPerSecond);
    }

    private static double TopTwoGap(ModelPrediction prediction)
    {
        var top = prediction.Probabilities!.OrderDescending().Take(2).ToArray();
        return top.Length < 2 ? double.PositiveInfinity : top[0] - top[1];
    }

    /// <summary>The validation loss and metric with the network in evaluation mode (no dropout).</summary>
    private static (double Loss, double Metric) Check(nn.Module<Tensor, Tensor> network, MlpLabels labels, Tensor x, Tensor y)
    {
        network.eval();
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var output = network.forward(x);
        return (labels.Loss(output, y).item<float>(), labels.Metric(output, y));
    }

    private static LabeledBatch Read(string csv, ModelSpec spec)
    {
        using var reader = new StreamReader(csv);
        var batch = LabeledBatch.ReadCsv(reader, spec);
        return batch.Rows > 0 ? batch : throw new TrainingFailedException($"{Path.GetFileName(csv)} has no rows.");
    }

    /// <summary>
    /// ONNX Runtime on the first validation rows against TorchSharp: probability (or score, or value)
    /// and label. A label counts as different only where TorchSharp's own margin is wider than the
    /// tolerance: a logit within it of 0, or two classes within it of each other, may fall either
    /// way in float32 sums taken in another order (cuBLAS against ONNX Runtime's CPU kernels).
    /// </summary>
    private static OnnxParity CheckParity(ModelSpec spec, byte[] onnx, LabeledBatch validation, IReadOnlyList<ModelPrediction> expected)
    {
        var rows = Math.Min(validation.Rows, TabularTrainer.ParitySampleRows);
        var sample = validation.Features.Slice(0, rows);

        using var model = new OnnxModel(onnx, spec);
        var actual = model.Predict(sample);
        return spec.Task switch
        {
            ModelTasks.Regression => TabularTrainer.Compare(actual.Count, rows, i => [expected[i].Score], i => [actual[i].Score], _ => true),
            ModelTasks.Multiclass => TabularTrainer.Compare(
                actual.Count, rows, i => [.. expected[i].Probabilities!], i => [.. actual[i].Probabilities!], i => actual[i].Class == expected[i].Class || TopTwoGap(expected[i]) <= TabularTrainer.ParityTolerance),
            _ => TabularTrainer.Compare(
                actual.Count, rows, i => [expected[i].Probability], i => [actual[i].Probability], i => actual[i].Label == expected[i].Label || Math.Abs(expected[i].Score) <= TabularTrainer.ParityTolerance),
        };
    }
}
