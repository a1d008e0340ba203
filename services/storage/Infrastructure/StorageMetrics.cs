using System.Diagnostics.Metrics;
using Finstage.Contracts;
using Finstage.ServiceDefaults;

namespace Finstage.Storage.Infrastructure;

/// <summary>The storage service's <c>finstage.*</c> metrics: batch sizes, articles new and seen, failures.</summary>
public sealed class StorageMetrics
{
    private readonly Histogram<int> _batchSize;
    private readonly Counter<long> _articles;
    private readonly Counter<long> _failures;

    public StorageMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(Telemetry.MeterName);
        _batchSize = meter.CreateHistogram<int>("finstage.storage.batch.size", "{message}", "Crawl results written in one transaction.");
        _articles = meter.CreateCounter<long>("finstage.articles", "{article}", "Articles stored, by source and whether they were new or seen before.");
        _failures = meter.CreateCounter<long>("finstage.crawl.failures", "{crawl}", "Failed crawls recorded, by source and reason.");
    }

    internal void RecordBatch(int messages, IReadOnlyList<Infrastructure.CrawlRun> runs)
    {
        _batchSize.Record(messages);
        foreach (var run in runs)
        {
            var source = new KeyValuePair<string, object?>("source", run.Source);
            _articles.Add(run.NewArticles, source, new("state", "new"));
            _articles.Add(run.SeenArticles, source, new("state", "seen"));
        }
    }

    internal void RecordFailure(string source, CrawlFailureReason reason) =>
        _failures.Add(1, new KeyValuePair<string, object?>("source", source), new("reason", reason.ToString()));
}
