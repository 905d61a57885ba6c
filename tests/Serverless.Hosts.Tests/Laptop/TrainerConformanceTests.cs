using Microsoft.Extensions.Configuration;
using Serverless.Laptop;
using Serverless.Lifecycle.Specs;
using Serverless.Tests;

namespace Serverless.Hosts.Tests.Laptop;

/// <summary>
/// The trainer conformance kit: the built-in trainer keeps every rule of the trainer contract, and a
/// trainer that breaks one rule (tests/Fixtures/BrokenTrainer) fails that rule, named, while the rules
/// checked before it pass.
/// </summary>
public sealed class TrainerConformanceTests
{
    private static readonly string BuiltIn = RepoPaths.ProjectOutput(Path.Combine("gpu-trainer", "Serverless.Trainer"), "Serverless.Trainer.dll");

    private static readonly string Broken = RepoPaths.ProjectOutput(Path.Combine("tests", "Fixtures", "BrokenTrainer"), "Serverless.BrokenTrainer.dll");

    private static IConfiguration AzuriteConfiguration() =>
        new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Storage:ConnectionString"] = Azurite.ConnectionString }).Build();

    private static async Task<IReadOnlyList<ConformanceOutcome>> RunKitAsync(params string[] command)
    {
        var spec = ModelSpecValidator.Parse(File.ReadAllText(RepoPaths.SampleSpec)).Spec!;
        using var storage = Azurite.CreateStorage();
        var kit = new TrainerConformance(storage, Azurite.Options, TimeSpan.FromMinutes(3));
        return await kit.RunAsync(command, spec, Path.Combine(RepoPaths.Root, "samples", "churn", "churn.csv"), CancellationToken.None);
    }

    [Fact]
    public async Task TheBuiltInTrainer_KeepsEveryRule_ThroughTheCommand()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var args = new[]
        {
            "--spec", RepoPaths.SampleSpec, "--data", Path.Combine(RepoPaths.Root, "samples", "churn", "churn.csv"), "--timeout", "300", "--", "dotnet", BuiltIn,
        };

        var exit = await TrainerConformanceCommand.RunAsync(args, AzuriteConfiguration(), output, error);

        Assert.True(exit == 0, $"{output}\n{error}");
        foreach (var (rule, _) in TrainerConformance.Rules)
        {
            Assert.Contains($"PASS {rule}:", output.ToString(), StringComparison.Ordinal);
        }

        Assert.Contains($"keeps all {TrainerConformance.Rules.Count} rules", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheExamplePythonTrainer_KeepsEveryRule()
    {
        var python = RepoScripts.Run("python-trainer.sh", "The example trainer needs Python with scikit-learn, onnx and the Azure SDK");
        var spec = ModelSpecValidator.Parse(File.ReadAllText(Path.Combine(RepoPaths.Root, "samples", "trainers", "sklearn", "churn.spec.json")));
        Assert.Empty(spec.Problems);
        using var storage = Azurite.CreateStorage();

        var outcomes = await new TrainerConformance(storage, Azurite.Options, TimeSpan.FromMinutes(3))
            .RunAsync([python, Path.Combine(RepoPaths.Root, "samples", "trainers", "sklearn", "train.py")], spec.Spec!, Path.Combine(RepoPaths.Root, "samples", "churn", "churn.csv"), CancellationToken.None);

        Assert.All(outcomes, o => Assert.True(o.Verdict == ConformanceVerdict.Passed, $"{o.Rule}: {o.Verdict} ({o.Detail})"));
        Assert.Equal(TrainerConformance.Rules.Count, outcomes.Count);
    }

    public static TheoryData<string, string> BrokenRules => new()
    {
        { "usage", "without a job: exit code 0" },
        { "trains", "exit code 4" },
        { "result", "wrote no result.json" },
        { "model", "does not match the trainer's report" },
        { "once", "rewrote result.json" },
        { "failure", "exit code 0" },
    };

    [Theory]
    [MemberData(nameof(BrokenRules))]
    public async Task ATrainerThatBreaksOneRule_FailsThatRule_Named_AndPassesTheOnesBefore(string rule, string detail)
    {
        var outcomes = await RunKitAsync("/usr/bin/env", $"BROKEN_RULE={rule}", "dotnet", Broken);

        var broken = Assert.Single(outcomes, o => o.Rule == rule);
        Assert.True(broken.Verdict == ConformanceVerdict.Failed, $"{rule}: {broken.Verdict} ({broken.Detail})");
        Assert.Contains(detail, broken.Detail, StringComparison.Ordinal);
        var before = TrainerConformance.Rules.TakeWhile(r => r.Rule != rule).Select(r => r.Rule).ToList();
        Assert.All(outcomes.Where(o => before.Contains(o.Rule)), o => Assert.True(o.Verdict == ConformanceVerdict.Passed, $"{o.Rule}: {o.Verdict} ({o.Detail})"));
    }

    [Theory]
    [InlineData(new[] { "--", }, "Usage")]
    [InlineData(new[] { "dotnet", "x.dll" }, "Usage")]
    [InlineData(new[] { "--spec", "/no/such/spec.json", "--", "dotnet", "x.dll" }, "there is no file '/no/such/spec.json'")]
    [InlineData(new[] { "--timeout", "soon", "--", "dotnet", "x.dll" }, "'--timeout' is not an option here")]
    public async Task TheCommand_RefusesABadCommandLine_With2(string[] args, string expected)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        Assert.Equal(2, await TrainerConformanceCommand.RunAsync(args, AzuriteConfiguration(), output, error));
        Assert.Contains(expected, error.ToString(), StringComparison.Ordinal);
    }
}
