using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Serverless.Lifecycle.Observability;
using Serverless.Lifecycle.Storage;
using Serverless.Lifecycle.Training;

namespace Serverless.Trainer;

/// <summary>
/// The trainer programs' entry point (the ML.NET trainer's and the deep trainer's): reads the job
/// path and storage settings, runs the job with the given trainers, and answers with an exit code.
/// </summary>
public static class TrainerProgram
{
    public static async Task<int> RunAsync(string[] args, IReadOnlyList<IAlgorithmTrainer> trainers, string serviceName)
    {
        // Exit codes: 0 the job succeeded; 1 the job failed (its result says why); 2 bad arguments or
        // configuration; 3 the job spec could not be read or the result not written (retry the job).
        var configuration = new ConfigurationBuilder().AddEnvironmentVariables().AddCommandLine(args).Build();
        var jobPath = configuration["job"] ?? configuration["TRAINER_JOB"];
        if (string.IsNullOrWhiteSpace(jobPath))
        {
            await Console.Error.WriteLineAsync($"usage: {System.Reflection.Assembly.GetEntryAssembly()?.GetName().Name} --job <container/path/to/job.json>  (or TRAINER_JOB); storage from Storage__ConnectionString or Storage__BlobServiceUri + Storage__TableServiceUri");
            return 2;
        }

        var storageOptions = configuration.GetSection(StorageOptions.SectionName).Get<StorageOptions>() ?? new StorageOptions();

        // The trainer's identity may only read and write its jobs' blobs (infra/app/storage.bicep); the
        // app made the containers and tables before it wrote this job.
        storageOptions.CreateLayout = false;
        var problems = storageOptions.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(storageOptions)).ToList();
        if (problems.Count > 0)
        {
            await Console.Error.WriteLineAsync(problems[0].ErrorMessage);
            return 2;
        }

        BlobPath spec;
        try
        {
            spec = BlobPath.Parse(jobPath);
        }
        catch (FormatException ex)
        {
            await Console.Error.WriteLineAsync(ex.Message);
            return 2;
        }

        using var tracing = LifecycleTelemetry.CreateTracerProvider(configuration, serviceName);
        using var storage = new LifecycleStorage(Options.Create(storageOptions));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        // In Azure the callback carries a token of the trainer's managed identity (the job names its audience).
        Azure.Core.TokenCredential? identity = string.IsNullOrWhiteSpace(storageOptions.ManagedIdentityClientId)
            ? null
            : new Azure.Identity.ManagedIdentityCredential(Azure.Identity.ManagedIdentityId.FromUserAssignedClientId(storageOptions.ManagedIdentityClientId));
        var runner = new TrainingJobRunner(storage, new TrainingJobStore(storage), new HttpCompletionNotifier(http, Console.Out, credential: identity), trainers);
        try
        {
            Console.WriteLine($"Training job {spec}");
            var result = await runner.RunAsync(spec, CancellationToken.None);
            Console.WriteLine($"Job {result.JobId}: {result.State} in {result.DurationSeconds:F1} s on {result.Hardware}{(result.Error is null ? "" : ": " + result.Error)}");
            return result.State == TrainingJobState.Succeeded ? 0 : 1;
        }
        catch (Azure.RequestFailedException ex)
        {
            await Console.Error.WriteLineAsync($"Storage error ({ex.Status}): {ex.Message}");
            return 3;
        }
    }
}
