using System.Net;
using System.Text;

namespace Serverless.Hosts.Tests.Laptop;

/// <summary>Laptop mode against other web pages: DNS rebinding and cross-site changes are refused, its own pages and curl are not.</summary>
public sealed class LaptopBrowserGuardTests(LaptopHostProcess host) : IClassFixture<LaptopHostProcess>
{
    private static HttpRequestMessage Post(string path, string? origin, string contentType = "application/json", string? fetchSite = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent("{}", Encoding.UTF8) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }

        if (fetchSite is not null)
        {
            request.Headers.Add("Sec-Fetch-Site", fetchSite);
        }

        return request;
    }

    [Theory]
    [InlineData("attacker.example")]
    [InlineData("127.0.0.1.nip.io")]
    public async Task AHostNameThatIsNotLoopback_Is421_EvenForReads(string name)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/api/models");
        request.Headers.Host = $"{name}:{host.Http.BaseAddress!.Port}";

        var response = await host.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.MisdirectedRequest, response.StatusCode);
        Assert.Contains(name, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AChangeFromAnotherOrigin_Is403_AndFromItsOwnPageWithoutJson_Is415()
    {
        var own = host.Http.BaseAddress!.GetLeftPart(UriPartial.Authority);

        var crossOrigin = await host.Http.SendAsync(Post("/api/runs/no-such-run/cancel", "http://attacker.example"));
        var crossSite = await host.Http.SendAsync(Post("/api/runs/no-such-run/cancel", null, fetchSite: "cross-site"));
        var formPost = await host.Http.SendAsync(Post("/api/runs/no-such-run/cancel", own, "application/x-www-form-urlencoded"));
        var ownJson = await host.Http.SendAsync(Post("/api/runs/no-such-run/cancel", own));
        var ownCsv = await host.Http.SendAsync(Post("/api/models/no-such-model/datasets", own, "text/csv"));
        var curlCsv = await host.Http.SendAsync(Post("/api/models/no-such-model/datasets", null, "text/csv"));

        Assert.Equal(HttpStatusCode.Forbidden, crossOrigin.StatusCode);
        Assert.Contains("attacker.example", await crossOrigin.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, crossSite.StatusCode);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, formPost.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, ownJson.StatusCode);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, ownCsv.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, curlCsv.StatusCode);
    }
}
