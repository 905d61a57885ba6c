using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Serverless.Lifecycle.Registry;

namespace Serverless.Lifecycle.Serving;

/// <summary>
/// Loads the champions in the background as soon as the host starts (<see cref="ServingOptions.Preload"/>),
/// so the first prediction after a cold start does not pay for the first storage connection, the
/// registry read, the ONNX download and the session. Nothing it meets stops the host: a model
/// without a champion is skipped, a version that will not load is left to the request path (which
/// answers and remembers it as it always does), and when storage is away it gives up at once.
/// </summary>
public sealed partial class ServingPreloader(ModelRegistry registry, PredictionService predictions, IOptions<ServingOptions> options, ILogger<ServingPreloader> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Preload)
        {
            return;
        }

        // Off the host's start-up thread: the host goes on starting while this loads.
        await Task.Yield();
        IReadOnlyList<string> models;
        try
        {
            models = options.Value.PreloadModels.Count > 0
                ? [.. options.Value.PreloadModels]
                : [.. (await registry.ListSpecsAsync(stoppingToken)).Select(s => s.Name)];
        }
        catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
        {
            LogNotListed(logger, ex.Message);
            return;
        }

        foreach (var model in models)
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                var version = await predictions.WarmAsync(model, stoppingToken);
                var elapsed = Stopwatch.GetElapsedTime(started);
                LogPreloaded(logger, model, version, elapsed.TotalMilliseconds);
            }
            catch (Exception ex) when (ex is ModelNotFoundException or AliasNotFoundException or ModelVersionNotFoundException)
            {
                // No champion yet: nothing to serve, nothing to load.
                LogNothingToLoad(logger, model);
            }
            catch (Storage.StorageUnavailableException ex)
            {
                // Each of the others would wait for storage in turn; requests load on demand once it answers.
                LogNotListed(logger, ex.Message);
                return;
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                LogNotLoaded(logger, model, ex.Message);
            }
        }
    }

    [LoggerMessage(EventId = 4110, Level = LogLevel.Information, Message = "Preloaded the champion of {Model} (version {Version}) in {Milliseconds:F0} ms")]
    private static partial void LogPreloaded(ILogger logger, string model, int version, double milliseconds);

    [LoggerMessage(EventId = 4111, Level = LogLevel.Debug, Message = "Preload: {Model} has no champion yet")]
    private static partial void LogNothingToLoad(ILogger logger, string model);

    [LoggerMessage(EventId = 4112, Level = LogLevel.Warning, Message = "Preload: the champion of {Model} was not loaded ({Why}); its first request loads it")]
    private static partial void LogNotLoaded(ILogger logger, string model, string why);

    [LoggerMessage(EventId = 4113, Level = LogLevel.Warning, Message = "Preload skipped: storage did not answer ({Why}); each model loads on its first request")]
    private static partial void LogNotListed(ILogger logger, string why);
}
