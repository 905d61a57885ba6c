using System.Text.Json;
using Serverless.Lifecycle.Monitoring;
using Serverless.Lifecycle.Specs;
using Serverless.Tests;

namespace Serverless.Lifecycle.Tests.Monitoring;

public sealed class FeedbackStoreTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 9, 0, 0, TimeSpan.Zero);

    private static (Feedback? Item, string? Field, string? Error) Parse(string json, string task) =>
        FeedbackStore.Parse(JsonDocument.Parse(json).RootElement, task, Now);

    [Theory]
    [InlineData("""{"requestId":"r1","row":2,"label":true}""", ModelTasks.Binary, "1")]
    [InlineData("""{"requestId":"r1","row":2,"label":0}""", ModelTasks.Binary, "0")]
    [InlineData("""{"requestId":"r1","row":2,"label":"TRUE"}""", ModelTasks.Binary, "1")]
    [InlineData("""{"requestId":"r1","row":2,"label":" fiber "}""", ModelTasks.Multiclass, "fiber")]
    [InlineData("""{"requestId":"r1","row":2,"label":12.5}""", ModelTasks.Regression, "12.5")]
    public void Parse_LabelOfEachTask_IsNormalizedToTheTrainingSpelling(string json, string task, string label)
    {
        var (item, _, error) = Parse(json, task);

        Assert.Null(error);
        Assert.Equal(new Feedback("r1", 2, label, Now), item);
    }

    [Theory]
    [InlineData("""{"row":0,"label":1}""", ModelTasks.Binary, "requestId")]
    [InlineData("""{"requestId":"has space","label":1}""", ModelTasks.Binary, "requestId")]
    [InlineData("""{"requestId":"r1","row":-1,"label":1}""", ModelTasks.Binary, "row")]
    [InlineData("""{"requestId":"r1","row":0}""", ModelTasks.Binary, "label")]
    [InlineData("""{"requestId":"r1","label":2}""", ModelTasks.Binary, "label")]
    [InlineData("""{"requestId":"r1","label":""}""", ModelTasks.Multiclass, "label")]
    [InlineData("""{"requestId":"r1","label":"12"}""", ModelTasks.Regression, "label")]
    public void Parse_BadItem_NamesTheField(string json, string task, string field)
    {
        var (item, actual, error) = Parse(json, task);

        Assert.Null(item);
        Assert.Equal(field, actual);
        Assert.False(string.IsNullOrWhiteSpace(error));
    }

    [Fact]
    public async Task Save_SameFeedbackTwice_IsStoredOnce_AndTheLaterLabelWins()
    {
        using var storage = Azurite.CreateStorage();
        var store = new FeedbackStore(storage);
        var model = Azurite.UniqueModelName("fb");

        await store.SaveAsync(model, [new Feedback("r1", 0, "0", Now), new Feedback("r1", 1, "1", Now)], CancellationToken.None);
        await store.SaveAsync(model, [new Feedback("r1", 0, "1", Now.AddMinutes(1))], CancellationToken.None);

        var stored = await store.ListAsync(model, Now.AddHours(-1), CancellationToken.None);
        Assert.Equal([("r1", 0, "1"), ("r1", 1, "1")], stored.Select(f => (f.RequestId, f.Row, f.Label)).Order());
        Assert.Empty(await store.ListAsync(model, Now.AddHours(1), CancellationToken.None));
    }
}
