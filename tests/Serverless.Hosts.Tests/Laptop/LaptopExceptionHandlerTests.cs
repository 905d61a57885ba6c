using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Serverless.Lifecycle.Api;

namespace Serverless.Hosts.Tests.Laptop;

/// <summary>A laptop host with the benchmark's echo route, whose body parsing throws on bad JSON: an exception no endpoint handles.</summary>
public sealed class EchoLaptopHostProcess : LaptopHostProcess
{
    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string> { ["Laptop__EchoRoute"] = "true" };
}

/// <summary>Laptop mode's answer to an unhandled exception: the API's handler, as the Functions app gives it.</summary>
public sealed class LaptopExceptionHandlerTests(EchoLaptopHostProcess host) : IClassFixture<EchoLaptopHostProcess>
{
    // The namespace of what the JSON parser throws (a JsonReaderException, a JsonException).
    private const string ParserException = "System.Text.Json.";

    [Fact]
    public async Task AnUnhandledException_IsA500ProblemDetailsWithTheTraceId_WithoutTheExceptionsText_AndIsLogged()
    {
        using var response = await host.Http.PostAsync("/api/_echo", new StringContent("{\"unterminated", Encoding.UTF8, "application/json"));

        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        var body = JsonNode.Parse(text)!.AsObject();
        Assert.Equal(["detail", "status", "title", "traceId", "type"], body.Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.Equal(ApiExceptionHandler.UnexpectedTitle, (string?)body["title"]);
        Assert.Equal(ApiExceptionHandler.UnexpectedDetail, (string?)body["detail"]);
        var traceId = (string?)body["traceId"];
        Assert.False(string.IsNullOrEmpty(traceId), text);
        Assert.DoesNotContain(ParserException, text, StringComparison.Ordinal);
        Assert.DoesNotContain("BytePositionInLine", text, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", text, StringComparison.Ordinal);

        // The cause is in the host's log, under the same trace id.
        var log = await Serverless.Tests.Eventually.WaitAsync(() => Task.FromResult(host.Log), l => l.Contains(traceId!, StringComparison.Ordinal) && l.Contains(ParserException, StringComparison.Ordinal));
        Assert.Contains(traceId!, log, StringComparison.Ordinal);
        Assert.True(log.Contains(ParserException, StringComparison.Ordinal), log);

        // And the host carries on.
        Assert.True((bool)(await host.Http.GetFromJsonAsync<JsonObject>("/api/v2/health/live"))!["live"]!);
    }
}
