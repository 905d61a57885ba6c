using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Serverless.Functions;
using Microsoft.Extensions.Options;
using Serverless.Lifecycle.Access;
using Serverless.Lifecycle.Api;
using Serverless.Lifecycle.Serving;
using Serverless.Tests;

namespace Serverless.Hosts.Tests.Functions;

/// <summary>
/// Who may call what in the Functions app, through the worker middleware the app registers: reading
/// and administration need an Entra app role that App Service Authentication vouches for; a missing,
/// forged or under-privileged principal gets 401 or 403 and the function never runs; scoring takes a
/// scoring key the product issued (on Azurite here) or the scorer role; machine routes are left to the
/// host's function keys.
/// </summary>
public sealed class CallerMiddlewareTests : IDisposable
{
    private const string ObjectId = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";

    private readonly ServiceProvider services = new ServiceCollection()
        .AddLogging()
        .AddProblemDetails()
        .AddSingleton(_ => Azurite.CreateStorage())
        .AddSingleton(Options.Create(new ServingOptions()))
        .AddSingleton(TimeProvider.System)
        .AddSingleton<ScoringKeyStore>()
        .BuildServiceProvider();

    public void Dispose() => services.Dispose();

    /// <summary>X-MS-CLIENT-PRINCIPAL as App Service Authentication writes it: base64 of its claims JSON.</summary>
    private static string Principal(string name, params string[] roles) => PrincipalWithId(name, ObjectId, roles);

    private static string PrincipalWithId(string name, string objectId, params string[] roles)
    {
        var claims = new JsonArray(
            new JsonObject { ["typ"] = "name", ["val"] = name },
            new JsonObject { ["typ"] = "http://schemas.microsoft.com/identity/claims/objectidentifier", ["val"] = objectId });
        foreach (var role in roles)
        {
            claims.Add(new JsonObject { ["typ"] = "roles", ["val"] = role });
        }

        var json = new JsonObject { ["auth_typ"] = "aad", ["claims"] = claims, ["name_typ"] = "name", ["role_typ"] = "roles" };
        return Convert.ToBase64String(Encoding.UTF8.GetBytes(json.ToJsonString()));
    }

    private const string TrainerObjectId = "7a6b5c4d-3e2f-1a0b-9c8d-7e6f5a4b3c2d";

