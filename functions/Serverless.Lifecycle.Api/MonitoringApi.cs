using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Serverless.Lifecycle.Monitoring;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Storage;

namespace Serverless.Lifecycle.Api;

/// <summary>The model's monitoring passes over HTTP: the latest with the newest full report, passes by time, and one report in full.</summary>
public sealed class MonitoringApi(DriftMonitor monitor, ModelRegistry registry, LifecycleStorage storage, TimeProvider clock)
{
    /// <summary>The most reports one request lists; a wider range is narrowed with <c>to</c>.</summary>
    public const int MaxReports = 500;

    /// <summary>The range a list request covers when it names no <c>from</c>.</summary>
    public static readonly TimeSpan DefaultRange = TimeSpan.FromDays(7);

    /// <summary>GET /models/{name}/monitoring: the latest monitoring passes (verdicts and decisions) and the newest full report.</summary>
    public Task<IResult> GetAsync(string name, CancellationToken cancellationToken) => ApiResults.HandleAsync(async () =>
    {
        await registry.GetSpecAsync(name, cancellationToken);
        var entries = await monitor.ListAsync(name, 20, cancellationToken);
        JsonElement? latest = null;
        if (entries.Count > 0)
        {
            var content = await storage.Blob(BlobPath.Parse(entries[0].ReportPath)).DownloadContentAsync(cancellationToken);
            latest = content.Value.Content.ToObjectFromJson<JsonElement>();
        }

        return ApiResults.Json(new { model = name, latest, passes = entries });
    });

    /// <summary>
    /// GET /models/{name}/monitoring/reports?from=&amp;to=&amp;limit=: the passes with from &lt;= at &lt; to
    /// (default: the last 7 days), newest first, at most <c>limit</c> (100; up to 500). <c>truncated</c>
    /// says the range held more: ask again with <c>to</c> set to the oldest listed <c>at</c>.
    /// </summary>
    public Task<IResult> ListReportsAsync(HttpRequest request, string name, CancellationToken cancellationToken) => ApiResults.HandleAsync(async () =>
    {
        ArgumentNullException.ThrowIfNull(request);
        var (limit, limitError) = QueryParameters.Limit(request, 100, MaxReports);
        var (fromValue, fromError) = QueryParameters.Time(request, "from");
        var (toValue, toError) = QueryParameters.Time(request, "to");
        if ((limitError ?? fromError ?? toError) is { } error)
        {
            return error;
        }

        var to = toValue ?? clock.GetUtcNow();
        var from = fromValue ?? (to - DateTimeOffset.MinValue < DefaultRange ? DateTimeOffset.MinValue : to - DefaultRange);
        if (from >= to)
        {
            return ApiResults.BadRequest("from", $"'from' ({from:O}) must be before 'to' ({to:O}).");
        }

        await registry.GetSpecAsync(name, cancellationToken);
        var entries = await monitor.ListAsync(name, from, to, limit + 1, cancellationToken);
        var reports = entries.Take(limit).Select(e =>
        {
            var id = DriftMonitor.ReportId(e.At);
            return new
            {
                id,
                e.At,
                e.Version,
                e.Status,
                e.DriftedShare,
                e.ImportanceDriftedShare,
                e.Summary,
                e.Decision,
                e.Quality,
                e.UnreadableLines,
                reportUrl = ReportUrl(name, id),
            };
        });
        return ApiResults.Json(new { model = name, from, to, reports, truncated = entries.Count > limit });
    });

    /// <summary>
    /// GET /models/{name}/monitoring/reports/{reportId}: one pass in full, its drift report with every
    /// feature's tests and bins, the live quality and the decision, as the monitor stored them.
    /// </summary>
    public Task<IResult> GetReportAsync(string name, string reportId, CancellationToken cancellationToken) => ApiResults.HandleAsync(async () =>
    {
        if (!DriftMonitor.TryParseReportId(reportId, out var at))
        {
            return ApiResults.BadRequest("reportId", $"'{reportId}' is not a report id; report ids come from GET /api/models/{name}/monitoring/reports (for example 20261126T1000001234567Z).");
        }

        await registry.GetSpecAsync(name, cancellationToken);
        if (await monitor.GetAsync(name, at, cancellationToken) is not { } entry)
        {
            return ApiResults.NotFound($"Model '{name}' has no monitoring report '{reportId}'.");
        }

        JsonElement stored;
        try
        {
            stored = (await storage.Blob(BlobPath.Parse(entry.ReportPath)).DownloadContentAsync(cancellationToken)).Value.Content.ToObjectFromJson<JsonElement>();
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == 404)
        {
            return ApiResults.NotFound($"The file of monitoring report '{reportId}' of model '{name}' ({entry.ReportPath}) is gone.");
        }

        return ApiResults.Json(new
        {
            id = reportId,
            model = name,
            entry.At,
            entry.Version,
            entry.Status,
            report = Property(stored, "report"),
            quality = Property(stored, "quality"),
            decision = Property(stored, "decision"),
            unreadableLines = Property(stored, "unreadableLines"),
        });
    });

    public static string ReportUrl(string name, string reportId) => $"/{ApiRoutes.Prefix}/models/{name}/monitoring/reports/{reportId}";

    private static JsonElement? Property(JsonElement stored, string name) =>
        stored.ValueKind == JsonValueKind.Object && stored.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;
}
