using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Finstage.ServiceDefaults;

namespace Finstage.Crawler.Fetching;

/// <summary>
/// The crawler's <c>finstage.*</c> metrics: crawls by source and result, crawl and fetch durations, failures by
/// reason, articles found, how long requests waited and how many wait now (docs/observability.md lists them).
/// </summary>
public sealed class CrawlerMetrics
{
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _crawls;
    private readonly Histogram<double> _fetchDuration;
    private readonly Counter<long> _failures;
    private readonly Counter<long> _articles;
    private readonly Histogram<double> _queueLag;
    private readonly ConcurrentDictionary<string, long> _queueDepths = new(StringComparer.Ordinal);

    public CrawlerMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(Telemetry.MeterName);
        _crawls = meter.CreateCounter<long>("finstage.crawls", "{crawl}", "Crawls finished, by source and result (Succeeded, NotModified, or the failure's reason).");
        _duration = meter.CreateHistogram<double>("finstage.crawl.duration", "s", "Time from picking up a crawl request to its result, by source and outcome.");
        _fetchDuration = meter.CreateHistogram<double>("finstage.crawl.fetch.duration", "s",
            "Time to fetch one feed, every attempt and wait for the source's rate included, by source and result (ok, not_modified, failed).");
        _failures = meter.CreateCounter<long>("finstage.crawl.failures", "{crawl}", "Crawls that failed, by source and reason.");
        _articles = meter.CreateCounter<long>("finstage.crawl.articles", "{article}", "Articles found in fetched feeds, by source.");
        _queueLag = meter.CreateHistogram<double>("finstage.crawl.queue.lag", "s", "Time a crawl request waited between the scheduler and a crawler, by source.");
        // Read when the exporter collects; CrawlQueueDepth keeps the figures current (only while metrics are exported).
        meter.CreateObservableGauge("finstage.crawl.queue.depth",
            () => _queueDepths.Select(queue => new Measurement<long>(queue.Value, new KeyValuePair<string, object?>("queue", queue.Key))),
            "{message}", "Crawl requests waiting in the crawler's queue, by queue (fetch-news: scheduled; fetch-news-manual: by hand), polled every 10 s.");
    }

    internal void RecordQueueLag(string source, TimeSpan lag) =>
        _queueLag.Record(Math.Max(0, lag.TotalSeconds), new KeyValuePair<string, object?>("source", source));

    internal void RecordFetch(string source, string result, TimeSpan duration) =>
        _fetchDuration.Record(duration.TotalSeconds, new("source", source), new("result", result));

    /// <summary>The messages a queue holds now; null when it could not be read, so no stale figure is shown.</summary>
    internal void SetQueueDepth(string queue, long? messages)
    {
        if (messages is { } count)
        {
            _queueDepths[queue] = count;
        }
        else
        {
            _queueDepths.TryRemove(queue, out _);
        }
    }

    internal void Record(string source, string outcome, TimeSpan duration, int articles)
    {
        var sourceTag = new KeyValuePair<string, object?>("source", source);
        _crawls.Add(1, sourceTag, new("result", outcome));
        _duration.Record(duration.TotalSeconds, sourceTag, new("outcome", outcome));
        _articles.Add(articles, sourceTag);
        if (outcome is not ("Succeeded" or "NotModified"))
        {
            _failures.Add(1, sourceTag, new("reason", outcome));
        }
    }
}
