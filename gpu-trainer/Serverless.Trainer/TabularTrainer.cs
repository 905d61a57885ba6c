using System.Globalization;
using System.Text.Json;
using Google.Protobuf;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.Trainers;
using Microsoft.ML.Trainers.FastTree;
using Microsoft.ML.Trainers.LightGbm;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Evaluation;
using Serverless.Lifecycle.Scoring;
using Serverless.Lifecycle.Serving;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Training;

namespace Serverless.Trainer;

/// <summary>What ML.NET training produced: the model itself besides what every trainer reports.</summary>
public sealed record MlNetTrainedModel(
    byte[] Onnx,
    IReadOnlyDictionary<string, double> ValidationMetrics,
    OnnxParity Parity,
    IReadOnlyDictionary<string, double> Timings,
    double TrainingRowsPerSecond,
    ITransformer Transformer,
    MLContext Context) : TrainedModel(Onnx, ValidationMetrics, Parity, Timings, TrainedModel.CpuDevice, TrainingRowsPerSecond);

/// <summary>The ML.NET algorithms (<see cref="TabularTrainer"/>) behind the trainer interface.</summary>
public sealed class MlNetTrainer : IAlgorithmTrainer
{
    public IReadOnlySet<string> Algorithms { get; } = new HashSet<string>(StringComparer.Ordinal) { TrainerAlgorithms.LightGbm, TrainerAlgorithms.FastTree, TrainerAlgorithms.Sdca };

    public TrainedModel Train(ModelSpec spec, string trainCsv, string validationCsv, LabelFacts? checkedLabels, IProgress<TrainingProgress>? progress) =>
        TabularTrainer.Train(spec, trainCsv, validationCsv, checkedLabels);
}

/// <summary>
/// Trains a binary classifier, a multiclass classifier or a regression model with ML.NET
/// (LightGBM, FastTree or SDCA, as <see cref="TrainerAlgorithms.Tasks"/> allows), using only
/// transforms that export to ONNX (mean imputation for numbers, one-hot for categories, min-max
/// normalization for the linear models), exports it with a label-less schema and named outputs
/// (<see cref="Outputs"/>), and checks that ONNX Runtime reproduces ML.NET's predictions. Every
/// trainer runs on one thread so the same data, spec and seed give the same model on any machine.
/// </summary>
public static class TabularTrainer
{
    public const double ParityTolerance = 1e-5;

    /// <summary>Parity is checked on the first rows of the validation split, at most this many.</summary>
    public const int ParitySampleRows = 10_000;
    private const string FeaturesColumn = "Features";

    /// <summary>
    /// Trains and exports <paramref name="spec"/>'s model. With <paramref name="checkedLabels"/> (the
    /// training split's labels as the pipeline counted and checked them) the split is not read once
    /// more just to check its labels before the fit reads it.
    /// </summary>
    public static MlNetTrainedModel Train(ModelSpec spec, string trainCsv, string validationCsv, LabelFacts? checkedLabels = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var timings = new PhaseTimer();
        var ml = new MLContext(seed: spec.Trainer.Seed);
        var withLabel = CreateLoader(ml, spec, trainCsv, includeLabel: true);
        var withoutLabel = CreateLoader(ml, spec, trainCsv, includeLabel: false);
        var train = withLabel.Load(trainCsv);
        var validation = withLabel.Load(validationCsv);
        var rows = checkedLabels?.Rows ?? CheckLabels(spec, train);

        // Multiclass labels become keys before training, outside the exported graph, which has no label.
        ITransformer? labelKeys = null;
        IReadOnlyList<string> classes = [];
        if (spec.Task == ModelTasks.Multiclass)
        {
            labelKeys = ml.Transforms.Conversion.MapValueToKey(spec.Label).Fit(train);
            train = labelKeys.Transform(train);
            validation = labelKeys.Transform(validation);
            classes = ClassNames(train.Schema[spec.Label]);
        }

        var pipeline = BuildPipeline(ml, spec);
        timings.Lap("load");
        var model = pipeline.Fit(train);
        var rowsPerSecond = rows / Math.Max(timings.Elapsed.TotalSeconds, 1e-9);
        timings.Lap("fit");

        var scored = model.Transform(validation);
        var validationMetrics = Evaluate(ml, spec, scored);
        timings.Lap("validate");

        // The exported multiclass model answers with the label's own values, not key numbers.
        ITransformer exported = labelKeys is null
            ? model
            : new TransformerChain<ITransformer>(model, ml.Transforms.Conversion.MapKeyToValue(OnnxOutputs.PredictedLabel).Fit(scored));
        var onnx = Export(ml, exported, withoutLabel.Load(validationCsv), spec.Task, classes);
        timings.Lap("export");
        var parity = CheckParity(spec, exported.Transform(withoutLabel.Load(validationCsv)), onnx, validationCsv);
        timings.Lap("parity");
        return new MlNetTrainedModel(onnx, validationMetrics, parity, timings.Seconds, rowsPerSecond, exported, ml);
    }

