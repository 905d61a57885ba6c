using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Lifecycle.Pipeline;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;
using Serverless.Lifecycle.Training;
using Serverless.Samples.Churn;
using Serverless.Tests;

namespace Serverless.Lifecycle.Tests.Pipeline;

/// <summary>What a scripted trainer does instead of training.</summary>
public enum TrainerScript
{
    ExitsWithoutResult,
    ReportsFailure,
    ReportsNaNMetric,
    OmitsMetric,
    ReportsMissingOnnx,
    ReportsWrongSha,
    WritesUnloadableOnnx,
    NeverReports,
}

/// <summary>
/// A dispatcher that plays a misbehaving trainer per model (the script is keyed by model name):
/// it writes the result blob such a trainer would write, or none, and says its execution ended.
/// </summary>
public sealed class ScriptedDispatcher(LifecycleStorage storage, TrainingJobStore jobs) : ITrainingDispatcher
{
    public ConcurrentDictionary<string, TrainerScript> Scripts { get; } = new(StringComparer.Ordinal);

    public ConcurrentBag<string> Stopped { get; } = [];

    public ConcurrentBag<string> Started { get; } = [];

    public async Task<string> StartAsync(TrainingJobSpec job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        Started.Add(job.JobId);
        var script = Scripts[job.Model.Name];
        var metrics = new Dictionary<string, double> { ["auc"] = 0.9, ["accuracy"] = 0.8, ["f1"] = 0.7, ["logLoss"] = 0.5 };
        var onnxPath = TrainingJobPaths.Onnx(job.RunId, job.JobId);
        TrainingJobResult Succeeded(IReadOnlyDictionary<string, double> m, string sha) => new(
            job.JobId, TrainingJobState.Succeeded, null, m, [new TrainingArtifact(TrainingJobPaths.OnnxFileName, onnxPath.ToString(), sha, 3)], null, 1, "scripted", "test");

        switch (script)
        {
            case TrainerScript.ReportsFailure:
                await jobs.WriteResultOnceAsync(job.RunId, new TrainingJobResult(job.JobId, TrainingJobState.Failed, "LightGBM could not read the training split.", new Dictionary<string, double>(), [], null, 1, "scripted", "test"), cancellationToken);
                break;
            case TrainerScript.ReportsNaNMetric:
                await jobs.WriteResultOnceAsync(job.RunId, Succeeded(new Dictionary<string, double>(metrics) { ["auc"] = double.NaN }, "00"), cancellationToken);
                break;
            case TrainerScript.OmitsMetric:
                metrics.Remove("logLoss");
                await jobs.WriteResultOnceAsync(job.RunId, Succeeded(metrics, "00"), cancellationToken);
                break;
            case TrainerScript.ReportsMissingOnnx:
                await jobs.WriteResultOnceAsync(job.RunId, Succeeded(metrics, ModelArtifactStore.Sha256Hex([1, 2, 3])), cancellationToken);
                break;
            case TrainerScript.ReportsWrongSha:
                await storage.Blob(onnxPath).UploadAsync(new BinaryData(new byte[] { 1, 2, 3 }), overwrite: true, cancellationToken);
                await jobs.WriteResultOnceAsync(job.RunId, Succeeded(metrics, ModelArtifactStore.Sha256Hex([4, 5, 6])), cancellationToken);
                break;
            case TrainerScript.WritesUnloadableOnnx:
                await storage.Blob(onnxPath).UploadAsync(new BinaryData(new byte[] { 1, 2, 3 }), overwrite: true, cancellationToken);
                await jobs.WriteResultOnceAsync(job.RunId, Succeeded(metrics, ModelArtifactStore.Sha256Hex([1, 2, 3])), cancellationToken);
                break;
        }

        return script == TrainerScript.NeverReports ? "hangs" : "exited";
    }

    public Task<JobExecutionStatus> GetStatusAsync(TrainingJobSpec job, string executionId, CancellationToken cancellationToken) =>
        Task.FromResult(executionId == "hangs" && !Stopped.Contains(job.JobId)
            ? new JobExecutionStatus(JobExecutionState.Running)
            : new JobExecutionStatus(JobExecutionState.Ended, "trainer process exited with code 3"));

    public Task StopAsync(TrainingJobSpec job, string executionId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        Stopped.Add(job.JobId);
        return Task.CompletedTask;
    }
}

public sealed class ScriptedTrainerFixture : FastCheckFixture<ScriptedDispatcher>;

