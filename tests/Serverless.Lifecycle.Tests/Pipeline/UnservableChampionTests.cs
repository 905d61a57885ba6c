using Serverless.Lifecycle.Evaluation;
using Serverless.Lifecycle.Registry;
using Serverless.Lifecycle.Specs;
using Serverless.Lifecycle.Storage;
using Serverless.Samples.Churn;
using Serverless.Tests;

namespace Serverless.Lifecycle.Tests.Pipeline;

/// <summary>A champion whose ONNX file was tampered with does not block the candidate that would replace it.</summary>
public sealed class UnservableChampionTests(PipelineHostFixture fixture) : IClassFixture<PipelineHostFixture>
{
    [Fact]
    public async Task Run_ChampionFileTampered_ChangeChecksDoNotApply_AndAGoodCandidateBecomesChampion()
    {
        // A change threshold the candidate could only meet against a champion that scores.
        var spec = PipelineHostFixture.SampleSpec("tamper") with { };
        spec = spec with { Evaluation = spec.Evaluation with { Gate = spec.Evaluation.Gate with { Changes = [new ChangeThresholdSpec("auc", -0.05, null)] } } };
        var first = await fixture.RunAsync(spec, ChurnDataGenerator.Generate(2000, seed: 41));
        Assert.Equal(("succeeded", 1), (first.Status, first.Version));
        await fixture.Storage.Blob(BlobPath.Parse($"{StorageNames.ModelsContainer}/{spec.Name}/1/model.onnx")).UploadAsync(new BinaryData(new byte[] { 1, 2, 3 }), overwrite: true);

        var second = await fixture.WaitAsync((await fixture.StartRunAsync(spec, System.Text.Encoding.UTF8.GetBytes(ChurnDataGenerator.Generate(2000, seed: 42)), runId: spec.Name + "-second")).RunId);

        Assert.Equal(("succeeded", 2), (second.Status, second.Version));
        Assert.True(second.Verdict!.Passed);
        var change = Assert.Single(second.Verdict.Checks, c => c.Kind == GateCheckKinds.Change);
        Assert.Contains("champion v1 cannot be served (ArtifactIntegrityException", change.Reason, StringComparison.Ordinal);
        Assert.Equal(2, (await fixture.Registry.ResolveAsync(spec.Name, ReservedAliases.Champion, CancellationToken.None)).Version);
    }
}
