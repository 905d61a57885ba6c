using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Serverless.Lifecycle.Pipeline;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;
using Serverless.Lifecycle.Tests.Training;
using Serverless.Lifecycle.Training;
using Serverless.Samples.Churn;
using Serverless.Tests;
using Serverless.Trainer;

namespace Serverless.Lifecycle.Tests.Pipeline;

/// <summary>
/// The pipeline with the Container Apps dispatcher, against the loopback Resource Manager: each
/// started execution runs the trainer on the <c>TRAINER_JOB</c> it was given, as the container would.
/// </summary>
public sealed class ContainerAppsHostFixture : PipelineHostFixture, IAsyncDisposable
{
    private readonly Lazy<FakeContainerAppsArm> arm = new(() => FakeContainerAppsArm.StartAsync().GetAwaiter().GetResult());

    public FakeContainerAppsArm Arm => arm.Value;

    public List<string> JobsRun { get; } = [];

    protected override void ConfigureDispatcher(IServiceCollection services)
    {
        services.AddSingleton<ITrainingDispatcher>(sp =>
        {
            var runner = sp.GetRequiredService<TrainingJobRunner>();
            Arm.OnStart = environment =>
            {
                var job = environment[ContainerAppsJobDispatcher.JobEnvironmentVariable];
                lock (JobsRun)
                {
                    JobsRun.Add(job);
                }

                _ = Task.Run(async () =>
                {
                    var result = await runner.RunAsync(BlobPath.Parse(job), CancellationToken.None);
                    foreach (var name in Arm.Executions.Keys)
                    {
                        Arm.Executions[name] = result.State == TrainingJobState.Succeeded ? "Succeeded" : "Failed";
                    }
                });
                return Task.CompletedTask;
            };
            return new ContainerAppsJobDispatcher(
                Options.Create(ContainerAppsJobDispatcherTests.Options(Arm.Endpoint)), new StaticTokenCredential(), Arm.Transport(), NullLogger<ContainerAppsJobDispatcher>.Instance);
        });
    }

    async ValueTask IAsyncDisposable.DisposeAsync()
    {
        if (arm.IsValueCreated)
        {
            await arm.Value.DisposeAsync();
        }
    }
}

public sealed class ContainerAppsPipelineTests(ContainerAppsHostFixture fixture) : IClassFixture<ContainerAppsHostFixture>
{
    [Fact]
    public async Task Run_OnContainerAppsJobs_StartsOneExecutionWithTheSpecPathAndRegistersTheModel()
    {
        var spec = PipelineHostFixture.SampleSpec("aca");

        var request = await fixture.StartRunAsync(spec, ChurnDataGenerator.Generate(1500, seed: 41));
        var run = await fixture.WaitAsync(request.RunId);

        Assert.Equal("succeeded", run.Status);
        Assert.Equal(1, run.Version);
        Assert.Equal([TrainingJobPaths.Spec(request.RunId, $"{request.RunId}-train").ToString()], fixture.JobsRun);
        Assert.Equal(1, fixture.Arm.Count("POST", "/start"));
        Assert.Contains("end noticed by callback", run.Steps.Single(s => s.Name == "train").Detail, StringComparison.Ordinal);
    }
}
