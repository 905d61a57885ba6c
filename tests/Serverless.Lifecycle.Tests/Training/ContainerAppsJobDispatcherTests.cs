using System.ComponentModel.DataAnnotations;
using System.Text.Json.Nodes;
using Azure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Training;
using Serverless.Tests;

namespace Serverless.Lifecycle.Tests.Training;

/// <summary>The Container Apps dispatcher against a loopback server that answers like Azure Resource Manager.</summary>
public sealed class ContainerAppsJobDispatcherTests : IAsyncLifetime
{
    private FakeContainerAppsArm arm = null!;
    private readonly StaticTokenCredential credential = new();

    public async Task InitializeAsync() => arm = await FakeContainerAppsArm.StartAsync();

    public async Task DisposeAsync() => await arm.DisposeAsync();

    internal static TrainingOptions Options(Uri endpoint) => new()
    {
        Dispatcher = TrainingDispatchers.ContainerAppsJob,
        ContainerAppsJob = new ContainerAppsJobOptions
        {
            SubscriptionId = FakeContainerAppsArm.SubscriptionId,
            ResourceGroup = FakeContainerAppsArm.ResourceGroup,
            JobName = FakeContainerAppsArm.JobName,
            ManagementEndpoint = endpoint,
        },
    };

    private ContainerAppsJobDispatcher Dispatcher(Action<TrainingOptions>? configure = null)
    {
        var options = Options(arm.Endpoint);
        configure?.Invoke(options);
        return new ContainerAppsJobDispatcher(Microsoft.Extensions.Options.Options.Create(options), credential, arm.Transport(), NullLogger<ContainerAppsJobDispatcher>.Instance, retryDelay: TimeSpan.FromMilliseconds(50));
    }

    internal static TrainingJobSpec Job(string runId = "churn-run", string jobId = "churn-run-train")
    {
        var spec = ModelSpecValidator.Parse(File.ReadAllText(RepoPaths.SampleSpec)).Spec!;
        var dataset = new DatasetVersion("churn", "datasets/churn/x.csv", "\"0x1\"", new string('0', 64), 10, DateTimeOffset.UnixEpoch);
        return new TrainingJobSpec(jobId, runId, spec, dataset, "runs/a/train.csv", "runs/a/validation.csv", "runs/a/jobs/b/", DateTimeOffset.UnixEpoch, "lightgbm", spec.Trainer.Hyperparameters, 42);
    }

    [Fact]
    public async Task Start_PostsTheJobsTemplateWithTheSpecPathAsEnvironmentOverride()
    {
        var dispatcher = Dispatcher();

        var execution = await dispatcher.StartAsync(Job(), CancellationToken.None);

        Assert.Equal($"{FakeContainerAppsArm.JobName}-1", execution);
        var start = Assert.Single(arm.Requests, r => r.Method == "POST");
        Assert.Equal($"{FakeContainerAppsArm.JobPath}/start?api-version=2025-01-01", start.PathAndQuery);
        Assert.Equal("Bearer " + FakeContainerAppsArm.Token, start.Authorization);
        var container = JsonNode.Parse(start.Body)!["containers"]![0]!;
        Assert.Equal("trainer", container["name"]!.GetValue<string>());
        Assert.Equal("registry.azurecr.io/gpu-trainer:1.0", container["image"]!.GetValue<string>());
        var environment = container["env"]!.AsArray().ToDictionary(e => e!["name"]!.GetValue<string>(), e => e!["value"]!.GetValue<string>());
        Assert.Equal("runs/churn-run/jobs/churn-run-train/job.json", environment[ContainerAppsJobDispatcher.JobEnvironmentVariable]);
        Assert.Equal("https://account.blob.core.windows.net", environment["Storage__BlobServiceUri"]);
        Assert.Equal(4, container["resources"]!["cpu"]!.GetValue<double>());
        Assert.Equal(new Uri(arm.Endpoint, "/.default").ToString(), Assert.Single(credential.Scopes.Distinct()));
    }

