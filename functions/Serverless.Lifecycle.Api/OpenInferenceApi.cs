using System.Reflection;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Scoring;
using Serverless.Lifecycle.Serving;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;

namespace Serverless.Lifecycle.Api;

/// <summary>
/// The Open Inference Protocol v2 (KServe, Triton, Seldon) under <c>/api/v2</c>: inference,
/// model metadata and readiness, server liveness and readiness. One input tensor per feature
/// (shape <c>[n]</c> or <c>[n, 1]</c>; FP32, FP64 or an integer type for numeric features,
/// BYTES for categorical ones), checked with the same rules as the JSON route. Errors are
/// <c>{"error": "..."}</c> as the protocol says.
/// </summary>
public sealed partial class OpenInferenceApi(
    ModelServer server, PredictionService predictions, ModelRegistry registry, LifecycleStorage storage, PredictionLog log, IOptions<ServingOptions> options, TimeProvider clock, ILogger<OpenInferenceApi> logger)
{
    public const string Route = "v2/infer";
    public const string Platform = "onnxruntime_onnx";

    private static readonly HashSet<string> NumericTypes = new(StringComparer.Ordinal) { "FP16", "FP32", "FP64", "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64" };
    /// <summary>The protocol's integer datatypes and the values each can hold.</summary>
    private static readonly Dictionary<string, (decimal Min, decimal Max)> IntegerTypes = new(StringComparer.Ordinal)
    {
        ["INT8"] = (sbyte.MinValue, sbyte.MaxValue),
        ["INT16"] = (short.MinValue, short.MaxValue),
        ["INT32"] = (int.MinValue, int.MaxValue),
        ["INT64"] = (long.MinValue, long.MaxValue),
        ["UINT8"] = (byte.MinValue, byte.MaxValue),
        ["UINT16"] = (ushort.MinValue, ushort.MaxValue),
        ["UINT32"] = (uint.MinValue, uint.MaxValue),
        ["UINT64"] = (ulong.MinValue, ulong.MaxValue),
    };

    /// <summary>A JSON integer (no fraction or exponent) within the datatype's range.</summary>
    private static bool Fits(JsonElement value, (decimal Min, decimal Max) range) =>
        value.ValueKind == JsonValueKind.Number
        && value.GetRawText().AsSpan().IndexOfAny('.', 'e', 'E') < 0
        && value.TryGetDecimal(out var number) && number >= range.Min && number <= range.Max;

    /// <summary>POST v2/models/{name}[/versions/{version}]/infer.</summary>
    public Task<IResult> InferAsync(HttpRequest request, string name, string? version, CancellationToken cancellationToken) => HandleAsync(async () =>
    {
        ArgumentNullException.ThrowIfNull(request);
        var started = clock.GetTimestamp();
        var (document, bodyError) = await RequestBodies.ReadJsonAsync(request, cancellationToken);
        if (bodyError is not null)
        {
            return bodyError is IStatusCodeHttpResult { StatusCode: { } status } ? Error(status, BodyProblem(status)) : Error(400, "The body is not valid JSON.");
        }

        using (document)
        {
            // A clone outlives the request's document: a shadow challenger may parse it after the response.
            var root = document!.RootElement.Clone();
            if (root.ValueKind != JsonValueKind.Object)
            {
                return Error(400, "Expected an inference request object with an 'inputs' array.");
            }

            string? id = null;
            if (root.TryGetProperty("id", out var idElement))
            {
                if (idElement.ValueKind != JsonValueKind.String)
                {
                    return Error(400, "'id' must be a string.");
                }

                id = idElement.GetString();
            }

            // The body's id is echoed as the protocol asks; the id the prediction is logged under (the
            // same one when it is a valid request id) goes back in X-Request-Id, for feedback to refer to.
            var requestId = RequestIds.FromCaller(RequestIds.IsValid(id) ? id : request.Headers[RequestIds.Header].ToString());
            request.HttpContext.Response.Headers[RequestIds.Header] = requestId;
            var (scored, problem) = await predictions.ScoreAsync<string>(name, version ?? ReservedAliases.Champion, requestId, Route, started, spec =>
            {
                var (batch, inputProblem) = ReadInputs(root, spec, options.Value.MaxBatchRows);
                if (batch is null)
                {
                    return (null, inputProblem);
                }

                var (_, outputProblem) = RequestedOutputs(root, spec.Task);
                return outputProblem is null ? (batch, (string?)null) : (null, outputProblem);
            }, cancellationToken);
            if (scored is null)
            {
                return Error(400, problem!);
            }

            var (requested, _) = RequestedOutputs(root, scored.Model.Spec.Task);
            return Results.Json(
                new InferenceResponse(scored.Model.Version.Model, scored.Model.Version.Version.ToString(System.Globalization.CultureInfo.InvariantCulture), id, Outputs(scored.Model, scored.Predictions, requested)),
                OipJson);
        }
    });

    /// <summary>GET v2/models/{name}[/versions/{version}]: inputs and outputs with their datatypes and shapes.</summary>
    public Task<IResult> MetadataAsync(string name, string? version, CancellationToken cancellationToken) => HandleAsync(async () =>
    {
        using var lease = await server.AcquireAsync(name, version ?? ReservedAliases.Champion, cancellationToken);
        var model = lease.Model;
        var versions = (await registry.ListVersionsAsync(name, cancellationToken)).Where(v => v.Status == ModelVersionStatus.Ready)
            .Select(v => v.Version.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();
        var inputs = model.Spec.Features.Select(f => new TensorMetadata(f.Name, f.IsNumeric ? "FP32" : "BYTES", [-1])).ToList();
        var outputs = OutputMetadata(model);
        var parameters = new Dictionary<string, object>(StringComparer.Ordinal) { ["task"] = model.Spec.Task, ["version"] = model.Version.Version };
        if (model.Onnx.Classes.Count > 0)
        {
            parameters["classes"] = model.Onnx.Classes;
        }

        return Results.Json(new ModelMetadata(name, versions, Platform, inputs, outputs, parameters), OipJson);
    });

    /// <summary>GET v2/models/{name}[/versions/{version}]/ready: 200 when the version is loaded and can score; a 4xx with the reason otherwise.</summary>
    public Task<IResult> ReadyAsync(string name, string? version, CancellationToken cancellationToken) => HandleAsync(async () =>
    {
        using var lease = await server.AcquireAsync(name, version ?? ReservedAliases.Champion, cancellationToken);
        var model = lease.Model;
        return Results.Json(new { name, version = model.Version.Version.ToString(System.Globalization.CultureInfo.InvariantCulture), ready = true }, OipJson);
    });

    /// <summary>What <c>GET v2</c> names this server: the product, as the protocol's "descriptive name for the server".</summary>
    public const string ServerName = "serverless-lifecycle";

    /// <summary>The product's version, without the build's commit (as the trainers report theirs).</summary>
    public static readonly string ServerVersion =
        typeof(OpenInferenceApi).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    /// <summary>
    /// GET v2: the protocol's server metadata, <c>{"name", "version", "extensions"}</c>. No extension is
    /// claimed: the routes implement the protocol as written (the model metadata's <c>parameters</c> and
    /// a request's <c>outputs</c> are part of it).
    /// </summary>
    public static IResult ServerMetadata() => Results.Json(new ServerMetadataResponse(ServerName, ServerVersion, []), OipJson);

    /// <summary>GET v2/health/live: the process answers.</summary>
    public static IResult Live() => Results.Json(new { live = true }, OipJson);

    /// <summary>
    /// How long one storage probe answers readiness. The route is anonymous and every load balancer
    /// calls it every few seconds: storage sees one small read per host per interval (concurrent
    /// calls share the one in flight), however often it is called and however many models there are.
    /// </summary>
    public static readonly TimeSpan ReadinessProbeInterval = TimeSpan.FromSeconds(2);

    private static readonly TimeSpan ReadinessProbeTimeout = TimeSpan.FromSeconds(5);

    private readonly Lock probeGate = new();
    private Task<string?>? storageProbe;
    private long storageProbedAt;
    private string? lastStorageProblem;

    /// <summary>
    /// GET v2/health/ready (anonymous, for probes): 200 when storage answers within a few seconds; also
    /// 200, with <c>degraded: true</c>, while storage is away but this host holds loaded models it keeps
    /// serving (taking it out of rotation would fail requests it can answer); 503 when storage is away and
    /// it cannot serve (nothing loaded, or what it read is older than Serving:MaxStaleSeconds). Degraded also covers a prediction log that cannot write and versions that cannot be
    /// served. Only the kinds of problem are named here, never an exception's text; <c>GET /api/status</c>
    /// (with a key) and the log have the detail. Storage is probed with one small read at most every
    /// <see cref="ReadinessProbeInterval"/>; nothing here reads the registry.
    /// </summary>
    public async Task<IResult> ServerReadyAsync(CancellationToken cancellationToken)
    {
        var storageProblem = await StorageProblemAsync().WaitAsync(cancellationToken);
        var problems = new List<string>();
        var canServe = server.CanServeWithoutStorage;
        if (storageProblem is not null)
        {
            problems.Add(canServe ? "storage is unreachable; loaded models answer from what this host read last" : "storage is unreachable");
        }

        if (log.FailingSince is not null)
        {
            problems.Add("the prediction log cannot write; records wait in its buffer");
        }

        if (server.Unservable.Count > 0)
        {
            problems.Add("a model version cannot be served");
        }

        var ready = storageProblem is null || canServe;
        return Results.Json(
            new { ready, degraded = problems.Count > 0, problems },
            OipJson,
            statusCode: ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
    }

    /// <summary>The last storage probe while it is in flight or younger than <see cref="ReadinessProbeInterval"/>, else a new one.</summary>
    private Task<string?> StorageProblemAsync()
    {
        lock (probeGate)
        {
            if (storageProbe is null || (storageProbe.IsCompleted && clock.GetElapsedTime(Volatile.Read(ref storageProbedAt)) >= ReadinessProbeInterval))
            {
                storageProbe = ProbeStorageAsync();
            }

            return storageProbe;
        }
    }

    /// <summary>One bounded probe, not tied to the request that started it (others may share it); logs when storage stops or starts answering.</summary>
    private async Task<string?> ProbeStorageAsync()
    {
        var problem = await storage.ProbeAsync(ReadinessProbeTimeout, CancellationToken.None);
        Volatile.Write(ref storageProbedAt, clock.GetTimestamp());
        var before = Interlocked.Exchange(ref lastStorageProblem, problem);
        if (problem is not null && before is null)
        {
            LogStorageUnreachable(problem);
        }
        else if (problem is null && before is not null)
        {
            LogStorageAnswersAgain();
        }

        return problem;
    }

    [LoggerMessage(EventId = 5010, Level = LogLevel.Warning, Message = "Readiness: storage does not answer ({Problem}); readiness reports it as unreachable until it does.")]
    private partial void LogStorageUnreachable(string problem);

    [LoggerMessage(EventId = 5011, Level = LogLevel.Information, Message = "Readiness: storage answers again.")]
    private partial void LogStorageAnswersAgain();

    private static readonly JsonSerializerOptions OipJson = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
    };

    private static string BodyProblem(int status) => status switch
    {
        StatusCodes.Status413PayloadTooLarge => $"The body is larger than {RequestBodies.MaxJsonBytes} bytes.",
        StatusCodes.Status415UnsupportedMediaType => "Send the inference request as application/json.",
        _ => "The body is not valid JSON.",
    };

    private static IResult Error(int status, string message) => Results.Json(new { error = message }, OipJson, statusCode: status);

    private async Task<IResult> HandleAsync(Func<Task<IResult>> endpoint)
    {
        try
        {
            return await endpoint();
        }
        catch (Exception ex) when (ex is ModelNotFoundException or ModelVersionNotFoundException)
        {
            return Error(StatusCodes.Status404NotFound, ex.Message);
        }
        catch (AliasNotFoundException ex)
        {
            if (await registry.TryGetSpecAsync(ex.Model, CancellationToken.None) is null)
            {
                return Error(StatusCodes.Status404NotFound, $"Model '{ex.Model}' is not registered.");
            }

            return Error(StatusCodes.Status404NotFound, ex.Alias == ReservedAliases.Champion ? $"Model '{ex.Model}' has no champion yet: no version has passed the gate." : ex.Message);
        }
        catch (InvalidOperationException ex)
        {
            return Error(StatusCodes.Status409Conflict, ex.Message);
        }
        catch (Exception ex) when (ApiResults.Unavailability(ex) is { } unavailable)
        {
            return ApiResults.WithRetryAfter(Error(StatusCodes.Status503ServiceUnavailable, unavailable.Detail), unavailable.RetryAfterSeconds);
        }
    }

    /// <summary>One tensor per feature, all with the same number of rows; the first problem found is the error.</summary>
    public static (FeatureBatch? Batch, string? Problem) ReadInputs(JsonElement root, ModelSpec spec, int maxRows)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (!root.TryGetProperty("inputs", out var inputs) || inputs.ValueKind != JsonValueKind.Array || inputs.GetArrayLength() == 0)
        {
            return (null, "'inputs' is required: an array with one tensor per feature.");
        }

        var tensors = new Dictionary<string, (JsonElement Tensor, List<JsonElement> Data)>(StringComparer.Ordinal);
        var rows = -1;
        foreach (var (tensor, index) in inputs.EnumerateArray().Select((t, i) => (t, i)))
        {
            var where = $"inputs[{index}]";
            if (tensor.ValueKind != JsonValueKind.Object || !tensor.TryGetProperty("name", out var nameElement) || nameElement.ValueKind != JsonValueKind.String)
            {
                return (null, $"{where}: expected a tensor object with a 'name'.");
            }

            var name = nameElement.GetString()!;
            where = $"input '{name}'";
            var feature = spec.Features.FirstOrDefault(f => f.Name == name);
            if (feature is null)
            {
                if (spec.Serving.UnknownFeatures == InputPolicies.Reject)
                {
                    return (null, $"{where} is not a feature of this model, and serving.unknownFeatures is reject.");
                }

                continue;
            }

            if (tensors.ContainsKey(name))
            {
                return (null, $"{where} is given twice.");
            }

            if (!tensor.TryGetProperty("datatype", out var datatype) || datatype.ValueKind != JsonValueKind.String)
            {
                return (null, $"{where} has no 'datatype'.");
            }

            var type = datatype.GetString()!;
            if (feature.IsNumeric ? !NumericTypes.Contains(type) : type != "BYTES")
            {
                return (null, $"{where} has datatype {type}; the {feature.Type} feature takes {(feature.IsNumeric ? "FP32, FP64 or an integer type" : "BYTES")}.");
            }

            if (!tensor.TryGetProperty("shape", out var shape) || shape.ValueKind != JsonValueKind.Array
                || shape.EnumerateArray().Any(d => d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out var n) || n < 0))
            {
                return (null, $"{where} needs a 'shape' of non-negative integers.");
            }

            var dims = shape.EnumerateArray().Select(d => d.GetInt64()).ToArray();
            if (dims.Length is < 1 or > 2 || (dims.Length == 2 && dims[1] != 1))
            {
                return (null, $"{where} has shape [{string.Join(", ", dims)}]; a feature tensor is [n] or [n, 1].");
            }

            if (!tensor.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
            {
                return (null, $"{where} has no 'data' array.");
            }

            var values = new List<JsonElement>();
            Flatten(data, values);
            if (values.Count != dims[0])
            {
                return (null, $"{where} has shape [{string.Join(", ", dims)}] but {values.Count} value(s).");
            }

            if (rows >= 0 && dims[0] != rows)
            {
                return (null, $"{where} has {dims[0]} row(s); the other inputs have {rows}.");
            }

            rows = (int)Math.Min(dims[0], int.MaxValue);
            if (IntegerTypes.TryGetValue(type, out var range) && values.FirstOrDefault(v => !Fits(v, range)) is { ValueKind: not JsonValueKind.Undefined } notInteger)
            {
                return (null, $"{where} is {type} but holds {notInteger.GetRawText()}, which is not an integer from {range.Min} to {range.Max}.");
            }

            tensors[name] = (tensor, values);
        }

        var missing = spec.Features.Where(f => !tensors.ContainsKey(f.Name)).Select(f => f.Name).ToList();
        if (missing.Count > 0)
        {
            return (null, $"Missing input(s) {string.Join(", ", missing)}: one tensor per feature is required.");
        }

        if (rows == 0)
        {
            return (null, "The inputs have no rows.");
        }

        if (rows > maxRows)
        {
            return (null, $"{rows} rows exceed the limit of {maxRows} per request.");
        }

        var batch = new FeatureBatch(spec, rows);
        foreach (var feature in spec.Features)
        {
            var values = tensors[feature.Name].Data;
            for (var row = 0; row < rows; row++)
            {
                if (FeatureValues.Set(batch, feature, row, values[row], spec.Serving) is { } problem)
                {
                    return (null, $"input '{feature.Name}', row {row}: {problem}");
                }
            }
        }

        return (batch, null);
    }

    private static void Flatten(JsonElement data, List<JsonElement> values)
    {
        foreach (var item in data.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.Array)
            {
                Flatten(item, values);
            }
            else
            {
                values.Add(item);
            }
        }
    }

    /// <summary>The output names of a task, as this API returns them.</summary>
    public static IReadOnlyList<string> OutputNames(string task) => task switch
    {
        ModelTasks.Multiclass => ["label", "probability", "probabilities"],
        ModelTasks.Regression => ["value"],
        _ => ["label", "probability", "score"],
    };

    private static (HashSet<string>? Requested, string? Problem) RequestedOutputs(JsonElement root, string task)
    {
        if (!root.TryGetProperty("outputs", out var outputs))
        {
            return (null, null);
        }

        var known = OutputNames(task);
        var requested = new HashSet<string>(StringComparer.Ordinal);
        foreach (var output in outputs.ValueKind == JsonValueKind.Array ? outputs.EnumerateArray().ToList() : [])
        {
            var name = output.ValueKind == JsonValueKind.Object && output.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : null;
            if (name is null || !known.Contains(name))
            {
                return (null, $"Unknown output {(name is null ? output.GetRawText() : $"'{name}'")}; this model has: {string.Join(", ", known)}.");
            }

            requested.Add(name);
        }

        return (requested, null);
    }

    private static List<TensorMetadata> OutputMetadata(LoadedModel model) => model.Spec.Task switch
    {
        ModelTasks.Multiclass => [new("label", "BYTES", [-1]), new("probability", "FP32", [-1]), new("probabilities", "FP32", [-1, model.Onnx.Classes.Count])],
        ModelTasks.Regression => [new("value", "FP32", [-1])],
        _ => [new("label", "BOOL", [-1]), new("probability", "FP32", [-1]), new("score", "FP32", [-1])],
    };

    private static List<OutputTensor> Outputs(LoadedModel model, IReadOnlyList<ModelPrediction> predictions, HashSet<string>? requested)
    {
        long n = predictions.Count;
        var all = model.Spec.Task switch
        {
            ModelTasks.Multiclass => new List<OutputTensor>
            {
                new("label", [n], "BYTES", predictions.Select(p => (object)p.Class!).ToList()),
                new("probability", [n], "FP32", predictions.Select(p => (object)p.Probability).ToList()),
                new("probabilities", [n, model.Onnx.Classes.Count], "FP32", predictions.SelectMany(p => p.Probabilities!).Select(v => (object)v).ToList()),
            },
            ModelTasks.Regression => [new("value", [n], "FP32", predictions.Select(p => (object)p.Score).ToList())],
            _ =>
            [
                new("label", [n], "BOOL", predictions.Select(p => (object)p.Label).ToList()),
                new("probability", [n], "FP32", predictions.Select(p => (object)p.Probability).ToList()),
                new("score", [n], "FP32", predictions.Select(p => (object)p.Score).ToList()),
            ],
        };
        return requested is null || requested.Count == 0 ? all : all.Where(o => requested.Contains(o.Name)).ToList();
    }

    private sealed record ServerMetadataResponse(string Name, string Version, IReadOnlyList<string> Extensions);

    private sealed record TensorMetadata(string Name, string Datatype, long[] Shape);

    private sealed record ModelMetadata(string Name, IReadOnlyList<string> Versions, string Platform, IReadOnlyList<TensorMetadata> Inputs, IReadOnlyList<TensorMetadata> Outputs, IReadOnlyDictionary<string, object> Parameters);

    private sealed record OutputTensor(string Name, long[] Shape, string Datatype, IReadOnlyList<object> Data);

    private sealed record InferenceResponse(string ModelName, string ModelVersion, string? Id, IReadOnlyList<OutputTensor> Outputs);
}