    private async Task<(int Status, string? Actor, bool Ran, string Body)> CallAsync(
        string method, string path, string? principal, bool appServiceAuthentication = true, string? key = null, string? query = null)
    {
        var settings = new Dictionary<string, string?> { ["Training:TrainerPrincipalId"] = TrainerObjectId };
        if (appServiceAuthentication)
        {
            settings[CallerMiddleware.AuthEnabledSetting] = "True";
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var http = new DefaultHttpContext { RequestServices = services };
        http.Request.Method = method;
        http.Request.Path = path;
        http.Request.QueryString = query is null ? QueryString.Empty : new QueryString(query);
        http.Response.Body = new MemoryStream();
        if (key is not null)
        {
            http.Request.Headers[ApiAccess.KeyHeader] = key;
        }

        if (principal is not null)
        {
            http.Request.Headers[ApiAccess.PrincipalHeader] = principal;
        }

        var ran = false;
        string? actor = null;
        await new CallerMiddleware(configuration, NullLogger<CallerMiddleware>.Instance).Invoke(new HttpFunctionContext(http, services), _ =>
        {
            ran = true;
            actor = ApiAccess.Actor(http.User);
            return Task.CompletedTask;
        });
        return (ran ? 200 : http.Response.StatusCode, actor, ran, Encoding.UTF8.GetString(((MemoryStream)http.Response.Body).ToArray()));
    }

    [Theory]
    [InlineData("PUT", "/api/models/churn")]
    [InlineData("PUT", "/api/models/churn/aliases/champion")]
    [InlineData("POST", "/api/models/churn/rollback")]
    [InlineData("POST", "/api/runs/r1/approve")]
    [InlineData("DELETE", "/api/models/churn/versions/3")]
    [InlineData("GET", "/api/models")]
    [InlineData("GET", "/api/runs/r1")]
    public async Task NoPrincipal_Is401_AndTheFunctionNeverRuns(string method, string path)
    {
        var (status, _, ran, body) = await CallAsync(method, path, principal: null);

        Assert.Equal((401, false), (status, ran));
        Assert.Contains("app role", body, StringComparison.Ordinal);
        Assert.Contains("function key is not enough", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AForgedPrincipal_WithoutAppServiceAuthentication_IsIgnored_401()
    {
        // Without App Service Authentication nothing strips the header: anyone could have written it.
        var (status, _, ran, _) = await CallAsync("PUT", "/api/models/churn/aliases/champion", Principal("mallory", ApiRoles.Admin), appServiceAuthentication: false);

        Assert.Equal((401, false), (status, ran));
    }

    [Fact]
    public async Task APrincipalHeaderThatIsNotThePlatforms_IsTreatedAsSignedOut_401()
    {
        var (status, _, ran, _) = await CallAsync("POST", "/api/models/churn/rollback", Convert.ToBase64String(Encoding.UTF8.GetBytes("{\"claims\": 5}")));

        Assert.Equal((401, false), (status, ran));
    }

    [Theory]
    [InlineData("PUT", "/api/models/churn/aliases/champion")]
    [InlineData("POST", "/api/runs/r1/reject")]
    [InlineData("POST", "/api/models/churn/versions/3/archive")]
    public async Task AReader_MayNotChangeAnything_403NamingTheRole(string method, string path)
    {
        var (status, _, ran, body) = await CallAsync(method, path, Principal("rita@contoso.com", ApiRoles.Reader));

        Assert.Equal((403, false), (status, ran));
        Assert.Contains(ApiRoles.Admin, body, StringComparison.Ordinal);
        Assert.Contains("rita@contoso.com", body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("GET", "/api/models/churn/runs")]
    [InlineData("POST", "/api/models/churn/rollback")]
    public async Task ASignedInIdentityWithoutARole_Is403(string method, string path)
    {
        var (status, _, ran, _) = await CallAsync(method, path, Principal("nora@contoso.com"));

        Assert.Equal((403, false), (status, ran));
    }

    [Fact]
    public async Task AReader_Reads_AndAnAdmin_Changes_AndTheActorIsTheirNameAndObjectId()
    {
        var read = await CallAsync("GET", "/api/models/churn/versions", Principal("rita@contoso.com", ApiRoles.Reader));
        var change = await CallAsync("POST", "/api/models/churn/rollback", Principal("ada@contoso.com", ApiRoles.Admin));

        Assert.Equal((200, true), (read.Status, read.Ran));
        Assert.Equal((200, true), (change.Status, change.Ran));
        Assert.Equal($"ada@contoso.com (oid {ObjectId})", change.Actor);
    }

    [Theory]
    [InlineData("POST", "/api/events")]
    [InlineData("OPTIONS", "/api/events")]
    [InlineData("GET", "/api/openapi.json")]
    [InlineData("GET", "/api/health")]
    [InlineData("GET", "/api/ui/index.html")]
    public async Task MachineAndAnonymousRoutes_AreLeftToTheHost(string method, string path)
    {
        var (status, _, ran, _) = await CallAsync(method, path, principal: null);

        Assert.Equal((200, true), (status, ran));
    }

    [Theory]
    [InlineData("POST", "/api/models/churn/predict")]
    [InlineData("POST", "/api/models/churn/versions/3/predict")]
    [InlineData("POST", "/api/v2/models/churn/infer")]
    [InlineData("GET", "/api/v2/models/churn/ready")]
    [InlineData("GET", "/api/v2")]
    [InlineData("POST", "/api/models/churn/feedback")]
    public async Task Scoring_WithNeitherKeyNorSignIn_Is401_NamingBoth(string method, string path)
    {
        var (status, _, ran, body) = await CallAsync(method, path, principal: null);

        Assert.Equal((401, false), (status, ran));
        Assert.Contains("scoring key", body, StringComparison.Ordinal);
        Assert.Contains(ApiRoles.Scorer, body, StringComparison.Ordinal);
    }

    private async Task<(ScoringKey Key, string Secret)> IssueAsync(params string[] models) =>
        await services.GetRequiredService<ScoringKeyStore>().CreateAsync("checkout-service", models, "ada", CancellationToken.None);

    [Fact]
    public async Task Scoring_WithAnIssuedKey_InTheHeaderOrAsCode_Runs()
    {
        var (_, secret) = await IssueAsync();

        var header = await CallAsync("POST", "/api/models/churn/predict", principal: null, key: secret);
        var pinned = await CallAsync("POST", "/api/models/churn@v3/predict", principal: null, key: (await IssueAsync("churn")).Secret);
        var code = await CallAsync("POST", "/api/v2/models/churn/infer", principal: null, query: "?code=" + Uri.EscapeDataString(secret));

        Assert.Equal((200, true), (header.Status, header.Ran));
        Assert.Equal((200, true), (code.Status, code.Ran));
        Assert.Equal((200, true), (pinned.Status, pinned.Ran));
    }

    [Fact]
    public async Task Scoring_WithAKeyThatIsNotOurs_Is401_AndSaysTheHostsKeysDoNotOpenScoring()
    {
        var (status, _, ran, body) = await CallAsync("POST", "/api/models/churn/predict", principal: null, key: "Xq3f-a-function-key-of-the-host==");

        Assert.Equal((401, false), (status, ran));
        Assert.Contains("not a scoring key", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Scoring_WithAKeyForOtherModels_Is403_NamingThem()
    {
        var (key, secret) = await IssueAsync("fraud");

        var (status, _, ran, body) = await CallAsync("POST", "/api/v2/models/churn/infer", principal: null, key: secret);

        Assert.Equal((403, false), (status, ran));
        Assert.Contains("'fraud'", body, StringComparison.Ordinal);
        Assert.Contains("not 'churn'", body, StringComparison.Ordinal);
        Assert.Contains(key.Id, body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Scoring_WithARevokedKey_Is401_SayingSo()
    {
        var (key, secret) = await IssueAsync();
        await services.GetRequiredService<ScoringKeyStore>().RevokeAsync(key.Id, "bob", CancellationToken.None);

        var (status, _, ran, body) = await CallAsync("POST", "/api/models/churn/predict", principal: null, key: secret);

        Assert.Equal((401, false), (status, ran));
        Assert.Contains("revoked", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Scoring_WithTheScorerRole_RunsWithoutAKey_ButTheRoleOpensNoAdministration()
    {
        var score = await CallAsync("POST", "/api/models/churn/predict", Principal("checkout (managed identity)", ApiRoles.Scorer));
        var rollback = await CallAsync("POST", "/api/models/churn/rollback", Principal("checkout (managed identity)", ApiRoles.Scorer));
        var read = await CallAsync("GET", "/api/models/churn/versions", Principal("checkout (managed identity)", ApiRoles.Scorer));

        Assert.Equal((200, true), (score.Status, score.Ran));
        Assert.Equal((403, false), (rollback.Status, rollback.Ran));
        Assert.Equal((403, false), (read.Status, read.Ran));
    }

    [Fact]
    public async Task Scoring_ByASignedInIdentityWithoutTheRoleOrAKey_Is403_NamingTheRole()
    {
        var (status, _, ran, body) = await CallAsync("POST", "/api/models/churn/feedback", Principal("rita@contoso.com", ApiRoles.Reader));

        Assert.Equal((403, false), (status, ran));
        Assert.Contains(ApiRoles.Scorer, body, StringComparison.Ordinal);
        Assert.Contains("rita@contoso.com", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AScoringKey_OpensNoAdministrationOrReading()
    {
        var (_, secret) = await IssueAsync();

        var rollback = await CallAsync("POST", "/api/models/churn/rollback", principal: null, key: secret);
        var keys = await CallAsync("POST", "/api/scoring-keys", principal: null, key: secret);
        var read = await CallAsync("GET", "/api/models/churn/versions", principal: null, key: secret);

        Assert.Equal((401, false), (rollback.Status, rollback.Ran));
        Assert.Equal((401, false), (keys.Status, keys.Ran));
        Assert.Equal((401, false), (read.Status, read.Ran));
    }

    [Fact]
    public void EveryRoute_HasAnAccess_AndTheScoringRoutesAreExactlyTheScoringOnes()
    {
        var scoring = ApiRoutes.All.Where(r => ApiAccess.Of(r.Method, r.Route) == RouteAccess.Scoring).Select(r => r.Route).ToHashSet();

        Assert.Equal(
            new[] { ApiRoutes.Predict, ApiRoutes.PredictVersion, ApiRoutes.Feedback, ApiRoutes.OipServer, ApiRoutes.OipInfer, ApiRoutes.OipInferVersion, ApiRoutes.OipModel, ApiRoutes.OipModelVersion, ApiRoutes.OipModelReady, ApiRoutes.OipModelVersionReady }.Order(StringComparer.Ordinal),
            scoring.Order(StringComparer.Ordinal));
        foreach (var (method, route) in ApiRoutes.All)
        {
            var path = "/api/" + System.Text.RegularExpressions.Regex.Replace(route, @"\{\*?[^}]+\}", "x");
            Assert.True(ApiAccess.RouteOf(method, path) is not null, $"{method} {path} matched no route");
        }
    }

    [Fact]
    public void TheAppRolesFileTheReadmeApplies_DefinesExactlyTheRolesTheApiChecks()
    {
        using var roles = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(Serverless.Tests.RepoPaths.Root, "infra", "app-roles.json")));

        Assert.Equal(
            new[] { ApiRoles.Admin, ApiRoles.Reader, ApiRoles.Scorer },
            roles.RootElement.EnumerateArray().Select(r => r.GetProperty("value").GetString()!).Order(StringComparer.Ordinal));
        Assert.All(roles.RootElement.EnumerateArray(), r => Assert.True(r.GetProperty("isEnabled").GetBoolean()));
    }

    [Fact]
    public async Task TheCompletionCallback_IsTakenFromTheTrainerIdentityAlone()
    {
        const string Path = "/api/runs/r1/jobs/j1/complete";

        var trainer = await CallAsync("POST", Path, PrincipalWithId("trainer identity", TrainerObjectId));
        var someone = await CallAsync("POST", Path, Principal("rita@contoso.com", ApiRoles.Reader));
        var nobody = await CallAsync("POST", Path, principal: null);
        var forged = await CallAsync("POST", Path, PrincipalWithId("trainer identity", TrainerObjectId), appServiceAuthentication: false);

        Assert.Equal((200, true), (trainer.Status, trainer.Ran));
        Assert.Equal((403, false), (someone.Status, someone.Ran));
        Assert.Equal((401, false), (nobody.Status, nobody.Ran));
        Assert.Equal((401, false), (forged.Status, forged.Ran));
        Assert.Contains("managed identity", nobody.Body, StringComparison.Ordinal);
    }
}
