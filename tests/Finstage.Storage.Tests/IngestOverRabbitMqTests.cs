using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Finstage.Contracts;
using Finstage.Testing;

namespace Finstage.Storage.Tests;

public sealed class IngestOverRabbitMqTests(StorageFixture storage) : IAsyncLifetime
{
    public async ValueTask InitializeAsync() => await storage.ResetAsync();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    [Fact(Timeout = 90_000)]
    public async Task StoreNewsCrawled_StoresRows_WhenResultsArePublishedOverRabbitMq()
    {
        // Counts the messages the service's own batch-size metric reports, so the test ends only
        // once the redelivered copies too have been consumed (they must not leak into the next test).
        long consumed = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "finstage.storage.batch.size")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<int>((_, messages, _, _) => Interlocked.Add(ref consumed, messages));
        listener.Start();
        var crawls = Enumerable.Range(0, 30)
            .Select(i => Crawls.Crawled($"SYM{i % 10}", "yahoo", Crawls.Article(i), Crawls.Article(i + 100)))
            .ToList();

        foreach (var crawl in crawls)
        {
            await storage.PublishAsync(crawl);
        }
        // The same messages again, as a redelivery would bring them.
        foreach (var crawl in crawls.Take(10))
        {
            await storage.PublishAsync(crawl);
        }

        await Eventually.WaitForAsync(() => storage.CountAsync("crawl_runs"), count => count == 30, TimeSpan.FromSeconds(60), "30 crawl runs", TestContext.Current.CancellationToken);
        await Eventually.WaitForAsync(() => storage.CountAsync("article_symbols"), count => count == 60, TimeSpan.FromSeconds(30), "60 links", TestContext.Current.CancellationToken);
        await Eventually.WaitForAsync(
            () => Task.FromResult(Interlocked.Read(ref consumed)), count => count >= 40, TimeSpan.FromSeconds(30), "all 40 deliveries consumed",
            TestContext.Current.CancellationToken);
        (await storage.CountAsync("articles")).ShouldBe(60);
        (await storage.CountAsync("crawl_runs")).ShouldBe(30);
    }

    [Fact(Timeout = 90_000)]
    public async Task RecordCrawlFailed_RecordsRunWithReason_WhenFailureIsPublishedOverRabbitMq()
    {
        var failure = Crawls.Failed("^VIX", CrawlFailureReason.TooLarge);

        await storage.PublishAsync(failure);

        await Eventually.WaitForAsync(
            () => storage.CountAsync("crawl_runs", "`symbol` = '^VIX' AND `failure_reason` = 'TooLarge'"), count => count == 1,
            TimeSpan.FromSeconds(60), "the failed crawl run", TestContext.Current.CancellationToken);
    }

    [Fact(Timeout = 90_000)]
    public async Task StoreNewsCrawled_TracesEachStoreInItsCrawlsTrace_WhenResultsArriveInOneBatch()
    {
        var stored = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Finstage",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.OperationName == "store crawl result")
                {
                    stored.Add(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        using var publisher = new ActivitySource("Finstage.Tests");
        using var publisherListener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Finstage.Tests",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(publisherListener);
        var traces = new Dictionary<string, ActivityTraceId>();

        foreach (var symbol in new[] { "AAPL", "MSFT", "NVDA" })
        {
            using var crawl = publisher.StartActivity("crawl " + symbol)!;
            traces[symbol] = crawl.TraceId;
            await storage.PublishAsync(Crawls.Crawled(symbol, "yahoo", Crawls.Article(symbol.Length)));
        }

        var spans = await Eventually.WaitForAsync(
            () => Task.FromResult(stored.ToList()), found => found.Count >= 3, TimeSpan.FromSeconds(60), "three store spans",
            TestContext.Current.CancellationToken);
        foreach (var (symbol, trace) in traces)
        {
            spans.ShouldContain(span => span.TraceId == trace && (string?)span.GetTagItem("finstage.symbol") == symbol);
        }
        // Each marks the moment its batch committed, inside the span (the benchmark's p10 measures from it).
        foreach (var span in spans)
        {
            var committed = span.Events.Where(e => e.Name == "committed").ShouldHaveSingleItem();
            committed.Timestamp.UtcDateTime.ShouldBeInRange(span.StartTimeUtc, span.StartTimeUtc + span.Duration);
        }
    }
}
