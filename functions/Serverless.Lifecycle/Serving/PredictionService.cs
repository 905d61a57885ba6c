using System.IO.Hashing;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Serverless.Lifecycle.Observability;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Scoring;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;

namespace Serverless.Lifecycle.Serving;

/// <summary>A scored request: the version that answered, its predictions, and the alias it answered as.</summary>
public sealed record ScoredRequest(LoadedModel Model, IReadOnlyList<ModelPrediction> Predictions, string? Alias);

/// <summary>
/// Scoring for every prediction route: leases the referenced version, parses the request against
/// its spec, scores, logs, and applies a running rollout to requests for the champion. Canary: a
/// share of requests, chosen by a stable hash of the request id, is answered by the challenger
/// (and by the champion if the challenger fails; the failure is logged against the challenger).
/// Shadow: a share of requests is also scored by the challenger after the response is on its way;
/// its predictions are logged, not served.
/// </summary>
public sealed partial class PredictionService(ModelServer server, ITrafficSplits splits, PredictionLog log, IOptions<ServingOptions> options, TimeProvider clock, ILogger<PredictionService> logger)
{
    public const string ChallengerAlias = "challenger";

    private readonly ResolutionCache<string, TrafficSplit?> active = new(options.Value, clock);

    // One warning per half minute while storage is away, not one per request.
    private readonly LogThrottle rolloutWarning = new(clock, TimeSpan.FromSeconds(30));

    /// <summary>
    /// Scores a request for <paramref name="reference"/>; <paramref name="parse"/> reads the body
    /// against a version's spec and returns the batch or the route's own error.
    /// </summary>
    public async Task<(ScoredRequest? Scored, TError? Error)> ScoreAsync<TError>(
        string model, string reference, string requestId, string route, long started, Func<ModelSpec, (FeatureBatch? Batch, TError? Error)> parse, CancellationToken cancellationToken)
        where TError : class
    {
        ArgumentNullException.ThrowIfNull(parse);
        using var span = Telemetry.Source.StartActivity(TelemetryNames.Spans.Predict);
        using var lease = await server.AcquireAsync(model, reference, cancellationToken);
        var alias = ModelReference.IsVersion(reference) ? null : reference;
        span?.SetTag(TelemetryNames.Tags.Model, model).SetTag(TelemetryNames.Tags.Version, lease.Model.Version.Version).SetTag(TelemetryNames.Tags.Alias, alias);
        var (batch, error) = parse(lease.Model.Spec);
        if (batch is null)
        {
            Failed(lease.Model.Version.Model, lease.Model.Version.Version, alias, route, TelemetryNames.ErrorKinds.BadRequest);
            return (null, error);
        }

        var rollout = reference == ReservedAliases.Champion ? await ActiveRolloutAsync(model, cancellationToken) : null;
        if (rollout?.Challenger == lease.Model.Version.Version)
        {
            // The rollout has just promoted its challenger (the alias moved before the rollout's state was
            // marked finished): the champion is the challenger, and there is nothing to compare or split.
            rollout = null;
        }

        if (rollout is { Strategy: RolloutStrategies.Canary } && InShare(requestId, rollout.Share)
            && await ChallengerAsync(rollout, batch, lease.Model.Spec, requestId, route, started, served: true, parse, cancellationToken) is { } answered)
        {
            span?.SetTag(TelemetryNames.Tags.Version, answered.Model.Version.Version).SetTag(TelemetryNames.Tags.Alias, ChallengerAlias);
            return (answered, null);
        }

        IReadOnlyList<ModelPrediction> predictions;
        try
        {
            predictions = lease.Model.Onnx.Predict(batch);
        }
        catch (Exception) when (Failed(lease.Model.Version.Model, lease.Model.Version.Version, alias, route, TelemetryNames.ErrorKinds.Scoring))
        {
            throw;
        }

        var latency = Scored(lease.Model.Version.Model, lease.Model.Version.Version, alias, route, predictions.Count, started, served: true);
        log.Write(PredictionRecord.For(requestId, clock.GetUtcNow(), lease.Model, alias, route, batch, predictions, latency));
        if (rollout is { Strategy: RolloutStrategies.Shadow } && InShare(requestId, rollout.Share))
        {
            // Off the response path: the caller has the champion's answer without waiting for this.
            var spec = lease.Model.Spec;
            _ = Task.Run(() => ChallengerAsync(rollout, batch, spec, requestId, route, clock.GetTimestamp(), served: false, parse, CancellationToken.None), CancellationToken.None);
        }

        return (new ScoredRequest(lease.Model, predictions, alias), null);
    }

    /// <summary>Whether a request falls in a rollout's share: a stable hash of its id, so a retried request lands on the same version.</summary>
    public static bool InShare(string requestId, double share)
    {
        ArgumentNullException.ThrowIfNull(requestId);
        var hash = XxHash3.HashToUInt64(Encoding.UTF8.GetBytes(requestId));
        return (hash >> 11) * (1.0 / (1UL << 53)) < share;
    }

