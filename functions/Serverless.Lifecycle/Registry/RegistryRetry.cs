namespace Serverless.Lifecycle.Registry;

/// <summary>How the registry's stores retry a write that collided with a concurrent one.</summary>
internal static class RegistryRetry
{
    // Colliding writes read again after 50 ms, doubling to at most 2 s: bounded, and spread out so they do not collide again.
    public static TimeSpan Backoff(int attempt) => Storage.StorageFaults.Backoff(attempt, TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(2));
}