    /// <summary>Checks that the training split's labels can train the task; returns its row count.</summary>
    private static int CheckLabels(ModelSpec spec, IDataView train)
    {
        switch (spec.Task)
        {
            case ModelTasks.Multiclass:
                var names = train.GetColumn<ReadOnlyMemory<char>>(spec.Label).Select(l => l.ToString()).ToList();
                TrainingLabels.CheckMulticlass(spec.Label, names.Distinct(StringComparer.Ordinal).Count());
                return names.Count;
            case ModelTasks.Regression:
                var values = train.GetColumn<float>(spec.Label).ToArray();
                TrainingLabels.CheckRegression(spec.Label, values);
                return values.Length;
            default:
                var labels = train.GetColumn<bool>(spec.Label).ToArray();
                TrainingLabels.CheckBinary(spec.Label, labels);
                return labels.Length;
        }
    }

    /// <summary>The task's validation metrics by ML.NET's evaluators, under <see cref="MetricNames"/>.</summary>
    private static Dictionary<string, double> Evaluate(MLContext ml, ModelSpec spec, IDataView scored)
    {
        switch (spec.Task)
        {
            case ModelTasks.Multiclass:
                var multiclass = ml.MulticlassClassification.Evaluate(scored, labelColumnName: spec.Label);
                return new(StringComparer.Ordinal)
                {
                    [MetricNames.MacroAccuracy] = multiclass.MacroAccuracy,
                    [MetricNames.MicroAccuracy] = multiclass.MicroAccuracy,
                    [MetricNames.LogLoss] = multiclass.LogLoss,
                };
            case ModelTasks.Regression:
                var regression = ml.Regression.Evaluate(scored, labelColumnName: spec.Label);
                return new(StringComparer.Ordinal)
                {
                    [MetricNames.Rmse] = regression.RootMeanSquaredError,
                    [MetricNames.Mae] = regression.MeanAbsoluteError,
                    [MetricNames.R2] = regression.RSquared,
                };
            default:
                var binary = ml.BinaryClassification.Evaluate(scored, labelColumnName: spec.Label);
                return new(StringComparer.Ordinal)
                {
                    [MetricNames.Auc] = binary.AreaUnderRocCurve,
                    [MetricNames.Accuracy] = binary.Accuracy,
                    [MetricNames.F1] = binary.F1Score,
                    [MetricNames.LogLoss] = binary.LogLoss,
                };
        }
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
        var (label, seed) = (spec.Label, spec.Trainer.Seed);

        // LightGBM's own categorical splits (which ML.NET turns on for one-hot slots) export to
        // ONNX as branches on feature -1, which ONNX Runtime refuses to load; splits on the
        // one-hot columns export correctly. Every trainer runs on one thread for reproducibility.
        // Unset hyperparameters take the defaults the spec's rules name (TrainerAlgorithms.Rules).
        double Get(string algorithm, string name) => TrainerAlgorithms.Value(algorithm, hyper, name)!.Value;
        var (leaves, iterations, rate, minLeaf) = (
            (int)Get(TrainerAlgorithms.LightGbm, "numberOfLeaves"), (int)Get(TrainerAlgorithms.LightGbm, "numberOfIterations"),
            Get(TrainerAlgorithms.LightGbm, "learningRate"), (int)Get(TrainerAlgorithms.LightGbm, "minimumExampleCountPerLeaf"));
        var (treeLeaves, trees, treeRate, treeMinLeaf) = (
            (int)Get(TrainerAlgorithms.FastTree, "numberOfLeaves"), (int)Get(TrainerAlgorithms.FastTree, "numberOfTrees"),
            Get(TrainerAlgorithms.FastTree, "learningRate"), (int)Get(TrainerAlgorithms.FastTree, "minimumExampleCountPerLeaf"));
        var (l2, l1, passes) = (
            (float?)TrainerAlgorithms.Value(TrainerAlgorithms.Sdca, hyper, "l2Regularization"), (float?)TrainerAlgorithms.Value(TrainerAlgorithms.Sdca, hyper, "l1Regularization"),
            (int?)TrainerAlgorithms.Value(TrainerAlgorithms.Sdca, hyper, "maximumNumberOfIterations"));

        // A linear model needs features on one scale; min-max normalization exports to ONNX as a Scaler.
        var normalized = features.Append(ml.Transforms.NormalizeMinMax(FeaturesColumn));
        IEstimator<ITransformer> trainer = (spec.Task, spec.Trainer.Algorithm) switch
        {
            (ModelTasks.Binary, TrainerAlgorithms.LightGbm) => features.Append(ml.BinaryClassification.Trainers.LightGbm(new LightGbmBinaryTrainer.Options
            {
                LabelColumnName = label, FeatureColumnName = FeaturesColumn, NumberOfLeaves = leaves, NumberOfIterations = iterations, LearningRate = rate,
                MinimumExampleCountPerLeaf = minLeaf, Seed = seed, Silent = true, NumberOfThreads = 1, UseCategoricalSplit = false,
            })),
            (ModelTasks.Multiclass, TrainerAlgorithms.LightGbm) => features.Append(ml.MulticlassClassification.Trainers.LightGbm(new LightGbmMulticlassTrainer.Options
            {
                LabelColumnName = label, FeatureColumnName = FeaturesColumn, NumberOfLeaves = leaves, NumberOfIterations = iterations, LearningRate = rate,
                MinimumExampleCountPerLeaf = minLeaf, Seed = seed, Silent = true, NumberOfThreads = 1, UseCategoricalSplit = false,
            })),
            (ModelTasks.Regression, TrainerAlgorithms.LightGbm) => features.Append(ml.Regression.Trainers.LightGbm(new LightGbmRegressionTrainer.Options
            {
                LabelColumnName = label, FeatureColumnName = FeaturesColumn, NumberOfLeaves = leaves, NumberOfIterations = iterations, LearningRate = rate,
                MinimumExampleCountPerLeaf = minLeaf, Seed = seed, Silent = true, NumberOfThreads = 1, UseCategoricalSplit = false,
            })),
            (ModelTasks.Binary, TrainerAlgorithms.FastTree) => features.Append(ml.BinaryClassification.Trainers.FastTree(new FastTreeBinaryTrainer.Options
            {
                LabelColumnName = label, FeatureColumnName = FeaturesColumn, NumberOfLeaves = treeLeaves, NumberOfTrees = trees, LearningRate = treeRate,
                MinimumExampleCountPerLeaf = treeMinLeaf, Seed = seed, NumberOfThreads = 1,
            })),
            (ModelTasks.Regression, TrainerAlgorithms.FastTree) => features.Append(ml.Regression.Trainers.FastTree(new FastTreeRegressionTrainer.Options
            {
                LabelColumnName = label, FeatureColumnName = FeaturesColumn, NumberOfLeaves = treeLeaves, NumberOfTrees = trees, LearningRate = treeRate,
                MinimumExampleCountPerLeaf = treeMinLeaf, Seed = seed, NumberOfThreads = 1,
            })),
            (ModelTasks.Binary, TrainerAlgorithms.Sdca) => normalized.Append(ml.BinaryClassification.Trainers.SdcaLogisticRegression(new SdcaLogisticRegressionBinaryTrainer.Options
            {
                LabelColumnName = label, FeatureColumnName = FeaturesColumn, L2Regularization = l2, L1Regularization = l1, MaximumNumberOfIterations = passes, NumberOfThreads = 1,
            })),
            (ModelTasks.Multiclass, TrainerAlgorithms.Sdca) => normalized.Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy(new SdcaMaximumEntropyMulticlassTrainer.Options
            {
                LabelColumnName = label, FeatureColumnName = FeaturesColumn, L2Regularization = l2, L1Regularization = l1, MaximumNumberOfIterations = passes, NumberOfThreads = 1,
            })),
            (ModelTasks.Regression, TrainerAlgorithms.Sdca) => normalized.Append(ml.Regression.Trainers.Sdca(new SdcaRegressionTrainer.Options
            {
                LabelColumnName = label, FeatureColumnName = FeaturesColumn, L2Regularization = l2, L1Regularization = l1, MaximumNumberOfIterations = passes, NumberOfThreads = 1,
            })),
            var (task, algorithm) => throw new TrainingFailedException(
                TrainerAlgorithms.Supports(algorithm, task) ? $"No trainer for {algorithm} on {task}." : $"Algorithm '{algorithm}' does not train {task} models; {TrainerAlgorithms.Describe(task)}."),
        };
        return trainer;
    }

    /// <summary>The graph's named outputs: what serving reads for each task.</summary>
    public static string[] Outputs(string task) => OnnxModel.Outputs(task);

    /// <summary>The classes of a key-typed label column, in key order: the order of the multiclass score vector.</summary>
    private static string[] ClassNames(DataViewSchema.Column label)
    {
        VBuffer<ReadOnlyMemory<char>> keys = default;
        label.GetKeyValues(ref keys);
        return keys.DenseValues().Select(k => k.ToString()).ToArray();
    }

    private static byte[] Export(MLContext ml, ITransformer model, IDataView labelFreeSchema, string task, IReadOnlyList<string> classes)
    {
        // A schema without the label and explicitly named outputs: otherwise the graph demands a label input.
        using var stream = new MemoryStream();
        ml.Model.ConvertToOnnx(model, labelFreeSchema, stream, Outputs(task));

        // The graph says what it predicts (OnnxMetadata): serving reads the task and the classes from it.
        var proto = Onnx.ModelProto.Parser.ParseFrom(stream.ToArray());
        proto.MetadataProps.Add(new Onnx.StringStringEntryProto { Key = OnnxMetadata.Task, Value = task });
        if (classes.Count > 0)
        {
            proto.MetadataProps.Add(new Onnx.StringStringEntryProto { Key = OnnxMetadata.Classes, Value = JsonSerializer.Serialize(classes) });
        }

        return proto.ToByteArray();
    }

    /// <summary>
    /// Scores the first rows of the validation split with ONNX Runtime and compares with ML.NET:
    /// the probability (binary), every class score (multiclass) or the value (regression), and the
    /// predicted labels.
    /// </summary>
    private static OnnxParity CheckParity(ModelSpec spec, IDataView scored, byte[] onnx, string validationCsv)
    {
        LabeledBatch batch;
        using (var reader = new StreamReader(validationCsv))
        {
            batch = LabeledBatch.ReadCsv(reader, spec, ParitySampleRows, readLabels: false);
        }

        using var model = new OnnxModel(onnx, spec);
        var actual = model.Predict(batch.Features);
        switch (spec.Task)
        {
            case ModelTasks.Regression:
                var expectedValue = scored.GetColumn<float>(OnnxOutputs.Score).Take(ParitySampleRows).ToArray();
                return Compare(actual.Count, expectedValue.Length, i => [expectedValue[i]], i => [actual[i].Score], _ => true);
            case ModelTasks.Multiclass:
                var expectedScores = scored.GetColumn<VBuffer<float>>(OnnxOutputs.Score).Take(ParitySampleRows).Select(v => v.DenseValues().ToArray()).ToArray();
                var expectedClasses = scored.GetColumn<ReadOnlyMemory<char>>(OnnxOutputs.PredictedLabel).Take(ParitySampleRows).Select(l => l.ToString()).ToArray();
                return Compare(actual.Count, expectedClasses.Length, i => expectedScores[i], i => [.. actual[i].Probabilities!], i => actual[i].Class == expectedClasses[i]);
            default:
                var expectedProbability = scored.GetColumn<float>(OnnxOutputs.Probability).Take(ParitySampleRows).ToArray();
                var expectedLabel = scored.GetColumn<bool>(OnnxOutputs.PredictedLabel).Take(ParitySampleRows).ToArray();
                return Compare(actual.Count, expectedLabel.Length, i => [expectedProbability[i]], i => [actual[i].Probability], i => expectedLabel[i] == actual[i].Label);
        }
    }

    /// <summary>Parity over the rows both sides scored: the largest difference (relative beyond 1) and whether every label matched.</summary>
    public static OnnxParity Compare(int actualRows, int expectedRows, Func<int, float[]> expected, Func<int, float[]> actual, Func<int, bool> sameLabel)
    {
        var maxDifference = 0.0;
        var labelsIdentical = actualRows == expectedRows;
        for (var i = 0; i < Math.Min(actualRows, expectedRows); i++)
        {
            var (e, a) = (expected(i), actual(i));
            labelsIdentical &= e.Length == a.Length && sameLabel(i);
            for (var k = 0; k < Math.Min(e.Length, a.Length); k++)
            {
                // Absolute for probabilities and scores up to 1; relative beyond, as for a regression
                // value of 60, where float32 sums in another order differ in the seventh digit.
                maxDifference = Math.Max(maxDifference, Math.Abs(e[k] - a[k]) / Math.Max(1, Math.Abs(e[k])));
            }
        }

        return new OnnxParity(actualRows, maxDifference, labelsIdentical);
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
            var kind = spec.Task switch { ModelTasks.Regression => DataKind.Single, ModelTasks.Multiclass => DataKind.String, _ => DataKind.Boolean };
            columns.Add(new TextLoader.Column(spec.Label, kind, IndexOf(header, spec.Label)));
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
}

/// <summary>Training cannot succeed with this input; reported as a failed job, not retried.</summary>
public sealed class TrainingFailedException(string message) : Exception(message);
