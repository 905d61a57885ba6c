using System.Globalization;
using nietras.SeparatedValues;
using Microsoft.Extensions.Options;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Evaluation;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Scoring;
using Serverless.Lifecycle.Serving;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;
using Serverless.Tests;

namespace Serverless.Lifecycle.Tests.Serving;

public sealed class BatchScorerTests : IAsyncLifetime
{
    private readonly LifecycleStorage storage = Azurite.CreateStorage();
    private readonly string model = Azurite.UniqueModelName("batch");
    private ModelRegistry registry = null!;
    private ModelSpec spec = null!;
    private byte[] onnx = null!;
    private string testCsv = null!;

    public async Task InitializeAsync()
    {
        registry = new ModelRegistry(storage, TimeProvider.System);
        (spec, onnx, testCsv) = await ServedVersions.TrainSampleAsync(registry, model);
    }

    public Task DisposeAsync()
    {
        storage.Dispose();
        return Task.CompletedTask;
    }

    private BatchScorer Scorer() => new(
        storage,
        new ModelServer(registry, new ModelArtifactStore(storage), Options.Create(new ServingOptions()), TimeProvider.System),
        TimeProvider.System);

    private async Task ChampionAsync()
    {
        var version = await ServedVersions.RegisterAsync(storage, registry, spec, onnx);
        await registry.SetAliasAsync(model, ReservedAliases.Champion, version.Version, null, "test", null, CancellationToken.None);
    }

    private async Task<string> UploadAsync(string name, string csv)
    {
        await storage.EnsureCreatedAsync(CancellationToken.None);
        await storage.Blob(new BlobPath(StorageNames.BatchInputContainer, $"{model}/{name}")).UploadAsync(BinaryData.FromString(csv), overwrite: true);
        return $"{model}/{name}";
    }

    private async Task<string> DownloadAsync(string path) => (await storage.Blob(BlobPath.Parse(path)).DownloadContentAsync()).Value.Content.ToString();

    [Fact]
    public async Task Csv_IsScoredByTheChampion_AndEveryRowItCannotScoreIsListedWithItsLine()
    {
        await ChampionAsync();
        var lines = testCsv.TrimEnd('\n').Split('\n').ToList();
        var header = lines[0].Split(',');
        var tenure = Array.IndexOf(header, "tenure_months");
        var broken = lines[3].Split(',');
        broken[tenure] = "two";
        lines[3] = string.Join(',', broken);
        lines[5] += ",extra";
        var name = await UploadAsync("daily/2026-11-26.csv", string.Join('\n', lines) + "\n");

        // A cancellable token, as the hosts pass: scoring must not trip over it.
        using var cancellation = new CancellationTokenSource();
        var summary = await Scorer().ScoreAsync(name, cancellation.Token);

        Assert.Null(summary.Error);
        Assert.Equal((lines.Count - 1L, 2L, lines.Count - 3L), (summary.Rows, summary.Rejected, summary.Scored));
        Assert.Equal([4L, 6L], summary.Rejections.Select(r => r.Line));
        Assert.Contains("tenure_months: Expected a number, got 'two'", summary.Rejections[0].Reason, StringComparison.Ordinal);
        Assert.Equal($"batch-output/{model}/daily/2026-11-26.v1.csv", summary.Output);

        // The output keeps every input row in order, with the champion's own predictions on the scored ones.
        var scored = (await DownloadAsync(summary.Output!)).TrimEnd('\n').Split('\n');
        Assert.Equal(lines.Count, scored.Length);
        Assert.EndsWith("predicted_label,predicted_probability,predicted_score,error", scored[0], StringComparison.Ordinal);
        var expected = new OnnxModel(onnx, spec).Predict(LabeledBatch.ReadCsv(new StringReader(testCsv), spec, readLabels: false).Features);
        var probabilityColumn = scored[0].Split(',').ToList().IndexOf("predicted_probability");
        Assert.Equal(expected[0].Probability, float.Parse(scored[1].Split(',')[probabilityColumn], CultureInfo.InvariantCulture), 6);
        Assert.Equal("", scored[3].Split(',')[probabilityColumn]);

        // The row with an extra field keeps the fields the header has room for, and says why it was not scored.
        Assert.Contains($"has {header.Length + 1} field(s); the header has {header.Length}", summary.Rejections[1].Reason, StringComparison.Ordinal);
        Assert.StartsWith(string.Join(',', lines[5].Split(',').Take(header.Length)) + ",", scored[5], StringComparison.Ordinal);
        var stored = System.Text.Json.JsonSerializer.Deserialize<BatchScoringSummary>(await DownloadAsync($"batch-output/{model}/daily/2026-11-26.summary.json"), SpecJson.Options)!;
        Assert.Equal((summary.Rows, summary.Rejected, summary.Version), (stored.Rows, stored.Rejected, stored.Version));
    }

