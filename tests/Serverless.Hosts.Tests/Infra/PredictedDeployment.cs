using System.Text.Json;

namespace Serverless.Hosts.Tests.Infra;

/// <summary>The resources and outputs of a predicted deployment, as ARM JSON.</summary>
internal sealed record PredictedDeployment(IReadOnlyList<JsonElement> Resources, JsonElement Outputs)
{
    public IEnumerable<JsonElement> OfType(string type) => Resources.Where(r => r.GetProperty("type").GetString() == type);

    public string Output(string name) => Outputs.GetProperty(name).GetString()!;
}
