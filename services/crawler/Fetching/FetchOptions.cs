using System.ComponentModel.DataAnnotations;

namespace Finstage.Crawler.Fetching;

/// <summary>How feeds are fetched: concurrency, timeouts, retries, size cap and identity.</summary>
public sealed class FetchOptions
{
    public const string SectionName = "Fetch";

    /// <summary>
    /// Feeds fetched (and parsed) at once by this process for scheduled crawls. The consumer takes twice as many
    /// requests from the broker, so a crawl waiting for its result's broker confirmation holds no fetch place
    /// (<see cref="FetchPlaces"/>).
    /// </summary>
    [Range(1, 256)]
    public int ConcurrentFetches { get; set; } = 8;

    /// <summary>
    /// Feeds fetched at once for crawls asked for by hand (queue <c>fetch-news-manual</c>), besides the scheduled ones.
    /// Small, so that scheduled crawls hold most of the places in each host's rate limiter while a large manual request
    /// runs. Manual crawls use a host's whole rate while nothing is scheduled only if this is at least the
    /// host's requests per second times a fetch and parse's time in seconds.
    /// </summary>
    [Range(1, 256)]
    public int ManualConcurrentFetches { get; set; } = 4;

    /// <summary>Requests RabbitMQ hands out ahead of time; at least twice <see cref="ConcurrentFetches"/>.</summary>
    [Range(1, 1024)]
    public int PrefetchCount { get; set; } = 16;

    /// <summary>How the crawler introduces itself to the sites it fetches.</summary>
    [Required]
    [MaxLength(200)]
    public string UserAgent { get; set; } = "Finstage/1.0 (market-news crawler; RSS and Atom)";

    /// <summary>The largest body accepted, counted after decompression.</summary>
    [Range(1024, 100 * 1024 * 1024)]
    public int MaxResponseBytes { get; set; } = 5 * 1024 * 1024;

    /// <summary>One attempt (one HTTP request) may take this long.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A whole crawl may take this long: the fetch, retries, waits and body included, and then the parse of
    /// what it fetched in whatever time the fetch left; keeps every consume far inside RabbitMQ's consumer_timeout.</summary>
    [Range(typeof(TimeSpan), "00:00:00.200", "00:10:00")]
    public TimeSpan TotalTimeout { get; set; } = TimeSpan.FromSeconds(45);

    /// <summary>Retries of a transient failure (timeouts, 408, 429, 5xx, connection errors).</summary>
    [Range(0, 10)]
    public int MaxRetryAttempts { get; set; } = 3;

    /// <summary>The first retry's pause; each next one doubles, with jitter.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>A Retry-After longer than this is not waited for: the crawl fails as RateLimited instead.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The share of failed requests to one host, within <see cref="BreakerSamplingDuration"/>, that opens its circuit.</summary>
    [Range(0.01, 1.0)]
    public double BreakerFailureRatio { get; set; } = 0.5;

    [Range(2, 10_000)]
    public int BreakerMinimumThroughput { get; set; } = 10;

    [Range(typeof(TimeSpan), "00:00:00.500", "01:00:00")]
    public TimeSpan BreakerSamplingDuration { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How long an open circuit refuses requests to its host.</summary>
    [Range(typeof(TimeSpan), "00:00:00.500", "01:00:00")]
    public TimeSpan BreakerBreakDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Lets feeds and their redirects lead to loopback, private, link-local, multicast and unspecified
    /// addresses. Off: only a configured source's own host and port may be such an address.
    /// </summary>
    public bool AllowPrivateNetworks { get; set; }

    /// <summary>URLs whose ETag / Last-Modified are remembered for conditional GETs.</summary>
    [Range(0, 10_000_000)]
    public int ValidatorCacheSize { get; set; } = 100_000;
}
