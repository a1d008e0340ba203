using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace Finstage.Crawler.Fetching;

/// <summary>
/// The places for fetching feeds in this process: <see cref="FetchOptions.ConcurrentFetches"/> for scheduled crawls and
/// <see cref="FetchOptions.ManualConcurrentFetches"/> for crawls asked for by hand. A crawl holds one for its fetch and
/// parse only, so a crawl waiting for the broker to confirm its result does not keep another feed from being fetched
/// (docs/decisions/0026-fetch-places.md).
/// </summary>
public sealed class FetchPlaces : IDisposable
{
    public FetchPlaces(IOptions<FetchOptions> options)
    {
        Scheduled = Create(options.Value.ConcurrentFetches);
        Manual = Create(options.Value.ManualConcurrentFetches);
    }

    public ConcurrencyLimiter Scheduled { get; }

    public ConcurrencyLimiter Manual { get; }

    /// <summary>
    /// Crawl requests a consumer with <paramref name="fetches"/> places takes from the broker at once: as many again
    /// as it fetches, which wait for a place or for their result's publish.
    /// </summary>
    public static int MessagesFor(int fetches) => 2 * fetches;

    public void Dispose()
    {
        Scheduled.Dispose();
        Manual.Dispose();
    }

    private static ConcurrencyLimiter Create(int fetches) => new(new ConcurrencyLimiterOptions
    {
        PermitLimit = fetches,
        // Never reached: the consumer hands over at most MessagesFor(fetches) requests at once, and those that
        // hold a place are not in the queue.
        QueueLimit = MessagesFor(fetches),
        QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
    });
}