    [Fact]
    public async Task Start_AfterADeploymentChangedTheImage_RunsTheNewImage()
    {
        var dispatcher = Dispatcher();
        await dispatcher.StartAsync(Job(), CancellationToken.None);
        arm.Image = "registry.azurecr.io/gpu-trainer:2.0";

        await dispatcher.StartAsync(Job(jobId: "churn-run-trial-2"), CancellationToken.None);

        var images = arm.Requests.Where(r => r.Method == "POST").Select(r => JsonNode.Parse(r.Body)!["containers"]![0]!["image"]!.GetValue<string>());
        Assert.Equal(["registry.azurecr.io/gpu-trainer:1.0", "registry.azurecr.io/gpu-trainer:2.0"], images);
    }

    [Fact]
    public async Task Start_WithHardwareConfigured_OverridesTheTemplatesResources()
    {
        var dispatcher = Dispatcher(o => (o.ContainerAppsJob.Cpu, o.ContainerAppsJob.Memory) = (8, "56Gi"));

        await dispatcher.StartAsync(Job(), CancellationToken.None);

        var resources = JsonNode.Parse(arm.Requests.Single(r => r.Method == "POST").Body)!["containers"]![0]!["resources"]!;
        Assert.Equal(8, resources["cpu"]!.GetValue<double>());
        Assert.Equal("56Gi", resources["memory"]!.GetValue<string>());
    }

    [Fact]
    public async Task Start_MlpJob_GoesToTheGpuJob_AndWithoutOneSaysHowToDeployIt()
    {
        var mlp = Job() with { Algorithm = TrainerAlgorithms.Mlp };
        var withoutGpu = Dispatcher();

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => withoutGpu.StartAsync(mlp, CancellationToken.None));

        Assert.Contains("Training:ContainerAppsJob:GpuJobName", refused.Message, StringComparison.Ordinal);
        Assert.Contains("GPU_TRAINING", refused.Message, StringComparison.Ordinal);
        Assert.Empty(arm.Requests);

        // With a GPU job named, the mlp job's requests go to it, a tree job's to the CPU job, and only the CPU job takes the hardware override.
        var withGpu = Dispatcher(o => (o.ContainerAppsJob.GpuJobName, o.ContainerAppsJob.Cpu, o.ContainerAppsJob.Memory) = ("trainer-gpu-job", 2, "4Gi"));
        await withGpu.StartAsync(mlp, CancellationToken.None);
        await withGpu.StartAsync(Job(), CancellationToken.None);

