using Finstage.Contracts;
using Finstage.Crawler.Fetching;
using Finstage.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Finstage.Crawler.Tests.Fetching;

/// <summary>Issue 12, item 3: the parse runs inside the crawl's time budget, what the fetch left of Fetch:TotalTimeout.</summary>
[Trait("Category", "Reliability")]
// Out of the fast lane: it fetches and starts to parse a five-megabyte document (tens of seconds on a loaded machine).
[Trait("Lane", "Slow")]
public sealed class ParseBudgetTests
{
    private static readonly TimeSpan TotalTimeout = TimeSpan.FromSeconds(20);

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact(Timeout = 60_000)]
    public async Task CrawlAsync_FailsAsTimeoutAndCrawlsTheNextFeed_WhenTheFetchLeftNoTimeToParse()
    {
        // The crawler's clock is a fake one that the site moves on by the whole budget while it answers, as a
        // slow site's answer would take it; the fetch itself keeps real time and succeeds.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var big = HostileFeeds.BenignFiveMegabytes();
        var small = HostileFeeds.ControlCharacters;
        await using var server = await LocalFeedServer.StartAsync(context =>
        {
            var slow = context.Request.Path.Value!.EndsWith("/SLOW", StringComparison.Ordinal);
            if (slow)
            {
                clock.Advance(TotalTimeout);
            }
            return HostileFeeds.WriteAsync(context, slow ? big : small, "application/rss+xml; charset=utf-8");
        }, Cancel);
        using var host = new FetchHost(server.BaseAddress, new Dictionary<string, string?>
        {
            ["Fetch:TotalTimeout"] = TotalTimeout.ToString("c", System.Globalization.CultureInfo.InvariantCulture),
        });
        var crawler = host.CrawlerWith(clock);

        var failed = (await crawler.CrawlAsync(Request("SLOW"), repeated: false, Cancel)).ShouldBeOfType<CrawlOutcome.Failed>().Message;
        var next = (await crawler.CrawlAsync(Request("NEXT"), repeated: false, Cancel)).ShouldBeOfType<CrawlOutcome.Crawled>().Message;

        failed.Reason.ShouldBe(CrawlFailureReason.Timeout);
        failed.Detail.ShouldContain("parsing did not finish in the 0 s the fetch left of the crawl's 20 s (Fetch:TotalTimeout)");
        // The crawl returned its failure instead of parsing on: the consumer's slot is free for the next request.
        next.Articles.Count.ShouldBe(3);
    }

    private static CrawlRequested Request(string symbol) =>
        new(Guid.NewGuid(), Guid.NewGuid(), "local", symbol, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddMinutes(5));
}
