using Finstage.Contracts;
using Finstage.Crawler.Fetching;
using Finstage.Testing;

namespace Finstage.Crawler.Tests.Fetching;

/// <summary>
/// Whole crawls (fetch and parse) of hostile feed sites (issue 6), through the crawler's real HTTP
/// pipeline: each ends as one result with its reason, inside the total time budget.
/// </summary>
[Trait("Category", "Reliability")]
// Needs no server, but takes seconds to a minute (large documents, time budgets, waits): the full run only, not ./test.sh --fast.
[Trait("Lane", "Slow")]
public sealed class HostileFetchTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Theory(Timeout = 60_000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task CrawlAsync_FailsTooLargeAfterReadingLittle_WhenServerSendsA100MegabyteBody(bool announceLength)
    {
        var served = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await LocalFeedServer.StartAsync(
            async context => served.TrySetResult(await HostileFeeds.ServeLongBodyAsync(context, 100L * HostileFeeds.Megabyte, announceLength)), Cancel);
        using var host = new FetchHost(server.BaseAddress);

        var result = await host.Crawler.CrawlAsync(Request("BIG"), repeated: false, Cancel);

        result.ShouldBeOfType<CrawlOutcome.Failed>().Message.Reason.ShouldBe(CrawlFailureReason.TooLarge);
        // The crawler hung up at the 5 MB cap (or at once, when the length was announced): the
        // server got rid of no more than the cap plus what the sockets buffer, nowhere near 100 MB.
        var written = await served.Task.WaitAsync(TimeSpan.FromSeconds(30), Cancel);
        written.ShouldBeLessThan(40L * HostileFeeds.Megabyte);
    }

    [Fact(Timeout = 60_000)]
    public async Task CrawlAsync_FailsTooLarge_WhenOneTitleMakesTheFeedTenMegabytes()
    {
        var document = HostileFeeds.SingleTitle(10 * HostileFeeds.Megabyte);
        await using var server = await LocalFeedServer.StartAsync(
            context => HostileFeeds.WriteAsync(context, document, "application/rss+xml; charset=utf-8"), Cancel);
        using var host = new FetchHost(server.BaseAddress);

        var result = await host.Crawler.CrawlAsync(Request("TITLE"), repeated: false, Cancel);

        result.ShouldBeOfType<CrawlOutcome.Failed>().Message.Reason.ShouldBe(CrawlFailureReason.TooLarge);
    }

    [Fact(Timeout = 60_000)]
    public async Task CrawlAsync_FailsTimeoutWithinTheBudget_WhenServerDripsOneByteASecond()
    {
        await using var server = await LocalFeedServer.StartAsync(context => HostileFeeds.DripAsync(context, TimeSpan.FromSeconds(1)), Cancel);
        using var host = new FetchHost(server.BaseAddress, new Dictionary<string, string?>
        {
            ["Fetch:AttemptTimeout"] = "00:00:02",
            ["Fetch:TotalTimeout"] = "00:00:04",
        });

        var failed = (await host.Crawler.CrawlAsync(Request("DRIP"), repeated: false, Cancel)).ShouldBeOfType<CrawlOutcome.Failed>().Message;

        failed.Reason.ShouldBe(CrawlFailureReason.Timeout);
        // The 100 kB the drip offers would take a day; the 4 s budget (with generous slack for a busy machine) ends it.
        failed.Duration!.Value.ShouldBeLessThan(TimeSpan.FromSeconds(30));
    }

    [Fact(Timeout = 60_000)]
    public async Task CrawlAsync_FailsTooLarge_WhenAGzipBombWouldExpandToAGigabyte()
    {
        await using var server = await LocalFeedServer.StartAsync(context => HostileFeeds.GzipBombAsync(context, 1024L * HostileFeeds.Megabyte), Cancel);
        using var host = new FetchHost(server.BaseAddress);

        var failed = (await host.Crawler.CrawlAsync(Request("BOMB"), repeated: false, Cancel)).ShouldBeOfType<CrawlOutcome.Failed>().Message;

        failed.Reason.ShouldBe(CrawlFailureReason.TooLarge);
        failed.Detail.ShouldContain("after decompression");
    }

    [Fact(Timeout = 60_000)]
    public async Task CrawlAsync_NeverRequestsTheEntity_WhenAnExternalEntityPointsAtAUrl()
    {
        LocalFeedServer? server = null;
        server = await LocalFeedServer.StartAsync(context => context.Request.Path.StartsWithSegments("/feeds")
            ? HostileFeeds.WriteAsync(context, HostileFeeds.ExternalEntity(new Uri(server!.BaseAddress, "xxe-probe").ToString()), "application/rss+xml")
            : HostileFeeds.WriteAsync(context, "secret"u8.ToArray(), "text/plain"), Cancel);
        await using var _ = server;
        using var host = new FetchHost(server.BaseAddress);

        var crawled = (await host.Crawler.CrawlAsync(Request("XXE"), repeated: false, Cancel)).ShouldBeOfType<CrawlOutcome.Crawled>().Message;

        crawled.Articles.ShouldHaveSingleItem().Title.ShouldBe("Leak: &secret;");
        server.Requests.Select(request => request.PathAndQuery).ShouldBe(["/feeds/XXE"]);
    }

    [Theory(Timeout = 60_000)]
    [InlineData("html", CrawlFailureReason.NotAFeed)]
    [InlineData("sitemap", CrawlFailureReason.NotAFeed)]
    [InlineData("laughs", CrawlFailureReason.ParseError)]
    public async Task CrawlAsync_FailsWithReason_WhenTheDocumentIsNoFeed(string document, CrawlFailureReason reason)
    {
        var (bytes, type) = document switch
        {
            "html" => (HostileFeeds.HtmlPage, "text/html; charset=utf-8"),
            "sitemap" => (HostileFeeds.Sitemap, "application/xml"),
            _ => (HostileFeeds.BillionLaughs, "application/rss+xml"),
        };
        await using var server = await LocalFeedServer.StartAsync(context => HostileFeeds.WriteAsync(context, bytes, type), Cancel);
        using var host = new FetchHost(server.BaseAddress);

        var failed = (await host.Crawler.CrawlAsync(Request(document.ToUpperInvariant()), repeated: false, Cancel)).ShouldBeOfType<CrawlOutcome.Failed>().Message;

        failed.Reason.ShouldBe(reason);
        failed.Attempts.ShouldBe(1, "a document that is no feed is not fetched again");
    }

    [Fact(Timeout = 60_000)]
    public async Task CrawlAsync_PublishesEveryItem_WhenBytesAreInvalidInTheDeclaredEncoding()
    {
        await using var server = await LocalFeedServer.StartAsync(
            context => HostileFeeds.WriteAsync(context, HostileFeeds.InvalidInDeclaredEncoding, "application/rss+xml; charset=utf-8"), Cancel);
        using var host = new FetchHost(server.BaseAddress);

        var crawled = (await host.Crawler.CrawlAsync(Request("ENCODING"), repeated: false, Cancel)).ShouldBeOfType<CrawlOutcome.Crawled>().Message;

        crawled.Articles.Select(article => article.Title).ShouldBe(["Stray é byte", "Über “quotes”"]);
    }

    [Fact(Timeout = 60_000)]
    public async Task CrawlAsync_PublishesEveryEntryWithTheAuthorCut_WhenAnInheritedAuthorWouldMultiplyTheFeed()
    {
        // 1 MB of author in a 1.3 MB feed, inherited by 4,000 entries: 4 GB as a message, uncut.
        var document = HostileFeeds.AtomInheritedAuthor(HostileFeeds.Megabyte, 4_000);
        await using var server = await LocalFeedServer.StartAsync(context => HostileFeeds.WriteAsync(context, document, "application/atom+xml"), Cancel);
        using var host = new FetchHost(server.BaseAddress);

        var crawled = (await host.Crawler.CrawlAsync(Request("AUTHOR"), repeated: false, Cancel)).ShouldBeOfType<CrawlOutcome.Crawled>().Message;

        crawled.Articles.Count.ShouldBe(4_000);
        crawled.Articles.ShouldAllBe(article => article.Author!.Length == FieldLengths.Name);
    }

    [Fact(Timeout = 60_000)]
    public async Task CrawlAsync_FailsTooLarge_WhenRelativeLinksGrowPastTheMessageCap()
    {
        // 500 relative links under a 60,000-character xml:base: a 90 kB feed, 30 MB of URLs, which are never cut.
        var document = HostileFeeds.AtomLongBase(60_000, 500);
        await using var server = await LocalFeedServer.StartAsync(context => HostileFeeds.WriteAsync(context, document, "application/atom+xml"), Cancel);
        using var host = new FetchHost(server.BaseAddress);

        var failed = (await host.Crawler.CrawlAsync(Request("BASE"), repeated: false, Cancel)).ShouldBeOfType<CrawlOutcome.Failed>().Message;

        failed.Reason.ShouldBe(CrawlFailureReason.TooLarge);
        failed.Detail.ShouldContain("as a message");
    }

    [Theory(Timeout = 60_000)]
    [InlineData(2, true)]
    [InlineData(4, false)]
    public async Task CrawlAsync_CutsSummariesOrFailsTooLarge_WhenWindows1252TextTriplesInUtf8(int items, bool fits)
    {
        // Each summary 1.1 M "€": one byte each on the wire, three in the message; cut to a million.
        var document = HostileFeeds.LongSummaries(items, 1_100_000);
        await using var server = await LocalFeedServer.StartAsync(context => HostileFeeds.WriteAsync(context, document, "application/rss+xml"), Cancel);
        using var host = new FetchHost(server.BaseAddress);

        var result = await host.Crawler.CrawlAsync(Request("EUROS"), repeated: false, Cancel);

        if (fits)
        {
            var crawled = result.ShouldBeOfType<CrawlOutcome.Crawled>().Message;
            crawled.Articles.Count.ShouldBe(items);
            crawled.Articles.ShouldAllBe(article => article.Summary!.Length == FieldLengths.Summary && article.Summary[0] == '€');
        }
        else
        {
            result.ShouldBeOfType<CrawlOutcome.Failed>().Message.Reason.ShouldBe(CrawlFailureReason.TooLarge);
        }
    }

    private static CrawlRequested Request(string symbol) =>
        new(Guid.NewGuid(), Guid.NewGuid(), "local", symbol, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddMinutes(5));
}
