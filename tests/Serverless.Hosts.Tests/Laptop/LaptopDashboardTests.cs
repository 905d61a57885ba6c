using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using Serverless.Tests;

namespace Serverless.Hosts.Tests.Laptop;

/// <summary>
/// A laptop host that monitors its own models (prefix <c>dash-</c>, so it leaves other tests' models
/// alone), with a model trained twice, served, and sent the drifted sample traffic; and a headless
/// Chromium (Debian's, found by <c>scripts/chromium.sh</c>) driven by Playwright.
/// </summary>
public sealed class DashboardHostProcess : LaptopHostProcess, IAsyncLifetime
{
    protected override bool Monitors => true;

    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["Monitoring__ModelPrefixes__0"] = "dash-",
        ["Monitoring__ModelPrefixes__1"] = "dash-",
    };

    public string Model { get; } = Azurite.UniqueModelName("dash");

    public string FirstRun { get; private set; } = "";

    public IBrowser Browser { get; private set; } = null!;

    private IPlaywright? playwright;

    public new async Task InitializeAsync()
    {
        await StartAsync();
        var spec = await LaptopEndToEndTests.SampleSpecAsync(Model);
        spec["drift"] = new JsonObject { ["windowMinutes"] = 5, ["minSamples"] = 150, ["consecutiveWindows"] = 1000 };

        // Drift is reported but never retrains (1000 windows in a row), so only the test moves the champion.
        // Two versions to roll back between: a gate loose enough that the second dataset's model passes too.
        spec["evaluation"]!["gate"] = new JsonObject { ["thresholds"] = new JsonArray(new JsonObject { ["metric"] = "auc", ["min"] = 0.7 }) };
        Assert.Equal(HttpStatusCode.Created, (await Http.PutAsync($"/api/models/{Model}", new StringContent(spec.ToJsonString(), Encoding.UTF8, "application/json"))).StatusCode);
        var first = await UploadAndWaitAsync(Model);
        Assert.True((string)first["status"]! == "succeeded", first.ToJsonString());
        FirstRun = (string)first["runId"]!;
        var second = await UploadAndWaitAsync(Model, new StringContent(Samples.Churn.ChurnDataGenerator.Generate(2500, seed: 32), Encoding.UTF8, "text/csv"));
        Assert.True((string)second["status"]! == "succeeded", second.ToJsonString());

        // The drifted sample as prediction traffic, 50 rows a request, then a monitoring pass that sees it.
        var lines = (await File.ReadAllLinesAsync(Path.Combine(RepoPaths.Root, "samples", "churn", "churn-drifted.csv"))).Take(601).ToArray();
        var header = lines[0].Split(',');
        foreach (var chunk in lines.Skip(1).Chunk(50))
        {
            var instances = new JsonArray([.. chunk.Select(line => Instance(header, line.Split(',')))]);
            var response = await Http.PostAsync($"/api/models/{Model}/predict", new StringContent(new JsonObject { ["instances"] = instances }.ToJsonString(), Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await Eventually.WaitAsync(
            async () => (await Http.GetFromJsonAsync<JsonObject>($"/api/models/{Model}/monitoring"))!["latest"]?["report"] as JsonObject,
            report => report is not null && (string)report["status"]! == "drift");

        var path = RepoScripts.Run("chromium.sh", "The browser tests need Chromium");
        playwright = await Playwright.CreateAsync();
        Browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = path, Headless = true, Args = ["--no-sandbox"] });
    }

    public new async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        playwright?.Dispose();
        await base.DisposeAsync();
    }

    private static JsonObject Instance(string[] header, string[] fields)
    {
        var instance = new JsonObject();
        foreach (var (column, i) in header.Select((c, i) => (c, i)))
        {
            if (column is "customer_id" or "churned")
            {
                continue;
            }

            instance[column] = column is "contract" or "internet_service" or "payment_method"
                ? fields[i]
                : fields[i].Length == 0 ? null : JsonValue.Create(double.Parse(fields[i], System.Globalization.CultureInfo.InvariantCulture));
        }

        return instance;
    }
}

