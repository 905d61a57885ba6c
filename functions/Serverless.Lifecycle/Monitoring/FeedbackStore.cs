using System.Globalization;
using System.Text.Json;
using Azure.Data.Tables;
using Serverless.Lifecycle.Data;
using Serverless.Lifecycle.Serving;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;

namespace Serverless.Lifecycle.Monitoring;

/// <summary>Ground truth for one logged prediction: the row <see cref="Row"/> of request <see cref="RequestId"/>.</summary>
/// <param name="Label">As the training data writes it: 1/0 (binary), the class name (multiclass), the number (regression).</param>
public sealed record Feedback(string RequestId, int Row, string Label, DateTimeOffset ReceivedAt);

/// <summary>
/// Feedback in the <c>Feedback</c> table: partition = model, row key = <c>{requestId}:{row}</c>.
/// A repeated delivery replaces the same entity, so feedback sent twice counts once.
/// </summary>
public sealed class FeedbackStore(LifecycleStorage storage)
{
    private TableClient Table => storage.Table(StorageNames.FeedbackTable);

    /// <summary>
    /// Reads one feedback item (<c>{"requestId": "...", "row": 0, "label": ...}</c>) for a model of
    /// <paramref name="task"/>; the label is normalized to the training data's spelling.
    /// </summary>
    public static (Feedback? Item, string? Field, string? Error) Parse(JsonElement item, string task, DateTimeOffset now)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            return (null, "", "Expected an object {\"requestId\": \"...\", \"row\": 0, \"label\": ...}.");
        }

        if (!item.TryGetProperty("requestId", out var id) || id.ValueKind != JsonValueKind.String || !RequestIds.IsValid(id.GetString()))
        {
            return (null, "requestId", $"Required: the requestId a prediction returned (1 to {RequestIds.MaxLength} letters, digits, '-', '_', '.' or ':').");
        }

        var row = 0;
        if (item.TryGetProperty("row", out var rowElement) && (rowElement.ValueKind != JsonValueKind.Number || !rowElement.TryGetInt32(out row) || row < 0))
        {
            return (null, "row", "The row must be a whole number from 0: the instance's position in the request.");
        }

        if (!item.TryGetProperty("label", out var label))
        {
            return (null, "label", "Required: the true label.");
        }

        var normalized = NormalizeLabel(label, task);
        return normalized is null
            ? (null, "label", $"Expected {LabelValues.Expected(task)}, got {Describe(label)}.")
            : (new Feedback(id.GetString()!, row, normalized, now), null, null);
    }

    private static string? NormalizeLabel(JsonElement label, string task) => task switch
    {
        ModelTasks.Multiclass => label.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(label.GetString()) ? label.GetString()!.Trim() : null,
        ModelTasks.Regression => label.ValueKind == JsonValueKind.Number && label.TryGetDouble(out var value) && double.IsFinite(value) ? value.ToString("R", CultureInfo.InvariantCulture) : null,
        _ => label.ValueKind switch
        {
            JsonValueKind.True => "1",
            JsonValueKind.False => "0",
            JsonValueKind.Number when label.TryGetInt32(out var n) && n is 0 or 1 => n.ToString(CultureInfo.InvariantCulture),
            JsonValueKind.String when LabelValues.TryParseBinary(label.GetString(), out var positive) => positive ? "1" : "0",
            _ => null,
        },
    };

    private static string Describe(JsonElement value) => value.ValueKind == JsonValueKind.String ? $"'{value.GetString()}'" : value.GetRawText();

    /// <summary>Stores feedback, replacing earlier feedback for the same prediction.</summary>
    public async Task SaveAsync(string model, IReadOnlyList<Feedback> items, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(items);
        await storage.EnsureCreatedAsync(cancellationToken);

        // One transaction per 100 entities (the table service's limit), and one action per row key.
        foreach (var chunk in items.GroupBy(Key).Select(g => g.Last()).Chunk(100))
        {
            var actions = chunk.Select(f => new TableTransactionAction(TableTransactionActionType.UpsertReplace, new TableEntity(model, Key(f))
            {
                ["RequestId"] = f.RequestId,
                ["Row"] = f.Row,
                ["Label"] = f.Label,
                ["ReceivedAt"] = f.ReceivedAt,
            }));
            await Table.SubmitTransactionAsync(actions, cancellationToken);
        }
    }

    /// <summary>Feedback for a model received since <paramref name="since"/>.</summary>
    public async Task<IReadOnlyList<Feedback>> ListAsync(string model, DateTimeOffset since, CancellationToken cancellationToken)
    {
        await storage.EnsureCreatedAsync(cancellationToken);
        var items = new List<Feedback>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {model} and ReceivedAt ge {since}");
        await foreach (var e in Table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            items.Add(new Feedback(e.GetString("RequestId"), e.GetInt32("Row") ?? 0, e.GetString("Label"), e.GetDateTimeOffset("ReceivedAt") ?? default));
        }

        return items;
    }

    /// <summary>The labels received since <paramref name="since"/>, by the prediction they are for: (request id, row).</summary>
    public async Task<IReadOnlyDictionary<(string RequestId, int Row), string>> LabelsAsync(string model, DateTimeOffset since, CancellationToken cancellationToken) =>
        (await ListAsync(model, since, cancellationToken)).GroupBy(f => (f.RequestId, f.Row)).ToDictionary(g => g.Key, g => g.Last().Label);

    private static string Key(Feedback f) => string.Create(CultureInfo.InvariantCulture, $"{f.RequestId}:{f.Row}");
}
