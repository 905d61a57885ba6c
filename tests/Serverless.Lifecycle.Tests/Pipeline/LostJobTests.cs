using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Lifecycle.Pipeline;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Training;
using Serverless.Samples.Churn;
using Serverless.Tests;
using Serverless.Trainer;

namespace Serverless.Lifecycle.Tests.Pipeline;

/// <summary>
/// A dispatcher whose first start of each job dies at once without reporting, as a trainer
/// process does when its host is killed; later starts run the real in-process trainer.
/// </summary>
public sealed class DyingFirstStartDispatcher(InProcessTrainingDispatcher inner) : ITrainingDispatcher
{
    private readonly HashSet<string> started = [];

    public int Starts { get; private set; }

    public Task<string> StartAsync(TrainingJobSpec job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        lock (started)
        {
            Starts++;
            if (started.Add(job.JobId))
            {
                return Task.FromResult("died");
            }
        }

        return inner.StartAsync(job, cancellationToken);
    }

    public Task<JobExecutionStatus> GetStatusAsync(TrainingJobSpec job, string executionId, CancellationToken cancellationToken) =>
        executionId == "died"
            ? Task.FromResult(new JobExecutionStatus(JobExecutionState.Ended, "killed"))
            : inner.GetStatusAsync(job, executionId, cancellationToken);

    public Task StopAsync(TrainingJobSpec job, string executionId, CancellationToken cancellationToken) => inner.StopAsync(job, executionId, cancellationToken);
}

public sealed class LostJobHostFixture : FastCheckFixture<DyingFirstStartDispatcher>;

public sealed class LostJobTests(LostJobHostFixture fixture) : IClassFixture<LostJobHostFixture>
{
    [Fact]
    public async Task Run_JobLostWithoutReporting_IsStartedAgainAndTheRunSucceeds()
    {
        var spec = PipelineHostFixture.SampleSpec("lost");

        var run = await fixture.RunAsync(spec, ChurnDataGenerator.Generate(2500, seed: 21));

        Assert.Equal("succeeded", run.Status);
        Assert.Equal(1, run.Version);
        Assert.Equal(2, fixture.Dispatcher.Starts);
        Assert.Equal(2, Assert.Single(run.Trials!).Starts);
        Assert.Contains("started 2 time(s)", run.Steps.Single(s => s.Name == "train").Detail, StringComparison.Ordinal);
    }
}