    /// <summary>
    /// Loads what a request for the model's champion will need: the champion's session, the running
    /// rollout (read into the same cache requests use) and its challenger's session. Returns the
    /// champion's version.
    /// </summary>
    public async Task<int> WarmAsync(string model, CancellationToken cancellationToken)
    {
        int champion;
        using (var lease = await server.AcquireAsync(model, ReservedAliases.Champion, cancellationToken))
        {
            champion = lease.Model.Version.Version;
        }

        if (await ActiveRolloutAsync(model, cancellationToken) is { } rollout && rollout.Challenger != champion)
        {
            using var challenger = await server.AcquireAsync(model, "v" + rollout.Challenger.ToString(System.Globalization.CultureInfo.InvariantCulture), cancellationToken);
        }

        return champion;
    }

    /// <summary>
    /// The model's running rollout, cached like alias resolutions; null when none runs. When storage
    /// is unreachable and nothing fresh enough was read, the champion answers alone: a rollout only
    /// ever takes a share of its traffic, and the champion's answer is always a valid one.
    /// </summary>
    private async Task<TrafficSplit?> ActiveRolloutAsync(string model, CancellationToken cancellationToken)
    {
        try
        {
            var state = await active.GetAsync(model, ct => splits.GetRunningAsync(model, ct), cancellationToken);
            return state.Value;
        }
        catch (StorageUnavailableException ex)
        {
            if (rolloutWarning.ShouldLog())
            {
                LogRolloutUnknown(model, ex.Message);
            }

            return null;
        }
    }

    private async Task<ScoredRequest?> ChallengerAsync<TError>(
        TrafficSplit rollout, FeatureBatch batch, ModelSpec championSpec, string requestId, string route, long started, bool served, Func<ModelSpec, (FeatureBatch? Batch, TError? Error)> parse, CancellationToken cancellationToken)
        where TError : class
    {
        try
        {
            using var lease = await server.AcquireAsync(rollout.Model, "v" + rollout.Challenger.ToString(System.Globalization.CultureInfo.InvariantCulture), cancellationToken);
            var own = SameFeatures(lease.Model.Spec, championSpec) ? batch
                : parse(lease.Model.Spec).Batch ?? throw new InvalidDataException("The request does not match the challenger's schema.");
            var predictions = lease.Model.Onnx.Predict(own);
            var latency = Scored(lease.Model.Version.Model, lease.Model.Version.Version, ChallengerAlias, route, predictions.Count, started, served);
            log.Write(PredictionRecord.For(requestId, clock.GetUtcNow(), lease.Model, ChallengerAlias, route, own, predictions, latency, served));
            return served ? new ScoredRequest(lease.Model, predictions, ChallengerAlias) : null;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Failed(rollout.Model, rollout.Challenger, ChallengerAlias, route, TelemetryNames.ErrorKinds.Scoring);
            log.Write([PredictionRecord.Failure(requestId, clock.GetUtcNow(), rollout.Model, rollout.Challenger, ChallengerAlias, route, clock.GetElapsedTime(started).TotalMilliseconds, served, ex.Message)]);
            LogChallengerFailed(ex, rollout.Model, rollout.Challenger, requestId);
            return null;
        }
    }

    /// <summary>Counts a scored request and returns its latency in milliseconds: the metric and the logged record carry the same figure.</summary>
    private double Scored(string model, int version, string? alias, string route, int rows, long started, bool served)
    {
        var latency = clock.GetElapsedTime(started).TotalMilliseconds;
        var tags = Telemetry.PredictionTags(model, version, alias, route);
        Telemetry.PredictionDuration.Record(latency, tags);
        tags.Add(TelemetryNames.Tags.Served, served);
        Telemetry.Predictions.Add(rows, tags);
        return latency;
    }

    /// <summary>Counts a request that got no prediction; false, so it can sit in an exception filter.</summary>
    private static bool Failed(string model, int version, string? alias, string route, string kind)
    {
        var tags = Telemetry.PredictionTags(model, version, alias, route);
        tags.Add(TelemetryNames.Tags.Kind, kind);
        Telemetry.PredictionErrors.Add(1, tags);
        return false;
    }

    private static bool SameFeatures(ModelSpec a, ModelSpec b) =>
        a.Features.Count == b.Features.Count && a.Features.Zip(b.Features).All(p => p.First.Name == p.Second.Name && p.First.Type == p.Second.Type) && a.Serving == b.Serving;

    [LoggerMessage(EventId = 4104, Level = LogLevel.Warning, Message = "Rollout of {Model} unknown ({Why}); the champion answers alone until storage answers.")]
    private partial void LogRolloutUnknown(string model, string why);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Challenger version {Version} of {Model} failed request {RequestId}; the champion answered.")]
    private partial void LogChallengerFailed(Exception exception, string model, int version, string requestId);
}
