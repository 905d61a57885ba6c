using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Identity;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

using Serverless.Lifecycle.Specs;

namespace Serverless.Lifecycle.Training;

/// <summary>
/// Runs each training job as an execution of an Azure Container Apps job, through the Azure
/// Resource Manager REST API with the app's managed identity: <c>GET …/jobs/{job}</c> for its
/// container template, <c>POST …/jobs/{job}/start</c> with that container plus <c>TRAINER_JOB</c>
/// (the spec's blob path) as an environment override, <c>GET …/jobs/{job}/executions/{name}</c> for its status, and
/// <c>POST …/executions/{name}/stop</c>.
/// </summary>
/// <remarks>
/// Written on Azure.Core's HTTP pipeline (bearer tokens, retries on 408/429/5xx that honour
/// Retry-After, diagnostics) rather than Azure.ResourceManager.AppContainers: four calls need no
/// generated model of the whole resource provider, and the requests stay exactly the documented ones.
/// </remarks>
public sealed partial class ContainerAppsJobDispatcher : ITrainingDispatcher
{
    public const string JobEnvironmentVariable = "TRAINER_JOB";

    // A 202 from start names an operation to poll for the execution's name; never poll forever.
    private const int MaxOperationPolls = 30;
    private static readonly TimeSpan DefaultPollDelay = TimeSpan.FromSeconds(1);

    private readonly ContainerAppsJobOptions options;
    private readonly HttpPipeline pipeline;
    private readonly ILogger<ContainerAppsJobDispatcher> logger;

    public ContainerAppsJobDispatcher(IOptions<TrainingOptions> training, ILogger<ContainerAppsJobDispatcher> logger)
        : this(training, CreateCredential(training), transport: null, logger)
    {
    }

    /// <summary>For tests: another credential and transport (a loopback server with its own certificate).</summary>
    internal ContainerAppsJobDispatcher(IOptions<TrainingOptions> training, TokenCredential credential, HttpPipelineTransport? transport, ILogger<ContainerAppsJobDispatcher> logger, TimeSpan? retryDelay = null)
    {
        ArgumentNullException.ThrowIfNull(training);
        options = training.Value.ContainerAppsJob;
        this.logger = logger;
        var clientOptions = new ArmClientOptions();
        if (transport is not null)
        {
            clientOptions.Transport = transport;
        }

        if (retryDelay is { } delay)
        {
            clientOptions.Retry.Delay = delay;
        }

        var scope = new Uri(options.ManagementEndpoint, "/.default").ToString();
        pipeline = HttpPipelineBuilder.Build(clientOptions, new BearerTokenAuthenticationPolicy(credential, scope));
    }

    private string JobPath(string jobName) =>
        $"/subscriptions/{Uri.EscapeDataString(options.SubscriptionId!)}/resourceGroups/{Uri.EscapeDataString(options.ResourceGroup!)}/providers/Microsoft.App/jobs/{Uri.EscapeDataString(jobName)}";

    /// <summary>
    /// The Container Apps job that runs <paramref name="job"/>: the GPU job for the algorithms placed
    /// there (<see cref="TrainerAlgorithms.Placement"/>), the CPU job for the others.
    /// </summary>
    private string JobNameFor(TrainingJobSpec job) =>
        TrainerAlgorithms.Placement(job.Algorithm) != TrainerPlacements.Gpu
            ? options.JobName!
            : options.GpuJobName is { Length: > 0 } gpu
                ? gpu
                : throw new InvalidOperationException(
                    $"'{job.Algorithm}' trains on the GPU job, and this deployment has none ({TrainingOptions.SectionName}:{nameof(TrainingOptions.ContainerAppsJob)}:{nameof(ContainerAppsJobOptions.GpuJobName)} is not set). "
                    + "Deploy with the GPU job (azd env set GPU_TRAINING true; README, \"Deep models\") or choose a CPU algorithm.");

