using System.Text.Json;
using Serverless.Lifecycle.Api;
using Serverless.Tests;

namespace Serverless.Hosts.Tests.Infra;

/// <summary>
/// Sign-in for the dashboard, read from the deployment Bicep predicts for infra/main.bicep
/// (<see cref="BicepCli.Snapshot"/>): none by default; with dashboardSignIn and a client ID, App
/// Service Authentication with the Microsoft provider that signs people in and checks bearer tokens
/// but requires sign-in nowhere (the worker decides who may call what); without a client ID, a
/// refusal that says which setting is missing.
/// </summary>
public sealed class DashboardSignInTests
{
    private const string ClientId = "11111111-2222-3333-4444-555555555555";
    private const string OtherTenant = "99999999-8888-7777-6666-555555555555";

    // The app setting Easy Auth reads the sign-in identity's client ID from, in place of a secret.
    private const string FicSetting = "OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID";

    private static readonly Lazy<PredictedDeployment> Default = new(() => Predict());
    private static readonly Lazy<PredictedDeployment> WithSignIn = new(() => Predict(("dashboardSignIn", "true"), ("dashboardClientId", $"'{ClientId}'")));

    private static PredictedDeployment Predict(params (string Name, string Value)[] parameters)
    {
        var (deployment, message) = BicepCli.Snapshot(parameters);
        return deployment ?? throw new InvalidOperationException("bicep snapshot refused the parameters: " + message);
    }

    private static string Name(JsonElement resource) => resource.GetProperty("name").GetString()!;

    private static IEnumerable<JsonElement> Config(PredictedDeployment deployment, string name) =>
        deployment.OfType("Microsoft.Web/sites/config").Where(c => Name(c).EndsWith("/" + name, StringComparison.Ordinal));

    private static JsonElement AuthSettings(PredictedDeployment deployment) => Assert.Single(Config(deployment, "authsettingsV2")).GetProperty("properties");