    [Fact]
    public async Task QuotedFields_AndAFileOfManyChunks_ComeOutRowForRowAsTheyWentIn_EachWithItsOwnPrediction()
    {
        await ChampionAsync();
        var rows = LabeledBatch.ReadCsv(new StringReader(testCsv), spec, readLabels: false).Features.Rows;
        var source = testCsv.TrimEnd('\n').Split('\n');

        // Enough rows for several chunks (the reader, the model and the writer each hold one), a quoted
        // category, and a note column whose quoted values hold a comma, a quote and a line break.
        var lines = new List<string> { source[0] + ",note" };
        for (var i = 0; lines.Count <= (3 * BatchScorer.ChunkRows) + 7; i++)
        {
            var row = source[1 + (i % rows)].Replace(",fiber,", ",\"fiber\",", StringComparison.Ordinal);
            lines.Add(row + (i % 3) switch { 0 => ",\"late, twice\"", 1 => ",\"said \"\"hi\"\"\nthen left\"", _ => ",plain" });
        }

        var name = await UploadAsync("quoted.csv", string.Join('\n', lines) + "\n");

        var summary = await Scorer().ScoreAsync(name, CancellationToken.None);

        Assert.Null(summary.Error);
        Assert.Equal((lines.Count - 1L, 0L), (summary.Rows, summary.Rejected));
        var expected = new OnnxModel(onnx, spec).Predict(LabeledBatch.ReadCsv(new StringReader(testCsv), spec, readLabels: false).Features);
        using var output = Sep.New(',').Reader(o => o with { Unescape = true }).FromText(await DownloadAsync(summary.Output!));
        var n = 0;
        foreach (var row in output)
        {
            Assert.Equal((n % 3) switch { 0 => "late, twice", 1 => "said \"hi\"\nthen left", _ => "plain" }, row["note"].ToString());
            Assert.Equal(expected[n % rows].Probability, float.Parse(row["predicted_probability"].ToString(), CultureInfo.InvariantCulture), 6);
            Assert.Equal("", row["error"].ToString());
            n++;
        }

        Assert.Equal(lines.Count - 1, n);
    }

    [Theory]
    [InlineData(ModelTasks.Multiclass, "internet_service")]
    [InlineData(ModelTasks.Regression, "churned")]
    public async Task OtherTasks_GetTheirOwnColumns_WithTheModelsOwnValues(string task, string label)
    {
        var name = Azurite.UniqueModelName("batch-task");
        using var data = new Training.TrainingData(rows: 800);
        var taskSpec = data.Spec with
        {
            Name = name,
            Task = task,
            Label = label,
            Features = data.Spec.Features.Where(f => f.Name != label && !(label == "internet_service" && f.Name == "contract")).ToList(),
            Trainer = data.Spec.Trainer with { Hyperparameters = new Dictionary<string, double>() },
        };
        var taskOnnx = Trainer.TabularTrainer.Train(taskSpec, data.Train, data.Validation).Onnx;
        await registry.PutSpecAsync(taskSpec, "test", CancellationToken.None);
        var version = await ServedVersions.RegisterAsync(storage, registry, taskSpec, taskOnnx);
        await registry.SetAliasAsync(name, ReservedAliases.Champion, version.Version, null, "test", null, CancellationToken.None);
        var csv = await File.ReadAllTextAsync(data.Test);
        await storage.EnsureCreatedAsync(CancellationToken.None);
        await storage.Blob(new BlobPath(StorageNames.BatchInputContainer, $"{name}/test.csv")).UploadAsync(BinaryData.FromString(csv), overwrite: true);

        var summary = await Scorer().ScoreAsync($"{name}/test.csv", CancellationToken.None);

        Assert.Null(summary.Error);
        using var engine = new OnnxModel(taskOnnx, taskSpec);
        var expected = engine.Predict(LabeledBatch.ReadCsv(new StringReader(csv), taskSpec, readLabels: false).Features);
        using var output = Sep.New(',').Reader(o => o with { Unescape = true }).FromText(await DownloadAsync(summary.Output!));
        Assert.Equal(BatchScorer.PredictionColumns(task, engine.Classes).Append(BatchScorer.ErrorColumn), output.Header.ColNames.TakeLast(BatchScorer.PredictionColumns(task, engine.Classes).Count + 1));
        var n = 0;
        foreach (var row in output)
        {
            if (task == ModelTasks.Multiclass)
            {
                Assert.Equal(expected[n].Class, row["predicted_label"].ToString());
                for (var c = 0; c < engine.Classes.Count; c++)
                {
                    Assert.Equal(expected[n].Probabilities![c], float.Parse(row[$"probability_{engine.Classes[c]}"].ToString(), CultureInfo.InvariantCulture), 6);
                }
            }
            else
            {
                Assert.Equal(expected[n].Score, float.Parse(row["predicted_value"].ToString(), CultureInfo.InvariantCulture), 6);
            }

            n++;
        }

        Assert.Equal(expected.Count, n);
    }

