using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;
using Serverless.Lifecycle.Training;
using Serverless.Tests;

namespace Serverless.Lifecycle.Tests.Training;

/// <summary>Laptop mode's dispatcher with a stand-in trainer program (a shell script), so the process handling is tested on its own.</summary>
public sealed class LocalProcessTrainingDispatcherTests : IDisposable
{
    private readonly DirectoryInfo folder = Directory.CreateTempSubdirectory("fake-trainer-");

    public void Dispose() => folder.Delete(recursive: true);

    private LocalProcessTrainingDispatcher Dispatcher(string script, params string[] launcher)
    {
        var path = Script("trainer.sh", script);
        var options = new TrainingOptions { TrainerPath = path, LocalStateDirectory = Path.Combine(folder.FullName, "state") };
        foreach (var word in launcher)
        {
            options.TrainerLauncher.Add(word);
        }

        var training = Options.Create(options);
        var storage = Options.Create(new StorageOptions { ConnectionString = "UseDevelopmentStorage=true" });
        return new LocalProcessTrainingDispatcher(training, storage, NullLogger<LocalProcessTrainingDispatcher>.Instance);
    }

    private string Script(string name, string body)
    {
        var path = Path.Combine(folder.FullName, name);
        var text = "#!/bin/sh\n" + body + "\n";

        // The same script is not written again: a "restarted host" must not truncate the file under a
        // trainer the "dead host" started, which may not have read it yet on a busy machine (it would
        // then run an empty script and exit, and look like a trainer that ended).
        if (File.Exists(path) && File.ReadAllText(path) == text)
        {
            return path;
        }

        File.WriteAllText(path, text);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        return path;
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

    [Theory]
    [InlineData("churn-run-train@99999")]
    [InlineData("churn-run-train@1@0")]
    public async Task GetStatus_ExecutionOfAnotherHostWhoseProcessIsGone_IsEnded(string execution)
    {
        using var dispatcher = Dispatcher("exit 0");

        // An id from before start times were recorded, and pid 1 with a start time it never had.
        var status = await dispatcher.GetStatusAsync(ContainerAppsJobDispatcherTests.Job(), execution, CancellationToken.None);

        Assert.Equal((JobExecutionState.Ended, "trainer process is not running"), (status.State, status.Detail));
    }

    [Fact]
    public async Task Start_WithALauncher_RunsTheTrainerThroughIt_WordForWord()
    {
        // The launcher records how it was called, then runs the rest as a chroot or a container runner would.
        var marker = Path.Combine(folder.FullName, "launched.txt");
        var launcher = Script("launcher.sh", $"printf '%s\\n' \"$@\" > '{marker}'\nexec \"$@\"");
        using var dispatcher = Dispatcher("exit 0", launcher, "/bin/sh");
        var job = ContainerAppsJobDispatcherTests.Job();

        var execution = await dispatcher.StartAsync(job, CancellationToken.None);
        var ended = await WaitForEndAsync(dispatcher, execution);

        Assert.Equal("trainer process exited with code 0", ended.Detail);
        Assert.Equal(["/bin/sh", Path.Combine(folder.FullName, "trainer.sh"), "--job", TrainingJobPaths.Spec(job.RunId, job.JobId).ToString()], File.ReadAllLines(marker));
    }

    private static TrainingJobSpec OwnTrainerJob(IReadOnlyList<string>? localCommand, string? image = null)
    {
        var job = ContainerAppsJobDispatcherTests.Job();
        return job with { Algorithm = "sklearn-logreg", Model = job.Model with { Trainer = job.Model.Trainer with { Algorithm = "sklearn-logreg", LocalCommand = localCommand, Image = image } } };
    }

    [Fact]
    public async Task Start_ATrainerOfTheModelsOwn_RunsItsLocalCommand_WithTheJobPathAsArgumentAndInTrainerJob()
    {
        var marker = Path.Combine(folder.FullName, "own.txt");
        var own = Script("own.sh", $"printf '%s\n' \"$@\" \"$TRAINER_JOB\" > '{marker}'");
        using var dispatcher = Dispatcher("exit 7");
        var job = OwnTrainerJob(["/bin/sh", own, "--verbose"]);

        var ended = await WaitForEndAsync(dispatcher, await dispatcher.StartAsync(job, CancellationToken.None));

        Assert.Equal("trainer process exited with code 0", ended.Detail);
        var spec = TrainingJobPaths.Spec(job.RunId, job.JobId).ToString();
        Assert.Equal(["--verbose", "--job", spec, spec], File.ReadAllLines(marker));
    }

    [Theory]
    [InlineData("UseDevelopmentStorage=true", LocalProcessTrainingDispatcher.DevelopmentStorage)]
    [InlineData("UseDevelopmentStorage=true;", LocalProcessTrainingDispatcher.DevelopmentStorage)]
    [InlineData("DefaultEndpointsProtocol=http;AccountName=a;AccountKey=b;BlobEndpoint=http://127.0.0.1:9/a;", "DefaultEndpointsProtocol=http;AccountName=a;AccountKey=b;BlobEndpoint=http://127.0.0.1:9/a;")]
    public void AStartedTrainer_GetsTheStorageConnectionSpelledOut_NotTheDevelopmentShorthand(string configured, string passed)
    {
        var start = LocalProcessTrainingDispatcher.StartInfo(["python3", "train.py"], "runs/r/jobs/j/job.json", new StorageOptions { ConnectionString = configured }, new Dictionary<string, string>());

        Assert.Equal(passed, start.Environment["Storage__ConnectionString"]);
        Assert.Equal(["train.py", "--job", "runs/r/jobs/j/job.json"], start.ArgumentList);
        Assert.Equal("runs/r/jobs/j/job.json", start.Environment["TRAINER_JOB"]);
    }

    [Fact]
    public async Task Start_ATrainerImageWithoutALocalCommand_SaysLaptopModeNeedsOne()
    {
        using var dispatcher = Dispatcher("exit 0");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => dispatcher.StartAsync(OwnTrainerJob(null, image: "contoso.azurecr.io/sklearn:1"), CancellationToken.None));

        Assert.Contains("trainer.localCommand", error.Message, StringComparison.Ordinal);
        Assert.Contains("contoso.azurecr.io/sklearn:1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_ALocalCommandThatCannotStart_SaysWhichSetting()
    {
        using var dispatcher = Dispatcher("exit 0");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => dispatcher.StartAsync(OwnTrainerJob(["/no/such/python3", "train.py"]), CancellationToken.None));

        Assert.Contains("trainer.localCommand starts with '/no/such/python3'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_LauncherThatCannotStart_SaysWhichSetting()
    {
        using var dispatcher = Dispatcher("exit 0", "/no/such/launcher", "/usr/share/dotnet/dotnet");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => dispatcher.StartAsync(ContainerAppsJobDispatcherTests.Job(), CancellationToken.None));

        Assert.Contains("Training:TrainerLauncher starts with '/no/such/launcher'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_LauncherWithAnEmptyWord_IsRefusedNamingTheSetting()
    {
        var options = new TrainingOptions();
        options.TrainerLauncher.Add("chroot");
        options.TrainerLauncher.Add(" ");

        var problem = Assert.Single(options.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(options)));

        Assert.Contains("Training:TrainerLauncher has an empty word", problem.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_TrainerPathMissing_SaysWhichSetting()
    {
        using var dispatcher = new LocalProcessTrainingDispatcher(
            Options.Create(new TrainingOptions { TrainerPath = "/no/such/trainer.dll" }), Options.Create(new StorageOptions()), NullLogger<LocalProcessTrainingDispatcher>.Instance);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => dispatcher.StartAsync(ContainerAppsJobDispatcherTests.Job(), CancellationToken.None));

        Assert.Contains("Training:TrainerPath", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_MlpJob_GoesToTheDeepTrainer_AndWithoutOneSaysWhichSetting()
    {
        // The ML.NET trainer is configured and exists; an mlp job still does not go to it.
        using var dispatcher = new LocalProcessTrainingDispatcher(
            Options.Create(new TrainingOptions { TrainerPath = typeof(LocalProcessTrainingDispatcherTests).Assembly.Location }), Options.Create(new StorageOptions()), NullLogger<LocalProcessTrainingDispatcher>.Instance);
        var job = ContainerAppsJobDispatcherTests.Job() with { Algorithm = TrainerAlgorithms.Mlp };

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => dispatcher.StartAsync(job, CancellationToken.None));

        Assert.Contains("Training:DeepTrainerPath", error.Message, StringComparison.Ordinal);
        Assert.Contains("mlp", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AfterAHostRestart_AnIdWhoseStartDiffersByOneTick_IsAnotherProgram_AndEnded()
    {
        var job = ContainerAppsJobDispatcherTests.Job();
        using var dead = Dispatcher("sleep 60");
        var orphan = await dead.StartAsync(job, CancellationToken.None);
        var parts = orphan.Split('@');
        var stranger = string.Join('@', parts[..^1]) + "@" + (long.Parse(parts[^1], CultureInfo.InvariantCulture) + 1).ToString(CultureInfo.InvariantCulture);

        using var restarted = Dispatcher("sleep 60");
        var status = await restarted.GetStatusAsync(job, stranger, CancellationToken.None);
        var live = await restarted.GetStatusAsync(job, orphan, CancellationToken.None);
        var stamp = OperatingSystem.IsLinux() ? LocalProcessTrainingDispatcher.BootRelativeStart(int.Parse(parts[^2], CultureInfo.InvariantCulture)) : 0;
        await dead.StopAsync(job, orphan, CancellationToken.None);

        // The stamp is the exact start (clock ticks since boot on Linux, which setting the clock does not move).
        Assert.Equal((JobExecutionState.Ended, "trainer process is not running"), (status.State, status.Detail));
        Assert.Equal(JobExecutionState.Running, live.State);
        if (OperatingSystem.IsLinux())
        {
            Assert.Equal(stamp.ToString(CultureInfo.InvariantCulture), parts[^1]);
        }
    }

    [Fact]
    public async Task AfterAHostRestart_ATrainerTheDeadHostStarted_CountsAsRunning_AndIsNotStartedTwice()
    {
        var job = ContainerAppsJobDispatcherTests.Job();
        string orphan;

        // The first host starts the trainer, then dies (its dispatcher is gone; the process lives on).
        using (var dead = Dispatcher("sleep 60"))
        {
            orphan = await dead.StartAsync(job, CancellationToken.None);
        }

        using var restarted = Dispatcher("sleep 60");
        var status = await restarted.GetStatusAsync(job, orphan, CancellationToken.None);
        var again = await restarted.StartAsync(job, CancellationToken.None);

        Assert.Equal(JobExecutionState.Running, status.State);
        Assert.Contains("started by an earlier host", status.Detail, StringComparison.Ordinal);
        Assert.Equal(orphan, again);

        await restarted.StopAsync(job, orphan, CancellationToken.None);
        var ended = await Eventually.WaitAsync(() => restarted.GetStatusAsync(job, orphan, CancellationToken.None), s => s.State == JobExecutionState.Ended);
        Assert.Equal(JobExecutionState.Ended, ended.State);
        var fresh = await restarted.StartAsync(job, CancellationToken.None);
        await restarted.StopAsync(job, fresh, CancellationToken.None);
        Assert.NotEqual(orphan, fresh);
    }
}
