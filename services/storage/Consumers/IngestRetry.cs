using Finstage.Storage.Infrastructure;
using MassTransit;

namespace Finstage.Storage.Consumers;

/// <summary>
/// How the storage's consumers retry. While the database is away a message waits for it at a steady
/// pace, held unacknowledged (so it is redelivered if this process dies meanwhile) and never sent to
/// the error queue for an outage shorter than the budget; any other failure gets a few quick retries
/// and then goes to the error queue, where it does not hold back the messages behind it.
/// </summary>
internal static class IngestRetry
{
    public static void UseIngestRetry<TConsumer>(this IConsumerConfigurator<TConsumer> consumer, IngestOptions options)
        where TConsumer : class
    {
        // Outer: a database outage. Each try already includes EF Core's own retries of a refused connect.
        consumer.UseMessageRetry(retry =>
        {
            retry.Handle<Exception>(DatabaseOutage.Explains);
            retry.Interval(options.OutageRetryLimit, options.OutageRetryInterval);
        });
        // Inner: anything else; an outage passes straight through to the retry above, so the two never multiply.
        consumer.UseMessageRetry(retry =>
        {
            retry.Ignore<Exception>(DatabaseOutage.Explains);
            retry.Exponential(options.RetryLimit, options.RetryInterval, options.RetryInterval * 16, options.RetryInterval);
        });
    }
}
