using Microsoft.DurableTask;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;

namespace Serverless.Lifecycle.Pipeline.Activities;

/// <summary>
/// Validates and profiles the run's dataset (against the previous accepted dataset's profile for
/// skew), stores the report and the profile under <c>runs/{runId}/</c>, and marks the dataset
/// accepted when nothing blocks. The profile itself stays out of the orchestration history.
/// </summary>
public sealed class ValidateDatasetActivity(LifecycleStorage storage, DatasetStore datasets) : TaskActivity<DatasetStepInput, ValidationReport>
{
    public override async Task<ValidationReport> RunAsync(TaskActivityContext context, DatasetStepInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        await storage.EnsureCreatedAsync();
        var previous = await datasets.GetPreviousAcceptedProfileAsync(input.Spec.Name, input.Dataset.Path, CancellationToken.None);
        ValidationReport report;
        await using (var stream = await storage.Blob(BlobPath.Parse(input.Dataset.Path)).OpenReadAsync())
        {
            report = await DatasetValidator.ValidateAsync(
                stream, input.Spec, input.Dataset.Sha256, CancellationToken.None, previous, DatasetFormats.FromPath(input.Dataset.Path));
        }

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