    public async Task<string> StartAsync(TrainingJobSpec job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        var trainer = job.Model.Trainer;
        if (trainer.IsCustom && trainer.Image is null)
        {
            throw new InvalidOperationException(
                "This model's trainer is trainer.localCommand, which runs in laptop mode only; in Azure set trainer.image (and trainer.command if the image needs one) to the container that runs it.");
        }

        var jobName = JobNameFor(job);
        var template = await GetContainerAsync(jobName, cancellationToken);
        var environment = template["env"]?.DeepClone() as JsonArray ?? [];
        foreach (var existing in environment.Where(e => e?["name"]?.GetValue<string>() == JobEnvironmentVariable).ToList())
        {
            environment.Remove(existing);
        }

        environment.Add(new JsonObject { ["name"] = JobEnvironmentVariable, ["value"] = TrainingJobPaths.Spec(job.RunId, job.JobId).ToString() });
        // A trainer of the model's own runs its image (and command) in the job's container, with the same
        // environment: the storage settings, the identity and TRAINER_JOB.
        var execution = new JsonObject
        {
            ["name"] = template["name"]?.DeepClone(),
            ["image"] = trainer.Image is { } image ? image : template["image"]?.DeepClone(),
            ["env"] = environment,
        };
        if (trainer.Image is null)
        {
            CopyIfPresent(template, execution, "command");
            CopyIfPresent(template, execution, "args");
        }
        else if (trainer.Command is { } command)
        {
            execution["command"] = new JsonArray([.. command.Select(word => (JsonNode)word)]);
        }
        // The hardware override is the CPU job's; the GPU job keeps its template's (its profile fixes them).
        var resources = options.Cpu is { } cpu && jobName == options.JobName
            ? new JsonObject { ["cpu"] = cpu, ["memory"] = options.Memory }
            : ExecutionResources(template["resources"]);
        if (resources is not null)
        {
            execution["resources"] = resources;
        }

        var body = new JsonObject { ["containers"] = new JsonArray(execution) };
        var response = await SendAsync(RequestMethod.Post, Url(JobPath(jobName) + "/start"), body, cancellationToken);
        var name = response.Status == 202
            ? await WaitForExecutionNameAsync(jobName, response, cancellationToken)
            : ExecutionName(jobName, response);
        JobStarted(logger, job.JobId, jobName, name);
        return name;
    }

    public async Task<JobExecutionStatus> GetStatusAsync(TrainingJobSpec job, string executionId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(executionId);
        var response = await SendAsync(RequestMethod.Get, ExecutionUrl(JobNameFor(job), executionId), body: null, cancellationToken, allow404: true);
        if (response.Status == 404)
        {
            return new JobExecutionStatus(JobExecutionState.Ended, $"execution {executionId} does not exist");
        }

        var status = JsonNode.Parse(response.Content.ToString())?["properties"]?["status"]?.GetValue<string>() ?? "Unknown";
        return status switch
        {
            "Running" or "Processing" => new JobExecutionStatus(JobExecutionState.Running, status),
            "Succeeded" or "Failed" or "Stopped" or "Degraded" => new JobExecutionStatus(JobExecutionState.Ended, $"execution {executionId} {status}"),
            _ => new JobExecutionStatus(JobExecutionState.Unknown, status),
        };
    }

    public async Task StopAsync(TrainingJobSpec job, string executionId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(executionId);

        // 404: gone already; 409: it is no longer running. Either way there is nothing to stop.
        var response = await SendAsync(RequestMethod.Post, Url($"{JobPath(JobNameFor(job))}/executions/{Uri.EscapeDataString(executionId)}/stop"), body: null, cancellationToken, allow404: true, allow409: true);
    }

    private Uri ExecutionUrl(string jobName, string executionId) => Url($"{JobPath(jobName)}/executions/{Uri.EscapeDataString(executionId)}");

    private Uri Url(string path) => new(options.ManagementEndpoint, $"{path}?api-version={Uri.EscapeDataString(options.ApiVersion)}");

    /// <summary>
    /// The job's trainer container from its current template. Read at every start, not cached: an
    /// execution override replaces the whole container, so a stale copy would run an old image
    /// after a deployment updated the job.
    /// </summary>
    private async Task<JsonObject> GetContainerAsync(string jobName, CancellationToken cancellationToken)
    {
        var response = await SendAsync(RequestMethod.Get, Url(JobPath(jobName)), body: null, cancellationToken);
        var containers = JsonNode.Parse(response.Content.ToString())?["properties"]?["template"]?["containers"] as JsonArray
            ?? throw new InvalidOperationException($"Container Apps job {jobName} has no containers in its template.");
        var candidates = containers.OfType<JsonObject>()
            .Where(c => string.IsNullOrWhiteSpace(options.ContainerName) || c["name"]?.GetValue<string>() == options.ContainerName)
            .ToList();
        return candidates.Count == 1
            ? candidates[0]
            : throw new InvalidOperationException(string.IsNullOrWhiteSpace(options.ContainerName)
                ? $"Container Apps job {jobName} has {containers.Count} containers; set {TrainingOptions.SectionName}:{nameof(TrainingOptions.ContainerAppsJob)}:{nameof(ContainerAppsJobOptions.ContainerName)}."
                : $"Container Apps job {jobName} has no container named '{options.ContainerName}'.");
    }

