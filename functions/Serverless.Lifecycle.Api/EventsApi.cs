using System.Text.Json;
using Azure.Messaging;
using Azure.Messaging.EventGrid;
using Azure.Messaging.EventGrid.SystemEvents;
using Microsoft.AspNetCore.Http;
using Serverless.Lifecycle.Monitoring;
using Serverless.Lifecycle.Pipeline;

namespace Serverless.Lifecycle.Api;

/// <summary>
/// POST /events: the webhook for Event Grid subscriptions, in the Event Grid schema or the
/// CloudEvents 1.0 schema (single or batch). It answers Event Grid's subscription validation
/// (the validation event, and the CloudEvents OPTIONS handshake) and turns data events into
/// retraining triggers: <c>Microsoft.Storage.BlobCreated</c> under <c>datasets/{model}/</c>, and the
/// custom <see cref="DataReadyType"/> with <c>{"path": "datasets/{model}/..."}</c>. Other types are
/// acknowledged and ignored, so a subscription never retries them.
/// </summary>
public sealed class EventsApi(NewDataTrigger newData)
{
    public const string DataReadyType = "Serverless.Lifecycle.DataReady";
    private const string BlobCreatedType = "Microsoft.Storage.BlobCreated";
    private const string ValidationType = "Microsoft.EventGrid.SubscriptionValidationEvent";
    private const string DatasetsSubject = "/blobServices/default/containers/datasets/blobs/";

    /// <summary>
    /// OPTIONS /events: the CloudEvents webhook handshake (abuse protection, CloudEvents HTTP Web Hooks
    /// 1.0 section 4); allows the requesting origin at any rate, and names POST in Allow, as the
    /// response SHOULD.
    /// </summary>
    public static IResult Handshake(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var origin = request.Headers["WebHook-Request-Origin"].ToString();
        if (string.IsNullOrEmpty(origin))
        {
            return ApiResults.BadRequest("WebHook-Request-Origin", "The CloudEvents handshake needs the WebHook-Request-Origin header.");
        }

        request.HttpContext.Response.Headers["WebHook-Allowed-Origin"] = origin;
        request.HttpContext.Response.Headers["WebHook-Allowed-Rate"] = "*";
        request.HttpContext.Response.Headers.Allow = "POST, OPTIONS";
        return Results.Ok();
    }

