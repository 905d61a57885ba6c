using System.Diagnostics;
using System.Text.RegularExpressions;
using Serverless.Tests;

namespace Serverless.Hosts.Tests.Infra;

/// <summary>
/// The postdeploy hook deploys the GPU trainer image, which azd cannot deploy as a service (its job
/// exists only with GPU_TRAINING). The POSIX hook runs here against a stand-in <c>az</c> that records
/// its calls; the PowerShell hook (no pwsh here) is held to the same commands statically. Both may
/// read only the outputs main.bicep declares, which azd puts in the hook's environment.
/// </summary>
public sealed partial class PostdeployHookTests
{
    private static readonly string Hooks = Path.Combine(RepoPaths.Root, "infra", "hooks");

    [GeneratedRegex(@"\$\{?(?:env:)?(?<name>AZURE_[A-Z0-9_]+)")]
    private static partial Regex AzureVariable();

    [GeneratedRegex(@"(?m)^output (?<name>\w+) ")]
    private static partial Regex Output();

    /// <summary>Runs postdeploy.sh with a stand-in az on the PATH; its exit code and the az calls, one line each.</summary>
    private static (int ExitCode, List<string> Calls, string Output) RunPosixHook(string gpuJobName)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("postdeploy.sh runs under sh; Windows runs postdeploy.ps1.");
        }

        var folder = Directory.CreateTempSubdirectory("postdeploy-");
        try
        {
            var log = Path.Combine(folder.FullName, "az.log");
            var az = Path.Combine(folder.FullName, "az");
            // Answers the one query the hook reads (the blobs_extension key) and records every call.
            File.WriteAllText(az, "#!/bin/sh\necho \"$*\" >> \"$AZ_LOG\"\nif [ \"$1 $2\" = \"functionapp keys\" ]; then echo key; fi\n");
            File.SetUnixFileMode(az, File.GetUnixFileMode(az) | UnixFileMode.UserExecute);

            var start = new ProcessStartInfo("sh") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = folder.FullName };
            start.ArgumentList.Add(Path.Combine(Hooks, "postdeploy.sh"));
            start.Environment["PATH"] = folder.FullName + Path.PathSeparator + Environment.GetEnvironmentVariable("PATH");
            start.Environment["AZ_LOG"] = log;
            start.Environment["AZURE_RESOURCE_GROUP"] = "rg-test";
            start.Environment["AZURE_FUNCTION_APP_NAME"] = "func-test";
            start.Environment["AZURE_FUNCTION_APP_URL"] = "https://func-test.azurewebsites.net";
            start.Environment["AZURE_EVENTGRID_SYSTEM_TOPIC_NAME"] = "evgst-test";
            start.Environment["AZURE_CONTAINER_REGISTRY_NAME"] = "crtest";
            start.Environment["AZURE_CONTAINER_REGISTRY_ENDPOINT"] = "crtest.azurecr.io";
            start.Environment["AZURE_GPU_TRAINER_JOB_NAME"] = gpuJobName;

            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            process.WaitForExit();
            var calls = File.Exists(log) ? File.ReadAllLines(log).ToList() : [];
            return (process.ExitCode, calls, stdout.Result + stderr.Result);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public void PosixHook_WithoutAGpuJob_SubscribesTheTriggersAndBuildsNoImage()
    {
        var (exitCode, calls, output) = RunPosixHook(gpuJobName: "");

        Assert.True(exitCode == 0, output);
        Assert.Equal(2, calls.Count(c => c.StartsWith("eventgrid system-topic event-subscription create", StringComparison.Ordinal)));
        Assert.DoesNotContain(calls, c => c.StartsWith("acr ", StringComparison.Ordinal) || c.StartsWith("containerapp ", StringComparison.Ordinal));
    }

    [Fact]
    public void PosixHook_WithAGpuJob_BuildsDockerfileGpuAndSetsThatImageOnTheGpuJob()
    {
        var (exitCode, calls, output) = RunPosixHook(gpuJobName: "trainer-gpu-test");

        Assert.True(exitCode == 0, output);
        var build = Assert.Single(calls, c => c.StartsWith("acr build ", StringComparison.Ordinal));
        Assert.Contains("--registry crtest ", build, StringComparison.Ordinal);
        Assert.Contains("--file gpu-trainer/Dockerfile.gpu ", build, StringComparison.Ordinal);
        var image = Regex.Match(build, @"--image (?<image>\S+)").Groups["image"].Value;
        Assert.NotEmpty(image);

        var update = Assert.Single(calls, c => c.StartsWith("containerapp job update ", StringComparison.Ordinal));
        Assert.Contains("--name trainer-gpu-test ", update, StringComparison.Ordinal);
        Assert.Contains($"--image crtest.azurecr.io/{image} ", update, StringComparison.Ordinal);
        // The build context is the repository root, where the Dockerfile's COPY paths start.
        Assert.EndsWith(" .", build, StringComparison.Ordinal);
    }

    [Fact]
    public void PowerShellHook_BuildsDockerfileGpuAndUpdatesTheGpuJob_OnlyWhenThereIsOne()
    {
        var text = File.ReadAllText(Path.Combine(Hooks, "postdeploy.ps1"));

        var guard = text.IndexOf("if (-not $env:AZURE_GPU_TRAINER_JOB_NAME)", StringComparison.Ordinal);
        var build = text.IndexOf("az acr build", StringComparison.Ordinal);
        var update = text.IndexOf("az containerapp job update", StringComparison.Ordinal);
        Assert.True(guard >= 0 && guard < build && build < update, "the GPU job guard, then az acr build, then az containerapp job update");
        Assert.Matches(@"--file gpu-trainer/Dockerfile\.gpu", text[build..update]);
        Assert.Matches(@"--name \$env:AZURE_GPU_TRAINER_JOB_NAME", text[update..]);
    }

    [Theory]
    [InlineData("postdeploy.sh")]
    [InlineData("postdeploy.ps1")]
    public void Hook_ReadsOnlyOutputsMainBicepDeclares(string hook)
    {
        var outputs = Output().Matches(File.ReadAllText(Path.Combine(RepoPaths.Root, "infra", "main.bicep"))).Select(m => m.Groups["name"].Value).ToHashSet(StringComparer.Ordinal);
        var read = AzureVariable().Matches(File.ReadAllText(Path.Combine(Hooks, hook))).Select(m => m.Groups["name"].Value).Distinct().ToList();

        Assert.Contains("AZURE_GPU_TRAINER_JOB_NAME", read);
        Assert.All(read, name => Assert.True(outputs.Contains(name), $"{hook} reads {name}, which main.bicep does not output"));
    }
}
