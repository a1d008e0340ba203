using Finstage.Contracts;

namespace Finstage.Crawler.Tests.Fetching;

/// <summary>
/// Through the crawler service and RabbitMQ (issue 14): the published results carry the feed's hints, and a request
/// that names its feed by URL is fetched from that URL, under the connection guard.
/// </summary>
[Collection(nameof(SharedCrawler))]
[Trait("Category", "Reliability")]
public sealed class CrawlHintsConsumerTests(CrawlerFixture crawler)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact(Timeout = 120_000)]
    public async Task Consume_PublishesRefreshAfterAndRetryAfter_WhenTheFeedAndItsHostGiveThem()
    {
        var cycle = Guid.NewGuid();
        var hinted = Request(cycle, "local", "HINTED");
        var plain = Request(cycle, "local", "PLAIN");
        var busy = Request(cycle, "local", "BUSY");

        await crawler.PublishAsync(hinted);
        await crawler.PublishAsync(plain);
        await crawler.PublishAsync(busy);

        var crawled = await crawler.Crawled.WaitForAsync(2, message => message.CycleId == cycle, TimeSpan.FromSeconds(90), Cancel);
        var failed = (await crawler.Failed.WaitForAsync(1, message => message.CycleId == cycle, TimeSpan.FromSeconds(90), Cancel)).Single().Message;
        crawled.Single(received => received.Message.CrawlId == hinted.CrawlId).Message.RefreshAfter.ShouldBe(TimeSpan.FromMinutes(30));
        crawled.Single(received => received.Message.CrawlId == plain.CrawlId).Message.RefreshAfter.ShouldBeNull();
        failed.CrawlId.ShouldBe(busy.CrawlId);
        failed.Reason.ShouldBe(CrawlFailureReason.RateLimited);
        failed.RetryAfter.ShouldBe(TimeSpan.FromHours(1));
    }

    [Fact(Timeout = 120_000)]
    [Trait("Category", "Security")]
    public async Task Consume_FetchesTheFeedUrlAndRefusesAPrivateOne_WhenRequestsNameTheirFeedByUrl()
    {
        var cycle = Guid.NewGuid();
        var watched = Request(cycle, "watchlist", "Named feed") with { FeedUrl = new Uri(crawler.Feeds.BaseAddress, "watched/WATCHED").ToString() };
        // The same feed server on a port no source configures: an internal address like any other.
        var inside = Request(cycle, "watchlist", "Inside") with { FeedUrl = $"http://127.0.0.1:{FreePort()}/admin" };

        await crawler.PublishAsync(watched);
        await crawler.PublishAsync(inside);

        var crawled = (await crawler.Crawled.WaitForAsync(1, message => message.CycleId == cycle, TimeSpan.FromSeconds(90), Cancel)).Single().Message;
        var failed = (await crawler.Failed.WaitForAsync(1, message => message.CycleId == cycle, TimeSpan.FromSeconds(90), Cancel)).Single().Message;
        crawled.CrawlId.ShouldBe(watched.CrawlId);
        (crawled.Source, crawled.Symbol).ShouldBe(("watchlist", "Named feed"));
        crawled.Articles.Select(article => article.Url).ShouldBe(["https://example.com/WATCHED/1", "https://example.com/WATCHED/2"]);
        crawler.Feeds.Requests.ShouldContain(request => request.PathAndQuery == "/watched/WATCHED");
        failed.CrawlId.ShouldBe(inside.CrawlId);
        failed.Reason.ShouldBe(CrawlFailureReason.BlockedAddress);
    }

    private static CrawlRequested Request(Guid cycle, string source, string symbol) =>
        new(Guid.NewGuid(), cycle, source, symbol, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddMinutes(5));

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
