using System.Threading.RateLimiting;
using Finstage.Contracts;
using Finstage.Crawler.Fetching;
using Finstage.ServiceDefaults;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Finstage.Crawler.Consumers;

/// <summary>
/// Fetches the feed a crawl request names, in one of the fetch places it is given (<see cref="FetchPlaces"/>), and
/// publishes what came of it once the place is free again.
/// </summary>
public abstract class CrawlRequestConsumer(
    FeedCrawler crawler, ConcurrencyLimiter places, ValidatorCache validators, IOptions<BusOptions> bus, ILogger logger)
    : IConsumer<CrawlRequested>
{
    public async Task Consume(ConsumeContext<CrawlRequested> context)
    {
        var request = context.Message;
        // A delivery the broker already handed out once, or a retry here after a failed publish, may
        // be for a result that never left this process: it must not count on the feed's ETag.
        var repeated = context.ReceiveContext.Redelivered || context.GetRetryAttempt() > 0;
        CrawlOutcome outcome;
        using (var place = await places.AcquireAsync(1, context.CancellationToken))
        {
            if (!place.IsAcquired)
            {
                throw new InvalidOperationException("More crawl requests waited for a fetch place than the consumer takes at once.");
            }
            outcome = await crawler.CrawlAsync(request, repeated, context.CancellationToken);
        }
        // The broker's confirmation can take milliseconds on a busy machine: waited for outside the place.
        using var deadline = bus.PublishDeadline(context.CancellationToken);
        await outcome.Match(
            async crawled =>
            {
                await context.Publish(crawled.Message, deadline.Token);
                // Publish returned, so the broker confirmed it: from now on a 304 for these validators
                // means articles already on their way. Before, it would mean articles lost.
                crawled.RememberValidators(validators);
                logger.LogInformation("Crawled {Source}/{Symbol}: {Count} articles{NotModified}",
                    request.Source, request.Symbol, crawled.Message.Articles.Count, crawled.Message.NotModified ? " (not modified)" : "");
            },
            async failed =>
            {
                await context.Publish(failed.Message, deadline.Token);
                logger.LogWarning("Crawl of {Source}/{Symbol} failed: {Reason}: {Detail}",
                    request.Source, request.Symbol, failed.Message.Reason, failed.Message.Detail);
            });
    }
}

/// <summary>Scheduled crawls, in the places of <see cref="FetchOptions.ConcurrentFetches"/>.</summary>
public sealed class FetchNewsConsumer(
    FeedCrawler crawler, FetchPlaces places, ValidatorCache validators, IOptions<BusOptions> bus, ILogger<FetchNewsConsumer> logger)
    : CrawlRequestConsumer(crawler, places.Scheduled, validators, bus, logger);

/// <summary>
/// The same work for crawls asked for by hand, on a queue of their own (<see cref="Queues.ManualCrawls"/>) and in places
/// of their own (<see cref="FetchOptions.ManualConcurrentFetches"/>): a large request waits there, not in front of the
/// scheduled cycles.
/// </summary>
public sealed class FetchManualNewsConsumer(
    FeedCrawler crawler, FetchPlaces places, ValidatorCache validators, IOptions<BusOptions> bus, ILogger<FetchManualNewsConsumer> logger)
    : CrawlRequestConsumer(crawler, places.Manual, validators, bus, logger);

/// <summary>Concurrency and prefetch of <see cref="FetchNewsConsumer"/>, from <see cref="FetchOptions"/>.</summary>
public sealed class FetchNewsConsumerDefinition : ConsumerDefinition<FetchNewsConsumer>
{
    public FetchNewsConsumerDefinition(IOptions<FetchOptions> options)
    {
        var fetch = options.Value;
        var messages = FetchPlaces.MessagesFor(fetch.ConcurrentFetches);
        ConcurrentMessageLimit = messages;
        Endpoint(endpoint => endpoint.PrefetchCount = Math.Max(fetch.PrefetchCount, messages));
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<FetchNewsConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        // Fetch retries happen in the HTTP pipeline; this only covers a publish that the broker
        // refused for a moment, and re-runs the whole crawl (its crawl id keeps the result single).
        consumerConfigurator.UseMessageRetry(retry => retry.Intervals(500, 2000));
    }
}

/// <summary>
/// The queue of <see cref="FetchManualNewsConsumer"/>: its own name, a small concurrency, and no binding to the
/// exchange crawl requests are published to (that would deliver every scheduled request here as well).
/// </summary>
public sealed class FetchManualNewsConsumerDefinition : ConsumerDefinition<FetchManualNewsConsumer>
{
    public FetchManualNewsConsumerDefinition(IOptions<FetchOptions> options)
    {
        var limit = FetchPlaces.MessagesFor(options.Value.ManualConcurrentFetches);
        EndpointName = Queues.ManualCrawls;
        ConcurrentMessageLimit = limit;
        // No more prefetched than handled: a message held here is one the other crawler instances cannot take.
        Endpoint(endpoint =>
        {
            endpoint.ConfigureConsumeTopology = false;
            endpoint.PrefetchCount = limit;
        });
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<FetchManualNewsConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        // As for the scheduled queue: only a publish the broker refused for a moment is retried here.
        consumerConfigurator.UseMessageRetry(retry => retry.Intervals(500, 2000));
    }
}
