using System.Globalization;
using System.Text;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Data.Profiling;
using Serverless.Lifecycle.Monitoring;
using Serverless.Lifecycle.Serving;
using Serverless.Lifecycle.Specs;
using Serverless.Samples.Churn;
using Serverless.Tests;

namespace Serverless.Lifecycle.Tests.Monitoring;

/// <summary>
/// Drift reports of windows of logged predictions against the profile of the training data: the
/// sample churn data as training data, then production traffic from the same generator, undrifted
/// or drifted (higher charges, more fiber).
/// </summary>
public sealed class DriftWindowTests
{
    private static readonly ModelSpec Spec = ModelSpecValidator.Parse(File.ReadAllText(RepoPaths.SampleSpec)).Spec!;
    private static readonly DateTimeOffset T0 = new(2026, 11, 26, 10, 0, 0, TimeSpan.Zero);

    private static async Task<DatasetProfile> BaselineAsync() =>
        (await DatasetValidator.ValidateAsync(new MemoryStream(Encoding.UTF8.GetBytes(ChurnDataGenerator.Generate(5000, seed: 1))), Spec, null, CancellationToken.None)).Profile!;

    /// <summary>Logged predictions for generated rows, as serving writes them.</summary>
    private static IEnumerable<PredictionRecord> Traffic(int rows, int seed, bool drifted)
    {
        var lines = ChurnDataGenerator.Generate(rows, seed, drifted).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var header = lines[0].Split(',');
        foreach (var (line, i) in lines.Skip(1).Select((l, i) => (l, i)))
        {
            var fields = line.Split(',');
            var inputs = new Dictionary<string, object?>(StringComparer.Ordinal);
            foreach (var feature in Spec.Features)
            {
                var text = fields[Array.IndexOf(header, feature.Name)];
                inputs[feature.Name] = feature.IsNumeric ? (text.Length == 0 ? null : double.Parse(text, CultureInfo.InvariantCulture)) : text;
            }

            yield return new PredictionRecord($"req-{seed}-{i}", 0, T0.AddSeconds(i), Spec.Name, 1, "champion", "predict", inputs, fields[^1], 0.5, null, 1);
        }
    }

    private static DriftReport Report(DatasetProfile baseline, IEnumerable<PredictionRecord> traffic, ModelSpec? spec = null)
    {
        var window = new DriftWindow(spec ?? Spec, baseline);
        foreach (var record in traffic)
        {
            window.Add(record);
        }

        return window.Report(1, T0, T0.AddHours(1));
    }

    [Fact]
    public async Task UndriftedTraffic_ReportsNoDrift()
    {
        var report = Report(await BaselineAsync(), Traffic(3000, seed: 2, drifted: false));

        Assert.Equal(DriftStatuses.NoDrift, report.Status);
        Assert.Equal(3000, report.Samples);
        Assert.Equal(Spec.Features.Count, report.Features.Count);
        Assert.All(report.Features, f => Assert.NotEmpty(f.Tests));
        Assert.False(report.Prediction!.Drifted);
    }

