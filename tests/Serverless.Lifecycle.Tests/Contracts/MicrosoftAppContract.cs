using System.Globalization;
using System.Text.Json.Nodes;

namespace Serverless.Lifecycle.Tests.Contracts;

/// <summary>
/// The vendored excerpt of Azure's Microsoft.App (Container Apps) REST API specification, stable
/// api-version 2025-01-01 (Contracts/README.md says from where): the job operations the Container Apps
/// dispatcher calls, their definitions, and the official examples of those operations.
/// </summary>
public static class MicrosoftAppContract
{
    public const string Folder = "app/resource-manager/Microsoft.App/stable/2025-01-01/";
    public const string Jobs = Folder + "Jobs.json";
    public const string CommonDefinitions = Folder + "CommonDefinitions.json";
    public const string CommonTypes = "common-types/resource-management/v3/types.json";

    private static readonly Lazy<SwaggerContract> Specification = new(() => new SwaggerContract(CommonDefinitions, Jobs, CommonTypes));

    public static SwaggerContract Spec => Specification.Value;

    /// <summary>The api-version of the vendored document (its info.version).</summary>
    public static string ApiVersion => Spec.Document(Jobs)["info"]!["version"]!.GetValue<string>();

    /// <summary>An official example file (examples/{name}), a fresh copy each call.</summary>
    public static JsonObject Example(string name) =>
        SwaggerContract.Load($"azure-rest-api-specs/specification/{Folder}examples/{name}").AsObject();

    /// <summary>The body an official example gives for a response status, a fresh copy each call; null when it gives none.</summary>
    public static JsonNode? ExampleResponse(string name, int status) =>
        Example(name)["responses"]![status.ToString(CultureInfo.InvariantCulture)]!["body"]?.DeepClone();
}
