using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;
using Serverless.Lifecycle.Api;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Monitoring;
using Serverless.Lifecycle.Observability;
using Serverless.Lifecycle.Pipeline;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Serving;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;
using Serverless.Lifecycle.Training;
using Serverless.Tests;

namespace Serverless.Lifecycle.Tests.Api;

/// <summary>
/// GET /models/{name}/runs: the runs the run controller started for a model (its request records on
/// Azurite), newest first and paged, with each run's status as the engine reports it. The engine is an
/// in-memory stand-in, so a test sets a run's status directly; the pipeline's own tests run real runs.
/// </summary>
public sealed class RunsListApiTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 20, 10, 0, 0, TimeSpan.Zero);

    private readonly LifecycleStorage storage = Azurite.CreateStorage();
    private readonly FakeTimeProvider clock = new(T0);
    private readonly InMemoryRuns pipeline;
    private readonly ModelRegistry registry;
    private readonly RunController controller;
    private readonly RunsApi api;

    public RunsListApiTests()
    {
        pipeline = new InMemoryRuns(clock);
        registry = new ModelRegistry(storage, clock);
        var datasets = new DatasetStore(storage, clock);
        var reader = new PredictionLogReader(storage);
        controller = new RunController(storage, registry, new TrainingDataPolicy(datasets, reader, new FeedbackStore(storage), storage, clock), new NoLifecycleEvents(), clock);
        api = new RunsApi(registry, datasets, controller, storage, new TrainingJobStore(storage), new ApprovalDecisions(storage, clock), new ModelArtifactStore(storage));
    }

    public void Dispose() => storage.Dispose();

    private static ModelSpec Spec(string name) => ModelSpecValidator.Parse(File.ReadAllText(RepoPaths.SampleSpec)).Spec! with { Name = name };

    private async Task<ModelSpec> RegisterAsync(string name)
    {
        var spec = Spec(name);
        await registry.PutSpecAsync(spec, "test", CancellationToken.None);
        return spec;
    }

    private async Task<TriggerRecord> RequestAsync(ModelSpec spec, string trigger, TimeSpan after)
    {
        clock.Advance(after);
        var dataset = new DatasetVersion(spec.Name, $"datasets/{spec.Name}/d.csv", "etag", new string('0', 64), 1, T0);
        return await controller.StartAsync(new RunRequest(spec, trigger, $"{trigger} in a test", dataset, clock.GetUtcNow()), pipeline, CancellationToken.None);
    }

    private async Task<ApiResponse> ListAsync(string name, string? query = null)
    {
        var request = ApiResponse.Request(query);
        return await ApiResponse.ExecuteAsync(await api.ListRunsAsync(request, name, pipeline, CancellationToken.None), request);
    }

    private static List<string> RunIds(ApiResponse page) => [.. page.Json["runs"]!.AsArray().Select(r => (string)r!["runId"]!)];

    [Fact]
    public async Task Runs_AreListedNewestFirst_PagedByContinuation_WithoutCoalescedRequests()
    {
        var spec = await RegisterAsync(Azurite.UniqueModelName("runs"));
        var started = new List<TriggerRecord>();
        for (var i = 0; i < 5; i++)
        {
            started.Add(await RequestAsync(spec, RunTriggers.Manual, TimeSpan.FromMinutes(1)));
        }

        // The newest run is active, so an automatic request coalesces into it and starts no run of its own.
        var coalesced = await RequestAsync(spec, RunTriggers.Drift, TimeSpan.FromMinutes(1));
        Assert.Equal((TriggerOutcomes.Coalesced, started[^1].RunId), (coalesced.Outcome, coalesced.RunId));
        pipeline.Finish(started[0].RunId, "succeeded", version: 1);
        var newestFirst = started.Select(r => r.RunId).Reverse().ToList();

        var first = await ListAsync(spec.Name, "?limit=2");
        var second = await ListAsync(spec.Name, $"?limit=2&continuation={(string)first.Json["continuation"]!}");
        var third = await ListAsync(spec.Name, $"?limit=2&continuation={(string)second.Json["continuation"]!}");

        Assert.True(first.Status == 200, first.ToString());
        Assert.Equal(newestFirst[..2], RunIds(first));
        Assert.Equal(newestFirst[2..4], RunIds(second));
        Assert.Equal(newestFirst[4..], RunIds(third));
        Assert.Null(third.Json["continuation"]);
        Assert.Equal(newestFirst, RunIds(await ListAsync(spec.Name)));

        var oldest = third.Json["runs"]![0]!;
        Assert.Equal(("succeeded", RunTriggers.Manual, 1), ((string)oldest["status"]!, (string)oldest["trigger"]!, (int)oldest["version"]!));
        Assert.Equal($"/api/runs/{started[0].RunId}", (string)oldest["statusUrl"]!);
        Assert.Equal(T0.AddMinutes(1), (DateTimeOffset)oldest["createdAt"]!);
        Assert.Equal(T0.AddMinutes(6), (DateTimeOffset)oldest["lastUpdatedAt"]!);
        var newest = first.Json["runs"]![0]!;
        Assert.Equal("running", (string)newest["status"]!);
        Assert.Null(newest["version"]);
    }

    [Fact]
    public async Task AModelWhoseNamePrefixesAnother_ListsOnlyItsOwnRuns()
    {
        var spec = await RegisterAsync(Azurite.UniqueModelName("pre"));
        var longer = await RegisterAsync(spec.Name + "-2");
        var own = await RequestAsync(spec, RunTriggers.Manual, TimeSpan.FromMinutes(1));
        await RequestAsync(longer, RunTriggers.Manual, TimeSpan.FromMinutes(1));

        Assert.Equal([own.RunId], RunIds(await ListAsync(spec.Name)));
    }

    [Fact]
    public async Task ARunNoLongerInTheEngine_IsListedAsUnknown_AtTheTimeItWasRequested()
    {
        var spec = await RegisterAsync(Azurite.UniqueModelName("purged"));
        var run = await RequestAsync(spec, RunTriggers.Manual, TimeSpan.FromMinutes(3));
        pipeline.Purge(run.RunId);

        var item = (await ListAsync(spec.Name)).Json["runs"]![0]!;

        Assert.Equal(("unknown", run.At), ((string)item["status"]!, (DateTimeOffset)item["createdAt"]!));
    }

    [Theory]
    [InlineData("?limit=0", "limit")]
    [InlineData("?limit=101", "limit")]
    [InlineData("?limit=-1", "limit")]
    [InlineData("?continuation=abc", "continuation")]
    [InlineData("?continuation=active", "continuation")]
    public async Task BadQueryValues_Get400NamingTheParameter(string query, string parameter)
    {
        var spec = await RegisterAsync(Azurite.UniqueModelName("bad"));

        var response = await ListAsync(spec.Name, query);

        Assert.Equal(400, response.Status);
        Assert.NotNull(response.Json["errors"]![parameter]);
    }

    [Fact]
    public async Task AnUnknownModel_Gets404()
    {
        var response = await ListAsync("no-such-model");

        Assert.Equal(404, response.Status);
        Assert.Contains("no-such-model", (string)response.Json["detail"]!, StringComparison.Ordinal);
    }

    /// <summary>Runs as an engine would report them, held in memory; a test finishes or purges them.</summary>
    private sealed class InMemoryRuns(TimeProvider clock) : IPipelineClient
    {
        private readonly ConcurrentDictionary<string, RunStatus> runs = new();

        public Task<bool> StartRunAsync(TrainingRunRequest request, CancellationToken cancellationToken)
        {
            var now = clock.GetUtcNow();
            return Task.FromResult(runs.TryAdd(request.RunId, new RunStatus(request.RunId, request.Spec.Name, "running", request.Trigger, request.Dataset, now, now, [], null, null, null, null, null, null, null)));
        }

        public Task<RunStatus?> GetRunAsync(string runId, CancellationToken cancellationToken) =>
            Task.FromResult(runs.TryGetValue(runId, out var run) ? run : null);

        public void Finish(string runId, string status, int version) =>
            runs[runId] = runs[runId] with { Status = status, Version = version, LastUpdatedAt = clock.GetUtcNow() };

        public void Purge(string runId) => runs.TryRemove(runId, out _);

        public Task<RunSignalOutcome> NotifyJobCompletedAsync(TrainingCompletedEvent completion, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<RunSignalOutcome> CancelRunAsync(string runId, CancelRequest request, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<RunSignalOutcome> DecideRunAsync(string runId, ApprovalDecision decision, CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}
