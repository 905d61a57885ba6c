using System.Text.Json;
using Microsoft.Extensions.Options;
using Serverless.Lifecycle.Access;
using Serverless.Lifecycle.Serving;
using Serverless.Lifecycle.Storage;

namespace Serverless.Laptop;

/// <summary>
/// <c>scoring-keys create|list|revoke</c>: scoring keys issued straight into a storage account, with the
/// signed-in Azure CLI identity (<c>--account</c>) or laptop mode's storage. It is how a deployment
/// without sign-in, where nobody can call <c>POST /api/scoring-keys</c>, gets its first keys; the deploying
/// person holds a data role on the <c>ScoringKeys</c> table for it (docs/security.md).
/// </summary>
public static class ScoringKeyCommand
{
    public const string Name = "scoring-keys";

    public const string Usage = """
        Usage:
          scoring-keys create --name <who the key is for> [--model <name>]... [--account <storage account>]
          scoring-keys list [--account <storage account>]
          scoring-keys revoke <key id> [--account <storage account>]
        With --account, the storage account of a deployment (azd env get-value AZURE_STORAGE_ACCOUNT_NAME),
        reached with your Azure CLI sign-in; without it, laptop mode's storage (Storage:ConnectionString).
        """;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary>Runs the command: 0 done, 1 failed (storage), 2 a bad command line; what it did on <paramref name="output"/>, why not on <paramref name="error"/>.</summary>
    public static async Task<int> RunAsync(string[] args, IConfiguration configuration, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        if (Parse(args) is not { } command)
        {
            await error.WriteLineAsync(Usage);
            return 2;
        }

        if (command.Verb == "create" && ScoringKeyStore.NameProblem(command.KeyName) is { } problem)
        {
            await error.WriteLineAsync($"--name: {problem}");
            return 2;
        }

        var options = new StorageOptions();
        configuration.GetSection(StorageOptions.SectionName).Bind(options);
        if (command.Account is { } account)
        {
            // The deployment's tables exist (the Bicep creates them) and the deploying person may not create any.
            options = new StorageOptions
            {
                BlobServiceUri = new Uri($"https://{account}.blob.core.windows.net"),
                TableServiceUri = new Uri($"https://{account}.table.core.windows.net"),
                CreateLayout = false,
            };
        }

        using var storage = new LifecycleStorage(Options.Create(options));
        var keys = new ScoringKeyStore(storage, Options.Create(new ServingOptions()), TimeProvider.System);
        var actor = $"{Environment.UserName} (command line)";
        try
        {
            switch (command.Verb)
            {
                case "create":
                    var (key, secret) = await keys.CreateAsync(command.KeyName!, command.Models, actor, cancellationToken);
                    await output.WriteLineAsync(JsonSerializer.Serialize(new { key.Id, key.Name, key.Models, key.CreatedBy, key.CreatedAt, key = secret }, Json));
                    await error.WriteLineAsync("The key is shown this once: send it as the x-functions-key header (or ?code=) of scoring requests.");
                    return 0;
                case "list":
                    await output.WriteLineAsync(JsonSerializer.Serialize(new { keys = await keys.ListAsync(cancellationToken) }, Json));
                    return 0;
                default:
                    if (await keys.RevokeAsync(command.KeyId!, actor, cancellationToken) is not { } revoked)
                    {
                        await error.WriteLineAsync($"No scoring key '{command.KeyId}' was issued.");
                        return 1;
                    }

                    await output.WriteLineAsync(JsonSerializer.Serialize(revoked, Json));
                    return 0;
            }
        }
        catch (Exception ex) when (StorageFaults.IsTransient(ex) || ex is Azure.RequestFailedException or Azure.Identity.AuthenticationFailedException)
        {
            await error.WriteLineAsync($"Storage refused or did not answer: {StorageFaults.Describe(ex)}");
            return 1;
        }
    }

    private sealed record Command(string Verb, string? KeyName, IReadOnlyList<string> Models, string? KeyId, string? Account);

    private static Command? Parse(string[] args)
    {
        if (args is not [var verb, .. var rest] || verb is not ("create" or "list" or "revoke"))
        {
            return null;
        }

        string? name = null, account = null, id = null;
        var models = new List<string>();
        for (var i = 0; i < rest.Length; i++)
        {
            switch (rest[i])
            {
                case "--name" when i + 1 < rest.Length && verb == "create":
                    name = rest[++i];
                    break;
                case "--model" when i + 1 < rest.Length && verb == "create":
                    models.Add(rest[++i]);
                    break;
                case "--account" when i + 1 < rest.Length && System.Text.RegularExpressions.Regex.IsMatch(rest[i + 1], "^[a-z0-9]{3,24}$"):
                    account = rest[++i];
                    break;
                case var positional when verb == "revoke" && id is null && !positional.StartsWith("--", StringComparison.Ordinal):
                    id = positional;
                    break;
                default:
                    return null;
            }
        }

        return verb == "revoke" && id is null ? null : new Command(verb, name, models, id, account);
    }
}
