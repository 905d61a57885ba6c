using System.Text.Json;
using Serverless.Lifecycle.Training;
using Serverless.Tests;

namespace Serverless.Hosts.Tests.Infra;

/// <summary>
/// Where the trainers run, read from the deployment Bicep predicts for infra/main.bicep
/// (<see cref="BicepCli.Snapshot"/>): the CPU job always, on the Consumption profile; the GPU
/// profile and the GPU job only when gpuTraining is set; the Functions app told about each job
/// under the settings the dispatcher reads.
/// </summary>
public sealed class TrainerPlacementTests
{
    private const string Jobs = "Microsoft.App/jobs";

    private static readonly string JobNameSetting = Setting(nameof(ContainerAppsJobOptions.JobName));
    private static readonly string GpuJobNameSetting = Setting(nameof(ContainerAppsJobOptions.GpuJobName));

    // Each snapshot takes seconds; the two deployments most tests read are made once.
    private static readonly Lazy<PredictedDeployment> Default = new(() => Predict());
    private static readonly Lazy<PredictedDeployment> WithGpu = new(() => Predict(("gpuTraining", "true")));

    private static string Setting(string option) => $"{TrainingOptions.SectionName}__{nameof(TrainingOptions.ContainerAppsJob)}__{option}";

    private static PredictedDeployment Predict(params (string Name, string Value)[] parameters)
    {
        var (deployment, message) = BicepCli.Snapshot(parameters);
        return deployment ?? throw new InvalidOperationException("bicep snapshot refused the parameters: " + message);
    }

    private static JsonElement Properties(JsonElement resource) => resource.GetProperty("properties");

    private static string Name(JsonElement resource) => resource.GetProperty("name").GetString()!;

    private static string? ServiceTag(JsonElement resource) =>
        resource.TryGetProperty("tags", out var tags) && tags.TryGetProperty("azd-service-name", out var tag) ? tag.GetString() : null;

    private static JsonElement Container(JsonElement job) => Assert.Single(Properties(job).GetProperty("template").GetProperty("containers").EnumerateArray());

    private static Dictionary<string, string> WorkloadProfiles(PredictedDeployment deployment) =>
        Properties(Assert.Single(deployment.OfType("Microsoft.App/managedEnvironments"))).GetProperty("workloadProfiles").EnumerateArray()
            .ToDictionary(p => p.GetProperty("name").GetString()!, p => p.GetProperty("workloadProfileType").GetString()!);

