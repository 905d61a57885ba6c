using System.Text.Json;
using Azure.Data.Tables;
using Serverless.Lifecycle.Serving;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;

namespace Serverless.Lifecycle.Rollouts;

/// <summary>
/// Rollouts in the <c>Rollouts</c> table: partition = model; row <c>current</c> holds the latest
/// rollout (running or ended), and a row per run keeps each one's history.
/// </summary>
public sealed class RolloutStore(LifecycleStorage storage) : ITrafficSplits
{
    private const string Current = "current";

    private TableClient Table => storage.Table(StorageNames.RolloutsTable);

    public async Task SaveAsync(RolloutState state, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(state);
        await storage.EnsureCreatedAsync(cancellationToken);
        var json = JsonSerializer.Serialize(state, SpecJson.Options);
        foreach (var row in new[] { Current, state.RunId })
        {
            await Table.UpsertEntityAsync(new TableEntity(state.Model, row) { ["State"] = json }, TableUpdateMode.Replace, cancellationToken);
        }
    }

    /// <summary>The latest rollout of a model, running or ended; null if it never had one.</summary>
    public async Task<RolloutState?> GetCurrentAsync(string model, CancellationToken cancellationToken) => await GetAsync(model, Current, cancellationToken);

    /// <summary>Serving's view: the running rollout's split of the champion's traffic.</summary>
    public async Task<TrafficSplit?> GetRunningAsync(string model, CancellationToken cancellationToken) =>
        await GetCurrentAsync(model, cancellationToken) is { Status: RolloutStatuses.Running } running
            ? new TrafficSplit(running.Model, running.Strategy, running.Challenger, running.Share)
            : null;

    public async Task<RolloutState?> GetAsync(string model, string runId, CancellationToken cancellationToken)
    {
        await storage.EnsureCreatedAsync(cancellationToken);
        var entity = await Table.GetEntityIfExistsAsync<TableEntity>(model, runId, cancellationToken: cancellationToken);
        return entity.HasValue ? JsonSerializer.Deserialize<RolloutState>(entity.Value!.GetString("State"), SpecJson.Options) : null;
    }

    /// <summary>Every rollout of a model, newest first.</summary>
    public async Task<IReadOnlyList<RolloutState>> ListAsync(string model, CancellationToken cancellationToken)
    {
        await storage.EnsureCreatedAsync(cancellationToken);
        var states = new List<RolloutState>();
        await foreach (var entity in Table.QueryAsync<TableEntity>(e => e.PartitionKey == model, cancellationToken: cancellationToken))
        {
            if (entity.RowKey != Current)
            {
                states.Add(JsonSerializer.Deserialize<RolloutState>(entity.GetString("State"), SpecJson.Options)!);
            }
        }

        return [.. states.OrderByDescending(s => s.StartedAt)];
    }
}
