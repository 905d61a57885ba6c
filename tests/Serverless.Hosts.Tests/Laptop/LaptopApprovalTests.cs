using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Serverless.Tests;

namespace Serverless.Hosts.Tests.Laptop;

/// <summary>
/// Deciding a run that waits for approval over HTTP: a decision made on a stale view of the run and
/// the second of two decisions that race are refused with 409, so what a person was told is what happened.
/// </summary>
public sealed class LaptopApprovalTests(LaptopHostProcess host) : IClassFixture<LaptopHostProcess>
{
    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private async Task<(string RunId, string ETag)> WaitingRunAsync(string prefix)
    {
        var name = Azurite.UniqueModelName(prefix);
        var spec = await LaptopEndToEndTests.SampleSpecAsync(name);
        spec["evaluation"]!["gate"] = new JsonObject { ["thresholds"] = new JsonArray(new JsonObject { ["metric"] = "auc", ["min"] = 0.7 }) };
        spec["evaluation"]!["approval"] = new JsonObject { ["required"] = true, ["timeoutHours"] = 1 };
        Assert.Equal(HttpStatusCode.Created, (await host.Http.PutAsync($"/api/models/{name}", Json(spec.ToJsonString()))).StatusCode);
        var statusUrl = await host.UploadAsync(name);
        await Eventually.WaitAsync(() => host.Http.GetFromJsonAsync<JsonObject>(statusUrl)!, r => r!["steps"]!.AsArray().LastOrDefault()?["name"]?.ToString() == "approve");
        using var response = await host.Http.GetAsync(statusUrl);
        Assert.True(response.Headers.ETag is not null, "GET /runs/{runId} answers no ETag");
        return (statusUrl.Split('/')[^1], response.Headers.ETag.Tag);
    }

    private async Task<HttpResponseMessage> DecideAsync(string runId, string decision, string reason, string? ifMatch)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/runs/{runId}/{decision}") { Content = Json($$"""{"reason":"{{reason}}"}""") };
        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }

        return await host.Http.SendAsync(request);
    }

    [Fact]
    public async Task TwoDecisionsThatRace_OneIsAccepted_TheOtherGets409NamingIt_AndTheRunEndsAsTheAcceptedOneSaid()
    {
        var (runId, etag) = await WaitingRunAsync("race");

        var answers = await Task.WhenAll(
            DecideAsync(runId, "approve", "the gate table looks right", etag),
            DecideAsync(runId, "reject", "fairness review pending", etag));

        var statuses = answers.Select(a => a.StatusCode).ToArray();
        Assert.True(statuses.Count(s => s == HttpStatusCode.Accepted) == 1 && statuses.Count(s => s == HttpStatusCode.Conflict) == 1, $"answers: {string.Join(", ", statuses)}");
        var approved = answers[0].StatusCode == HttpStatusCode.Accepted;
        var refusal = (await answers[approved ? 1 : 0].Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Contains(approved ? "approved" : "rejected", (string)refusal["detail"]!, StringComparison.Ordinal);
        Assert.Contains(approved ? "the gate table looks right" : "fairness review pending", (string)refusal["detail"]!, StringComparison.Ordinal);

        var run = await host.WaitForRunAsync($"/api/runs/{runId}", TimeSpan.FromMinutes(2));
        Assert.Equal(approved ? "succeeded" : "notApproved", (string)run["status"]!);
    }

    [Fact]
    public async Task ADecisionOnAStaleView_Gets409_AndTheRunStillWaits_ThenTheCurrentETagDecides()
    {
        var (runId, etag) = await WaitingRunAsync("stale");

        using var stale = await DecideAsync(runId, "reject", "decided on an old page", "\"not-the-run-now\"");
        Assert.Equal(HttpStatusCode.Conflict, stale.StatusCode);
        var problem = (await stale.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Contains("reload", (string)problem["detail"]!, StringComparison.Ordinal);
        Assert.Equal(etag, (string)problem["currentETag"]!);
        var waiting = (await host.Http.GetFromJsonAsync<JsonObject>($"/api/runs/{runId}"))!;
        Assert.Equal("approve", (string)waiting["steps"]!.AsArray()[^1]!["name"]!);
        Assert.Null(waiting["steps"]!.AsArray()[^1]!["completedAt"]);

        using var current = await DecideAsync(runId, "approve", "looked again", etag);
        Assert.Equal(HttpStatusCode.Accepted, current.StatusCode);
        Assert.Equal("succeeded", (string)(await host.WaitForRunAsync($"/api/runs/{runId}", TimeSpan.FromMinutes(2)))["status"]!);
    }
}
