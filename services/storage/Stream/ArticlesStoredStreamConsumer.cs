using Finstage.Contracts;
using MassTransit;

namespace Finstage.Storage.Stream;

/// <summary>Feeds every <see cref="ArticlesStored"/> event into this instance's <see cref="NewsBroadcast"/>.</summary>
public sealed class ArticlesStoredStreamConsumer(NewsBroadcast stream, ILogger<ArticlesStoredStreamConsumer> logger) : IConsumer<ArticlesStored>
{
    public Task Consume(ConsumeContext<ArticlesStored> context)
    {
        var stored = context.Message;
        // The event is storage's own, but it crossed the broker: one without its parts is dropped, not streamed half.
        if (stored.Symbol is null || stored.Source is null || stored.Articles is null || stored.Articles.Any(a => a?.Id is null || a.Url is null || a.Title is null))
        {
            logger.LogWarning("Dropped ArticlesStored {EventId}: it lacks its symbol, source or articles", stored.EventId);
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
