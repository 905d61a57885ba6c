using Microsoft.AspNetCore.Http;
using Serverless.Lifecycle.Serving;
using Serverless.Lifecycle.Storage;

namespace Serverless.Lifecycle.Api;

/// <summary>
/// GET /status: what this host holds and how it is doing, for an operator (with a key): whether
/// storage answers, the loaded versions (with what loading each took) and the unservable ones, whether serving answers from stale
/// resolutions, and the prediction log's counters (buffered, written, dropped, failing since).
/// </summary>
public sealed class StatusApi(ModelServer server, PredictionLog log, LifecycleStorage storage)
{
    public async Task<IResult> GetAsync(CancellationToken cancellationToken)
    {
        var storageProblem = await storage.ProbeAsync(TimeSpan.FromSeconds(5), cancellationToken);
        var stale = server.StorageFailing;
        return ApiResults.Json(new
        {
            storage = new { reachable = storageProblem is null, problem = storageProblem },
            serving = new
            {
                loaded = server.LoadedModels.Select(l => new { model = l.Version.Model, version = l.Version.Version, load = l.Load }),
                unservable = server.Unservable.Select(u => new { model = u.Model, version = u.Version, reason = u.Reason }),
                staleSince = stale?.Since,
                staleReason = stale?.Reason,
            },
            predictionLog = new { buffered = log.Buffered, written = log.Written, dropped = log.Dropped, failingSince = log.FailingSince },
        });
    }
}
