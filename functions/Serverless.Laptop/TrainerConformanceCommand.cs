using System.Globalization;
using Microsoft.Extensions.Options;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;

namespace Serverless.Laptop;

/// <summary><c>trainer-conformance [--spec F] [--data F] [--timeout S] -- command…</c>: the trainer conformance kit on laptop mode's storage.</summary>
public static class TrainerConformanceCommand
{
    public const string Name = "trainer-conformance";

    public const string Usage = """
        Usage:
          trainer-conformance [--spec <spec.json>] [--data <labelled.csv>] [--timeout <seconds>] -- <trainer command>...
        Runs the trainer command against the trainer contract (README, "Bring your own trainer") on a job cut
        from the data (default samples/churn/churn.csv) under the spec (default samples/churn/churn.spec.json,
        whose trainer section gives the algorithm and hyperparameters), in laptop mode's storage
        (Storage:ConnectionString, Azurite by default), and says which rules it keeps.
        Exit code: 0 every rule kept, 1 a rule broken, 2 a bad command line.
        """;

    public static async Task<int> RunAsync(string[] args, IConfiguration configuration, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        var separator = Array.IndexOf(args, "--");
        if (separator < 0 || separator == args.Length - 1)
        {
            await error.WriteLineAsync(Usage);
            return 2;
        }

        string spec = Path.Combine("samples", "churn", "churn.spec.json"), data = Path.Combine("samples", "churn", "churn.csv");
        var timeout = TimeSpan.FromMinutes(10);
        var options = args[..separator];
        for (var i = 0; i < options.Length; i++)
        {
            switch (options[i])
            {
                case "--spec" when i + 1 < options.Length:
                    spec = options[++i];
                    break;
                case "--data" when i + 1 < options.Length:
                    data = options[++i];
                    break;
                case "--timeout" when i + 1 < options.Length && int.TryParse(options[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds > 0:
                    timeout = TimeSpan.FromSeconds(seconds);
                    i++;
                    break;
                default:
                    await error.WriteLineAsync($"'{options[i]}' is not an option here.\n{Usage}");
                    return 2;
            }
        }

        foreach (var (what, file) in new[] { ("--spec", spec), ("--data", data) })
        {
            if (!File.Exists(file))
            {
                await error.WriteLineAsync($"{what}: there is no file '{file}' (from {Directory.GetCurrentDirectory()}).");
                return 2;
            }
        }

        var (model, problems) = ModelSpecValidator.Parse(await File.ReadAllTextAsync(spec, cancellationToken));
        if (model is null || problems.Count > 0)
        {
            await error.WriteLineAsync($"--spec: {spec} is not a valid spec: {string.Join("; ", problems.Select(p => $"{p.Path}: {p.Message}"))}");
            return 2;
        }

        var storageOptions = new StorageOptions();
        configuration.GetSection(StorageOptions.SectionName).Bind(storageOptions);
        using var storage = new LifecycleStorage(Options.Create(storageOptions));
        IReadOnlyList<ConformanceOutcome> outcomes;
        try
        {
            outcomes = await new TrainerConformance(storage, storageOptions, timeout).RunAsync(args[(separator + 1)..], model, data, cancellationToken);
        }
        catch (Exception ex) when (StorageFaults.IsTransient(ex) || ex is Azure.RequestFailedException)
        {
            await error.WriteLineAsync($"Storage refused or did not answer ({StorageFaults.Describe(ex)}); laptop mode's storage is Azurite, which ./run.sh starts.");
            return 1;
        }

        foreach (var outcome in outcomes)
        {
            var says = TrainerConformance.Rules.Single(r => r.Rule == outcome.Rule).Says;
            await output.WriteLineAsync($"{outcome.Verdict switch { ConformanceVerdict.Passed => "PASS", ConformanceVerdict.Failed => "FAIL", _ => "SKIP" }} {outcome.Rule}: {says}");
            await output.WriteLineAsync($"     {outcome.Detail}");
        }

        var broken = outcomes.Count(o => o.Verdict != ConformanceVerdict.Passed);
        await output.WriteLineAsync(broken == 0 ? $"The trainer keeps all {outcomes.Count} rules of the contract." : $"The trainer breaks or was not checked on {broken} of {outcomes.Count} rules.");
        return broken == 0 ? 0 : 1;
    }
}
