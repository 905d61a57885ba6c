using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Serverless.Lifecycle.Monitoring;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Serving;

namespace Serverless.Lifecycle.Api;

/// <summary>
/// POST /models/{name}/feedback: ground truth for earlier predictions, one item
/// <c>{"requestId", "row", "label"}</c> or <c>{"feedback": [items]}</c>. All items are checked
/// before any is stored: a bad item gets a 400 naming it, and nothing is half-saved.
/// </summary>
public sealed class FeedbackApi(FeedbackStore store, ModelRegistry registry, IOptions<ServingOptions> options, TimeProvider clock)
{
    public Task<IResult> PostAsync(HttpRequest request, string name, CancellationToken cancellationToken) => ApiResults.HandleAsync(async () =>
    {
        var (document, error) = await RequestBodies.ReadJsonAsync(request, cancellationToken);
        if (error is not null)
        {
            return error;
        }

        using (document)
        {
            var spec = await registry.GetSpecAsync(name, cancellationToken);
            var root = document!.RootElement;
            var batch = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("feedback", out _);
            var items = batch ? root.GetProperty("feedback") : root;
            if (batch && (items.ValueKind != JsonValueKind.Array || items.GetArrayLength() == 0))
            {
                return ApiResults.BadRequest("feedback", "Expected a non-empty array of {\"requestId\", \"row\", \"label\"} items.");
            }

            var count = batch ? items.GetArrayLength() : 1;
            if (count > options.Value.MaxBatchRows)
            {
                return ApiResults.BadRequest("feedback", $"{count} items exceed the limit of {options.Value.MaxBatchRows} per request.");
            }

            var now = clock.GetUtcNow();
            var parsed = new List<Feedback>();
            var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
            var index = 0;
            foreach (var item in batch ? items.EnumerateArray().ToList() : [items])
            {
                var (feedback, field, problem) = FeedbackStore.Parse(item, spec.Task, now);
                if (feedback is null)
                {
                    var prefix = batch ? $"feedback[{index}]" : "";
                    errors[string.IsNullOrEmpty(field) ? (batch ? prefix : "$") : (batch ? $"{prefix}.{field}" : field!)] = [problem!];
                }
                else
                {
                    parsed.Add(feedback);
                }

                index++;
            }

            if (errors.Count > 0)
            {
                return ApiResults.BadRequest("The feedback is not valid; nothing was stored.", errors);
            }

            await store.SaveAsync(name, parsed, cancellationToken);
            return ApiResults.Json(new { model = name, accepted = parsed.Count }, StatusCodes.Status202Accepted);
        }
    });
}
