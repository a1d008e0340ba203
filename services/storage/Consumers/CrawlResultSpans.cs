using System.Diagnostics;
using Finstage.Contracts;
using Finstage.ServiceDefaults;
using Finstage.Storage.Infrastructure;
using MassTransit;

namespace Finstage.Storage.Consumers;

/// <summary>
/// Puts the storage of each crawl result into that crawl's own trace. A batch is written in one
/// transaction, whose database spans belong to the batch's trace; each message gets a span in its
/// own trace (parented to the publish that sent it, and linked from the batch) covering that write,
/// so a crawl's trace runs from the scheduler's job to the row being committed.
/// </summary>
internal sealed class CrawlResultSpans : IDisposable
{
    // MassTransit carries the publisher's W3C traceparent in this header.
    private const string TraceHeader = "MT-Activity-Id";

    private readonly List<(Activity Span, Guid CrawlId)> _spans = [];

    public CrawlResultSpans(IReadOnlyList<ConsumeContext<NewsCrawled>> messages)
    {
        var batch = Activity.Current;
        foreach (var message in messages)
        {
            if (message.Headers.Get<string>(TraceHeader) is { } traceParent && ActivityContext.TryParse(traceParent, null, out var parent)
                && Telemetry.Source.StartActivity("store crawl result", ActivityKind.Internal, parent) is { } span)
            {
                span.SetTag("finstage.crawl.id", message.Message.CrawlId);
                span.SetTag("finstage.symbol", message.Message.Symbol);
                span.SetTag("finstage.source", message.Message.Source);
                span.SetTag("finstage.storage.batch.size", messages.Count);
                if (batch is not null)
                {
                    span.AddLink(new ActivityLink(batch.Context));
                }
                _spans.Add((span, message.Message.CrawlId));
            }
        }
        // The write itself runs in the batch's activity, not in whichever span started last.
        Activity.Current = batch;
    }

    /// <summary>
    /// Called once the batch's transaction has committed: each span gets its crawl's counts and a <c>committed</c> event,
    /// the moment its articles became visible to readers (where the benchmark's commit-to-stream latency, p10, starts).
    /// </summary>
    public void Complete(IReadOnlyList<CrawlRun> runs)
    {
        var committed = new ActivityEvent("committed");
        var byCrawl = runs.ToDictionary(run => run.CrawlId);
        foreach (var (span, crawlId) in _spans)
        {
            span.AddEvent(committed);
            if (byCrawl.TryGetValue(crawlId, out var run))
            {
                span.SetTag("finstage.articles.new", run.NewArticles);
                span.SetTag("finstage.articles.seen", run.SeenArticles);
            }
        }
    }

    public void Dispose()
    {
        var batch = Activity.Current;
        foreach (var (span, _) in _spans)
        {
            span.Dispose();
        }
        Activity.Current = batch;
    }
}
