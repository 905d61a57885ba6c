using System.Net;
using System.Net.Sockets;

namespace Serverless.Tests;

/// <summary>What a <see cref="FaultProxy"/> does with connections.</summary>
public enum FaultMode
{
    /// <summary>Forwards bytes both ways, as if the proxy were not there.</summary>
    Pass,

    /// <summary>Nothing listens: new connections are refused and open ones are reset.</summary>
    Refuse,

    /// <summary>Connections are accepted and held, but no byte goes either way until the mode changes.</summary>
    Blackhole,

    /// <summary>Every chunk forwarded either way waits <see cref="FaultProxy.Latency"/> first.</summary>
    Slow,
}

/// <summary>
/// A loopback TCP proxy in front of one endpoint (an Azurite service) that a test can switch to
/// refuse, blackhole or slow connections, and back, to see what the product does when storage fails.
/// </summary>
public sealed class FaultProxy : IAsyncDisposable
{
    private readonly IPEndPoint target;
    private readonly CancellationTokenSource stopping = new();
    private readonly Lock gate = new();
    private readonly List<(TcpClient Client, TcpClient Upstream)> connections = [];
    private TaskCompletionSource flowing = NewFlowing(open: true);
    private TcpListener? listener;
    private FaultMode mode = FaultMode.Pass;

    private FaultProxy(IPEndPoint target)
    {
        this.target = target;
        listener = Listen(0);
        Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        _ = AcceptLoopAsync(listener);
    }

    /// <summary>The loopback port the proxy listens on.</summary>
    public int Port { get; }

    /// <summary>How long <see cref="FaultMode.Slow"/> holds each chunk.</summary>
    public TimeSpan Latency { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Connections accepted since the start, for a test to see traffic went through.</summary>
    public int Accepted { get; private set; }

    public FaultMode Mode
    {
        get
        {
            lock (gate)
            {
                return mode;
            }
        }
    }

    public static FaultProxy To(int targetPort) => new(new IPEndPoint(IPAddress.Loopback, targetPort));

    /// <summary>Switches the mode; takes effect for open connections too.</summary>
    public void Set(FaultMode next)
    {
        List<(TcpClient, TcpClient)> reset = [];
        lock (gate)
        {
            if (next == mode)
            {
                return;
            }

            var was = mode;
            mode = next;
            if (next == FaultMode.Refuse)
            {
                listener?.Stop();
                listener = null;
                reset.AddRange(connections);
                connections.Clear();
            }
            else if (was == FaultMode.Refuse)
            {
                listener = Listen(Port);
                _ = AcceptLoopAsync(listener);
            }

            if (next == FaultMode.Blackhole)
            {
                flowing = NewFlowing(open: false);
            }
            else
            {
                flowing.TrySetResult();
            }
        }

        foreach (var (client, upstream) in reset)
        {
            Reset(client);
            Reset(upstream);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        lock (gate)
        {
            listener?.Stop();
            foreach (var (client, upstream) in connections)
            {
                client.Dispose();
                upstream.Dispose();
            }

            connections.Clear();
            flowing.TrySetResult();
        }

        stopping.Dispose();
    }

    private static TaskCompletionSource NewFlowing(bool open)
    {
        var source = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (open)
        {
            source.SetResult();
        }

        return source;
    }

    private static TcpListener Listen(int port)
    {
        var created = new TcpListener(IPAddress.Loopback, port);
        created.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        created.Start();
        return created;
    }

    /// <summary>Closes with a TCP reset, as a dead peer's host would answer.</summary>
    private static void Reset(TcpClient client)
    {
        try
        {
            if (client.Client is { Connected: true } socket)
            {
                socket.LingerState = new LingerOption(true, 0);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Already closed.
        }

        client.Dispose();
    }

    private async Task AcceptLoopAsync(TcpListener own)
    {
        while (!stopping.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await own.AcceptTcpClientAsync(stopping.Token);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
            {
                return;
            }

            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        var upstream = new TcpClient();
        try
        {
            client.NoDelay = true;
            upstream.NoDelay = true;
            await WaitForFlowAsync();
            await upstream.ConnectAsync(target, stopping.Token);
            lock (gate)
            {
                if (mode == FaultMode.Refuse)
                {
                    Reset(client);
                    Reset(upstream);
                    return;
                }

                Accepted++;
                connections.Add((client, upstream));
            }

            var up = PumpAsync(client.GetStream(), upstream.GetStream());
            var down = PumpAsync(upstream.GetStream(), client.GetStream());
            await Task.WhenAny(up, down);
        }
        catch (Exception ex) when (ex is SocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            // The connection ended; so does its relay.
        }
        finally
        {
            lock (gate)
            {
                connections.RemoveAll(c => c.Client == client);
            }

            client.Dispose();
            upstream.Dispose();
        }
    }

    private Task WaitForFlowAsync()
    {
        lock (gate)
        {
            return flowing.Task.WaitAsync(stopping.Token);
        }
    }

    private async Task PumpAsync(NetworkStream from, NetworkStream to)
    {
        var buffer = new byte[64 * 1024];
        while (true)
        {
            await WaitForFlowAsync();
            var read = await from.ReadAsync(buffer, stopping.Token);
            if (read == 0)
            {
                return;
            }

            // A chunk read just before a blackhole began is held with the rest.
            await WaitForFlowAsync();
            if (Mode == FaultMode.Slow)
            {
                await Task.Delay(Latency, stopping.Token);
            }

            await to.WriteAsync(buffer.AsMemory(0, read), stopping.Token);
        }
    }
}

/// <summary>Azurite's three services behind one <see cref="FaultProxy"/> each, switched together.</summary>
public sealed class FaultyAzurite : IAsyncDisposable
{
    private readonly FaultProxy blob;
    private readonly FaultProxy queue;
    private readonly FaultProxy table;

    public FaultyAzurite()
    {
        var parts = Azurite.ConnectionString.Split(';', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1], StringComparer.OrdinalIgnoreCase);
        blob = FaultProxy.To(new Uri(parts["BlobEndpoint"]).Port);
        queue = FaultProxy.To(new Uri(parts["QueueEndpoint"]).Port);
        table = FaultProxy.To(new Uri(parts["TableEndpoint"]).Port);
        var account = parts["AccountName"];
        ConnectionString = $"DefaultEndpointsProtocol=http;AccountName={account};AccountKey={parts["AccountKey"]};"
            + $"BlobEndpoint=http://127.0.0.1:{blob.Port}/{account};QueueEndpoint=http://127.0.0.1:{queue.Port}/{account};TableEndpoint=http://127.0.0.1:{table.Port}/{account};";
    }

    /// <summary>A connection string to Azurite through the proxies.</summary>
    public string ConnectionString { get; }

    public Serverless.Lifecycle.Storage.StorageOptions Options => new() { ConnectionString = ConnectionString };

    public Serverless.Lifecycle.Storage.LifecycleStorage CreateStorage() => new(Microsoft.Extensions.Options.Options.Create(Options));

    public void Set(FaultMode mode)
    {
        blob.Set(mode);
        queue.Set(mode);
        table.Set(mode);
    }

    public async ValueTask DisposeAsync()
    {
        await blob.DisposeAsync();
        await queue.DisposeAsync();
        await table.DisposeAsync();
    }
}