        var jobs = arm.Requests.Select(r => r.PathAndQuery.Split("/providers/Microsoft.App/jobs/")[1].Split('/', '?')[0]).Distinct().ToList();
        Assert.Equal(["trainer-gpu-job", FakeContainerAppsArm.JobName], jobs);
        var cores = arm.Requests.Where(r => r.Method == "POST").Select(r => JsonNode.Parse(r.Body)!["containers"]![0]!["resources"]!["cpu"]!.GetValue<double>());
        Assert.Equal([4.0, 2.0], cores);
    }

    [Theory]
    [InlineData(429)]
    [InlineData(500)]
    [InlineData(503)]
    public async Task Start_ThrottledOrServerError_RetriesHonouringRetryAfterAndSucceeds(int status)
    {
        arm.Fail("start", status, retryAfterSeconds: 1);
        var dispatcher = Dispatcher();

        var execution = await dispatcher.StartAsync(Job(), CancellationToken.None);

        Assert.Equal($"{FakeContainerAppsArm.JobName}-1", execution);
        Assert.Equal(2, arm.Count("POST", "/start"));
    }

    [Fact]
    public async Task Start_AnsweredAccepted_FollowsTheLocationToTheExecutionName()
    {
        arm.StartAnswersAccepted = true;
        var dispatcher = Dispatcher();

        var execution = await dispatcher.StartAsync(Job(), CancellationToken.None);

        Assert.Equal($"{FakeContainerAppsArm.JobName}-1", execution);
        Assert.Equal(2, arm.Requests.Count(r => r.PathAndQuery.StartsWith("/operations/", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Start_ServerKeepsFailing_ThrowsWithTheStatusAndMessage()
    {
        for (var i = 0; i < 10; i++)
        {
            arm.Fail("start", 500);
        }

        var dispatcher = Dispatcher();

        var error = await Assert.ThrowsAsync<RequestFailedException>(() => dispatcher.StartAsync(Job(), CancellationToken.None));

        Assert.Equal(500, error.Status);
        Assert.Contains("Injected 500", error.Message, StringComparison.Ordinal);
        Assert.Equal(4, arm.Count("POST", "/start"));
    }

    [Theory]
    [InlineData("Running", JobExecutionState.Running)]
    [InlineData("Processing", JobExecutionState.Running)]
    [InlineData("Succeeded", JobExecutionState.Ended)]
    [InlineData("Failed", JobExecutionState.Ended)]
    [InlineData("Stopped", JobExecutionState.Ended)]
    [InlineData("Degraded", JobExecutionState.Ended)]
    [InlineData("Unknown", JobExecutionState.Unknown)]
    public async Task GetStatus_MapsThePlatformsExecutionStatus(string platform, JobExecutionState expected)
    {
        var dispatcher = Dispatcher();
        var execution = await dispatcher.StartAsync(Job(), CancellationToken.None);
        arm.Executions[execution] = platform;

        var status = await dispatcher.GetStatusAsync(Job(), execution, CancellationToken.None);

        Assert.Equal(expected, status.State);
        Assert.Contains(platform, status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetStatus_ThrottledThenAnswered_RetriesAndReportsRunning()
    {
        var dispatcher = Dispatcher();
        var execution = await dispatcher.StartAsync(Job(), CancellationToken.None);
        arm.Fail("execution", 429, retryAfterSeconds: 1);

        var status = await dispatcher.GetStatusAsync(Job(), execution, CancellationToken.None);

        Assert.Equal(JobExecutionState.Running, status.State);
        Assert.Equal(2, arm.Count("GET", "/executions/" + execution));
    }

    [Fact]
    public async Task GetStatus_UnknownExecution_IsEnded()
    {
        var dispatcher = Dispatcher();

        var status = await dispatcher.GetStatusAsync(Job(), "gone-1", CancellationToken.None);

        Assert.Equal(JobExecutionState.Ended, status.State);
        Assert.Contains("does not exist", status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stop_RunningExecution_IsStoppedAndStoppingAgainIsHarmless()
    {
        var dispatcher = Dispatcher();
        var execution = await dispatcher.StartAsync(Job(), CancellationToken.None);

        await dispatcher.StopAsync(Job(), execution, CancellationToken.None);
        await dispatcher.StopAsync(Job(), execution, CancellationToken.None);

        Assert.Equal("Stopped", arm.Executions[execution]);
        Assert.Equal(2, arm.Count("POST", $"/executions/{execution}/stop"));
        Assert.Equal(JobExecutionState.Ended, (await dispatcher.GetStatusAsync(Job(), execution, CancellationToken.None)).State);
    }

    [Fact]
    public void Options_ContainerAppsJobWithoutItsJob_NameEveryMissingSetting()
    {
        var options = new TrainingOptions
        {
            Dispatcher = TrainingDispatchers.ContainerAppsJob,
            ContainerAppsJob = new ContainerAppsJobOptions { SubscriptionId = "not-a-guid", ManagementEndpoint = new Uri("http://management.example"), Cpu = 8 },
        };

        var problems = options.Validate(new ValidationContext(options)).Select(p => p.ErrorMessage).ToList();

        Assert.Contains(problems, p => p!.Contains("ContainerAppsJob:SubscriptionId", StringComparison.Ordinal));
        Assert.Contains(problems, p => p!.Contains("ContainerAppsJob:ResourceGroup", StringComparison.Ordinal));
        Assert.Contains(problems, p => p!.Contains("ContainerAppsJob:JobName", StringComparison.Ordinal));
        Assert.Contains(problems, p => p!.Contains("ManagementEndpoint must be an absolute https URL", StringComparison.Ordinal));
        Assert.Contains(problems, p => p!.Contains("Cpu and Memory go together", StringComparison.Ordinal));
    }

    [Fact]
    public void Options_UnknownDispatcher_IsRefusedWithTheChoices()
    {
        var options = new TrainingOptions { Dispatcher = "kubernetes" };

        var problem = Assert.Single(options.Validate(new ValidationContext(options)));

        Assert.Contains("'kubernetes'", problem.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains(TrainingDispatchers.ContainerAppsJob, problem.ErrorMessage, StringComparison.Ordinal);
    }
}