/// <summary>The dashboard in a real browser against a real laptop host: every page with real data, no console errors, no serious accessibility violation.</summary>
public sealed class LaptopDashboardTests(DashboardHostProcess host) : IClassFixture<DashboardHostProcess>
{
    private async Task<(IPage Page, List<string> Errors)> OpenAsync(string hash, string expectedHeading)
    {
        var page = await host.Browser.NewPageAsync();
        var errors = new List<string>();
        page.Console += (_, message) => { if (message.Type == "error") { errors.Add(message.Text); } };
        page.PageError += (_, error) => errors.Add(error);
        await page.GotoAsync($"{host.Http.BaseAddress!.GetLeftPart(UriPartial.Authority)}/{hash}");
        await page.GetByRole(AriaRole.Heading, new() { Name = expectedHeading, Level = 1 }).WaitForAsync(new() { Timeout = 30_000 });

        await ScreenshotAsync(page, hash.Split('/', StringSplitOptions.RemoveEmptyEntries) switch
        {
            ["#"] => "models",
            [_, "runs", _] => "run",
            [_, "models", _] => "model",
            [_, "models", _, "versions", _] => "version",
            [_, "models", _, "drift"] => "drift",
            _ => "page",
        });
        return (page, errors);
    }

    /// <summary>DASHBOARD_SCREENSHOTS=docs/screenshots ./test.sh --filter LaptopDashboardTests refreshes the README's pictures.</summary>
    private static async Task ScreenshotAsync(IPage page, string name)
    {
        if (Environment.GetEnvironmentVariable("DASHBOARD_SCREENSHOTS") is { Length: > 0 } folder)
        {
            await page.SetViewportSizeAsync(1280, 900);
            await page.WaitForTimeoutAsync(500);
            await page.ScreenshotAsync(new() { Path = Path.Combine(RepoPaths.Root, folder, $"dashboard-{name}.png"), FullPage = true });
        }
    }

    private static async Task AssertAccessibleAsync(IPage page, List<string> errors)
    {
        var results = await page.RunAxe();
        var serious = results.Violations.Where(v => v.Impact is "serious" or "critical").Select(v => $"{v.Id}: {v.Help} ({v.Nodes.Length} node(s))").ToList();
        Assert.True(serious.Count == 0, string.Join('\n', serious));
        Assert.True(errors.Count == 0, string.Join('\n', errors));
    }

    [Fact]
    public async Task ModelsPage_ListsTheModelWithItsChampion()
    {
        var (page, errors) = await OpenAsync("#/", "Models");

        var row = page.GetByRole(AriaRole.Row).Filter(new() { HasText = host.Model });
        await Assertions.Expect(row.GetByRole(AriaRole.Link, new() { Name = host.Model })).ToBeVisibleAsync();
        await Assertions.Expect(row.GetByRole(AriaRole.Link, new() { Name = "v2" })).ToBeVisibleAsync();
        await Assertions.Expect(row.GetByText("succeeded", new() { Exact = true })).ToBeVisibleAsync();
        await AssertAccessibleAsync(page, errors);
    }