/// <summary>Every way a training job can go wrong ends the run with a clear reason and registers nothing.</summary>
public sealed class JobFailureTests(ScriptedTrainerFixture fixture) : IClassFixture<ScriptedTrainerFixture>
{
    private async Task<(ModelSpec Spec, TrainingRunRequest Request)> StartAsync(TrainerScript script, int timeoutMinutes = 30)
    {
        var sample = PipelineHostFixture.SampleSpec(script.ToString().ToLowerInvariant()[..8]);
        var spec = sample with { Trainer = sample.Trainer with { TimeoutMinutes = timeoutMinutes } };
        fixture.Dispatcher.Scripts[spec.Name] = script;
        return (spec, await fixture.StartRunAsync(spec, ChurnDataGenerator.Generate(400, seed: 31)));
    }

    private Task<RunStatus> WaitAsync(TrainingRunRequest request, int minutes = 3) => fixture.WaitAsync(request.RunId, minutes);

    [Theory]
    [InlineData(TrainerScript.ReportsFailure, "LightGBM could not read the training split.")]
    [InlineData(TrainerScript.ReportsNaNMetric, "validation metric 'auc' = NaN")]
    [InlineData(TrainerScript.OmitsMetric, "without the validation metric 'logLoss'")]
    [InlineData(TrainerScript.ReportsMissingOnnx, "which does not exist")]
    [InlineData(TrainerScript.ReportsWrongSha, "does not match the trainer's report")]
    [InlineData(TrainerScript.WritesUnloadableOnnx, "ONNX Runtime cannot load")]
    [InlineData(TrainerScript.ExitsWithoutResult, "ended without reporting 3 time(s); the last time: trainer process exited with code 3")]
    public async Task Run_TrainerMisbehaves_EndsTrainingFailedWithTheReasonAndRegistersNothing(TrainerScript script, string reason)
    {
        var (spec, request) = await StartAsync(script);

        var run = await WaitAsync(request);

        Assert.Equal("trainingFailed", run.Status);
        Assert.Contains(reason, run.Error, StringComparison.Ordinal);
        Assert.Equal("failed", run.Steps.Single(s => s.Name == "train").Outcome);
        Assert.DoesNotContain(run.Steps, s => s.Name == "evaluate");
        Assert.Equal(TrainingJobState.Failed, Assert.Single(run.Trials!).State);
        Assert.Empty(await fixture.Registry.ListVersionsAsync(spec.Name, CancellationToken.None));
        Assert.Equal(script == TrainerScript.ExitsWithoutResult ? 3 : 1, fixture.Dispatcher.Started.Count(j => j.StartsWith(request.RunId, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Run_JobNeverReports_IsStoppedAtTheDeadlineAndFails()
    {
        var (spec, request) = await StartAsync(TrainerScript.NeverReports, timeoutMinutes: 1);

        var run = await WaitAsync(request, minutes: 4);

        Assert.Equal("trainingFailed", run.Status);
        Assert.Contains("did not report by its deadline", run.Error, StringComparison.Ordinal);
        Assert.Contains(fixture.Dispatcher.Stopped, j => j.StartsWith(request.RunId, StringComparison.Ordinal));
        Assert.Empty(await fixture.Registry.ListVersionsAsync(spec.Name, CancellationToken.None));
    }

    [Fact]
    public async Task Cancel_RunningJob_StopsTheJobAndEndsCancelled()
    {
        var (spec, request) = await StartAsync(TrainerScript.NeverReports);
        using (var started = new CancellationTokenSource(TimeSpan.FromMinutes(2)))
        {
            while (!fixture.Dispatcher.Started.Any(j => j.StartsWith(request.RunId, StringComparison.Ordinal)))
            {
                await Task.Delay(200, started.Token);
            }
        }

        var asked = await fixture.Client.CancelRunAsync(request.RunId, new CancelRequest("wrong dataset", "tester"), CancellationToken.None);
        var run = await WaitAsync(request);

        Assert.Equal(RunSignalOutcome.Accepted, asked);
        Assert.Equal("cancelled", run.Status);
        Assert.Equal("Cancelled by tester: wrong dataset", run.Error);
        Assert.Equal(TrainingJobState.Cancelled, Assert.Single(run.Trials!).State);
        Assert.Contains(fixture.Dispatcher.Stopped, j => j.StartsWith(request.RunId, StringComparison.Ordinal));
        Assert.Empty(await fixture.Registry.ListVersionsAsync(spec.Name, CancellationToken.None));
        Assert.Equal(RunSignalOutcome.Finished, await fixture.Client.CancelRunAsync(request.RunId, new CancelRequest("again", "tester"), CancellationToken.None));
        Assert.Equal(RunSignalOutcome.UnknownRun, await fixture.Client.CancelRunAsync("no-such-run", new CancelRequest("x", "tester"), CancellationToken.None));
    }
}
