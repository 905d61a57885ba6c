using System.Text.Json;
using Serverless.Lifecycle.Scoring;
using Serverless.Lifecycle.Serving;
using Serverless.Lifecycle.Specs;
using Serverless.Tests;

namespace Serverless.Lifecycle.Tests.Serving;

public sealed class PredictionRequestParserTests
{
    private static readonly ModelSpec Spec = ModelSpecValidator.Parse(File.ReadAllText(RepoPaths.SampleSpec)).Spec!;

    private const string Good = """{"tenure_months":3,"monthly_charges":95.5,"support_calls":4,"contract":"month-to-month","internet_service":"fiber","payment_method":"card"}""";

    private static PredictionRequestParser.Result Parse(string json, int maxRows = 10, ServingSpec? policy = null) =>
        PredictionRequestParser.Parse(JsonDocument.Parse(json).RootElement, policy is null ? Spec : Spec with { Serving = policy }, maxRows);

    private static string One(string from, string to) => $$"""{"instances":[{{Good.Replace(from, to, StringComparison.Ordinal)}}]}""";

    [Fact]
    public void Parse_ValidInstances_FillsTheColumns()
    {
        var result = Parse($$"""{"instances":[{{Good}},{{Good.Replace("95.5", "null", StringComparison.Ordinal)}}]}""");

        Assert.True(result.IsValid);
        Assert.Equal(2, result.Batch!.Rows);
        Assert.Equal(95.5f, result.Batch.Numeric["monthly_charges"][0]);
        Assert.True(float.IsNaN(result.Batch.Numeric["monthly_charges"][1]));
        Assert.Equal("fiber", result.Batch.Categorical["internet_service"][1]);
    }

    [Fact]
    public void Parse_MissingFeature_NamesTheField()
    {
        var result = Parse($$"""{"instances":[{{Good}},{{Good.Replace("\"support_calls\":4,", "", StringComparison.Ordinal)}}]}""");

        Assert.False(result.IsValid);
        Assert.Equal("instances[1].support_calls", Assert.Single(result.Errors).Key);
    }

    [Theory]
    [InlineData("\"tenure_months\":3", "\"tenure_months\":\"3\"", "instances[0].tenure_months")]
    [InlineData("\"contract\":\"month-to-month\"", "\"contract\":2", "instances[0].contract")]
    [InlineData("\"support_calls\":4", "\"support_calls\":1e300", "instances[0].support_calls")]
    public void Parse_WrongType_NamesTheField(string from, string to, string field)
    {
        var result = Parse($$"""{"instances":[{{Good.Replace(from, to, StringComparison.Ordinal)}}]}""");

        Assert.Equal(field, Assert.Single(result.Errors).Key);
    }

    [Fact]
    public void Parse_ACategoryLongerThanTheLimit_IsRefused_AndOneAtTheLimitPasses()
    {
        var atLimit = Parse($$"""{"instances":[{{Good.Replace("\"month-to-month\"", $"\"{new string('m', FeatureValues.MaxCategoryLength)}\"", StringComparison.Ordinal)}}]}""");
        var over = Parse($$"""{"instances":[{{Good.Replace("\"month-to-month\"", $"\"{new string('m', FeatureValues.MaxCategoryLength + 1)}\"", StringComparison.Ordinal)}}]}""");

        Assert.True(atLimit.IsValid);
        var error = Assert.Single(over.Errors);
        Assert.Equal("instances[0].contract", error.Key);
        Assert.Contains($"at most {FeatureValues.MaxCategoryLength}", Assert.Single(error.Value), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"instances":[]}""", "empty")]
    [InlineData("""{"rows":[]}""", "Required")]
    [InlineData("""[1,2]""", "Required")]
    public void Parse_NoUsableInstances_IsRefused(string json, string message)
    {
        var result = Parse(json);

        Assert.Contains(message, Assert.Single(result.Errors["instances"]), StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_MoreRowsThanTheLimit_IsRefused()
    {
        var result = Parse($$"""{"instances":[{{Good}},{{Good}},{{Good}}]}""", maxRows: 2);

        Assert.Contains("limit of 2", Assert.Single(result.Errors["instances"]), StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_InstanceNotAnObject_IsRefused()
    {
        var result = Parse($$"""{"instances":[{{Good}}, 7]}""");

        Assert.Equal("instances[1]", Assert.Single(result.Errors).Key);
    }

    [Fact]
    public void Parse_UnknownField_IsIgnoredByDefault_AndRefusedWhenThePolicySaysReject()
    {
        var json = One("\"support_calls\":4", "\"support_calls\":4,\"customer_id\":\"c-17\"");

        var ignored = Parse(json);
        var rejected = Parse(json, policy: new ServingSpec { UnknownFeatures = InputPolicies.Reject });

        Assert.True(ignored.IsValid);
        var error = Assert.Single(rejected.Errors);
        Assert.Equal("instances[0].customer_id", error.Key);
        Assert.Contains("unknownFeatures is reject", error.Value.Single(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"NaN\"")]
    [InlineData("\"Infinity\"")]
    [InlineData("\"-Infinity\"")]
    [InlineData("1e300")]
    public void Parse_NonFinite_IsRefusedByDefault_AndPassedWhenThePolicySaysPass(string value)
    {
        var json = One("\"monthly_charges\":95.5", $"\"monthly_charges\":{value}");

        var rejected = Parse(json);
        var passed = Parse(json, policy: new ServingSpec { NonFinite = InputPolicies.Pass });

        Assert.Contains("not a finite number", Assert.Single(rejected.Errors["instances[0].monthly_charges"]), StringComparison.Ordinal);
        Assert.True(passed.IsValid);
        Assert.False(float.IsFinite(passed.Batch!.Numeric["monthly_charges"][0]));
    }

    [Fact]
    public void Parse_UnseenCategory_PassesByDefault_AndIsRefusedWhenThePolicySaysReject()
    {
        var json = One("\"internet_service\":\"fiber\"", "\"internet_service\":\"satellite\"");

        var passed = Parse(json);
        var rejected = Parse(json, policy: new ServingSpec { UnseenCategories = InputPolicies.Reject });

        Assert.Equal("satellite", passed.Batch!.Categorical["internet_service"][0]);
        Assert.Contains("not one of the categories dsl, fiber, none", Assert.Single(rejected.Errors["instances[0].internet_service"]), StringComparison.Ordinal);
    }
}