    [Fact]
    public async Task RunPage_ShowsTheStepsTrialsAndTheGatesTable()
    {
        var (page, errors) = await OpenAsync($"#/runs/{host.FirstRun}", $"Run {host.FirstRun}");

        foreach (var step in new[] { "validate", "train", "evaluate", "register" })
        {
            await Assertions.Expect(page.Locator(".timeline").GetByText(step, new() { Exact = true })).ToBeVisibleAsync();
        }

        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Trials" })).ToBeVisibleAsync();
        var gate = page.Locator("table").Filter(new() { HasText = "Bound" });
        await Assertions.Expect(gate.GetByRole(AriaRole.Cell, new() { Name = "auc", Exact = true }).First).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "dataset profile" }).ClickAsync();
        await page.GetByRole(AriaRole.Heading, new() { Name = $"Dataset profile of run {host.FirstRun}" }).WaitForAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Img, new() { Name = "tenure_months histogram" })).ToBeVisibleAsync();
        await ScreenshotAsync(page, "profile");
        await AssertAccessibleAsync(page, errors);
    }

    [Fact]
    public async Task VersionPage_ShowsTheLineageAndMetrics()
    {
        var (page, errors) = await OpenAsync($"#/models/{host.Model}/versions/1", $"{host.Model} v1");

        await Assertions.Expect(page.GetByText("Dataset SHA-256")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Cell, new() { Name = "auc", Exact = true })).ToBeVisibleAsync();

        // What the version relies on, most important first, as the card has it.
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Feature importance" })).ToBeVisibleAsync();
        var card = (await host.Http.GetFromJsonAsync<JsonObject>($"/api/models/{host.Model}/versions/1"))!["card"]!;
        var top = (string)card["importance"]!["features"]![0]!["feature"]!;
        var importance = page.GetByRole(AriaRole.Table).Filter(new() { HasText = "auc drop" });
        await Assertions.Expect(importance.GetByRole(AriaRole.Row).Nth(1).GetByRole(AriaRole.Cell).First).ToHaveTextAsync(top);
        await Assertions.Expect(importance.GetByRole(AriaRole.Row)).ToHaveCountAsync(7);
        await AssertAccessibleAsync(page, errors);

        // The download is the registered file: its SHA-256 is the version's.
        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByRole(AriaRole.Link, new() { Name = "Download the ONNX file" }).ClickAsync());
        Assert.Equal($"{host.Model}-v1.onnx", download.SuggestedFilename);
        var version = (await host.Http.GetFromJsonAsync<JsonObject>($"/api/models/{host.Model}/versions/1"))!;
        Assert.Equal((string)version["sha256"]!, await Sha256Async(download));
    }

    [Fact]
    public async Task VersionPage_Reproduce_StartsARun_AndTheRunPageShowsTheVersionReproduced()
    {
        var (page, errors) = await OpenAsync($"#/models/{host.Model}/versions/1", $"{host.Model} v1");

        await page.GetByRole(AriaRole.Button, new() { Name = "Reproduce" }).ClickAsync();
        await page.GetByLabel("Reason (recorded in the audit trail)").FillAsync("audit of v1");
        await page.GetByRole(AriaRole.Button, new() { Name = "Confirm" }).ClickAsync();

        // The page goes to the reproduce run, which follows it to its end.
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Reproduction of v1 reproduced" })).ToBeVisibleAsync(new() { Timeout = 120_000 });
        var runId = Uri.UnescapeDataString(new Uri(page.Url).Fragment["#/runs/".Length..]);
        var run = (await host.Http.GetFromJsonAsync<JsonObject>($"/api/runs/{runId}"))!;
        Assert.Equal(("reproduced", "reproduce"), ((string)run["status"]!, (string)run["trigger"]!));
        var listed = (await host.Http.GetFromJsonAsync<JsonObject>($"/api/models/{host.Model}/runs"))!["runs"]!.AsArray().Single(r => (string)r!["runId"]! == runId)!;
        Assert.EndsWith("(laptop): audit of v1", (string)listed["reason"]!, StringComparison.Ordinal);
        await AssertAccessibleAsync(page, errors);
    }

    private static async Task<string> Sha256Async(IDownload download)
    {
        await using var stream = await download.CreateReadStreamAsync();
        return Convert.ToHexStringLower(await System.Security.Cryptography.SHA256.HashDataAsync(stream));
    }

    [Fact]
    public async Task DriftPage_AfterTheDriftedSampleTraffic_ShowsTheShiftedFeaturesAsDrifted()
    {
        var report = (await host.Http.GetFromJsonAsync<JsonObject>($"/api/models/{host.Model}/monitoring"))!["latest"]!["report"]!;
        var features = report["features"]!.AsArray().ToDictionary(f => (string)f!["feature"]!, f => (bool)f!["drifted"]!);
        Assert.True(features["monthly_charges"], report.ToJsonString());
        Assert.InRange((double)report["importanceDriftedShare"]!, 0.0, 1.0);
        Assert.Equal("features", (string)report["shareOf"]!);
        Assert.Contains(features, f => !f.Value);

        var (page, errors) = await OpenAsync($"#/models/{host.Model}/drift", $"Drift: {host.Model}");

        foreach (var (feature, drifted) in features)
        {
            var card = page.GetByRole(AriaRole.Region, new() { Name = $"{feature} drift" });
            await Assertions.Expect(card.GetByText(drifted ? "drifted" : "stable", new() { Exact = true })).ToBeVisibleAsync();
        }

        // The training data's and the window's histograms, overlaid from the report's bins.
        await Assertions.Expect(page.GetByRole(AriaRole.Region, new() { Name = "monthly_charges drift" }).GetByRole(AriaRole.Img))
            .ToHaveAttributeAsync("aria-label", new System.Text.RegularExpressions.Regex("^monthly_charges: share of rows per bin, training then this window: "));

        await AssertAccessibleAsync(page, errors);
    }

    [Fact]
    public async Task ModelPage_RollBack_AsksForAReason_MovesTheChampion_AndShowsIt()
    {
        var (page, errors) = await OpenAsync($"#/models/{host.Model}", host.Model);
        var runs = page.Locator("table").Filter(new() { HasText = "Trigger" });
        await Assertions.Expect(runs.GetByRole(AriaRole.Row).Filter(new() { HasText = host.FirstRun })).ToContainTextAsync("succeeded");
        var versions = page.Locator("table").Filter(new() { HasText = "Aliases" });
        await Assertions.Expect(versions.GetByRole(AriaRole.Row).Filter(new() { HasText = "v2" })).ToContainTextAsync("champion");
        await AssertAccessibleAsync(page, errors);

        await page.GetByRole(AriaRole.Button, new() { Name = "Roll back champion" }).ClickAsync();
        await page.GetByLabel("Reason (recorded in the audit trail)").FillAsync("v2 misbehaves in the browser test");
        await page.GetByRole(AriaRole.Button, new() { Name = "Confirm" }).ClickAsync();


        await Assertions.Expect(versions.GetByRole(AriaRole.Row).Filter(new() { HasText = "v1" }).First).ToContainTextAsync("champion");
        var model = (await host.Http.GetFromJsonAsync<JsonObject>($"/api/models/{host.Model}"))!;
        Assert.Equal(1, (int)model["aliases"]!["champion"]!);
        await Assertions.Expect(page.GetByRole(AriaRole.Cell, new() { Name = "v2 misbehaves in the browser test" })).ToBeVisibleAsync();
        Assert.True(errors.Count == 0, string.Join('\n', errors));
    }

    /// <summary>A new model whose spec asks for approval, and its first run, waiting for the decision.</summary>
    private async Task<(string Name, string RunId)> WaitingRunAsync(string prefix)
    {
        var name = Azurite.UniqueModelName(prefix);
        var spec = await LaptopEndToEndTests.SampleSpecAsync(name);
        spec["evaluation"]!["gate"] = new JsonObject { ["thresholds"] = new JsonArray(new JsonObject { ["metric"] = "auc", ["min"] = 0.7 }) };
        spec["evaluation"]!["approval"] = new JsonObject { ["required"] = true, ["timeoutHours"] = 1 };
        Assert.Equal(HttpStatusCode.Created, (await host.Http.PutAsync($"/api/models/{name}", new StringContent(spec.ToJsonString(), Encoding.UTF8, "application/json"))).StatusCode);
        var statusUrl = await host.UploadAsync(name);
        await Eventually.WaitAsync(() => host.Http.GetFromJsonAsync<JsonObject>(statusUrl)!, r => r!["steps"]!.AsArray().LastOrDefault()?["name"]?.ToString() == "approve");
        return (name, statusUrl.Split('/')[^1]);
    }

    [Fact]
    public async Task ModelPage_ARunWaitingForApproval_IsApprovedFromThePage_AndTheRunPageFollowsItToTheEnd()
    {
        var (name, runId) = await WaitingRunAsync("dash-approve");

        // The run page, opened while the run waits, follows it by itself: nobody reloads it.
        var (runPage, runErrors) = await OpenAsync($"#/runs/{runId}", $"Run {runId}");
        await Assertions.Expect(runPage.GetByRole(AriaRole.Button, new() { Name = "Approve" })).ToBeVisibleAsync();

        var (page, errors) = await OpenAsync($"#/models/{name}", name);
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("waits for approval");
        await AssertAccessibleAsync(page, errors);
        await page.GetByRole(AriaRole.Button, new() { Name = "Approve" }).ClickAsync();
        await page.GetByLabel("Reason (recorded in the audit trail)").FillAsync("looked at the gate table");
        await page.GetByRole(AriaRole.Button, new() { Name = "Confirm" }).ClickAsync();

        await Assertions.Expect(runPage.Locator("main > p").First).ToContainTextAsync("succeeded", new() { Timeout = 60_000 });
        await Assertions.Expect(runPage.GetByRole(AriaRole.Link, new() { Name = "registered v1" })).ToBeVisibleAsync();
        Assert.True(errors.Count + runErrors.Count == 0, string.Join('\n', errors.Concat(runErrors)));
    }

    [Fact]
    public async Task ModelPage_ARunDecidedBySomeoneElseMeanwhile_SaysChangedBySomeoneElse_AndTheOtherDecisionStands()
    {
        var (name, runId) = await WaitingRunAsync("dash-stale");
        var (page, errors) = await OpenAsync($"#/models/{name}", name);
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("waits for approval");

        // Someone else rejects the run while this page still shows it waiting.
        var rejected = await host.Http.PostAsync($"/api/runs/{runId}/reject", new StringContent("{\"reason\":\"rejected in another tab\"}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Accepted, rejected.StatusCode);
        await page.GetByRole(AriaRole.Button, new() { Name = "Approve" }).ClickAsync();
        await page.GetByLabel("Reason (recorded in the audit trail)").FillAsync("approved on a stale page");
        await page.GetByRole(AriaRole.Button, new() { Name = "Confirm" }).ClickAsync();

        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Changed by someone else");
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Reload");
        var run = await host.WaitForRunAsync($"/api/runs/{runId}", TimeSpan.FromMinutes(1));
        Assert.Equal("notApproved", (string)run["status"]!);
        Assert.Contains("rejected in another tab", (string)run["error"]!, StringComparison.Ordinal);

        // Chromium logs the refused request itself as a console error; nothing else may fail.
        Assert.True(errors.All(e => e.Contains("409", StringComparison.Ordinal)), string.Join('\n', errors));
    }

    [Fact]
    public async Task AHostThatWantsSignIn_SaysWhyAndOffersSignIn_AndAMissingRoleIsNamed_NeverAKeyPrompt()
    {
        var page = await host.Browser.NewPageAsync();
        var keys = new List<string>();
        page.Request += (_, request) => { if (request.Headers.ContainsKey("x-functions-key")) { keys.Add(request.Url); } };

        // Stand in for the Functions app with sign-in on: the session has expired (401), then the person lacks the role (403).
        var answer = 401;
        await page.RouteAsync("**/api/models", route => route.FulfillAsync(new()
        {
            Status = answer,
            ContentType = "application/problem+json",
            Body = answer == 401
                ? "{\"title\":\"Sign-in needed.\",\"detail\":\"This route needs an Entra identity with the app role Lifecycle.Reader or Lifecycle.Admin.\"}"
                : "{\"title\":\"Forbidden.\",\"detail\":\"nora@contoso.com does not have the app role Lifecycle.Reader or Lifecycle.Admin this route needs.\"}",
        }));
        await page.GotoAsync($"{host.Http.BaseAddress!.GetLeftPart(UriPartial.Authority)}/api/ui/#/");

        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("needs an Entra identity with the app role");
        var signIn = page.GetByRole(AriaRole.Link, new() { Name = "Sign in again" });
        Assert.StartsWith("/.auth/login/aad?post_login_redirect_uri=", await signIn.GetAttributeAsync("href"), StringComparison.Ordinal);

        answer = 403;
        await page.ReloadAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("nora@contoso.com does not have the app role");
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "Sign in again" })).ToHaveCountAsync(0);
        Assert.Equal(0, await page.Locator("input[type=password]").CountAsync());
        Assert.Empty(keys);
    }
}
