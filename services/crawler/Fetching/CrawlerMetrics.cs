using System.Diagnostics.Metrics;
using Finstage.ServiceDefaults;

namespace Finstage.Crawler.Fetching;

/// <summary>The crawler's <c>finstage.*</c> metrics: crawl duration by outcome, failures by reason, articles found.</summary>
public sealed class CrawlerMetrics
{
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _failures;
    private readonly Counter<long> _articles;
    private readonly Histogram<double> _queueLag;

    public CrawlerMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(Telemetry.MeterName);
        _duration = meter.CreateHistogram<double>("finstage.crawl.duration", "s", "Time from picking up a crawl request to its result, by source and outcome.");
        _failures = meter.CreateCounter<long>("finstage.crawl.failures", "{crawl}", "Crawls that failed, by source and reason.");
        _articles = meter.CreateCounter<long>("finstage.crawl.articles", "{article}", "Articles found in fetched feeds, by source.");
        _queueLag = meter.CreateHistogram<double>("finstage.crawl.queue.lag", "s", "Time a crawl request waited between the scheduler and a crawler, by source.");
    }

    internal void RecordQueueLag(string source, TimeSpan lag) =>
        _queueLag.Record(Math.Max(0, lag.TotalSeconds), new KeyValuePair<string, object?>("source", source));

    internal void Record(string source, string outcome, TimeSpan duration, int articles)
    {
        var sourceTag = new KeyValuePair<string, object?>("source", source);
        _duration.Record(duration.TotalSeconds, sourceTag, new("outcome", outcome));
        _articles.Add(articles, sourceTag);
        if (outcome is not ("Succeeded" or "NotModified"))
        {
            _failures.Add(1, sourceTag, new("reason", outcome));
        }
    }
}
