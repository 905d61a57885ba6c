using Microsoft.DurableTask.Converters;
using CoreDataConverter = DurableTask.Core.Serializing.DataConverter;

namespace Serverless.Laptop;

/// <summary>
/// Lets the Durable Task Framework's client serialize exactly as the SDK's shims deserialize
/// (System.Text.Json). The SDK's own adapter is internal; the framework's default (Newtonsoft
/// with type names) breaks dictionaries on the way in.
/// </summary>
public sealed class SdkDataConverter : CoreDataConverter
{
    private readonly JsonDataConverter inner = JsonDataConverter.Default;

    public override string Serialize(object value) => inner.Serialize(value)!;

    public override string Serialize(object value, bool formatted) => inner.Serialize(value)!;

    public override object Deserialize(string data, Type objectType) => inner.Deserialize(data, objectType)!;

    public T? DeserializeOrDefault<T>(string? data) => data is null ? default : inner.Deserialize<T>(data);
}
