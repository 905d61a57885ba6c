using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;
using Microsoft.ML.Trainers.FastTree;
using Microsoft.ML.Trainers.LightGbm;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Evaluation;
using Serverless.Lifecycle.Serving;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Training;

namespace Serverless.Trainer;

/// <summary>What training produced: the ONNX bytes, validation metrics, and the parity check.</summary>
/// <param name="Timings">Seconds per phase: load, fit, validate, export, parity.</param>
public sealed record TrainedModel(
    byte[] Onnx, IReadOnlyDictionary<string, double> ValidationMetrics, OnnxParity Parity, ITransformer Transformer, MLContext Context, IReadOnlyDictionary<string, double> Timings);

/// <summary>
/// Trains a binary classifier with ML.NET (LightGBM, FastTree or SDCA logistic regression), using
/// only transforms that export to ONNX (mean imputation for numbers, one-hot for categories, and
/// min-max normalization for the linear model), exports it with a label-less schema and named
/// outputs, and checks that ONNX Runtime reproduces ML.NET's predictions. Every trainer runs on
/// one thread so the same data, spec and seed give the same model on any machine.
/// </summary>
public static class TabularTrainer
{
    public const double ParityTolerance = 1e-5;

    /// <summary>Parity is checked on the first rows of the validation split, at most this many.</summary>
    public const int ParitySampleRows = 10_000;
    private const string FeaturesColumn = "Features";

    public static TrainedModel Train(ModelSpec spec, string trainCsv, string validationCsv)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var timings = new PhaseTimer();
        var ml = new MLContext(seed: spec.Trainer.Seed);
        var withLabel = CreateLoader(ml, spec, trainCsv, includeLabel: true);
        var withoutLabel = CreateLoader(ml, spec, trainCsv, includeLabel: false);
        var train = withLabel.Load(trainCsv);
        var validation = withLabel.Load(validationCsv);

        var labels = train.GetColumn<bool>(spec.Label).ToArray();
        if (labels.Length == 0 || labels.All(l => l) || !labels.Any(l => l))
        {
            throw new TrainingFailedException(
                $"The training split has {labels.Length} row(s) and only one class of '{spec.Label}'; a binary model needs both.");
        }

        var pipeline = BuildPipeline(ml, spec);
        timings.Lap("load");
        var model = pipeline.Fit(train);
        timings.Lap("fit");

