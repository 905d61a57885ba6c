using System.Globalization;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Serverless.Lifecycle.Evaluation;
using Serverless.Lifecycle.Scoring;
using Serverless.Lifecycle.Specs;
using Serverless.Tests;

namespace Serverless.Lifecycle.Tests.Scoring;

/// <summary>
/// A graph made outside the product (tests/Fixtures/imported: scikit-learn, written by the script
/// beside it) fits the churn spec once its output map names scikit-learn's outputs, and ONNX Runtime
/// scores it as scikit-learn does; a graph that does not fit is refused with each problem named.
/// </summary>
public sealed class ImportedGraphTests
{
    private static readonly string Fixtures = Path.Combine(RepoPaths.Root, "tests", "Fixtures", "imported");

    private static readonly OnnxOutputMap SklearnMap = new(Label: "output_label", Probability: "output_probability");

    private static ModelSpec SampleSpec() => ModelSpecValidator.Parse(File.ReadAllText(RepoPaths.SampleSpec)).Spec!;

    private static byte[] Fixture(string name) => File.ReadAllBytes(Path.Combine(Fixtures, name));

    private static byte[] Mapped(string name) => OnnxMetadata.With(Fixture(name), OnnxMetadata.Outputs, JsonSerializer.Serialize(SklearnMap, OnnxOutputMap.Json));

    private static IReadOnlyList<SpecProblem> Problems(byte[] onnx, ModelSpec spec)
    {
        using var session = new InferenceSession(onnx);
        return OnnxContract.Check(session, spec).Problems;
    }

    [Fact]
    public void TheScikitLearnGraph_WithItsOutputMap_ScoresAsScikitLearnDoes()
    {
        var spec = SampleSpec();
        using var model = new OnnxModel(Mapped("churn-sklearn.onnx"), spec);
        using var reader = new StreamReader(Path.Combine(RepoPaths.Root, "samples", "churn", "churn.csv"));
        var batch = LabeledBatch.ReadCsv(reader, spec, maxRows: 20);
        var expected = File.ReadAllLines(Path.Combine(Fixtures, "churn-sklearn.expected.csv")).Skip(1)
            .Select(l => double.Parse(l.Split(',')[1], CultureInfo.InvariantCulture)).ToArray();

        var predictions = model.Predict(batch.Features);

        Assert.Equal(expected.Length, predictions.Count);
        for (var row = 0; row < expected.Length; row++)
        {
            Assert.True(Math.Abs(predictions[row].Probability - expected[row]) < 1e-5, $"row {row}: ONNX Runtime {predictions[row].Probability}, scikit-learn {expected[row]}");
            Assert.Equal(expected[row] > 0.5, predictions[row].Label);
        }
    }

    [Fact]
    public void TheScikitLearnGraph_HasAPermutationImportance_ForEveryFeature()
    {
        var spec = SampleSpec();
        using var model = new OnnxModel(Mapped("churn-sklearn.onnx"), spec);
        using var reader = new StreamReader(Path.Combine(RepoPaths.Root, "samples", "churn", "churn.csv"));

        var report = PermutationImportance.Compute(model, LabeledBatch.ReadCsv(reader, spec), new ImportanceSpec(), seed: 1)!;

        Assert.Equal(spec.Features.Select(f => f.Name).Order(), report.Features.Select(f => f.Feature).Order());
        Assert.Equal(1.0, report.Features.Sum(f => f.Share), 6);
        Assert.True(report.Features[0].Drop > 0.01, report.Describe());
        Assert.Equal(report.Features.OrderByDescending(f => f.Drop).Select(f => f.Feature), report.Features.Select(f => f.Feature));
    }

    [Fact]
    public void TheScikitLearnGraph_IsGoodOnTheSample_ByTheProductsOwnEvaluator()
    {
        var spec = SampleSpec();
        using var model = new OnnxModel(Mapped("churn-sklearn.onnx"), spec);
        using var reader = new StreamReader(Path.Combine(RepoPaths.Root, "samples", "churn", "churn.csv"));

        var evaluated = ModelEvaluator.Evaluate(model, LabeledBatch.ReadCsv(reader, spec), slices: null);

        Assert.InRange(evaluated.Metrics[MetricNames.Auc], 0.75, 1.0);
    }

    [Fact]
    public void WithoutAnOutputMap_TheGraphIsRefused_NamingTheOutputsItLacks()
    {
        var problems = Problems(Fixture("churn-sklearn.onnx"), SampleSpec());

        Assert.Equal(new[] { "outputs.label", "outputs.probability", "outputs.score" }, problems.Select(p => p.Path).Order(StringComparer.Ordinal));
        Assert.Contains("output_label, output_probability", problems[0].Message, StringComparison.Ordinal);
        Assert.Contains("output map", problems[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AMismatchedGraph_IsRefused_WithEachInputAndOutputThatIsWrong()
    {
        var onnx = OnnxMetadata.With(Fixture("churn-mismatch.onnx"), OnnxMetadata.Outputs, """{"label": "output_label", "probability": "output_probability_map"}""");

        var problems = Problems(onnx, SampleSpec()).ToDictionary(p => p.Path, p => p.Message);

        Assert.Equal(new[] { "inputs.support_calls", "inputs.tenure", "inputs.tenure_months", "outputs.probability" }, problems.Keys.Order(StringComparer.Ordinal));
        Assert.Contains("no input 'tenure_months'", problems["inputs.tenure_months"], StringComparison.Ordinal);
        Assert.Contains("int64", problems["inputs.support_calls"], StringComparison.Ordinal);
        Assert.Contains("not a feature of the spec", problems["inputs.tenure"], StringComparison.Ordinal);
        Assert.Contains("zipmap", problems["outputs.probability"], StringComparison.Ordinal);
        var loading = Assert.Throws<InvalidDataException>(() => new OnnxModel(onnx, SampleSpec()));
        Assert.Contains("inputs.tenure_months", loading.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AGraphForAnotherTask_IsRefused_NamingWhatThatTaskNeeds()
    {
        var spec = SampleSpec() with { Task = ModelTasks.Regression };

        var problems = Problems(Mapped("churn-sklearn.onnx"), spec);

        var score = Assert.Single(problems);
        Assert.Equal("outputs.score", score.Path);
        Assert.Contains("regression model needs its score", score.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SettingMetadata_ReplacesAnEarlierValue_AndLeavesTheGraphAlone()
    {
        var once = OnnxMetadata.With(Fixture("churn-sklearn.onnx"), "k", "1");
        var twice = OnnxMetadata.With(once, "k", "2");

        using var session = new InferenceSession(twice);
        Assert.Equal("2", session.ModelMetadata.CustomMetadataMap["k"]);
        Assert.Equal(new[] { "contract", "internet_service", "monthly_charges", "payment_method", "support_calls", "tenure_months" }, session.InputMetadata.Keys.Order(StringComparer.Ordinal));
        Assert.Throws<InvalidDataException>(() => OnnxMetadata.With("not a model"u8.ToArray(), "k", "v"));
    }
}
