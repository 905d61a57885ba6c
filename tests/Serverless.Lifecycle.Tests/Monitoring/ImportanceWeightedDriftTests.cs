using System.Globalization;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Data.Profiling;
using Serverless.Lifecycle.Evaluation;
using Serverless.Lifecycle.Monitoring;
using Serverless.Lifecycle.Scoring;
using Serverless.Lifecycle.Serving;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Tests.Evaluation;
using Serverless.Trainer;

namespace Serverless.Lifecycle.Tests.Monitoring;

/// <summary>
/// The drift report weighs the drifted features by the model's permutation importance: a LightGBM
/// model trained on <see cref="SignalData"/> relies on <c>signal</c> alone, so a window where only
/// <c>noise</c> drifts carries almost none of its importance, and one where <c>signal</c> drifts
/// carries most of it. With <c>drift.shareOf: importance</c> that share decides the window.
/// </summary>
public sealed class ImportanceWeightedDriftTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 7, 10, 0, 0, TimeSpan.Zero);
    private readonly DirectoryInfo folder = Directory.CreateTempSubdirectory("weighted-drift-");

    public void Dispose() => folder.Delete(recursive: true);

    private static readonly ModelSpec Spec = SignalData.Spec(ModelTasks.Binary, TrainerAlgorithms.LightGbm);

    /// <summary>The trained model's importance on its test split, and the training data's profile (the drift baseline).</summary>
    private async Task<(ImportanceReport Importance, DatasetProfile Baseline)> TrainAsync()
    {
        string Write(string name, int seed)
        {
            var path = Path.Combine(folder.FullName, name);
            File.WriteAllText(path, SignalData.Csv(Spec.Task, 2000, seed));
            return path;
        }

        var (train, validation, test) = (Write("train.csv", 1), Write("validation.csv", 2), Write("test.csv", 3));
        using var model = new OnnxModel(TabularTrainer.Train(Spec, train, validation).Onnx, Spec);
        using var reader = new StreamReader(test);
        var importance = PermutationImportance.Compute(model, LabeledBatch.ReadCsv(reader, Spec), new ImportanceSpec(), seed: 1)!;
        await using var data = File.OpenRead(train);
        var baseline = (await DatasetValidator.ValidateAsync(data, Spec, null, CancellationToken.None)).Profile!;
        return (importance, baseline);
    }

    private static DriftReport Window(ModelSpec spec, DatasetProfile baseline, ImportanceReport? importance, string shiftedFeature)
    {
        var window = new DriftWindow(spec, baseline);
        var lines = SignalData.Csv(spec.Task, 1000, seed: 9, shift: (shiftedFeature, 6)).Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1);
        foreach (var (line, i) in lines.Select((l, i) => (l, i)))
        {
            var fields = line.Split(',');
            var inputs = new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["noise"] = double.Parse(fields[0], CultureInfo.InvariantCulture),
                ["signal"] = double.Parse(fields[1], CultureInfo.InvariantCulture),
                ["color"] = fields[2],
            };
            window.Add(new PredictionRecord($"req-{i}", 0, T0.AddSeconds(i), spec.Name, 1, "champion", "predict", inputs, fields[3], 0.5, null, 1));
        }

        return window.Report(1, T0, T0.AddHours(1), importance);
    }

    private static ModelSpec ShareOf(string share) => Spec with { Drift = Spec.Drift with { ShareOf = share, DriftedShare = 0.3 } };

    [Fact]
    public async Task OnlyAnUnimportantFeatureDrifts_CarriesNearNoneOfTheImportance_AndDoesNotDriftByImportance()
    {
        var (importance, baseline) = await TrainAsync();
        Assert.Equal("signal", importance.Features[0].Feature);

        var byFeatures = Window(ShareOf(DriftShares.Features), baseline, importance, "noise");
        var byImportance = Window(ShareOf(DriftShares.Importance), baseline, importance, "noise");

        Assert.Equal(["noise"], byFeatures.Features.Where(f => f.Drifted).Select(f => f.Feature));
        Assert.Equal(1 / 3.0, byFeatures.DriftedShare, 9);
        Assert.InRange(byFeatures.ImportanceDriftedShare!.Value, 0, 0.05);
        Assert.Equal((DriftStatuses.Drift, DriftShares.Features), (byFeatures.Status, byFeatures.ShareOf));
        Assert.Equal((DriftStatuses.NoDrift, DriftShares.Importance), (byImportance.Status, byImportance.ShareOf));
        Assert.Contains("of the importance that makes the dataset drift", byImportance.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheImportantFeatureDrifts_CarriesMostOfTheImportance_AndDriftsByImportance()
    {
        var (importance, baseline) = await TrainAsync();

        var report = Window(ShareOf(DriftShares.Importance), baseline, importance, "signal");

        Assert.Contains(report.Features, f => f.Feature == "signal" && f.Drifted);
        Assert.DoesNotContain(report.Features, f => f.Feature == "noise" && f.Drifted);
        Assert.InRange(report.ImportanceDriftedShare!.Value, 0.8, 1.0);
        Assert.Equal((DriftStatuses.Drift, DriftShares.Importance), (report.Status, report.ShareOf));
        Assert.Contains("of the model's importance", report.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ByImportance_WithoutImportanceOnTheCard_FallsBackToTheShareOfFeatures_AndSaysSo()
    {
        var (_, baseline) = await TrainAsync();

        var report = Window(ShareOf(DriftShares.Importance), baseline, importance: null, "noise");

        Assert.Null(report.ImportanceDriftedShare);
        Assert.Equal((DriftStatuses.Drift, DriftShares.Features), (report.Status, report.ShareOf));
        Assert.Contains("has no feature importance, so the share of features decided", report.Summary, StringComparison.Ordinal);
    }
}
