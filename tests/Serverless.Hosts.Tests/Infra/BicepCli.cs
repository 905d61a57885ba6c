using System.Diagnostics;
using System.Reflection;
using System.Text.Json;
using Serverless.Tests;

namespace Serverless.Hosts.Tests.Infra;

/// <summary>The Bicep CLI from NuGet (Azure.Bicep.CommandLine), run offline.</summary>
internal static class BicepCli
{
    private static readonly string Bicep = typeof(BicepCli).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "BicepPath").Value!;

    // Any ids do: a snapshot only puts them into the resource ids it predicts.
    private const string SubscriptionId = "00000000-0000-0000-0000-000000000001";
    private const string Location = "westus3";

    /// <summary>Runs the CLI; the compiled template or snapshot message goes to stdout, diagnostics to stderr.</summary>
    public static (int ExitCode, string Output, string Diagnostics) Run(params string[] arguments)
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
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>
    /// The deployment of infra/main.bicep that <c>bicep snapshot</c> predicts for these parameters
    /// (Bicep expressions, for example <c>true</c> or <c>'2'</c>), on top of an environment name and
    /// a location: conditions, loops and parameters are evaluated, so a resource left out by its
    /// condition is absent. Values only known once deployed stay expressions. Null, with what the
    /// CLI said, when the template refuses the parameters.
    /// </summary>
    public static (PredictedDeployment? Deployment, string Message) Snapshot(params (string Name, string Value)[] parameters)
    {
        var folder = Directory.CreateTempSubdirectory("bicep-snapshot-");
        try
        {
            // A parameters file names its template by a relative path only.
            var template = Path.GetRelativePath(folder.FullName, Path.Combine(RepoPaths.Root, "infra", "main.bicep")).Replace('\\', '/');
            var lines = new List<string> { $"using '{template}'", "param environmentName = 'test'", $"param location = '{Location}'" };
            lines.AddRange(parameters.Select(p => $"param {p.Name} = {p.Value}"));
            var file = Path.Combine(folder.FullName, "main.bicepparam");
            File.WriteAllLines(file, lines);

            var (exitCode, output, diagnostics) = Run("snapshot", file, "--subscription-id", SubscriptionId, "--location", Location);
            var snapshot = Path.Combine(folder.FullName, "main.snapshot.json");
            if (exitCode != 0 || !File.Exists(snapshot))
            {
                return (null, output + diagnostics);
            }

            using var document = JsonDocument.Parse(File.ReadAllText(snapshot));
            var root = document.RootElement.Clone();
            return (new PredictedDeployment([.. root.GetProperty("predictedResources").EnumerateArray()], root.GetProperty("outputs")), output + diagnostics);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
