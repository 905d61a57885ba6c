using Serverless.Tests;

namespace Serverless.Hosts.Tests.Infra;

/// <summary>Every Bicep file of the infrastructure compiles and lints offline with the Bicep CLI from NuGet, with no warnings.</summary>
public sealed class BicepTests
{
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

        var (exitCode, _, diagnostics) = BicepCli.Run(arguments);

        Assert.True(exitCode == 0, diagnostics);
        Assert.True(string.IsNullOrWhiteSpace(diagnostics), diagnostics);
    }
}