    public Task<IResult> PostAsync(HttpRequest request, IPipelineClient pipeline, CancellationToken cancellationToken) => ApiResults.HandleAsync(async () =>
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(pipeline);
        if (request.ContentType?.Contains("json", StringComparison.OrdinalIgnoreCase) != true)
        {
            return RequestBodies.UnsupportedMediaType($"Content type '{request.ContentType}' is not supported; Event Grid sends application/json or application/cloudevents(-batch)+json.");
        }

        var body = await RequestBodies.ReadBytesAsync(request, RequestBodies.MaxJsonBytes, cancellationToken);
        if (body is not { } bytes)
        {
            return RequestBodies.TooLarge($"The body is larger than {RequestBodies.MaxJsonBytes} bytes.");
        }

        var data = BinaryData.FromBytes(bytes);
        if (bytes.Span.TrimStart(" \t\r\n"u8) is not [(byte)'{' or (byte)'[', ..])
        {
            return ApiResults.BadRequest("body", "Not Event Grid or CloudEvents events: expected an event object or an array of them.");
        }

        var cloudEvents = request.ContentType?.Contains("cloudevents", StringComparison.OrdinalIgnoreCase) == true || LooksLikeCloudEvents(bytes.Span);
        var paths = new List<string>();
        var ignored = 0;
        try
        {
            if (cloudEvents)
            {
                foreach (var e in CloudEvent.ParseMany(data, skipValidation: false))
                {
                    if (DatasetPath(e.Type, e.Subject, e.Data) is { } path)
                    {
                        paths.Add(path);
                    }
                    else
                    {
                        ignored++;
                    }
                }
            }
            else
            {
                foreach (var e in EventGridEvent.ParseMany(data))
                {
                    if (e.EventType == ValidationType)
                    {
                        return e.TryGetSystemEventData(out var system) && system is SubscriptionValidationEventData { ValidationCode: { Length: > 0 } code }
                            ? ApiResults.Json(new { validationResponse = code })
                            : ApiResults.BadRequest("body", "The subscription validation event has no data.validationCode to answer with.");
                    }

                    if (DatasetPath(e.EventType, e.Subject, e.Data) is { } path)
                    {
                        paths.Add(path);
                    }
                    else
                    {
                        ignored++;
                    }
                }
            }
        }
        catch (Exception ex) when (ex is JsonException or ArgumentException or FormatException or InvalidOperationException)
        {
            // InvalidOperationException: the SDKs' parsers meeting a JSON value of the wrong kind (an id that is a number).
            return ApiResults.BadRequest("body", $"Not Event Grid or CloudEvents events: {ex.Message}");
        }

        var runs = new List<object>();
        foreach (var path in paths)
        {
            if (await newData.OnBlobAsync(path, pipeline, cancellationToken) is { } triggered)
            {
                runs.Add(new { dataset = $"datasets/{path}", runId = triggered.RunId, outcome = triggered.Outcome });
            }
        }

        return ApiResults.Json(new { accepted = paths.Count, ignored, runs });
    });

    /// <summary>
    /// The blob name under <c>datasets/</c> an event is about, or null for events that are not about
    /// new data (a BlobCreated for a blob that is not a model's dataset among them). A DataReady path
    /// that is not <c>datasets/{model}/{file}</c> is refused.
    /// </summary>
    private static string? DatasetPath(string type, string? subject, BinaryData? data)
    {
        if (type == BlobCreatedType && subject?.StartsWith(DatasetsSubject, StringComparison.Ordinal) == true)
        {
            // Storage writes these for any blob (a file at the root, a tool's folder marker): what is not a
            // model's dataset is ignored, as a 400 would fail the delivery and every event batched with it.
            var name = subject[DatasetsSubject.Length..];
            return IsDatasetBlobName(name) ? name : null;
        }

        if (type == DataReadyType)
        {
            using var document = data is null ? null : JsonDocument.Parse(data.ToMemory());
            if (document?.RootElement is not { ValueKind: JsonValueKind.Object } root
                || !root.TryGetProperty("path", out var path) || path.ValueKind != JsonValueKind.String)
            {
                throw new FormatException($"A {DataReadyType} event's data must be an object with a string 'path', such as {{\"path\": \"datasets/{{model}}/{{file}}\"}}.");
            }

            var text = path.GetString()!;
            return text.StartsWith("datasets/", StringComparison.Ordinal) ? DatasetBlobName(text["datasets/".Length..]) : null;
        }

        return null;
    }

    /// <summary>A file under <c>{model}/</c>, without empty, <c>.</c> or <c>..</c> segments (which could reach outside the model's folder).</summary>
    private static bool IsDatasetBlobName(string name)
    {
        var segments = name.Split('/');
        return segments.Length >= 2 && segments.All(s => s.Length > 0 && s is not "." and not ".." && !s.Contains('\\', StringComparison.Ordinal));
    }

    /// <summary>A DataReady event's path, which its sender wrote: a bad one is refused.</summary>
    private static string DatasetBlobName(string name) =>
        IsDatasetBlobName(name)
            ? name
            : throw new FormatException($"The event's data.path names 'datasets/{name}'; a dataset is a file under datasets/{{model}}/, without empty, '.' or '..' segments.");

    /// <summary>CloudEvents carry "specversion"; Event Grid events carry "eventType".</summary>
    private static bool LooksLikeCloudEvents(ReadOnlySpan<byte> body) => body.IndexOf("\"specversion\""u8) >= 0;
}