    [Fact]
    public async Task SameUploadDeliveredTwice_IsScoredOnce_AndANewUploadIsScoredAgain()
    {
        await ChampionAsync();
        var name = await UploadAsync("twice.csv", testCsv);
        var scorer = Scorer();

        var first = await scorer.ScoreAsync(name, CancellationToken.None);
        var outputETag = (await storage.Blob(BlobPath.Parse(first.Output!)).GetPropertiesAsync()).Value.ETag;
        var second = await scorer.ScoreAsync(name, CancellationToken.None);
        var outputAfterSecond = (await storage.Blob(BlobPath.Parse(first.Output!)).GetPropertiesAsync()).Value.ETag;
        await UploadAsync("twice.csv", testCsv + "\n");
        var third = await scorer.ScoreAsync(name, CancellationToken.None);

        Assert.Equal((first.StartedAt, first.CompletedAt, first.Rows), (second.StartedAt, second.CompletedAt, second.Rows));
        Assert.Equal(outputETag, outputAfterSecond);
        Assert.NotEqual(first.InputETag, third.InputETag);
        Assert.True(third.StartedAt >= first.CompletedAt);
    }

    [Fact]
    public async Task NoChampion_OrAMissingFeatureColumn_IsReportedInTheSummary()
    {
        var early = await Scorer().ScoreAsync(await UploadAsync("early.csv", testCsv), CancellationToken.None);
        await ChampionAsync();
        var missing = await Scorer().ScoreAsync(await UploadAsync("missing.csv", testCsv.Replace("support_calls", "calls", StringComparison.Ordinal)), CancellationToken.None);

        Assert.Contains("has no champion", early.Error, StringComparison.Ordinal);
        Assert.Null(early.Output);
        Assert.Contains("no column for feature(s) support_calls", missing.Error, StringComparison.Ordinal);
        Assert.Equal(0, missing.Scored);
    }

    [Theory]
    [InlineData("churn/today.csv", true)]
    [InlineData("churn/daily/today.csv", true)]
    [InlineData("today.csv", false)]
    [InlineData("/today.csv", false)]
    [InlineData("churn/", false)]
    [InlineData("churn/daily/", false)]
    public void OnlyAFileUnderAModelsFolder_CanBeScored(string blobName, bool scorable) =>
        Assert.Equal(scorable, BatchScorer.IsUnderAModel(blobName));

    [Fact]
    public async Task AHeaderWithADuplicateOrAnOutputColumn_IsReportedInTheSummary_NotRetried()
    {
        await ChampionAsync();
        var header = testCsv[..testCsv.IndexOf('\n', StringComparison.Ordinal)];

        var duplicate = await Scorer().ScoreAsync(await UploadAsync("duplicate.csv", testCsv.Replace(header, header + ",contract", StringComparison.Ordinal)), CancellationToken.None);
        var clash = await Scorer().ScoreAsync(await UploadAsync("clash.csv", testCsv.Replace(header, header.Replace("churned", "error", StringComparison.Ordinal), StringComparison.Ordinal)), CancellationToken.None);

        Assert.Contains("header cannot be read", duplicate.Error, StringComparison.Ordinal);
        Assert.Contains("column(s) error, which the output adds", clash.Error, StringComparison.Ordinal);
        Assert.Equal((0L, 0L), (duplicate.Scored, clash.Scored));
    }
}