    private static Dictionary<string, string?> AppSettings(PredictedDeployment deployment) =>
        Properties(Assert.Single(deployment.OfType("Microsoft.Web/sites/config"), c => Name(c).EndsWith("/appsettings", StringComparison.Ordinal)))
            .EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString());

    [Fact]
    public void Default_HasOnlyTheCpuJobOnTheConsumptionProfile_AndNoGpuJobSetting()
    {
        var deployment = Default.Value;

        Assert.Equal(new Dictionary<string, string> { ["Consumption"] = "Consumption" }, WorkloadProfiles(deployment));
        var job = Assert.Single(deployment.OfType(Jobs));
        Assert.Equal("Consumption", Properties(job).GetProperty("workloadProfileName").GetString());
        Assert.Equal("trainer", ServiceTag(job));
        var resources = Container(job).GetProperty("resources");
        Assert.Equal(2, resources.GetProperty("cpu").GetDouble());
        Assert.Equal("4Gi", resources.GetProperty("memory").GetString());

        var settings = AppSettings(deployment);
        Assert.Equal(Name(job), settings[JobNameSetting]);
        Assert.DoesNotContain(GpuJobNameSetting, settings.Keys);
        Assert.Equal(Name(job), deployment.Output("AZURE_TRAINER_JOB_NAME"));
        Assert.Equal("", deployment.Output("AZURE_GPU_TRAINER_JOB_NAME"));
    }

    [Fact]
    public void GpuTraining_AddsAGpuProfileAndAGpuJobOnIt_AndTheAppSettingNamesIt()
    {
        var deployment = WithGpu.Value;

        var profiles = WorkloadProfiles(deployment);
        Assert.Equal(2, profiles.Count);
        Assert.Equal("Consumption", profiles["Consumption"]);
        var jobs = deployment.OfType(Jobs).ToList();
        Assert.Equal(2, jobs.Count);

        // azd deploys the CPU image to the job tagged 'trainer'; the GPU job must not carry that tag too.
        var cpuJob = Assert.Single(jobs, j => ServiceTag(j) == "trainer");
        var gpuJob = Assert.Single(jobs, j => ServiceTag(j) is null);
        Assert.Equal("Consumption", Properties(cpuJob).GetProperty("workloadProfileName").GetString());
        var gpuProfile = Properties(gpuJob).GetProperty("workloadProfileName").GetString()!;
        Assert.Equal("Consumption-GPU-NC8as-T4", profiles[gpuProfile]);
        var resources = Container(gpuJob).GetProperty("resources");
        Assert.Equal(8, resources.GetProperty("cpu").GetDouble());
        Assert.Equal("56Gi", resources.GetProperty("memory").GetString());

        var settings = AppSettings(deployment);
        Assert.Equal(Name(cpuJob), settings[JobNameSetting]);
        Assert.Equal(Name(gpuJob), settings[GpuJobNameSetting]);
        Assert.Equal(Name(cpuJob), deployment.Output("AZURE_TRAINER_JOB_NAME"));
        Assert.Equal(Name(gpuJob), deployment.Output("AZURE_GPU_TRAINER_JOB_NAME"));
    }

    [Fact]
    public void GpuJob_RunsAsTheCpuJobDoes_SameIdentityRegistryTriggerAndSettings()
    {
        var jobs = WithGpu.Value.OfType(Jobs).ToList();
        var cpuJob = jobs.Single(j => ServiceTag(j) == "trainer");
        var gpuJob = jobs.Single(j => ServiceTag(j) is null);

        Assert.Equal(cpuJob.GetProperty("identity").GetRawText(), gpuJob.GetProperty("identity").GetRawText());
        Assert.Equal(Properties(cpuJob).GetProperty("configuration").GetRawText(), Properties(gpuJob).GetProperty("configuration").GetRawText());
        Assert.Equal("Manual", Properties(gpuJob).GetProperty("configuration").GetProperty("triggerType").GetString());
        Assert.Equal(Container(cpuJob).GetProperty("env").GetRawText(), Container(gpuJob).GetProperty("env").GetRawText());
        Assert.Contains(Container(gpuJob).GetProperty("env").EnumerateArray(), e => e.GetProperty("name").GetString() == "Storage__BlobServiceUri");
    }

    [Fact]
    public void EveryJob_IsOneTheAppMayStartAndStop()
    {
        var deployment = WithGpu.Value;
        var role = Assert.Single(deployment.OfType("Microsoft.Authorization/roleDefinitions"), r =>
            Properties(r).GetProperty("permissions").EnumerateArray().SelectMany(p => p.GetProperty("actions").EnumerateArray()).Select(a => a.GetString())
                .ToHashSet().IsSupersetOf(["Microsoft.App/jobs/start/action", "Microsoft.App/jobs/stop/action", "Microsoft.App/jobs/executions/read"]));
        var roleId = role.GetProperty("id").GetString();

        foreach (var job in deployment.OfType(Jobs))
        {
            // A role assignment on a resource is an extension resource of it.
            var scope = $"[extensionResourceId('{job.GetProperty("id").GetString()}', 'Microsoft.Authorization/roleAssignments'";
            Assert.Single(deployment.OfType("Microsoft.Authorization/roleAssignments"), a =>
                a.GetProperty("id").GetString()!.StartsWith(scope, StringComparison.Ordinal) && Properties(a).GetProperty("roleDefinitionId").GetString() == roleId);
        }
    }

    [Theory]
    [InlineData("0.25", "0.5Gi")]
    [InlineData("4", "8Gi")]
    public void CpuJob_TakesAPairTheConsumptionProfileAllows(string cpu, string memory)
    {
        var job = Assert.Single(Predict(("trainerCpu", $"'{cpu}'"), ("trainerMemory", $"'{memory}'")).OfType(Jobs));

        var resources = Container(job).GetProperty("resources");
        Assert.Equal(double.Parse(cpu, System.Globalization.CultureInfo.InvariantCulture), resources.GetProperty("cpu").GetDouble());
        Assert.Equal(memory, resources.GetProperty("memory").GetString());
    }

    [Theory]
    [InlineData("2", "3Gi", "4Gi")]
    [InlineData("8", "16Gi", "'8'")]
    public void CpuJob_RefusesAPairTheConsumptionProfileDoesNotAllow_SayingWhatItTakes(string cpu, string memory, string named)
    {
        var (deployment, message) = BicepCli.Snapshot(("trainerCpu", $"'{cpu}'"), ("trainerMemory", $"'{memory}'"));

        Assert.Null(deployment);
        Assert.Contains(named, message, StringComparison.Ordinal);
    }

    [Fact]
    public void GpuTrainingParameter_IsTheAzdVariableTheDispatcherNames_OffByDefault()
    {
        using var parameters = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepoPaths.Root, "infra", "main.parameters.json")));

        // ContainerAppsJobDispatcher's error for an mlp run without a GPU job says "azd env set GPU_TRAINING true".
        Assert.Equal("${GPU_TRAINING=false}", parameters.RootElement.GetProperty("parameters").GetProperty("gpuTraining").GetProperty("value").GetString());
    }
}