    private static Dictionary<string, string?> AppSettings(PredictedDeployment deployment) =>
        Assert.Single(Config(deployment, "appsettings")).GetProperty("properties").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString());

    private static JsonElement FunctionApp(PredictedDeployment deployment) => Assert.Single(deployment.OfType("Microsoft.Web/sites"));

    private static List<string> AssignedIdentities(JsonElement resource) =>
        [.. resource.GetProperty("identity").GetProperty("userAssignedIdentities").EnumerateObject().Select(p => p.Name)];

    private static JsonElement SignInIdentity(PredictedDeployment deployment) =>
        Assert.Single(deployment.OfType("Microsoft.ManagedIdentity/userAssignedIdentities"), i => Name(i).StartsWith("id-signin-", StringComparison.Ordinal));

    [Fact]
    public void Default_HasNoAppServiceAuthentication_NoSignInIdentity_AndNoFicSetting()
    {
        var deployment = Default.Value;

        Assert.Empty(Config(deployment, "authsettingsV2"));
        Assert.DoesNotContain(deployment.OfType("Microsoft.ManagedIdentity/userAssignedIdentities"), i => Name(i).StartsWith("id-signin-", StringComparison.Ordinal));
        Assert.Single(AssignedIdentities(FunctionApp(deployment)));
        Assert.DoesNotContain(FicSetting, AppSettings(deployment).Keys);
        Assert.Equal("", deployment.Output("AZURE_DASHBOARD_SIGN_IN_PRINCIPAL_ID"));
    }

    [Fact]
    public void SignIn_UsesTheMicrosoftProviderWithTheClientIdAndTheDeploymentTenantsIssuer()
    {
        var auth = AuthSettings(WithSignIn.Value);

        Assert.True(auth.GetProperty("platform").GetProperty("enabled").GetBoolean());
        var providers = auth.GetProperty("identityProviders");
        Assert.Equal(new[] { "azureActiveDirectory" }, providers.EnumerateObject().Select(p => p.Name));
        var microsoft = providers.GetProperty("azureActiveDirectory");
        Assert.True(microsoft.GetProperty("enabled").GetBoolean());
        var registration = microsoft.GetProperty("registration");
        Assert.Equal(ClientId, registration.GetProperty("clientId").GetString());

        // The tenant is only known when deployed, so the snapshot keeps the expression: the login
        // endpoint of the cloud, the deployment's tenant, the v2.0 issuer.
        var issuer = registration.GetProperty("openIdIssuer").GetString()!;
        Assert.Contains("environment().authentication.loginEndpoint", issuer, StringComparison.Ordinal);
        Assert.Contains("tenant().tenantId", issuer, StringComparison.Ordinal);
        Assert.Contains("/v2.0", issuer, StringComparison.Ordinal);
    }

    [Fact]
    public void SignIn_WithATenant_IssuesFromThatTenant()
    {
        var deployment = Predict(("dashboardSignIn", "true"), ("dashboardClientId", $"'{ClientId}'"), ("dashboardTenantId", $"'{OtherTenant}'"));

        var issuer = AuthSettings(deployment).GetProperty("identityProviders").GetProperty("azureActiveDirectory").GetProperty("registration").GetProperty("openIdIssuer").GetString()!;
        Assert.Contains("/v2.0'", issuer, StringComparison.Ordinal);
        Assert.Contains($"'{OtherTenant}'", issuer, StringComparison.Ordinal);
        Assert.DoesNotContain("tenant()", issuer, StringComparison.Ordinal);
    }

    [Fact]
    public void SignIn_HoldsNoSecret_ItsOwnIdentityStandsInThroughTheFicSetting()
    {
        var deployment = WithSignIn.Value;
        var registration = AuthSettings(deployment).GetProperty("identityProviders").GetProperty("azureActiveDirectory").GetProperty("registration");

        Assert.Equal(FicSetting, registration.GetProperty("clientSecretSettingName").GetString());
        Assert.DoesNotContain(registration.EnumerateObject(), p => p.Name is "clientSecret" or "clientSecretCertificateThumbprint");

        // The setting holds the client ID of a separate identity, assigned to the app and to nothing else.
        var identity = SignInIdentity(deployment);
        var setting = AppSettings(deployment)[FicSetting]!;
        Assert.Contains($"userAssignedIdentities/{Name(identity)}'", setting, StringComparison.Ordinal);
        Assert.EndsWith(".clientId, '')]", setting, StringComparison.Ordinal);
        var id = identity.GetProperty("id").GetString()!;
        var app = FunctionApp(deployment);
        Assert.Equal(2, AssignedIdentities(app).Count);
        Assert.Contains(id, AssignedIdentities(app));
        Assert.All(deployment.Resources.Where(r => r.TryGetProperty("identity", out _) && r.GetProperty("type").GetString() != "Microsoft.Web/sites"), r =>
            Assert.DoesNotContain(id, r.GetProperty("identity").GetRawText(), StringComparison.Ordinal));
        Assert.Contains(Name(identity), deployment.Output("AZURE_DASHBOARD_SIGN_IN_PRINCIPAL_ID"), StringComparison.Ordinal);
    }

    /// <summary>
    /// Easy Auth signs people in and checks bearer tokens but requires sign-in nowhere: the worker
    /// decides (CallerMiddlewareTests), so key routes, the trainer's callback, the webhooks and the
    /// host's admin paths reach the Functions host's key checks untouched, and the dashboard sends a
    /// person without a session to sign in (DashboardApiTests).
    /// </summary>
    [Fact]
    public void SignIn_RequiresItNowhere_AndAcceptsBearerTokensForTheRegistration()
    {
        var auth = AuthSettings(WithSignIn.Value);
        var validation = auth.GetProperty("globalValidation");

        Assert.False(validation.GetProperty("requireAuthentication").GetBoolean());
        Assert.Equal("AllowAnonymous", validation.GetProperty("unauthenticatedClientAction").GetString());
        Assert.False(validation.TryGetProperty("excludedPaths", out _));
        Assert.Equal("azureactivedirectory", validation.GetProperty("redirectToProvider").GetString());
        Assert.Contains("/.auth/login/aad", DashboardApi.SignInUrl, StringComparison.Ordinal);

        var audiences = auth.GetProperty("identityProviders").GetProperty("azureActiveDirectory").GetProperty("validation").GetProperty("allowedAudiences")
            .EnumerateArray().Select(a => a.GetString()!).ToList();
        Assert.Equal([ClientId, $"api://{ClientId}"], audiences);
    }

    [Fact]
    public void TheCompletionCallback_WithSignIn_CarriesTheTrainersToken_WithoutIt_StatusChecksAlone_AndNeverAKey()
    {
        var signedIn = AppSettings(WithSignIn.Value);
        var plain = AppSettings(Default.Value);

        Assert.StartsWith("[format('https://{0}'", signedIn["Training__CallbackBaseUrl"], StringComparison.Ordinal);
        Assert.Equal($"api://{ClientId}", signedIn["Training__CallbackAudience"]);
        Assert.DoesNotContain("Training__CallbackBaseUrl", plain.Keys);
        Assert.DoesNotContain("Training__CallbackAudience", plain.Keys);
        foreach (var settings in new[] { signedIn, plain })
        {
            Assert.Contains("userAssignedIdentities/id-trainer-", settings["Training__TrainerPrincipalId"], StringComparison.Ordinal);
            Assert.DoesNotContain(settings.Keys, k => k.Contains("CallbackKey", StringComparison.Ordinal));
        }
    }

    [Theory]
    [InlineData(null)]
    [InlineData("'  '")]
    public void SignIn_WithoutAClientId_IsRefusedNamingTheSetting(string? clientId)
    {
        var (deployment, message) = clientId is null
            ? BicepCli.Snapshot(("dashboardSignIn", "true"))
            : BicepCli.Snapshot(("dashboardSignIn", "true"), ("dashboardClientId", clientId));

        Assert.Null(deployment);
        Assert.Contains("DASHBOARD_CLIENT_ID", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parameters_AreTheAzdVariablesTheDashboardNames_SignInOffByDefault()
    {
        using var parameters = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepoPaths.Root, "infra", "main.parameters.json")));
        var values = parameters.RootElement.GetProperty("parameters");

        // The dashboard's sign-in page says "azd env set DASHBOARD_SIGN_IN true".
        Assert.Equal("${DASHBOARD_SIGN_IN=false}", values.GetProperty("dashboardSignIn").GetProperty("value").GetString());
        Assert.Equal("${DASHBOARD_CLIENT_ID}", values.GetProperty("dashboardClientId").GetProperty("value").GetString());
        Assert.Equal("${DASHBOARD_TENANT_ID}", values.GetProperty("dashboardTenantId").GetProperty("value").GetString());
    }
}
