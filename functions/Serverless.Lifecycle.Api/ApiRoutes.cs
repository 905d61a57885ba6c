namespace Serverless.Lifecycle.Api;

/// <summary>
/// The HTTP routes both hosts expose under <c>/api</c>. The Functions app uses these constants in
/// its trigger attributes and laptop mode maps the same list, and a test compares the two.
/// </summary>
public static class ApiRoutes
{
    public const string Prefix = "api";

    public const string Models = "models";
    public const string Model = "models/{name}";
    public const string Datasets = "models/{name}/datasets";
    public const string Runs = "models/{name}/runs";
    public const string Run = "runs/{runId}";
    public const string RunProfile = "runs/{runId}/profile";
    public const string RunCancel = "runs/{runId}/cancel";
    public const string RunApprove = "runs/{runId}/approve";
    public const string RunReject = "runs/{runId}/reject";
    public const string JobComplete = Training.TrainingJobPaths.CompleteRoute;
    public const string Versions = "models/{name}/versions";
    public const string Version = "models/{name}/versions/{version}";
    public const string ModelFile = "models/{name}/versions/{version}/model.onnx";
    public const string Alias = "models/{name}/aliases/{alias}";
    public const string Rollback = "models/{name}/rollback";
    public const string Archive = "models/{name}/versions/{version}/archive";
    public const string Reproduce = "models/{name}/versions/{version}/reproduce";
    public const string Audit = "models/{name}/audit";
    public const string Rollout = "models/{name}/rollout";
    public const string Monitoring = "models/{name}/monitoring";
    public const string MonitoringReports = "models/{name}/monitoring/reports";
    public const string MonitoringReport = "models/{name}/monitoring/reports/{reportId}";
    public const string Events = "events";
    public const string Predict = "models/{name}/predict";
    public const string PredictVersion = "models/{name}/versions/{version}/predict";
    public const string Feedback = "models/{name}/feedback";
    public const string ScoringKeys = "scoring-keys";
    public const string ScoringKey = "scoring-keys/{keyId}";

    // The Open Inference Protocol v2.
    public const string OipServer = "v2";
    public const string OipInfer = "v2/models/{name}/infer";
    public const string OipInferVersion = "v2/models/{name}/versions/{version}/infer";
    public const string OipModel = "v2/models/{name}";
    public const string OipModelVersion = "v2/models/{name}/versions/{version}";
    public const string OipModelReady = "v2/models/{name}/ready";
    public const string OipModelVersionReady = "v2/models/{name}/versions/{version}/ready";
    public const string OipLive = "v2/health/live";
    public const string OipReady = "v2/health/ready";
    public const string Health = "health";

    /// <summary>
    /// The dashboard's files (<c>/api/ui/</c> is its page). Anonymous: they are static and hold no data,
    /// which the pages fetch from the keyed routes. In Azure the route answers only behind App Service
    /// Authentication (a signed-in person); without it, a page that says how to turn it on.
    /// </summary>
    public const string Dashboard = "ui/{*file}";

    /// <summary>What this host holds and how its storage, serving and prediction log are doing (needs a key).</summary>
    public const string Status = "status";

    /// <summary>The OpenAPI 3.1 document of every route here; a function key in Azure, like the routes it describes.</summary>
    public const string OpenApi = "openapi.json";

    /// <summary>Every (method, route) pair of the API.</summary>
    public static readonly IReadOnlyList<(string Method, string Route)> All =
    [
        ("PUT", Model),
        ("GET", Models),
        ("GET", Model),
        ("POST", Datasets),
        ("POST", Runs),
        ("GET", Runs),
        ("GET", Run),
        ("GET", RunProfile),
        ("POST", RunCancel),
        ("POST", RunApprove),
        ("POST", RunReject),
        ("POST", JobComplete),
        ("GET", Versions),
        ("POST", Versions),
        ("GET", Version),
        ("DELETE", Version),
        ("GET", ModelFile),
        ("PUT", Alias),
        ("DELETE", Alias),
        ("POST", Rollback),
        ("POST", Archive),
        ("POST", Reproduce),
        ("GET", Audit),
        ("GET", Rollout),
        ("GET", Monitoring),
        ("GET", MonitoringReports),
        ("GET", MonitoringReport),
        ("POST", Events),
        ("OPTIONS", Events),
        ("POST", Predict),
        ("POST", PredictVersion),
        ("POST", Feedback),
        ("POST", ScoringKeys),
        ("GET", ScoringKeys),
        ("DELETE", ScoringKey),
        ("GET", OipServer),
        ("POST", OipInfer),
        ("POST", OipInferVersion),
        ("GET", OipModel),
        ("GET", OipModelVersion),
        ("GET", OipModelReady),
        ("GET", OipModelVersionReady),
        ("GET", OipLive),
        ("GET", OipReady),
        ("GET", Health),
        ("GET", Status),
        ("GET", Dashboard),
        ("GET", OpenApi),
    ];

    /// <summary>
    /// The routes the Functions app serves without a function key: health probes, and the dashboard's
    /// static files (behind App Service Authentication). Every other route needs a key.
    /// </summary>
    public static readonly IReadOnlySet<string> Anonymous = new HashSet<string>(StringComparer.Ordinal) { Health, OipLive, OipReady, Dashboard };

    public static string RunUrl(string runId) => $"/{Prefix}/runs/{runId}";
}
