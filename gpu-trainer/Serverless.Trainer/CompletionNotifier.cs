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
/// Posts the completion to the job's <see cref="TrainingJobSpec.CallbackUrl"/>, with a bearer token
/// for <see cref="TrainingJobSpec.CallbackAudience"/> from <paramref name="credential"/> (the trainer's
/// managed identity) when the job names one. Best effort: the result blob is the record, and the
/// pipeline checks the job's status when no callback comes, so a callback that cannot be delivered
/// after a few tries, or whose token cannot be had, is logged and dropped.
/// </summary>
public sealed class HttpCompletionNotifier(HttpClient http, TextWriter log, IReadOnlyList<TimeSpan>? backoff = null, Azure.Core.TokenCredential? credential = null) : ICompletionNotifier
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
                using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = JsonContent.Create(completion, options: SpecJson.Options) };
                if (job.CallbackAudience is { Length: > 0 } audience)
                {
                    if (credential is null)
                    {
                        await log.WriteLineAsync($"Completion callback for {job.JobId} needs a token for {audience}, and this trainer has no identity; the pipeline will find the result when it checks the job.");
                        return;
                    }

                    // Asked for on each try: the credential caches it and renews it when it is about to expire.
                    var token = await credential.GetTokenAsync(new Azure.Core.TokenRequestContext([audience.TrimEnd('/') + "/.default"]), cancellationToken);
                    request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token.Token);
                }

                using var response = await http.SendAsync(request, cancellationToken);
                var status = (int)response.StatusCode;

                // 409: the pipeline no longer waits for this job (a duplicate); 4xx: retrying will not help.
                if (response.IsSuccessStatusCode || (status is >= 400 and < 500 && status != 429))
                {
                    await log.WriteLineAsync($"Completion callback for {job.JobId}: {status}");
                    return;
                }

                await log.WriteLineAsync($"Completion callback for {job.JobId} answered {status}; retrying");
            }
            catch (Exception ex) when (ex is HttpRequestException or Azure.Identity.AuthenticationFailedException || (ex is TaskCanceledException && !cancellationToken.IsCancellationRequested))
            {
                // Unreachable, refused, timed out, or no token to be had: the result is written either way.
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
