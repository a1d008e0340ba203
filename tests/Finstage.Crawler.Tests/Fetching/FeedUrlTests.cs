using System.Diagnostics;
using Finstage.Contracts;
using Finstage.Crawler.Fetching;
using Finstage.Testing;
using Microsoft.AspNetCore.Http;

namespace Finstage.Crawler.Tests.Fetching;

/// <summary>
/// A crawl request that names its feed by URL (<c>CrawlRequested.FeedUrl</c>, a watchlist entry's, issue 14): fetched
/// instead of the configured (source, symbol), under the same connection guard and the same per-host rate limit.
/// </summary>
[Trait("Category", "Reliability")]
[Trait("Category", "Security")]
[Trait("Lane", "Fast")]
public sealed class FeedUrlTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact(Timeout = 60_000)]
    public async Task CrawlAsync_FetchesTheFeedUrl_WhenTheRequestNamesOneOnAConfiguredHost()
    {
        await using var feed = await LocalFeedServer.StartAsync(
            context => context.Response.WriteAsync(SampleFeeds.Rss(context.Request.Path.Value!.Split('/')[^1])), Cancel);
        using var host = new FetchHost(feed.BaseAddress);

        // A source the crawler has no configuration for, and a configured one whose own feed is not the one asked for.
        var unknown = (await host.Crawler.CrawlAsync(Request("watchlist", "ANY", new Uri(feed.BaseAddress, "custom/XYZ")), repeated: false, Cancel))
            .ShouldBeOfType<CrawlOutcome.Crawled>().Message;
        var known = (await host.Crawler.CrawlAsync(Request("local", "AAPL", new Uri(feed.BaseAddress, "other/MSFT")), repeated: false, Cancel))
            .ShouldBeOfType<CrawlOutcome.Crawled>().Message;

        unknown.Articles.Select(article => article.Url).ShouldBe(["https://example.com/XYZ/1", "https://example.com/XYZ/2"]);
        (unknown.Source, unknown.Symbol).ShouldBe(("watchlist", "ANY"));
        known.Articles.Select(article => article.Url).ShouldBe(["https://example.com/MSFT/1", "https://example.com/MSFT/2"]);
        feed.Requests.Select(request => request.PathAndQuery).ShouldBe(["/custom/XYZ", "/other/MSFT"]);
    }

    [Theory(Timeout = 60_000)]
    [InlineData("http://127.0.0.1:{port}/feeds/X")]
    [InlineData("http://localhost:{port}/feeds/X")]
    [InlineData("http://2130706433:{port}/feeds/X")]
    [InlineData("http://[::ffff:127.0.0.1]:{port}/feeds/X")]
    public async Task CrawlAsync_FailsBlockedAddressWithoutConnecting_WhenTheFeedUrlIsOnThisHostButNoConfiguredEndpoint(string target)
    {
        await using var feed = await LocalFeedServer.StartAsync(context => context.Response.WriteAsync(SampleFeeds.Rss("CONFIGURED")), Cancel);
        await using var inside = await LocalFeedServer.StartAsync(context => context.Response.WriteAsync(SampleFeeds.Rss("INSIDE")), Cancel);
        using var host = new FetchHost(feed.BaseAddress);
        var url = new Uri(target.Replace("{port}", inside.BaseAddress.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));

        var failed = (await host.Crawler.CrawlAsync(Request("watchlist", "X", url), repeated: false, Cancel)).ShouldBeOfType<CrawlOutcome.Failed>().Message;

        failed.Reason.ShouldBe(CrawlFailureReason.BlockedAddress);
        failed.Attempts.ShouldBe(1, "a blocked address is not retried");
        failed.Detail.ShouldContain("The feed's host resolves to a loopback");
        inside.Requests.ShouldBeEmpty();
        feed.Requests.ShouldBeEmpty();
    }

    [Theory(Timeout = 60_000)]
    [InlineData("http://169.254.169.254/latest/meta-data/")]
    [InlineData("http://10.0.0.1:8080/feed.xml")]
    [InlineData("http://[fd00::1]/feed.xml")]
    public async Task CrawlAsync_FailsBlockedAddressAtOnce_WhenTheFeedUrlIsOnAPrivateNetwork(string url)
    {
        await using var feed = await LocalFeedServer.StartAsync(context => context.Response.WriteAsync(SampleFeeds.Rss("CONFIGURED")), Cancel);
        using var host = new FetchHost(feed.BaseAddress);

        var failed = (await host.Crawler.CrawlAsync(Request("watchlist", "X", new Uri(url)), repeated: false, Cancel)).ShouldBeOfType<CrawlOutcome.Failed>().Message;

        // Unguarded, these would wait out a connect timeout, or reach whatever answers there.
        failed.Reason.ShouldBe(CrawlFailureReason.BlockedAddress);
        failed.Attempts.ShouldBe(1);
    }

    [Fact(Timeout = 60_000)]
    public async Task CrawlAsync_FetchesAFeedUrlOnThisHost_WhenAllowPrivateNetworksIsSet()
    {
        await using var feed = await LocalFeedServer.StartAsync(context => context.Response.WriteAsync(SampleFeeds.Rss("CONFIGURED")), Cancel);
        await using var inside = await LocalFeedServer.StartAsync(context => context.Response.WriteAsync(SampleFeeds.Rss("INSIDE")), Cancel);
        using var host = new FetchHost(feed.BaseAddress, new Dictionary<string, string?> { ["Fetch:AllowPrivateNetworks"] = "true" });

        var crawled = (await host.Crawler.CrawlAsync(Request("watchlist", "X", new Uri(inside.BaseAddress, "feeds/X")), repeated: false, Cancel))
            .ShouldBeOfType<CrawlOutcome.Crawled>().Message;

        crawled.Articles.Select(article => article.Url).ShouldBe(["https://example.com/INSIDE/1", "https://example.com/INSIDE/2"]);
        inside.Requests.Count.ShouldBe(1);
    }

    [Theory(Timeout = 60_000)]
    [InlineData("ftp://files.example.com/feed.xml")]
    [InlineData("file:///etc/passwd")]
    [InlineData("/feeds/relative")]
    [InlineData("not a url")]
    public async Task CrawlAsync_FailsNotConfiguredWithoutFetching_WhenTheFeedUrlIsNoAbsoluteHttpUrl(string feedUrl)
    {
        await using var feed = await LocalFeedServer.StartAsync(context => context.Response.WriteAsync(SampleFeeds.Rss("CONFIGURED")), Cancel);
        using var host = new FetchHost(feed.BaseAddress);
        var request = new CrawlRequested(Guid.NewGuid(), Guid.NewGuid(), "local", "AAPL", DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddMinutes(5), feedUrl);

        var failed = (await host.Crawler.CrawlAsync(request, repeated: false, Cancel)).ShouldBeOfType<CrawlOutcome.Failed>().Message;

        failed.Reason.ShouldBe(CrawlFailureReason.NotConfigured);
        failed.Attempts.ShouldBe(0);
        failed.Detail.ShouldNotContain(feedUrl, Case.Insensitive, "the URL is the request's text, not shown back");
        feed.Requests.ShouldBeEmpty("neither the feed URL nor the configured feed of local/AAPL is fetched");
    }

    [Fact(Timeout = 90_000)]
    public async Task CrawlAsync_PacesFeedUrlsOfAnUnconfiguredHostAtOneRequestASecond_WhenManyAreAskedAtOnce()
    {
        await using var feed = await LocalFeedServer.StartAsync(context => context.Response.WriteAsync(SampleFeeds.Rss("CONFIGURED")), Cancel);
        await using var other = await LocalFeedServer.StartAsync(context => context.Response.WriteAsync(SampleFeeds.Rss("OTHER")), Cancel);
        using var host = new FetchHost(feed.BaseAddress, new Dictionary<string, string?> { ["Fetch:AllowPrivateNetworks"] = "true" });
        const int crawls = 4;

        var started = Stopwatch.GetTimestamp();
        var outcomes = await Task.WhenAll(Enumerable.Range(0, crawls).Select(i =>
            host.Crawler.CrawlAsync(Request("watchlist", $"F{i}", new Uri(other.BaseAddress, $"feeds/F{i}")), repeated: false, Cancel)));
        var elapsed = Stopwatch.GetElapsedTime(started);

        outcomes.ShouldAllBe(outcome => outcome is CrawlOutcome.Crawled);
        other.Requests.Count.ShouldBe(crawls);
        // The host's token bucket (1 a second, burst 1, the default for a host no source configures) grants the
        // first at once and each next one a period later: at least (crawls - 1) s in all. A lower bound only, which
        // load can only make easier to meet; 0.5 s of slack for the refill timer's granularity.
        elapsed.ShouldBeGreaterThanOrEqualTo(TimeSpan.FromSeconds(crawls - 1.5));
    }

    private static CrawlRequested Request(string source, string symbol, Uri feedUrl) =>
        new(Guid.NewGuid(), Guid.NewGuid(), source, symbol, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddMinutes(5), feedUrl.ToString());
}
