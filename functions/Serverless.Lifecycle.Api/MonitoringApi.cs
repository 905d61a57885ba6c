using Microsoft.AspNetCore.Http;
using Serverless.Lifecycle.Monitoring;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Storage;

namespace Serverless.Lifecycle.Api;

/// <summary>GET /models/{name}/monitoring: the latest monitoring passes (verdicts and decisions) and the newest full report.</summary>
public sealed class MonitoringApi(DriftMonitor monitor, ModelRegistry registry, LifecycleStorage storage)
{
    public Task<IResult> GetAsync(string name, CancellationToken cancellationToken) => ApiResults.HandleAsync(async () =>
    {
        await registry.GetSpecAsync(name, cancellationToken);
        var entries = await monitor.ListAsync(name, 20, cancellationToken);
        System.Text.Json.JsonElement? latest = null;
        if (entries.Count > 0)
        {
            var content = await storage.Blob(BlobPath.Parse(entries[0].ReportPath)).DownloadContentAsync(cancellationToken);
            latest = content.Value.Content.ToObjectFromJson<System.Text.Json.JsonElement>();
        }

        return ApiResults.Json(new { model = name, latest, passes = entries });
    });
}
