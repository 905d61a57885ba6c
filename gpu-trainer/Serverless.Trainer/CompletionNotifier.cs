using System.Net.Http.Json;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Training;

namespace Serverless.Trainer;

/// <summary>Tells the pipeline that a job's result is written.</summary>
public interface ICompletionNotifier
{
    Task NotifyAsync(TrainingJobSpec job, TrainingJobResult result, CancellationToken cancellationToken);
}

/// <summary>
/// Posts the completion to the job's <see cref="TrainingJobSpec.CallbackUrl"/>. Best effort: the
/// result blob is the record, and the pipeline checks the job's status when no callback comes, so
/// a callback that cannot be delivered after a few tries is logged and dropped.
/// </summary>
public sealed class HttpCompletionNotifier(HttpClient http, TextWriter log, IReadOnlyList<TimeSpan>? backoff = null) : ICompletionNotifier
{
    private readonly IReadOnlyList<TimeSpan> backoff = backoff ?? [TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(9)];

    public async Task NotifyAsync(TrainingJobSpec job, TrainingJobResult result, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(result);
        if (job.CallbackUrl is not { } url)
        {
            return;
        }

        var completion = new TrainingCompletedEvent(job.RunId, job.JobId, result.State);
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                using var response = await http.PostAsJsonAsync(url, completion, SpecJson.Options, cancellationToken);
                var status = (int)response.StatusCode;

                // 409: the pipeline no longer waits for this job (a duplicate); 4xx: retrying will not help.
                if (response.IsSuccessStatusCode || (status is >= 400 and < 500 && status != 429))
                {
                    await log.WriteLineAsync($"Completion callback for {job.JobId}: {status}");
                    return;
                }

                await log.WriteLineAsync($"Completion callback for {job.JobId} answered {status}; retrying");
            }
            catch (Exception ex) when (ex is HttpRequestException || (ex is TaskCanceledException && !cancellationToken.IsCancellationRequested))
            {
                // Unreachable, refused, or timed out: the result is written either way.
                await log.WriteLineAsync($"Completion callback for {job.JobId} failed: {ex.Message}");
            }

            if (attempt >= backoff.Count)
            {
                await log.WriteLineAsync($"Gave up on the completion callback for {job.JobId}; the pipeline will find the result when it checks the job.");
                return;
            }

            await Task.Delay(backoff[attempt], cancellationToken);
        }
    }
}
