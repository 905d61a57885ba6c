using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Monitoring;

namespace Serverless.Lifecycle.Pipeline;

/// <summary>
/// The one format of run ids: <c>{model}-{origin}-{key}</c>. The origin is what asked for the run
/// (<c>data</c> for a dataset, from the upload route or a blob written straight to storage;
/// <c>import</c>, <c>manual</c>, <c>schedule</c>, <c>drift</c>, <c>quality</c>, <c>reproduce</c>), and the key is what makes asking twice
/// the same run: the dataset's path and ETag (and an imported graph's SHA-256), the schedule's due minute, the monitoring window's end.
/// Only a manual run and a reproduce run are new each time they are asked for (their key is random).
/// </summary>
public static class RunIds
{
    public const string DataOrigin = "data";

    /// <summary>The run for a dataset version: the upload route and the new-data trigger give the same id for the same blob, so either one starts it once.</summary>
    public static string ForDataset(DatasetVersion dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{dataset.Path}|{dataset.ETag}"));
        return Make(dataset.Model, DataOrigin, Convert.ToHexStringLower(hash)[..24]);
    }

    /// <summary>The run that imports a graph (by its SHA-256) and gates it on a dataset: the same import sent again is the same run.</summary>
    public static string ForImport(string model, string sha256, DatasetVersion dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{sha256}|{dataset.Path}|{dataset.ETag}"));
        return Make(model, RunTriggers.Import, Convert.ToHexStringLower(hash)[..24]);
    }

    /// <summary>A run that rebuilds version <paramref name="version"/>: a new one each time it is asked for (the dataset may have been restored since).</summary>
    public static string ForReproduce(string model, int version) =>
        Make(model, RunTriggers.Reproduce, string.Create(CultureInfo.InvariantCulture, $"v{version}-{Guid.NewGuid():N}"));

    /// <summary>A run a person asked for on the runs route: a new one each time.</summary>
    public static string ForManual(string model) => Make(model, RunTriggers.Manual, Guid.NewGuid().ToString("N"));

    /// <summary>The run of one occurrence of a schedule, or of one monitoring window (drift or quality), by the minute it is for.</summary>
    public static string ForOccurrence(string model, string trigger, DateTimeOffset at) =>
        Make(model, trigger, at.UtcDateTime.ToString("yyyyMMddHHmm", CultureInfo.InvariantCulture));

    private static string Make(string model, string origin, string key)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        return $"{model}-{origin}-{key}";
    }
}
