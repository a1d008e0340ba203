using Finstage.Contracts;
using MassTransit;

namespace Finstage.Storage.Stream;

/// <summary>Feeds every <see cref="ArticlesStored"/> event into this instance's <see cref="NewsBroadcast"/>.</summary>
public sealed class ArticlesStoredStreamConsumer(NewsBroadcast stream, ILogger<ArticlesStoredStreamConsumer> logger) : IConsumer<ArticlesStored>
{
    public Task Consume(ConsumeContext<ArticlesStored> context)
    {
        var stored = context.Message;
        // The event is storage's own, but it crossed the broker, where anyone with access may publish: one that breaks its
        // contract (a part missing, a link that is not http(s), a position the stream could not give out) is dropped, not
        // streamed, whole. Dropped here rather than by the shared ContractFilter: that parks it in the endpoint's _error
        // queue, declared like this endpoint's temporary queue (per instance, not durable, expiring): a queue nobody reads,
        // gone with the instance, that would keep nothing the warning does not.
        if (MessageRules.Violations(stored) is { Count: > 0 } violations)
        {
            logger.LogWarning("Dropped ArticlesStored {EventId}: {Violations}", stored.EventId, string.Join("; ", violations));
            return Task.CompletedTask;
        }
        stream.Publish(stored);
        return Task.CompletedTask;
    }
}

/// <summary>
/// A queue of this instance's own, bound to the <see cref="ArticlesStored"/> exchange, so that every storage instance gets
/// every event (a shared queue would give each event to one instance only). Temporary: deleted by the broker when the
/// instance goes, so a stopped instance leaves no queue filling up. One at a time, so clients see an event's articles in order.
/// </summary>
public sealed class ArticlesStoredStreamConsumerDefinition : ConsumerDefinition<ArticlesStoredStreamConsumer>
{
    public ArticlesStoredStreamConsumerDefinition()
    {
        Endpoint(endpoint =>
        {
            endpoint.Name = "news-stream";
            endpoint.InstanceId = "-" + Guid.NewGuid().ToString("N")[..12];
            endpoint.Temporary = true;
            endpoint.PrefetchCount = 64;
            endpoint.ConcurrentMessageLimit = 1;
        });
    }
}
