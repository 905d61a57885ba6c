using System.Text.RegularExpressions;
using Azure.Core;
using Azure.Core.Pipeline;
using Serverless.Lifecycle.Storage;
using Serverless.Lifecycle.Training;
using Serverless.Tests;
using Serverless.Trainer;

namespace Serverless.Lifecycle.Tests.Training;

/// <summary>
/// What the trainer may do in Azure is what infra/app/storage.bicep grants its identity: the custom
/// role's data actions (blob read and write) in the runs container, under the ABAC condition on the
/// blob path. The trainer's job runner, with the trainer's storage settings, runs a real job on
/// Azurite while every request it sends is recorded, and each must be one that grant allows.
/// </summary>
public sealed partial class TrainerStorageAccessTests : IDisposable
{
    private const string ReadAction = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read";
    private const string WriteAction = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write";

    private readonly TrainingData data = new(rows: 1500);

    /// <summary>The port of Azurite's blob service: requests elsewhere (tables, queues) are not blob requests.</summary>
    private static int BlobPort => new Azure.Storage.Blobs.BlobServiceClient(Azurite.ConnectionString).Uri.Port;

    public void Dispose() => data.Dispose();

    /// <summary>The trainer's grant as the Bicep writes it: its role's data actions and its condition.</summary>
    private static (IReadOnlySet<string> DataActions, string Condition) TrainerGrant()
    {
        var bicep = File.ReadAllText(Path.Combine(RepoPaths.Root, "infra", "app", "storage.bicep"));
        var role = TrainerRole().Match(bicep);
        Assert.True(role.Success, "storage.bicep has no trainerBlobRole with dataActions");
        var actions = Quoted().Matches(role.Groups["actions"].Value).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
        var condition = TrainerCondition().Match(bicep);
        Assert.True(condition.Success, "storage.bicep has no trainerCondition");
        return (actions, condition.Groups["condition"].Value.Replace("\\'", "'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheTrainersRequests_AreAllWithinWhatItsIdentityIsGranted()
    {
        var (dataActions, condition) = TrainerGrant();
        var recorder = new RecordingPolicy();
        var runId = Azurite.UniqueModelName("grant");
        var jobId = $"{runId}-train";
        using (var app = Azurite.CreateStorage())
        {
            // What the app does before the trainer starts: the layout, the split, the job spec.
            await app.EnsureCreatedAsync();
            var train = new BlobPath(StorageNames.RunsContainer, $"{runId}/split/train.csv");
            var validation = new BlobPath(StorageNames.RunsContainer, $"{runId}/split/validation.csv");
            await app.Blob(train).UploadAsync(data.Train, overwrite: true);
            await app.Blob(validation).UploadAsync(data.Validation, overwrite: true);
            var dataset = new Serverless.Lifecycle.Data.DatasetVersion("churn", "datasets/churn/x.csv", "\"0x1\"", new string('0', 64), 1, DateTimeOffset.UnixEpoch);
            await new TrainingJobStore(app).WriteSpecOnceAsync(
                new TrainingJobSpec(jobId, runId, data.Spec, dataset, train.ToString(), validation.ToString(), TrainingJobPaths.Prefix(runId, jobId),
                    DateTimeOffset.UtcNow.AddHours(1), data.Spec.Trainer.Algorithm, data.Spec.Trainer.Hyperparameters, data.Spec.Trainer.Seed),
                CancellationToken.None);
        }

        var options = Azurite.Options;
        options.CreateLayout = false; // as TrainerProgram sets it
        using var trainer = new LifecycleStorage(Microsoft.Extensions.Options.Options.Create(options), recorder);
        var result = await new TrainingJobRunner(trainer, new TrainingJobStore(trainer)).RunAsync(TrainingJobPaths.Spec(runId, jobId), CancellationToken.None);

        Assert.Equal(TrainingJobState.Succeeded, result.State);
        Assert.NotEmpty(recorder.Requests);
        var refused = recorder.Requests
            .Select(r => (Request: $"{r.Method} {r.Uri}", Why: Refusal(r.Method, r.Uri, dataActions, condition)))
            .Where(r => r.Why is not null)
            .Select(r => $"{r.Request}: {r.Why}")
            .ToList();
        Assert.True(refused.Count == 0, "requests the trainer identity may not send:\n" + string.Join('\n', refused));
    }

    [Theory]
    [InlineData("GET", "/devstoreaccount1/runs/r1/jobs/j1/job.json", null)]
    [InlineData("GET", "/devstoreaccount1/runs/r1/split/train.csv", null)]
    [InlineData("PUT", "/devstoreaccount1/runs/r1/jobs/j1/model.onnx", null)]
    [InlineData("PUT", "/devstoreaccount1/runs/r1/split/train.csv", "condition")]
    [InlineData("GET", "/devstoreaccount1/runs/r1/profile.json", "condition")]
    [InlineData("GET", "/devstoreaccount1/runs?restype=container&comp=list", "container")]
    [InlineData("PUT", "/devstoreaccount1/models/churn/1/model.onnx", "runs container")]
    [InlineData("DELETE", "/devstoreaccount1/runs/r1/jobs/j1/model.onnx", "data action")]
    public void TheCheck_AllowsWhatTheGrantAllows_AndRefusesTheRest(string method, string path, string? refusal)
    {
        var (dataActions, condition) = TrainerGrant();

        var why = Refusal(method, new Uri($"http://127.0.0.1:{BlobPort}{path}"), dataActions, condition);

        if (refusal is null)
        {
            Assert.Null(why);
        }
        else
        {
            Assert.Contains(refusal, why, StringComparison.Ordinal);
        }
    }

    /// <summary>Why the grant refuses a request, or null when it allows it.</summary>
    private static string? Refusal(string method, Uri uri, IReadOnlySet<string> dataActions, string condition)
    {
        if (uri.Port != BlobPort)
        {
            return "not the blob service (the trainer has no queue or table role)";
        }

        var segments = uri.AbsolutePath.Split('/', 3, StringSplitOptions.RemoveEmptyEntries); // account, container, blob path
        if (uri.Query.Contains("restype=container", StringComparison.Ordinal) || segments.Length < 3)
        {
            return "a container or account operation (the role has blob data actions only)";
        }

        if (segments[1] != StorageNames.RunsContainer)
        {
            return "outside the runs container, the assignment's scope";
        }

        var action = method switch
        {
            "GET" or "HEAD" => ReadAction,
            "PUT" => WriteAction,
            _ => $"{method} (delete or other)",
        };
        if (!dataActions.Contains(action))
        {
            return $"{action} is not a data action of the role";
        }

        return AbacCondition.Allows(condition, action, Uri.UnescapeDataString(segments[2])) ? null : "the condition on the blob path refuses it";
    }

    private sealed class RecordingPolicy : HttpPipelineSynchronousPolicy
    {
        public List<(string Method, Uri Uri)> Requests { get; } = [];

        public override void OnSendingRequest(HttpMessage message)
        {
            lock (Requests)
            {
                Requests.Add((message.Request.Method.Method, message.Request.Uri.ToUri()));
            }
        }
    }

    [GeneratedRegex(@"resource trainerBlobRole[\s\S]*?dataActions: \[(?<actions>[^\]]*)\]")]
    private static partial Regex TrainerRole();

    [GeneratedRegex(@"var trainerCondition = '(?<condition>(?:[^'\\]|\\')*)'")]
    private static partial Regex TrainerCondition();

    [GeneratedRegex("'([^']+)'")]
    private static partial Regex Quoted();
}

/// <summary>
/// Evaluates the subset of Azure ABAC condition syntax (version 2.0) the Bicep uses, for one action on
/// one blob path: <c>ActionMatches{'…'}</c>, <c>@Resource[…blobs:path] StringLike '…'</c> (with
/// <c>*</c> wildcards), <c>!</c>, <c>AND</c>, <c>OR</c> and parentheses. Written here because no
/// library evaluates Azure role-assignment conditions offline; anything else in a condition throws.
/// </summary>
internal static partial class AbacCondition
{
    public static bool Allows(string condition, string action, string path)
    {
        var unknown = Token().Replace(condition, " ").Trim();
        if (unknown.Length > 0)
        {
            throw new InvalidOperationException($"The condition has text this evaluator does not know: '{unknown}'.");
        }

        var tokens = Token().Matches(condition).Select(m => m.Value).ToList();
        var position = 0;
        var value = Or();
        Assert.True(position == tokens.Count, $"unparsed condition text at token {position}: {string.Join(' ', tokens.Skip(position))}");
        return value;

        bool Or()
        {
            var left = And();
            while (position < tokens.Count && tokens[position] == "OR")
            {
                position++;
                left |= And();
            }

            return left;
        }

        bool And()
        {
            var left = Unary();
            while (position < tokens.Count && tokens[position] == "AND")
            {
                position++;
                left &= Unary();
            }

            return left;
        }

        bool Unary()
        {
            var token = tokens[position++];
            switch (token)
            {
                case "!":
                    return !Unary();
                case "(":
                    var inner = Or();
                    Assert.Equal(")", tokens[position++]);
                    return inner;
                default:
                    if (ActionMatches().Match(token) is { Success: true } matches)
                    {
                        return matches.Groups[1].Value == action;
                    }

                    if (PathLike().Match(token) is { Success: true } like)
                    {
                        return Regex.IsMatch(path, "^" + Regex.Escape(like.Groups[1].Value).Replace("\\*", ".*", StringComparison.Ordinal) + "$", RegexOptions.Singleline);
                    }

                    throw new InvalidOperationException($"The condition uses '{token}', which this evaluator does not know.");
            }
        }
    }

    [GeneratedRegex(@"ActionMatches\{'[^']*'\}|@Resource\[[^\]]*\]\s+StringLike\s+'[^']*'|\(|\)|!|AND|OR")]
    private static partial Regex Token();

    [GeneratedRegex(@"^ActionMatches\{'([^']*)'\}$")]
    private static partial Regex ActionMatches();

    [GeneratedRegex(@"^@Resource\[Microsoft\.Storage/storageAccounts/blobServices/containers/blobs:path\]\s+StringLike\s+'([^']*)'$")]
    private static partial Regex PathLike();
}
