using Microsoft.DurableTask;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;

namespace Serverless.Lifecycle.Pipeline.Activities;

/// <summary>
/// Validates and profiles the run's dataset (against the previous accepted dataset's profile for
/// skew) and splits it, in one read of the blob: stores the report and the profile under
/// <c>runs/{runId}/</c>, and, when nothing blocks, the three partitions under
/// <c>runs/{runId}/split/</c> (the report's <see cref="ValidationReport.Split"/> counts them), and
/// marks the dataset accepted. The profile itself stays out of the orchestration history.
/// </summary>
public sealed class ValidateDatasetActivity(LifecycleStorage storage, DatasetStore datasets) : TaskActivity<DatasetStepInput, ValidationReport>
{
    public override async Task<ValidationReport> RunAsync(TaskActivityContext context, DatasetStepInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        await storage.EnsureCreatedAsync();
        var previous = await datasets.GetPreviousAcceptedProfileAsync(input.Spec.Name, input.Dataset.Path, CancellationToken.None);
        var folder = Directory.CreateTempSubdirectory("split-");
        try
        {
            var files = SplitDatasetActivity.Partitions.Select(p => Path.Combine(folder.FullName, p + ".csv")).ToArray();

            // Downloaded first (ranged requests in parallel), then read from the disk: reading the
            // blob's stream row by row waits on storage for each block, which took 4 s for a 54 MB file
            // on Azurite where the download and the pass from a file take 1.1-1.7 s (docs/benchmarks.md).
            var local = Path.Combine(folder.FullName, "dataset");
            await storage.Blob(BlobPath.Parse(input.Dataset.Path)).DownloadToAsync(local);
            ValidationReport report;
            using (var train = SplitDatasetActivity.Writer(files[0]))
            using (var validation = SplitDatasetActivity.Writer(files[1]))
            using (var test = SplitDatasetActivity.Writer(files[2]))
            await using (var stream = new FileStream(local, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan))
            {
                report = await DatasetValidator.ValidateAsync(
                    stream, input.Spec, input.Dataset.Sha256, CancellationToken.None, previous, DatasetFormats.FromPath(input.Dataset.Path),
                    new PartitionWriter(input.Spec.Split, train, validation, test));
            }

            if (!report.IsValid)
            {
                report = report with { Split = null };
            }
            else if (report.Split is not null)
            {
                await SplitDatasetActivity.UploadAsync(storage, input.RunId, files);
            }

            return await RecordAsync(input, report);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    private async Task<ValidationReport> RecordAsync(DatasetStepInput input, ValidationReport report)
    {
        string? profilePath = null;
        if (report.Profile is not null)
        {
            var path = RunPaths.Profile(input.RunId);
            await storage.Blob(path).UploadAsync(BinaryData.FromObjectAsJson(report.Profile, SpecJson.Options), overwrite: true);
            profilePath = path.ToString();
        }

        report = report with { Profile = null, ProfilePath = profilePath };
        await storage.Blob(RunPaths.ValidationReport(input.RunId)).UploadAsync(BinaryData.FromObjectAsJson(report, SpecJson.Options), overwrite: true);
        if (report.IsValid && profilePath is not null)
        {
            await datasets.MarkAcceptedAsync(input.Dataset, profilePath, CancellationToken.None);
        }

        return report;
    }
}
