using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.ML.OnnxRuntime;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Monitoring;
using Serverless.Lifecycle.Pipeline;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Scoring;
using Serverless.Lifecycle.Storage;

namespace Serverless.Lifecycle.Api;

/// <summary>
/// Importing a model trained elsewhere: the graph is checked against the spec at once (400 naming
/// each input and output that does not fit; nothing is stored), then an import run gates it on a
/// dataset against the champion like a trained candidate and registers and rolls it out as the spec says.
/// </summary>
public sealed class ModelImportApi(ModelRegistry registry, DatasetStore datasets, RunController runs, LifecycleStorage storage, TimeProvider clock)
{
    /// <summary>The form parts and fields the import route reads.</summary>
    public static class Parts
    {
        public const string Model = "model";
        public const string Evaluation = "evaluation";
        public const string Dataset = "dataset";
        public const string Outputs = "outputs";
        public const string Classes = "classes";
        public const string Source = "source";
    }

    private const int MaxSourceLength = 512;

    /// <summary>
    /// POST /models/{name}/versions, multipart/form-data: <c>model</c> (the ONNX file), and optionally
    /// <c>outputs</c> (the output map, JSON), <c>classes</c> (a multiclass graph's classes, JSON),
    /// <c>source</c> (where it came from), and the data to gate on: an <c>evaluation</c> file (CSV or
    /// Parquet, stored as a dataset version) or a <c>dataset</c> path, else the model's latest dataset.
    /// 202 with the run.
    /// </summary>
    public Task<IResult> ImportAsync(HttpRequest request, string name, IPipelineClient pipeline, CancellationToken cancellationToken) => ApiResults.HandleAsync(async () =>
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(pipeline);
        if (!request.HasFormContentType)
        {
            return RequestBodies.UnsupportedMediaType(
                $"Send multipart/form-data: the ONNX file as the part '{Parts.Model}', and optionally '{Parts.Outputs}', '{Parts.Classes}', '{Parts.Source}', and '{Parts.Evaluation}' (a CSV or Parquet file) or '{Parts.Dataset}' (a dataset path).");
        }

        IFormCollection form;
        try
        {
            form = await request.ReadFormAsync(cancellationToken);
        }
        catch (InvalidDataException ex)
        {
            return RequestBodies.TooLarge($"The form could not be read: {ex.Message}");
        }

        var spec = await registry.GetSpecAsync(name, cancellationToken);
        var problems = new Dictionary<string, string[]>();
        var file = form.Files.GetFile(Parts.Model);
        if (file is null || file.Length == 0)
        {
            problems[Parts.Model] = ["Required: the ONNX file, as a form part named 'model'."];
        }

        var map = Json<OnnxOutputMap>(form, Parts.Outputs, """{"label": "output_label", "probability": "output_probability"}""", problems);
        var classes = Json<string[]>(form, Parts.Classes, """["bronze", "silver", "gold"]""", problems);
        var source = form[Parts.Source].ToString() is { Length: > 0 } s ? s : null;
        if (source?.Length > MaxSourceLength || source?.Any(char.IsControl) == true)
        {
            problems[Parts.Source] = [$"At most {MaxSourceLength} characters, without control characters."];
        }

        var evaluation = form.Files.GetFile(Parts.Evaluation);
        var datasetPath = form[Parts.Dataset].ToString() is { Length: > 0 } d ? d : null;
        DatasetFormat? evaluationFormat = null;
        if (evaluation is not null && datasetPath is not null)
        {
            problems[Parts.Dataset] = [$"Send an '{Parts.Evaluation}' file or a '{Parts.Dataset}' path, not both."];
        }
        else if (evaluation is not null && (evaluationFormat = FormatOf(evaluation)) is null)
        {
            problems[Parts.Evaluation] = [$"'{evaluation.ContentType}' is not a dataset type; send the file as text/csv or application/vnd.apache.parquet."];
        }
        else if (datasetPath is not null && !datasetPath.StartsWith($"{StorageNames.DatasetsContainer}/{name}/", StringComparison.Ordinal))
        {
            problems[Parts.Dataset] = [$"'{datasetPath}' is not one of this model's datasets: they are under {StorageNames.DatasetsContainer}/{name}/."];
        }

        if (problems.Count > 0)
        {
            return ApiResults.BadRequest($"The import has {problems.Count} problem(s).", problems);
        }

        byte[] uploaded;
        await using (var stream = file!.OpenReadStream())
        {
            uploaded = new byte[file.Length];
            await stream.ReadExactlyAsync(uploaded, cancellationToken);
        }

        var graph = uploaded;
        try
        {
            graph = map is null ? graph : OnnxMetadata.With(graph, OnnxMetadata.Outputs, JsonSerializer.Serialize(map, OnnxOutputMap.Json));
            graph = classes is null ? graph : OnnxMetadata.With(graph, OnnxMetadata.Classes, JsonSerializer.Serialize(classes));
        }
        catch (InvalidDataException ex)
        {
            return ApiResults.BadRequest(Parts.Model, ex.Message);
        }

        string producer;
        try
        {
            using var session = new InferenceSession(graph);
            var (graphProblems, _) = OnnxContract.Check(session, spec);
            if (graphProblems.Count > 0)
            {
                var errors = graphProblems.GroupBy(p => $"{Parts.Model}.{p.Path}").ToDictionary(g => g.Key, g => g.Select(p => p.Message).ToArray());
                return ApiResults.BadRequest($"The graph does not fit the spec of '{name}': {graphProblems.Count} problem(s). Nothing was imported.", errors);
            }

            var meta = session.ModelMetadata;
            producer = $"{(meta.ProducerName is { Length: > 0 } p ? p : "unknown producer")} {meta.Version}".Trim();
        }
        catch (OnnxRuntimeException ex)
        {
            return ApiResults.BadRequest(Parts.Model, $"ONNX Runtime cannot load the file: {ex.Message}");
        }

        DatasetVersion? dataset;
        try
        {
            dataset = evaluation is not null
                ? await UploadEvaluationAsync(name, evaluation, evaluationFormat!.Value, cancellationToken)
                : datasetPath is not null
                    ? (await datasets.RegisterExistingAsync(name, BlobPath.Parse(datasetPath), cancellationToken)).Version
                    : await datasets.GetLatestAsync(name, cancellationToken);
        }
        catch (EmptyDatasetException ex)
        {
            return ApiResults.BadRequest(evaluation is not null ? Parts.Evaluation : Parts.Dataset, ex.Message);
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == 404)
        {
            return ApiResults.BadRequest(Parts.Dataset, $"There is no dataset '{datasetPath}'.");
        }

        if (dataset is null)
        {
            return ApiResults.BadRequest(Parts.Evaluation, $"Model '{name}' has no dataset to gate the import on: send an '{Parts.Evaluation}' file with labels, or upload a dataset first.");
        }

        var sha = Convert.ToHexStringLower(SHA256.HashData(graph));
        var actor = ApiAccess.Actor(request.HttpContext.User);
        var runId = RunIds.ForImport(name, sha, dataset);
        var path = RunPaths.ImportedModel(runId);
        await storage.EnsureCreatedAsync(cancellationToken);
        await storage.Blob(path).UploadAsync(BinaryData.FromBytes(graph), overwrite: true, cancellationToken);
        var imported = new ImportedModel(path.ToString(), sha, graph.Length, Convert.ToHexStringLower(SHA256.HashData(uploaded)), source, producer, actor, clock.GetUtcNow());
        var reason = $"model imported by {actor} ({producer}{(source is null ? "" : $", from {source}")}), gated on {dataset.Path}";
        var record = await runs.StartAsync(new RunRequest(spec, RunTriggers.Import, reason, dataset, Import: imported), pipeline, cancellationToken);
        var result = ApiResults.Json(
            new { runId = record.RunId, statusUrl = ApiRoutes.RunUrl(record.RunId), outcome = record.Outcome, dataset, sha256 = sha, sourceSha256 = imported.SourceSha256 },
            StatusCodes.Status202Accepted);
        return ApiResults.WithHeader(result, "Location", ApiRoutes.RunUrl(record.RunId));
    });

    private async Task<DatasetVersion> UploadEvaluationAsync(string name, IFormFile evaluation, DatasetFormat format, CancellationToken cancellationToken)
    {
        await using var stream = evaluation.OpenReadStream();
        return await datasets.UploadAsync(name, stream, cancellationToken, format);
    }

    private static DatasetFormat? FormatOf(IFormFile file) =>
        file.FileName.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase) ? DatasetFormat.Parquet : DatasetFormats.FromContentType(file.ContentType);

    /// <summary>A JSON form field, or null when it is absent; a field that does not read records its problem with an example.</summary>
    private static T? Json<T>(IFormCollection form, string field, string example, Dictionary<string, string[]> problems)
        where T : class
    {
        if (form[field].ToString() is not { Length: > 0 } json)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<T>(json, Strict) ?? throw new JsonException("null");
        }
        catch (JsonException ex)
        {
            problems[field] = [$"Not what this field takes ({ex.Message.Split(". ")[0]}); for example {example}."];
            return null;
        }
    }

    private static readonly JsonSerializerOptions Strict = new(OnnxOutputMap.Json)
    {
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
    };
}
