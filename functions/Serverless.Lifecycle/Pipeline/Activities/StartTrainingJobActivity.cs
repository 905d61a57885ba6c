using Microsoft.DurableTask;
using Microsoft.Extensions.Options;
using Serverless.Lifecycle.Observability;
using Serverless.Lifecycle.Training;

namespace Serverless.Lifecycle.Pipeline.Activities;

/// <summary>
/// Writes the job spec (once) and hands it to the dispatcher. Retrying this step neither
/// changes the spec nor starts a job that has already reported its result.
/// </summary>
public sealed class StartTrainingJobActivity(TrainingJobStore jobs, ITrainingDispatcher dispatcher, IOptions<TrainingOptions> options)
    : TaskActivity<StartTrainingInput, TrainingJobRef>
{
    public override async Task<TrainingJobRef> RunAsync(TaskActivityContext context, StartTrainingInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var job = input.Job;
        var settings = options.Value;
        using var span = Telemetry.Source.StartActivity(TelemetryNames.Spans.StartTrainingJob);
        span?.SetTag(TelemetryNames.Tags.Run, job.RunId).SetTag(TelemetryNames.Tags.Job, job.JobId).SetTag(TelemetryNames.Tags.Model, job.Spec.Name);
        var spec = new TrainingJobSpec(
            job.JobId,
            job.RunId,
            job.Spec,
            job.Dataset,
            job.Split.TrainPath,
            job.Split.ValidationPath,
            TrainingJobPaths.Prefix(job.RunId, job.JobId),
            new DateTimeOffset(job.DeadlineUtc, TimeSpan.Zero),
            job.Algorithm,
            job.Hyperparameters,
            job.Spec.Trainer.Seed,
            CallbackUrl(settings, job),
            System.Diagnostics.Activity.Current?.Id,
            settings.CallbackBaseUrl is null ? null : settings.CallbackAudience,
            job.Split.Counts.TrainLabels,
            job.ScoreTest ? job.Split.TestPath : null);
        var stored = await jobs.WriteSpecOnceAsync(spec, CancellationToken.None);
        string? executionId = null;
        if (await jobs.TryReadResultAsync(job.RunId, job.JobId, CancellationToken.None) is null)
        {
            executionId = await dispatcher.StartAsync(stored, CancellationToken.None);
        }

        return new TrainingJobRef(job.RunId, job.JobId, input.Attempt, executionId, settings.StatusCheckInterval, settings.MaxJobStarts);
    }

    private static Uri? CallbackUrl(TrainingOptions settings, TrainingJobInput job)
    {
        if (settings.CallbackBaseUrl is not { } baseUrl)
        {
            return null;
        }

        return new Uri(baseUrl, TrainingJobPaths.CompletePath(job.RunId, job.JobId));
    }
}
