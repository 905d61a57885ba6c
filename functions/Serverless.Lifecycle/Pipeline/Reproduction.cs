namespace Serverless.Lifecycle.Pipeline;

/// <summary>The version a reproduce run rebuilds: its number, and what its card recorded of its ONNX file and its trainer.</summary>
public sealed record ReproduceTarget(int Version, string OnnxSha256, string TrainerVersion);

/// <summary>One thing that differs between a version's recorded lineage and its reproduction: what (<see cref="ReproductionDifferences"/>) and how.</summary>
public sealed record ReproductionDifference(string What, string Detail);

/// <summary>What differs, by name.</summary>
public static class ReproductionDifferences
{
    /// <summary>The recorded dataset is gone, or its bytes changed, or it no longer validates under the recorded spec.</summary>
    public const string Dataset = "dataset";

    /// <summary>The spec on the card does not hash to the SHA-256 recorded when the version was registered.</summary>
    public const string Spec = "spec";

    /// <summary>The trainer that ran now is another version than the one recorded.</summary>
    public const string Trainer = "trainer";

    /// <summary>The new ONNX file's bytes differ from the version's.</summary>
    public const string Bytes = "bytes";

    /// <summary>The training job failed, so there are no new bytes to compare.</summary>
    public const string Training = "training";
}

/// <summary>
/// What a reproduce run found: whether the new ONNX file has the version's SHA-256, both digests and
/// trainer versions, and every difference it named (none when reproduced).
/// </summary>
public sealed record Reproduction(
    int Version,
    bool Reproduced,
    IReadOnlyList<ReproductionDifference> Differences,
    string RecordedSha256,
    string? Sha256,
    string RecordedTrainerVersion,
    string? TrainerVersion)
{
    /// <summary>"dataset: ...; bytes: ...": the differences in a line.</summary>
    public static string Describe(IEnumerable<ReproductionDifference> differences) => string.Join("; ", differences.Select(d => $"{d.What}: {d.Detail}"));

    /// <summary>
    /// The verdict on a finished training job: reproduced when its ONNX file has the recorded
    /// SHA-256; otherwise the bytes differ, and a trainer of another version is named as the likely
    /// reason. A different trainer version that still gives the same bytes reproduces the version.
    /// </summary>
    public static Reproduction Compare(ReproduceTarget target, Training.TrainingJobResult job)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(job);
        var sha = job.Onnx?.Sha256;
        var differences = new List<ReproductionDifference>();
        if (!string.Equals(sha, target.OnnxSha256, StringComparison.OrdinalIgnoreCase))
        {
            differences.Add(new(ReproductionDifferences.Bytes, $"the new ONNX file's SHA-256 is {sha ?? "missing"}; version {target.Version}'s is {target.OnnxSha256}"));
            if (job.TrainerVersion != target.TrainerVersion)
            {
                differences.Add(new(ReproductionDifferences.Trainer, $"trained now by trainer {job.TrainerVersion}; version {target.Version} was trained by {target.TrainerVersion}"));
            }
        }

        return new Reproduction(target.Version, differences.Count == 0, differences, target.OnnxSha256, sha, target.TrainerVersion, job.TrainerVersion);
    }

    /// <summary>A reproduction that ended before there were new bytes to compare.</summary>
    public static Reproduction Failed(ReproduceTarget target, IReadOnlyList<ReproductionDifference> differences)
    {
        ArgumentNullException.ThrowIfNull(target);
        return new Reproduction(target.Version, false, differences, target.OnnxSha256, null, target.TrainerVersion, null);
    }
}

/// <summary>A version with nothing recorded to train again (an imported one): no reproduce run starts.</summary>
public sealed class NotReproducibleException(string model, int version, string message) : InvalidOperationException(message)
{
    public string Model { get; } = model;

    public int Version { get; } = version;
}
