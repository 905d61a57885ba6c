using System.Diagnostics;
using System.Reflection;
using Serverless.Tests;

namespace Serverless.Hosts.Tests.Infra;

/// <summary>Every Bicep file of the infrastructure compiles and lints offline with the Bicep CLI from NuGet, with no warnings.</summary>
public sealed class BicepTests
{
    private static readonly string Bicep = typeof(BicepTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "BicepPath").Value!;

    private static (int ExitCode, string Diagnostics) RunBicep(params string[] arguments)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(Bicep, File.GetUnixFileMode(Bicep) | UnixFileMode.UserExecute);
        }

        var start = new ProcessStartInfo(Bicep) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();

        // The compiled template goes to stdout; diagnostics go to stderr.
        _ = stdout.Result;
        return (process.ExitCode, stderr.Result);
    }

    public static TheoryData<string, string> Files()
    {
        var data = new TheoryData<string, string>();
        foreach (var file in Directory.GetFiles(Path.Combine(RepoPaths.Root, "infra"), "*.bicep", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var relative = Path.GetRelativePath(RepoPaths.Root, file);
            data.Add("build", relative);
            data.Add("lint", relative);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void EveryBicepFile_CompilesAndLintsWithoutWarnings(string command, string file)
    {
        var path = Path.Combine(RepoPaths.Root, file);
        var arguments = command == "build" ? new[] { "build", path, "--stdout" } : new[] { "lint", path };

        var (exitCode, diagnostics) = RunBicep(arguments);

        Assert.True(exitCode == 0, diagnostics);
        Assert.True(string.IsNullOrWhiteSpace(diagnostics), diagnostics);
    }
}
