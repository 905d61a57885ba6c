using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Lifecycle.Api;

namespace Serverless.Hosts.Tests;

/// <summary>The dashboard's files as both hosts serve them, and the Functions app's sign-in rule.</summary>
public sealed class DashboardApiTests
{
    private static async Task<(int Status, string Body, IHeaderDictionary Headers)> GetAsync(string path, string? file, bool requireSignIn, string? principal = null, bool signInAvailable = false)
    {
        var context = new DefaultHttpContext { RequestServices = new ServiceCollection().AddLogging().BuildServiceProvider() };
        context.Request.Path = path;
        if (principal is not null)
        {
            context.Request.Headers["X-MS-CLIENT-PRINCIPAL-ID"] = principal;
        }

        context.Response.Body = new MemoryStream();
        await DashboardApi.Get(context, file, requireSignIn, signInAvailable).ExecuteAsync(context);
        context.Response.Body.Position = 0;
        return (context.Response.StatusCode, await new StreamReader(context.Response.Body).ReadToEndAsync(), context.Response.Headers);
    }

    [Fact]
    public void TheDashboard_ShipsItsPagesAndTheChartLibraryFromNpm()
    {
        Assert.Superset(new HashSet<string> { "index.html", "app.js", "style.css", "vendor/uPlot.esm.js", "vendor/uPlot.min.css" }, DashboardApi.Names.ToHashSet());
    }

    [Fact]
    public async Task EveryFile_IsServedWithAPolicyThatAllowsOnlyThisOrigin_AndOthersAre404()
    {
        foreach (var name in DashboardApi.Names)
        {
            var (status, body, headers) = await GetAsync("/api/ui/" + name, name, requireSignIn: false);
            Assert.Equal(200, status);
            Assert.NotEmpty(body);
            Assert.Contains("default-src 'self'", headers.ContentSecurityPolicy.ToString(), StringComparison.Ordinal);
            Assert.DoesNotContain("http", headers.ContentSecurityPolicy.ToString(), StringComparison.Ordinal);
        }

        Assert.Equal(404, (await GetAsync("/api/ui/../secrets.json", "../secrets.json", requireSignIn: false)).Status);
        Assert.DoesNotContain("https://", (await GetAsync("/api/ui/", null, requireSignIn: false)).Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InAzure_WithoutASignedInPerson_ThePageSaysHowToTurnSignInOn()
    {
        var anonymous = await GetAsync("/api/ui/", null, requireSignIn: true);
        var signedIn = await GetAsync("/api/ui/", null, requireSignIn: true, principal: "00000000-0000-0000-0000-000000000001");
        var noSlash = await GetAsync("/api/ui", null, requireSignIn: false);

        Assert.Equal(401, anonymous.Status);
        Assert.Contains("App Service Authentication", anonymous.Body, StringComparison.Ordinal);
        Assert.Equal(200, signedIn.Status);
        Assert.Contains("<script type=\"module\" src=\"./app.js\">", signedIn.Body, StringComparison.Ordinal);
        Assert.Equal((302, "/api/ui/"), (noSlash.Status, noSlash.Headers.Location.ToString()));
    }

    [Fact]
    public async Task InAzure_WithSignInOn_APersonWithoutASession_IsSentToSignIn_AndBack()
    {
        var anonymous = await GetAsync("/api/ui/", null, requireSignIn: true, signInAvailable: true);
        var signedIn = await GetAsync("/api/ui/app.js", "app.js", requireSignIn: true, principal: "00000000-0000-0000-0000-000000000001", signInAvailable: true);

        Assert.Equal((302, "/.auth/login/aad?post_login_redirect_uri=/api/ui/"), (anonymous.Status, anonymous.Headers.Location.ToString()));
        Assert.Equal(200, signedIn.Status);
    }
}