        var scored = model.Transform(validation);
        var metrics = ml.BinaryClassification.Evaluate(scored, labelColumnName: spec.Label);
        var validationMetrics = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            ["auc"] = metrics.AreaUnderRocCurve,
            ["accuracy"] = metrics.Accuracy,
            ["f1"] = metrics.F1Score,
            ["logLoss"] = metrics.LogLoss,
        };

        timings.Lap("validate");
        var onnx = Export(ml, model, withoutLabel.Load(validationCsv));
        timings.Lap("export");
        var parity = CheckParity(spec, scored, onnx, validationCsv);
        timings.Lap("parity");
        return new TrainedModel(onnx, validationMetrics, parity, model, ml, timings.Seconds);
    }

    private static IEstimator<ITransformer> BuildPipeline(MLContext ml, ModelSpec spec)
    {
        IEstimator<ITransformer> pipeline = new EstimatorChain<ITransformer>();
        var parts = new List<string>();
        foreach (var feature in spec.Features)
        {
            var output = feature.Name + "__prepared";
            pipeline = feature.IsNumeric
                ? pipeline.Append(ml.Transforms.ReplaceMissingValues(output, feature.Name, Microsoft.ML.Transforms.MissingValueReplacingEstimator.ReplacementMode.Mean))
                : pipeline.Append(ml.Transforms.Categorical.OneHotEncoding(output, feature.Name));
            parts.Add(output);
        }

        var features = pipeline.Append(ml.Transforms.Concatenate(FeaturesColumn, parts.ToArray()));
        var hyper = spec.Trainer.Hyperparameters;
        return spec.Trainer.Algorithm switch
        {
            TrainerAlgorithms.LightGbm => features.Append(ml.BinaryClassification.Trainers.LightGbm(new LightGbmBinaryTrainer.Options
            {
                LabelColumnName = spec.Label,
                FeatureColumnName = FeaturesColumn,
                NumberOfLeaves = (int)Get(hyper, "numberOfLeaves", 31),
                NumberOfIterations = (int)Get(hyper, "numberOfIterations", 100),
                LearningRate = Get(hyper, "learningRate", 0.1),
                MinimumExampleCountPerLeaf = (int)Get(hyper, "minimumExampleCountPerLeaf", 20),
                Seed = spec.Trainer.Seed,
                Silent = true,
                NumberOfThreads = 1,

                // LightGBM's own categorical splits (which ML.NET turns on for one-hot slots) export
                // to ONNX as branches on feature -1, which ONNX Runtime refuses to load. Splits on
                // the one-hot columns export correctly.
                UseCategoricalSplit = false,
            })),
            TrainerAlgorithms.FastTree => features.Append(ml.BinaryClassification.Trainers.FastTree(new FastTreeBinaryTrainer.Options
            {
                LabelColumnName = spec.Label,
                FeatureColumnName = FeaturesColumn,
                NumberOfLeaves = (int)Get(hyper, "numberOfLeaves", 20),
                NumberOfTrees = (int)Get(hyper, "numberOfTrees", 100),
                LearningRate = Get(hyper, "learningRate", 0.2),
                MinimumExampleCountPerLeaf = (int)Get(hyper, "minimumExampleCountPerLeaf", 10),
                Seed = spec.Trainer.Seed,
                NumberOfThreads = 1,
            })),

            // A linear model needs features on one scale; min-max normalization exports to ONNX as a Scaler.
            TrainerAlgorithms.Sdca => features
                .Append(ml.Transforms.NormalizeMinMax(FeaturesColumn))
                .Append(ml.BinaryClassification.Trainers.SdcaLogisticRegression(new SdcaLogisticRegressionBinaryTrainer.Options
                {
                    LabelColumnName = spec.Label,
                    FeatureColumnName = FeaturesColumn,
                    L2Regularization = (float?)GetOptional(hyper, "l2Regularization"),
                    L1Regularization = (float?)GetOptional(hyper, "l1Regularization"),
                    MaximumNumberOfIterations = (int?)GetOptional(hyper, "maximumNumberOfIterations"),
                    NumberOfThreads = 1,
                })),
            var other => throw new TrainingFailedException($"Algorithm '{other}' is not one this trainer knows ({string.Join(", ", TrainerAlgorithms.Hyperparameters.Keys)})."),
        };
    }

    private static byte[] Export(MLContext ml, ITransformer model, IDataView labelFreeSchema)
    {
        // A schema without the label and explicitly named outputs: otherwise the graph demands a label input.
        using var stream = new MemoryStream();
        ml.Model.ConvertToOnnx(model, labelFreeSchema, stream, OnnxOutputs.PredictedLabel, OnnxOutputs.Probability, OnnxOutputs.Score);
        return stream.ToArray();
    }

    private static OnnxParity CheckParity(ModelSpec spec, IDataView scored, byte[] onnx, string validationCsv)
    {
        var expectedProbability = scored.GetColumn<float>(OnnxOutputs.Probability).Take(ParitySampleRows).ToArray();
        var expectedLabel = scored.GetColumn<bool>(OnnxOutputs.PredictedLabel).Take(ParitySampleRows).ToArray();
        LabeledBatch batch;
        using (var reader = new StreamReader(validationCsv))
        {
            batch = LabeledBatch.ReadCsv(reader, spec, ParitySampleRows);
        }

        using var session = new OnnxModel(onnx, spec);
        var actual = session.Predict(batch.Features);
        var maxDifference = 0.0;
        var labelsIdentical = actual.Count == expectedLabel.Length;
        for (var i = 0; i < Math.Min(actual.Count, expectedLabel.Length); i++)
        {
            maxDifference = Math.Max(maxDifference, Math.Abs(actual[i].Probability - expectedProbability[i]));
            labelsIdentical &= actual[i].Label == expectedLabel[i];
        }

        return new OnnxParity(actual.Count, maxDifference, labelsIdentical);
    }

    /// <summary>A loader for a split in this spec's schema (with or without the label column).</summary>
    public static TextLoader CreateLoader(MLContext ml, ModelSpec spec, string csv, bool includeLabel)
    {
        var header = ReadHeader(csv);
        var columns = new List<TextLoader.Column>();
        foreach (var feature in spec.Features)
        {
            columns.Add(new TextLoader.Column(feature.Name, feature.IsNumeric ? DataKind.Single : DataKind.String, IndexOf(header, feature.Name)));
        }

        if (includeLabel)
        {
            columns.Add(new TextLoader.Column(spec.Label, DataKind.Boolean, IndexOf(header, spec.Label)));
        }

        return ml.Data.CreateTextLoader(new TextLoader.Options
        {
            Columns = columns.ToArray(),
            HasHeader = true,
            Separators = [','],
            AllowQuoting = true,
            ReadMultilines = true,
            MissingRealsAsNaNs = true,
        });
    }

    private static string[] ReadHeader(string csv)
    {
        using var reader = new StreamReader(csv);
        var line = reader.ReadLine() ?? throw new InvalidDataException($"{csv} is empty.");
        return line.TrimStart('\uFEFF').Split(',').Select(c => c.Trim().Trim('"')).ToArray();
    }

    private static int IndexOf(string[] header, string column)
    {
        var index = Array.IndexOf(header, column);
        return index >= 0 ? index : throw new InvalidDataException($"Column '{column}' is not in the split's header.");
    }

    private static double Get(IReadOnlyDictionary<string, double> hyper, string name, double fallback) =>
        hyper.TryGetValue(name, out var value) ? value : fallback;

    private static double? GetOptional(IReadOnlyDictionary<string, double> hyper, string name) =>
        hyper.TryGetValue(name, out var value) ? value : null;
}

/// <summary>Training cannot succeed with this input; reported as a failed job, not retried.</summary>
public sealed class TrainingFailedException(string message) : Exception(message);
