using System.Diagnostics.Metrics;
using Finstage.ServiceDefaults;
using Finstage.Storage.Infrastructure;

namespace Finstage.Storage.Writing;

/// <summary>The storage service's <c>finstage.*</c> metrics: batch sizes and articles new and seen (failures are the crawler's to count).</summary>
public sealed class StorageMetrics
{
    private readonly Histogram<int> _batchSize;
    private readonly Counter<long> _articles;

    public StorageMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(Telemetry.MeterName);
        _batchSize = meter.CreateHistogram<int>("finstage.storage.batch.size", "{message}", "Crawl results written in one transaction.");
        _articles = meter.CreateCounter<long>("finstage.storage.articles", "{article}", "Articles stored, by source and whether they were new or seen before.");
    }

    internal void RecordBatch(int messages, IReadOnlyList<CrawlRun> runs)
    {
        _batchSize.Record(messages);
        foreach (var run in runs)
        {
            var source = new KeyValuePair<string, object?>("source", run.Source);
            _articles.Add(run.NewArticles, source, new("state", "new"));
            _articles.Add(run.SeenArticles, source, new("state", "seen"));
        }
    }
}
