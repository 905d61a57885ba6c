using System.ComponentModel.DataAnnotations;
using Azure.Identity;
using Azure.Messaging;
using Azure.Messaging.EventGrid;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Serverless.Lifecycle.Observability;

public sealed class EventsOptions : System.ComponentModel.DataAnnotations.IValidatableObject
{
    public const string SectionName = "Events";

    /// <summary>The Event Grid topic endpoint (CloudEvents schema); none means events are not sent.</summary>
    public Uri? TopicEndpoint { get; set; }

    /// <summary>The user-assigned managed identity to publish with; the default credential chain when empty.</summary>
    public string? ManagedIdentityClientId { get; set; }

    /// <summary>The topic is reached with a managed identity's token, which Azure.Core sends only over https.</summary>
    public IEnumerable<System.ComponentModel.DataAnnotations.ValidationResult> Validate(System.ComponentModel.DataAnnotations.ValidationContext validationContext)
    {
        if (TopicEndpoint is { } endpoint && (!endpoint.IsAbsoluteUri || endpoint.Scheme != Uri.UriSchemeHttps))
        {
            yield return new($"{SectionName}:TopicEndpoint must be an absolute https URL (an Event Grid topic endpoint); got '{endpoint.OriginalString}'.", [nameof(TopicEndpoint)]);
        }
    }
}

/// <summary>CloudEvents the product emits for other systems: one per monitoring window and retraining trigger.</summary>
public interface ILifecycleEvents
{
    Task PublishAsync(CloudEvent cloudEvent, CancellationToken cancellationToken);
}

public static class LifecycleEventTypes
{
    public const string Source = "/serverless-lifecycle";
    public const string DriftReported = "Serverless.Lifecycle.DriftReported";
    public const string RetrainingTriggered = "Serverless.Lifecycle.RetrainingTriggered";
}

/// <summary>When no topic is configured: events go nowhere, on purpose.</summary>
public sealed class NoLifecycleEvents : ILifecycleEvents
{
    public Task PublishAsync(CloudEvent cloudEvent, CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>
/// Publishes to the configured Event Grid topic with the app's managed identity (no keys). A
/// failure to publish is logged and does not undo what the event reports.
/// </summary>
public sealed partial class EventGridLifecycleEvents(IOptions<EventsOptions> options, ILogger<EventGridLifecycleEvents> logger) : ILifecycleEvents
{
    private readonly EventGridPublisherClient client = new(
        options.Value.TopicEndpoint ?? throw new InvalidOperationException($"{EventsOptions.SectionName}:{nameof(EventsOptions.TopicEndpoint)} is not set."),
        new DefaultAzureCredential(new DefaultAzureCredentialOptions { ManagedIdentityClientId = options.Value.ManagedIdentityClientId }));

    public async Task PublishAsync(CloudEvent cloudEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(cloudEvent);
        try
        {
            await client.SendEventAsync(cloudEvent, cancellationToken);
        }
        catch (Exception ex) when (ex is Azure.RequestFailedException or Azure.Identity.AuthenticationFailedException or HttpRequestException)
        {
            LogPublishFailed(ex, cloudEvent.Type, cloudEvent.Subject);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not publish {Type} for {Subject} to Event Grid.")]
    private partial void LogPublishFailed(Exception exception, string type, string? subject);
}
