using Azure.Core;
using Azure.Core.Pipeline;

namespace Serverless.Lifecycle.Tests;

/// <summary>Records the method and path of every request the storage clients send (given to <c>LifecycleStorage</c> as its extra policy).</summary>
public sealed class StorageRequestLog : HttpPipelineSynchronousPolicy
{
    private readonly List<string> sent = [];

    /// <summary>The requests sent since the last reset; starts again from none.</summary>
    public List<string> Reset()
    {
        lock (sent)
        {
            var taken = sent.ToList();
            sent.Clear();
            return taken;
        }
    }

    /// <summary>The requests sent so far, as "METHOD /path?query".</summary>
    public List<string> Sent
    {
        get
        {
            lock (sent)
            {
                return [.. sent];
            }
        }
    }

    public override void OnSendingRequest(HttpMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        lock (sent)
        {
            sent.Add($"{message.Request.Method} {message.Request.Uri.Path}{message.Request.Uri.Query}");
        }
    }
}