    private async Task<string> WaitForExecutionNameAsync(string jobName, ArmResponse accepted, CancellationToken cancellationToken)
    {
        if (accepted.Location is not { } location || !Uri.TryCreate(location, UriKind.Absolute, out var operation))
        {
            throw new InvalidOperationException($"Starting Container Apps job {jobName} was accepted without a Location to follow.");
        }

        var delay = RetryAfter(accepted);
        for (var poll = 0; poll < MaxOperationPolls; poll++)
        {
            await Task.Delay(delay, cancellationToken);
            var response = await SendAsync(RequestMethod.Get, operation, body: null, cancellationToken);
            if (response.Status != 202)
            {
                return ExecutionName(jobName, response);
            }

            delay = RetryAfter(response);
        }

        throw new TimeoutException($"Container Apps job {jobName} accepted the start but named no execution after {MaxOperationPolls} polls of {operation}.");
    }

    private static string ExecutionName(string jobName, ArmResponse response)
    {
        var json = response.Content.ToString();
        return JsonNode.Parse(string.IsNullOrWhiteSpace(json) ? "{}" : json)?["name"]?.GetValue<string>() is { Length: > 0 } name
            ? name
            : throw new InvalidOperationException($"Starting Container Apps job {jobName} returned {response.Status} without the execution's name: {json}");
    }

    private static TimeSpan RetryAfter(ArmResponse response) =>
        response.RetryAfter is { } value && int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds) && seconds is >= 0 and <= 60
            ? TimeSpan.FromSeconds(seconds)
            : DefaultPollDelay;

    private async Task<ArmResponse> SendAsync(RequestMethod method, Uri uri, JsonNode? body, CancellationToken cancellationToken, bool allow404 = false, bool allow409 = false)
    {
        using var message = pipeline.CreateMessage();
        message.Request.Method = method;
        message.Request.Uri.Reset(uri);
        message.Request.Headers.Add("Accept", "application/json");
        if (body is not null)
        {
            message.Request.Headers.Add("Content-Type", "application/json");
            message.Request.Content = RequestContent.Create(BinaryData.FromString(body.ToJsonString()));
        }
        else if (method == RequestMethod.Post)
        {
            message.Request.Content = RequestContent.Create(BinaryData.FromString(string.Empty));
        }

        await pipeline.SendAsync(message, cancellationToken);
        var response = message.Response;
        var result = new ArmResponse(
            response.Status,
            response.Content,
            response.Headers.TryGetValue("Location", out var location) ? location : null,
            response.Headers.TryGetValue("Retry-After", out var retryAfter) ? retryAfter : null);
        if (response.Status is >= 200 and < 300 || (allow404 && response.Status == 404) || (allow409 && response.Status == 409))
        {
            return result;
        }

        throw new RequestFailedException(response.Status, $"Azure Resource Manager answered {method} {uri.AbsolutePath} with {response.Status}: {ErrorMessage(result)}");
    }

    private static string ErrorMessage(ArmResponse response)
    {
        var text = response.Content.ToString();
        try
        {
            return JsonNode.Parse(text)?["error"]?["message"]?.GetValue<string>() ?? text;
        }
        catch (JsonException)
        {
            return text;
        }
    }

    /// <summary>
    /// The template's resources as an execution container takes them: cpu and memory. Resource Manager
    /// returns ephemeralStorage with them, which the Microsoft.App specification marks readOnly (the
    /// platform derives it), so a start does not send it back.
    /// </summary>
    private static JsonObject? ExecutionResources(JsonNode? resources)
    {
        if (resources is not JsonObject template)
        {
            return null;
        }

        var execution = new JsonObject();
        CopyIfPresent(template, execution, "cpu");
        CopyIfPresent(template, execution, "memory");
        return execution;
    }

    private static void CopyIfPresent(JsonObject from, JsonObject to, string property)
    {
        if (from[property] is { } value)
        {
            to[property] = value.DeepClone();
        }
    }

    private static TokenCredential CreateCredential(IOptions<TrainingOptions> training)
    {
        var clientId = training.Value.ContainerAppsJob.ManagedIdentityClientId;
        return string.IsNullOrWhiteSpace(clientId)
            ? new DefaultAzureCredential()
            : new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId));
    }

    private sealed class ArmClientOptions : ClientOptions;

    /// <summary>A response read whole (ARM answers are small), so nothing outlives its message.</summary>
    private sealed record ArmResponse(int Status, BinaryData Content, string? Location, string? RetryAfter);

    [LoggerMessage(EventId = 2010, Level = LogLevel.Information, Message = "Training job {JobId} started as execution {Execution} of Container Apps job {JobName}")]
    private static partial void JobStarted(ILogger logger, string jobId, string jobName, string execution);
}
