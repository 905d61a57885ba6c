using System.Text.Json;
using Serverless.Lifecycle.Api;
using Serverless.Lifecycle.Scoring;
using Serverless.Lifecycle.Specs;
using Serverless.Tests;

namespace Serverless.Lifecycle.Tests.Serving;

public sealed class OpenInferenceInputTests
{
    private static readonly ModelSpec Spec = ModelSpecValidator.Parse(File.ReadAllText(RepoPaths.SampleSpec)).Spec!;

    /// <summary>A two-row request for the sample spec, with input <paramref name="replace"/> swapped for another tensor.</summary>
    private static string Request(string? replace = null, string? with = null)
    {
        var inputs = new Dictionary<string, string>
        {
            ["tenure_months"] = """{"name":"tenure_months","shape":[2],"datatype":"INT64","data":[2,65]}""",
            ["monthly_charges"] = """{"name":"monthly_charges","shape":[2,1],"datatype":"FP32","data":[[105.0],[25.5]]}""",
            ["support_calls"] = """{"name":"support_calls","shape":[2],"datatype":"FP64","data":[5,0]}""",
            ["contract"] = """{"name":"contract","shape":[2],"datatype":"BYTES","data":["month-to-month","two-year"]}""",
            ["internet_service"] = """{"name":"internet_service","shape":[2],"datatype":"BYTES","data":["fiber","none"]}""",
            ["payment_method"] = """{"name":"payment_method","shape":[2],"datatype":"BYTES","data":["electronic-check","card"]}""",
        };
        if (replace is not null)
        {
            if (with is null)
            {
                inputs.Remove(replace);
            }
            else
            {
                inputs[replace] = with;
            }
        }

        return $$"""{"id":"r-1","inputs":[{{string.Join(",", inputs.Values)}}]}""";
    }

    private static (Lifecycle.Scoring.FeatureBatch? Batch, string? Problem) Read(string json, ModelSpec? spec = null, int maxRows = 10) =>
        OpenInferenceApi.ReadInputs(JsonDocument.Parse(json).RootElement, spec ?? Spec, maxRows);

    [Fact]
    public void ValidTensors_FlatOrNested_FillTheBatch()
    {
        var (batch, problem) = Read(Request());

        Assert.Null(problem);
        Assert.Equal(2, batch!.Rows);
        Assert.Equal([2f, 65f], batch.Numeric["tenure_months"]);
        Assert.Equal([105f, 25.5f], batch.Numeric["monthly_charges"]);
        Assert.Equal(["fiber", "none"], batch.Categorical["internet_service"]);
    }

    [Theory]
    [InlineData("contract", """{"name":"contract","shape":[2],"datatype":"FP32","data":[1,2]}""", "datatype FP32; the categorical feature takes BYTES")]
    [InlineData("tenure_months", """{"name":"tenure_months","shape":[2],"datatype":"BYTES","data":["2","65"]}""", "datatype BYTES; the numeric feature takes FP32")]
    [InlineData("tenure_months", """{"name":"tenure_months","shape":[2,2],"datatype":"FP32","data":[1,2,3,4]}""", "shape [2, 2]; a feature tensor is [n] or [n, 1]")]
    [InlineData("tenure_months", """{"name":"tenure_months","shape":[3],"datatype":"FP32","data":[1,2]}""", "shape [3] but 2 value(s)")]
    [InlineData("tenure_months", """{"name":"tenure_months","shape":[1],"datatype":"FP32","data":[1]}""", "input 'monthly_charges' has 2 row(s); the other inputs have 1")]
    [InlineData("tenure_months", """{"name":"tenure_months","shape":[2],"datatype":"INT32","data":[1,2.5]}""", "INT32 but holds 2.5")]
    [InlineData("tenure_months", """{"name":"tenure_months","shape":[2],"datatype":"INT8","data":[1,300]}""", "INT8 but holds 300, which is not an integer from -128 to 127")]
    [InlineData("tenure_months", """{"name":"tenure_months","shape":[2],"datatype":"UINT8","data":[-5,2]}""", "UINT8 but holds -5")]
    [InlineData("tenure_months", """{"name":"tenure_months","shape":[2],"datatype":"INT64","data":[1,2e3]}""", "INT64 but holds 2e3")]
    [InlineData("tenure_months", """{"name":"tenure_months","shape":[2],"datatype":"FP32","data":[1,"x"]}""", "input 'tenure_months', row 1: Expected a number")]
    [InlineData("tenure_months", """{"name":"tenure_months","datatype":"FP32","data":[1,2]}""", "needs a 'shape'")]
    [InlineData("tenure_months", null, "Missing input(s) tenure_months")]
    public void BadTensor_IsRefusedNamingTheInput(string input, string? tensor, string expected)
    {
        var (batch, problem) = Read(Request(input, tensor));

        Assert.Null(batch);
        Assert.Contains(expected, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownInput_FollowsThePolicy_AndTooManyRowsAreRefused()
    {
        var json = Request("extra", """{"name":"extra","shape":[2],"datatype":"FP32","data":[1,2]}""");

        Assert.NotNull(Read(json).Batch);
        Assert.Contains("not a feature of this model", Read(json, Spec with { Serving = new ServingSpec { UnknownFeatures = InputPolicies.Reject } }).Problem, StringComparison.Ordinal);
        Assert.Contains("2 rows exceed the limit of 1", Read(Request(), maxRows: 1).Problem, StringComparison.Ordinal);
        Assert.Contains("'inputs' is required", Read("""{"id":"x"}""").Problem, StringComparison.Ordinal);
    }
}
