using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Serverless.Lifecycle.Storage;
using Serverless.Lifecycle.Training;

namespace Serverless.Lifecycle.Tests.Training;

/// <summary>Laptop mode's dispatcher with a stand-in trainer program (a shell script), so the process handling is tested on its own.</summary>
public sealed class LocalProcessTrainingDispatcherTests : IDisposable
{
    private readonly DirectoryInfo folder = Directory.CreateTempSubdirectory("fake-trainer-");

    public void Dispose() => folder.Delete(recursive: true);

    private LocalProcessTrainingDispatcher Dispatcher(string script)
    {
        var path = Path.Combine(folder.FullName, "trainer.sh");
        File.WriteAllText(path, "#!/bin/sh\n" + script + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var training = Options.Create(new TrainingOptions { TrainerPath = path });
        var storage = Options.Create(new StorageOptions { ConnectionString = "UseDevelopmentStorage=true" });
        return new LocalProcessTrainingDispatcher(training, storage, NullLogger<LocalProcessTrainingDispatcher>.Instance);
    }

    private static async Task<JobExecutionStatus> WaitForEndAsync(LocalProcessTrainingDispatcher dispatcher, string execution)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var job = ContainerAppsJobDispatcherTests.Job();
        while (true)
        {
            var status = await dispatcher.GetStatusAsync(job, execution, CancellationToken.None);
            if (status.State == JobExecutionState.Ended)
            {
                return status;
            }

            await Task.Delay(50, timeout.Token);
        }
    }

    [Fact]
    public async Task Start_RunningJobStartedAgain_ReturnsTheSameExecutionAndStopEndsIt()
    {
        using var dispatcher = Dispatcher("sleep 60");
        var job = ContainerAppsJobDispatcherTests.Job();

        var first = await dispatcher.StartAsync(job, CancellationToken.None);
        var again = await dispatcher.StartAsync(job, CancellationToken.None);
        Assert.Equal(first, again);
        Assert.Equal(JobExecutionState.Running, (await dispatcher.GetStatusAsync(job, first, CancellationToken.None)).State);

        await dispatcher.StopAsync(job, first, CancellationToken.None);
        var ended = await WaitForEndAsync(dispatcher, first);

        Assert.Contains("exited with code", ended.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetStatus_TrainerExitsNonZero_ReportsItsExitCode()
    {
        using var dispatcher = Dispatcher("exit 3");

        var execution = await dispatcher.StartAsync(ContainerAppsJobDispatcherTests.Job(), CancellationToken.None);
        var ended = await WaitForEndAsync(dispatcher, execution);

        Assert.Equal("trainer process exited with code 3", ended.Detail);
    }

    [Fact]
    public async Task GetStatus_ExecutionOfAnotherHost_IsEnded()
    {
        using var dispatcher = Dispatcher("exit 0");

        var status = await dispatcher.GetStatusAsync(ContainerAppsJobDispatcherTests.Job(), "churn-run-train@99999", CancellationToken.None);

        Assert.Equal((JobExecutionState.Ended, "trainer process is not running in this host"), (status.State, status.Detail));
    }

    [Fact]
    public async Task Start_TrainerPathMissing_SaysWhichSetting()
    {
        using var dispatcher = new LocalProcessTrainingDispatcher(
            Options.Create(new TrainingOptions { TrainerPath = "/no/such/trainer.dll" }), Options.Create(new StorageOptions()), NullLogger<LocalProcessTrainingDispatcher>.Instance);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => dispatcher.StartAsync(ContainerAppsJobDispatcherTests.Job(), CancellationToken.None));

        Assert.Contains("Training:TrainerPath", error.Message, StringComparison.Ordinal);
    }
}
