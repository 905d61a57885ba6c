using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Serverless.Laptop;
using Serverless.Lifecycle.Access;
using Serverless.Lifecycle.Serving;
using Serverless.Tests;

namespace Serverless.Hosts.Tests.Laptop;

/// <summary>
/// Scoring keys through laptop mode's HTTP routes (issued, listed without their secret, revoked once,
/// bad requests named) and through the <c>scoring-keys</c> command a deployment without sign-in uses.
/// </summary>
public sealed class LaptopScoringKeyTests(LaptopHostProcess host) : IClassFixture<LaptopHostProcess>
{
    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static ScoringKeyStore Store(LifecycleStorageHolder holder) =>
        new(holder.Storage, Options.Create(new ServingOptions()), TimeProvider.System);

    [Fact]
    public async Task AnAdministratorIssuesAKey_ItIsShownOnce_ListedWithoutSecret_AndRevokedOnce()
    {
        var model = Azurite.UniqueModelName("keys");
        await host.RegisterSampleAsync(model);

        using var created = await host.Http.PostAsync("/api/scoring-keys", Json($$"""{"name": "checkout-service", "models": ["{{model}}"]}"""));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.True(created.Headers.CacheControl?.NoStore, "the answer that carries the key may be cached");
        var key = (await created.Content.ReadFromJsonAsync<JsonObject>())!;
        var id = (string)key["id"]!;
        var secret = (string)key["key"]!;
        Assert.StartsWith($"slk.{id}.", secret, StringComparison.Ordinal);
        Assert.Equal($"/api/scoring-keys/{id}", created.Headers.Location?.OriginalString);
        Assert.EndsWith("(laptop)", (string)key["createdBy"]!, StringComparison.Ordinal);

        var listText = await host.Http.GetStringAsync("/api/scoring-keys");
        Assert.DoesNotContain(secret.Split('.')[2], listText, StringComparison.Ordinal);
        var listed = JsonNode.Parse(listText)!["keys"]!.AsArray().Single(k => (string)k!["id"]! == id)!;
        Assert.Equal(model, (string)listed["models"]![0]!);

        using var holder = new LifecycleStorageHolder();
        Assert.Equal(ScoringKeyVerdict.Valid, (await Store(holder).CheckAsync(secret, model, CancellationToken.None)).Verdict);

        using var revoked = await host.Http.DeleteAsync($"/api/scoring-keys/{id}");
        Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);
        var first = (await revoked.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.True((bool)first["revoked"]!);
        using var again = await host.Http.DeleteAsync($"/api/scoring-keys/{id}");
        Assert.Equal((string)first["revokedAt"]!, (string)(await again.Content.ReadFromJsonAsync<JsonObject>())!["revokedAt"]!);
        Assert.Equal(ScoringKeyVerdict.Revoked, (await Store(holder).CheckAsync(secret, model, CancellationToken.None)).Verdict);

        using var unknown = await host.Http.DeleteAsync("/api/scoring-keys/0123456789ab");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task ABadRequest_Is400_NamingEachProblem_AndIssuesNothing()
    {
        var name = "refused-" + Guid.NewGuid().ToString("N");

        using var response = await host.Http.PostAsync("/api/scoring-keys", Json("""{"name": "", "models": ["no-such-model-here", 3]}"""));
        using var unregistered = await host.Http.PostAsync("/api/scoring-keys", Json($$"""{"name": "{{name}}", "models": ["no-such-model-here"]}"""));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject();
        Assert.True(errors.ContainsKey("name") && errors.ContainsKey("models"), errors.ToJsonString());
        Assert.Equal(HttpStatusCode.BadRequest, unregistered.StatusCode);
        Assert.Contains("No model 'no-such-model-here' is registered", (string)(await unregistered.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!["models[0]"]![0]!, StringComparison.Ordinal);
        Assert.DoesNotContain(JsonNode.Parse(await host.Http.GetStringAsync("/api/scoring-keys"))!["keys"]!.AsArray(), k => (string)k!["name"]! == name);
    }

    private static IConfiguration AzuriteConfiguration() =>
        new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Storage:ConnectionString"] = Azurite.ConnectionString }).Build();

    private static async Task<(int Exit, string Output, string Error)> RunCommandAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await ScoringKeyCommand.RunAsync(args, AzuriteConfiguration(), output, error);
        return (exit, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task TheCommand_Issues_Lists_AndRevokes_AKeyTheApiThenAccepts()
    {
        var (exit, output, error) = await RunCommandAsync("create", "--name", "batch-job", "--model", "churn");
        Assert.True(exit == 0, error);
        var created = JsonNode.Parse(output)!;
        var (id, secret) = ((string)created["id"]!, (string)created["key"]!);
        Assert.Contains("shown this once", error, StringComparison.Ordinal);

        using var holder = new LifecycleStorageHolder();
        Assert.Equal(ScoringKeyVerdict.Valid, (await Store(holder).CheckAsync(secret, "churn", CancellationToken.None)).Verdict);
        Assert.Equal(ScoringKeyVerdict.NotForModel, (await Store(holder).CheckAsync(secret, "fraud", CancellationToken.None)).Verdict);

        var list = await RunCommandAsync("list");
        Assert.Equal(0, list.Exit);
        Assert.Contains(JsonNode.Parse(list.Output)!["keys"]!.AsArray(), k => (string)k!["id"]! == id && ((string)k["createdBy"]!).EndsWith("(command line)", StringComparison.Ordinal));

        Assert.Equal(0, (await RunCommandAsync("revoke", id)).Exit);
        Assert.Equal(ScoringKeyVerdict.Revoked, (await Store(holder).CheckAsync(secret, "churn", CancellationToken.None)).Verdict);
        var unknown = await RunCommandAsync("revoke", "0123456789ab");
        Assert.Equal(1, unknown.Exit);
        Assert.Contains("No scoring key '0123456789ab'", unknown.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new string[0], "Usage")]
    [InlineData(new[] { "create" }, "--name")]
    [InlineData(new[] { "create", "--name" }, "Usage")]
    [InlineData(new[] { "revoke" }, "Usage")]
    [InlineData(new[] { "list", "--account", "Not_An_Account" }, "Usage")]
    [InlineData(new[] { "rotate" }, "Usage")]
    public async Task TheCommand_RefusesABadCommandLine_With2_AndSaysHow(string[] args, string expected)
    {
        var (exit, _, error) = await RunCommandAsync(args);

        Assert.Equal(2, exit);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    /// <summary>Azurite's storage, disposed with the test.</summary>
    private sealed class LifecycleStorageHolder : IDisposable
    {
        public Serverless.Lifecycle.Storage.LifecycleStorage Storage { get; } = Azurite.CreateStorage();

        public void Dispose() => Storage.Dispose();
    }
}
