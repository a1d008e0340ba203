using System.Globalization;
using Finstage.Contracts;
using Finstage.Crawler.Fetching;
using Finstage.Testing;
using Microsoft.AspNetCore.Http;

namespace Finstage.Crawler.Tests.Fetching;

/// <summary>
/// A crawl result carries the feed's own hints for its next poll (issue 14): <c>NewsCrawled.RefreshAfter</c> is the
/// largest of <c>&lt;ttl&gt;</c>, <c>max-age</c> and <c>Expires</c>, on a 200 and on a 304; <c>CrawlFailed.RetryAfter</c>
/// is the host's <c>Retry-After</c> on 429 and 503.
/// </summary>
[Trait("Category", "Reliability")]
[Trait("Lane", "Fast")]
public sealed class CrawlHintsTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Theory(Timeout = 60_000)]
    [InlineData(30, "max-age=600", 30 * 60)] // the ttl is the largest
    [InlineData(5, "max-age=600", 600)] // max-age is
    [InlineData(null, "max-age=600", 600)]
    [InlineData(20, null, 20 * 60)]
    [InlineData(20, "no-store", 20 * 60)] // no cache time, but the channel's ttl still stands
    public async Task CrawlAsync_RefreshAfterIsTheLargestHint_WhenTheFeedGivesTtlOrMaxAge(int? ttl, string? cacheControl, int seconds)
    {
        await using var feed = await LocalFeedServer.StartAsync(async context =>
        {
            if (cacheControl is not null)
            {
                context.Response.Headers.CacheControl = cacheControl;
            }
            await context.Response.WriteAsync(FeedWithTtl("HINT", ttl));
        }, Cancel);
        using var host = new FetchHost(feed.BaseAddress);

        var crawled = (await host.Crawler.CrawlAsync(Request("HINT"), repeated: false, Cancel)).ShouldBeOfType<CrawlOutcome.Crawled>().Message;

        crawled.RefreshAfter.ShouldBe(TimeSpan.FromSeconds(seconds));
        crawled.Articles.Count.ShouldBe(2);
    }

    [Fact(Timeout = 60_000)]
    public async Task CrawlAsync_RefreshAfterIsExpiresLessTheAnswersDate_WhenTheFeedSendsExpires()
    {
        await using var feed = await LocalFeedServer.StartAsync(async context =>
        {
            // Against the answer's own Date, written here, so the test's clock and the server's agree by construction.
            var date = DateTimeOffset.UtcNow;
            context.Response.Headers.Date = date.ToString("R", CultureInfo.InvariantCulture);
            context.Response.Headers.Expires = date.AddMinutes(7).ToString("R", CultureInfo.InvariantCulture);
            await context.Response.WriteAsync(SampleFeeds.Rss("EXP"));
        }, Cancel);
        using var host = new FetchHost(feed.BaseAddress);

        var crawled = (await host.Crawler.CrawlAsync(Request("EXP"), repeated: false, Cancel)).ShouldBeOfType<CrawlOutcome.Crawled>().Message;

        crawled.RefreshAfter.ShouldBe(TimeSpan.FromMinutes(7));
    }

    [Fact(Timeout = 60_000)]
    public async Task CrawlAsync_RefreshAfterIsNull_WhenTheFeedGivesNoHint()
    {
        await using var feed = await LocalFeedServer.StartAsync(context => context.Response.WriteAsync(SampleFeeds.Rss("NONE")), Cancel);
        using var host = new FetchHost(feed.BaseAddress);

        var crawled = (await host.Crawler.CrawlAsync(Request("NONE"), repeated: false, Cancel)).ShouldBeOfType<CrawlOutcome.Crawled>().Message;

        crawled.RefreshAfter.ShouldBeNull();
    }

    [Fact(Timeout = 60_000)]
    public async Task CrawlAsync_RefreshAfterOfA304KeepsTheTtlAndTakesItsOwnMaxAge_WhenTheFeedHasNotChanged()
    {
        var maxAge = "max-age=60";
        await using var feed = await LocalFeedServer.StartAsync(async context =>
        {
            context.Response.Headers.CacheControl = maxAge;
            if (context.Request.Headers.IfNoneMatch == "\"v1\"")
            {
                context.Response.StatusCode = StatusCodes.Status304NotModified;
                return;
            }
            context.Response.Headers.ETag = "\"v1\"";
            await context.Response.WriteAsync(FeedWithTtl("SAME", 10));
        }, Cancel);
        using var host = new FetchHost(feed.BaseAddress);

        var first = (await host.Crawler.CrawlAsync(Request("SAME"), repeated: false, Cancel)).ShouldBeOfType<CrawlOutcome.Crawled>();
        // What the consumer does once the first result is published.
        first.RememberValidators(host.Validators);
        var unchanged = (await host.Crawler.CrawlAsync(Request("SAME"), repeated: false, Cancel)).ShouldBeOfType<CrawlOutcome.Crawled>().Message;
        maxAge = "max-age=7200";
        var refreshed = (await host.Crawler.CrawlAsync(Request("SAME"), repeated: false, Cancel)).ShouldBeOfType<CrawlOutcome.Crawled>().Message;

        first.Message.RefreshAfter.ShouldBe(TimeSpan.FromMinutes(10));
        unchanged.NotModified.ShouldBeTrue();
        unchanged.RefreshAfter.ShouldBe(TimeSpan.FromMinutes(10), "the copy the 304 stands for said <ttl>10</ttl>");
        refreshed.NotModified.ShouldBeTrue();
        refreshed.RefreshAfter.ShouldBe(TimeSpan.FromHours(2), "a 304's headers refresh the cached copy");
    }

    [Theory(Timeout = 60_000)]
    [InlineData(StatusCodes.Status429TooManyRequests, CrawlFailureReason.RateLimited)]
    [InlineData(StatusCodes.Status503ServiceUnavailable, CrawlFailureReason.HttpError)]
    public async Task CrawlAsync_FailureCarriesRetryAfter_WhenTheHostAsksForAWaitInSeconds(int status, CrawlFailureReason reason)
    {
        await using var feed = await LocalFeedServer.StartAsync(context =>
        {
            context.Response.StatusCode = status;
            // Beyond Fetch:MaxRetryAfter (30 s), so the crawl ends now rather than waiting.
            context.Response.Headers.RetryAfter = "3600";
            return Task.CompletedTask;
        }, Cancel);
        using var host = new FetchHost(feed.BaseAddress);

        var failed = (await host.Crawler.CrawlAsync(Request("BUSY"), repeated: false, Cancel)).ShouldBeOfType<CrawlOutcome.Failed>().Message;

        failed.Reason.ShouldBe(reason);
        failed.HttpStatus.ShouldBe(status);
        failed.RetryAfter.ShouldBe(TimeSpan.FromHours(1));
    }

    [Fact(Timeout = 60_000)]
    public async Task CrawlAsync_FailureCarriesRetryAfter_WhenTheHostAsksForAWaitUntilADate()
    {
        await using var feed = await LocalFeedServer.StartAsync(context =>
        {
            var date = DateTimeOffset.UtcNow;
            context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
            context.Response.Headers.Date = date.ToString("R", CultureInfo.InvariantCulture);
            context.Response.Headers.RetryAfter = date.AddMinutes(20).ToString("R", CultureInfo.InvariantCulture);
            return Task.CompletedTask;
        }, Cancel);
        using var host = new FetchHost(feed.BaseAddress);

        var failed = (await host.Crawler.CrawlAsync(Request("BUSY"), repeated: false, Cancel)).ShouldBeOfType<CrawlOutcome.Failed>().Message;

        failed.Reason.ShouldBe(CrawlFailureReason.RateLimited);
        failed.RetryAfter.ShouldBe(TimeSpan.FromMinutes(20));
    }

    [Fact(Timeout = 60_000)]
    public async Task CrawlAsync_FailureHasNoRetryAfter_WhenTheHostAsksForNoWait()
    {
        await using var feed = await LocalFeedServer.StartAsync(context =>
        {
            context.Response.StatusCode = StatusCodes.Status500InternalServerError;
            context.Response.Headers.RetryAfter = "3600";
            return Task.CompletedTask;
        }, Cancel);
        using var host = new FetchHost(feed.BaseAddress, new Dictionary<string, string?> { ["Fetch:MaxRetryAttempts"] = "0" });

        var failed = (await host.Crawler.CrawlAsync(Request("DOWN"), repeated: false, Cancel)).ShouldBeOfType<CrawlOutcome.Failed>().Message;

        failed.Reason.ShouldBe(CrawlFailureReason.HttpError);
        failed.RetryAfter.ShouldBeNull("Retry-After means a wait only with 429 or 503");
    }

    internal static string FeedWithTtl(string symbol, int? ttl) =>
        ttl is null ? SampleFeeds.Rss(symbol) : SampleFeeds.Rss(symbol).Replace("<title>Test feed</title>", $"<title>Test feed</title><ttl>{ttl}</ttl>", StringComparison.Ordinal);

    private static CrawlRequested Request(string symbol) =>
        new(Guid.NewGuid(), Guid.NewGuid(), "local", symbol, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddMinutes(5));
}
