using Microsoft.DurableTask;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;

namespace Serverless.Lifecycle.Pipeline.Activities;

/// <summary>Validates the run's dataset against the spec and stores the report at <c>runs/{runId}/validation.json</c>.</summary>
public sealed class ValidateDatasetActivity(LifecycleStorage storage) : TaskActivity<DatasetStepInput, ValidationReport>
{
    public override async Task<ValidationReport> RunAsync(TaskActivityContext context, DatasetStepInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        await storage.EnsureCreatedAsync();
        ValidationReport report;
        await using (var stream = await storage.Blob(BlobPath.Parse(input.Dataset.Path)).OpenReadAsync())
        {
            report = await DatasetValidator.ValidateAsync(stream, input.Spec, input.Dataset.Sha256, CancellationToken.None);
        }

        await storage.Blob(RunPaths.ValidationReport(input.RunId))
            .UploadAsync(BinaryData.FromObjectAsJson(report, SpecJson.Options), overwrite: true);
        return report;
    }
}