    [Fact]
    public async Task DriftedTraffic_NamesTheShiftedFeatures()
    {
        var report = Report(await BaselineAsync(), Traffic(3000, seed: 3, drifted: true));

        Assert.Equal(DriftStatuses.Drift, report.Status);
        var charges = report.Features.Single(f => f.Feature == "monthly_charges");
        Assert.True(charges.Drifted);
        Assert.Contains(charges.Tests, t => t.Test == DriftTests.KolmogorovSmirnov && t.PValue < 0.01);
        Assert.True(report.Features.Single(f => f.Feature == "internet_service").Drifted);
        Assert.Contains("monthly_charges", report.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FewPredictions_AreInsufficientData_NotNoDrift()
    {
        var report = Report(await BaselineAsync(), Traffic(50, seed: 4, drifted: true));

        Assert.Equal(DriftStatuses.InsufficientData, report.Status);
        Assert.Empty(report.Features);
        Assert.Contains("200 are needed", report.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PerFeatureOverride_ChangesOnlyItsOwnTests_AndKeepsTheGlobalThresholdForTheRest()
    {
        var lenient = Spec with
        {
            Drift = new DriftSpec
            {
                Thresholds = new Dictionary<string, double> { [DriftTests.Psi] = 0.15 },
                Features = new Dictionary<string, IReadOnlyDictionary<string, double>> { ["monthly_charges"] = new Dictionary<string, double> { [DriftTests.Psi] = 100 } },
            },
        };

        var report = Report(await BaselineAsync(), Traffic(3000, seed: 3, drifted: true), lenient);

        var charges = report.Features.Single(f => f.Feature == "monthly_charges");
        Assert.Equal(100, charges.Tests.Single(t => t.Test == DriftTests.Psi).Threshold);
        Assert.Equal(DriftTests.DefaultThresholds[DriftTests.KolmogorovSmirnov], charges.Tests.Single(t => t.Test == DriftTests.KolmogorovSmirnov).Threshold);
        Assert.Equal(0.15, report.Features.Single(f => f.Feature == "internet_service").Tests.Single(t => t.Test == DriftTests.Psi).Threshold);
    }

    [Fact]
    public async Task ProductionDataQuality_CountsMissingOutOfRangeAndUnseenValues()
    {
        var traffic = Traffic(400, seed: 5, drifted: false).Select((r, i) => i % 4 != 0 ? r : r with
        {
            Inputs = new Dictionary<string, object?>(r.Inputs) { ["tenure_months"] = i % 8 == 0 ? null : 9999.0, ["contract"] = "weekly" },
        });

        var report = Report(await BaselineAsync(), traffic);

        var tenure = report.Features.Single(f => f.Feature == "tenure_months");
        Assert.Equal((0.125, 0.125), (tenure.MissingRate, tenure.OutOfRangeRate));
        Assert.Equal(0.25, report.Features.Single(f => f.Feature == "contract").UnseenRate);
    }

    [Fact]
    public async Task Report_KeepsEachFeaturesWindowCountsNextToTheReferenceCounts_BinByBin()
    {
        var baseline = await BaselineAsync();
        var traffic = Traffic(600, seed: 6, drifted: true).Select((r, i) => i % 50 != 0 ? r : r with
        {
            Inputs = new Dictionary<string, object?>(r.Inputs) { ["contract"] = "weekly" },
        }).ToList();

        var report = Report(baseline, traffic);

        // Numeric: the training profile's edges and counts, and the window's values binned as the profile bins them.
        var histogram = baseline.Features["monthly_charges"].Numeric!.Histogram;
        var charges = report.Features.Single(f => f.Feature == "monthly_charges").Bins!;
        Assert.Equal(histogram.Edges, charges.Edges);
        Assert.Equal(histogram.Counts, charges.Reference);
        var expected = new long[histogram.Edges.Count + 1];
        foreach (var value in traffic.Select(r => r.Inputs["monthly_charges"]).OfType<double>())
        {
            expected[histogram.Edges.Count(edge => value > edge)]++;
        }

        Assert.Equal(expected, charges.Current);
        Assert.Null(charges.Categories);

        // Categorical: the profile's top categories, then one bin for every other value (here the unseen "weekly").
        var categories = baseline.Features["contract"].Categorical!;
        var contract = report.Features.Single(f => f.Feature == "contract").Bins!;
        Assert.Equal(categories.Top.Select(c => c.Value), contract.Categories);
        Assert.Equal(categories.Top.Select(c => c.Count).Append(categories.Other), contract.Reference);
        var seen = traffic.Select(r => (string)r.Inputs["contract"]!).ToList();
        Assert.Equal(contract.Categories!.Select(c => (long)seen.Count(s => s == c)).Append(seen.Count(s => s == "weekly")), contract.Current);

        // The predicted classes against the training labels, every class listed, so the last bin is empty.
        var prediction = report.Prediction!.Bins!;
        Assert.Equal(traffic.Count, prediction.Current.Sum());
        Assert.Equal(baseline.Label!.Classes.Values.Sum(), prediction.Reference.Sum());
        Assert.Equal((0L, 0L), (prediction.Reference[^1], prediction.Current[^1]));
        Assert.Equal(prediction.Categories!.Count + 1, prediction.Current.Count);
    }

    [Fact]
    public async Task StoredReports_ReadBackWithTheirBins_AndReportsWrittenBeforeBinsStillRead()
    {
        var report = Report(await BaselineAsync(), Traffic(400, seed: 7, drifted: false));
        var json = System.Text.Json.JsonSerializer.Serialize(report, SpecJson.Options);

        var read = System.Text.Json.JsonSerializer.Deserialize<DriftReport>(json, SpecJson.Options)!;
        Assert.Equal(report.Features[0].Bins!.Current, read.Features[0].Bins!.Current);

        // A report as stored before bins existed: the same fields without "bins".
        var old = System.Text.Json.Nodes.JsonNode.Parse(json)!;
        foreach (var feature in old["features"]!.AsArray())
        {
            feature!.AsObject().Remove("bins");
        }

        old["prediction"]!.AsObject().Remove("bins");
        var oldReport = System.Text.Json.JsonSerializer.Deserialize<DriftReport>(old.ToJsonString(), SpecJson.Options)!;
        Assert.DoesNotContain("bins", old.ToJsonString(), StringComparison.Ordinal);
        Assert.All(oldReport.Features, f => Assert.Null(f.Bins));
        Assert.Equal(report.Features.Select(f => f.Drifted), oldReport.Features.Select(f => f.Drifted));
    }

    [Fact]
    public async Task TrafficReadBackFromTheLog_GivesTheSameReportAsTheRecordsServingWrote()
    {
        var baseline = await BaselineAsync();
        var served = Traffic(2000, seed: 4, drifted: true).Select((r, i) => i switch
        {
            // A record with a feature left out, one whose number came as text, and one with a feature the spec does not have.
            7 => r with { Inputs = r.Inputs.Where(kv => kv.Key != "monthly_charges").ToDictionary() },
            8 => r with { Inputs = r.Inputs.ToDictionary(kv => kv.Key, kv => kv.Key == "tenure_months" ? (object?)"12.5" : kv.Value) },
            9 => r with { Inputs = r.Inputs.Append(KeyValuePair.Create("extra", (object?)1.0)).ToDictionary() },
            _ => r,
        }).ToList();
        var lines = string.Concat(served.Select(r => System.Text.Json.JsonSerializer.Serialize(r, PredictionLog.JsonOptions) + "\n"));
        var readBack = new List<PredictionRecord>();
        await foreach (var record in PredictionLogReader.ParseAsync(new MemoryStream(Encoding.UTF8.GetBytes(lines)), "log"))
        {
            readBack.Add(record);
        }

        var expected = Report(baseline, served);
        var actual = Report(baseline, readBack);

        Assert.IsNotType<Dictionary<string, object?>>(readBack[0].Inputs);
        Assert.Equal(DriftStatuses.Drift, actual.Status);
        Assert.Equal(expected.Features.Select(Describe), actual.Features.Select(Describe));
        Assert.Equal(Describe(expected.Prediction!), Describe(actual.Prediction!));
        Assert.True(actual.Features.Single(f => f.Feature == "monthly_charges").MissingRate >= 1 / 2000.0, "the record without monthly_charges counts as missing");

        static string Describe(FeatureDrift f) => string.Create(
            CultureInfo.InvariantCulture,
            $"{f.Feature} {f.Samples} {f.MissingRate:R} {f.OutOfRangeRate:R} {f.UnseenRate:R} {string.Join(' ', f.Tests.Select(t => $"{t.Test}={t.Statistic:R}/{t.PValue:R}/{t.Drifted}"))}");
    }
}

