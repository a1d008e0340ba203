using Finstage.Contracts;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Finstage.Crawler.Tests.Fetching;

/// <summary>
/// The scheduler's check of a feed URL before it joins the watchlist: answered by the crawler with one real fetch and
/// parse, under the same network rules as every crawl.
/// </summary>
[Collection(nameof(SharedCrawler))]
[Trait("Category", "Reliability")]
public sealed class CheckFeedConsumerTests(CrawlerFixture crawler)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact(Timeout = 60_000)]
    public async Task CheckFeed_AnswersIsFeedWithItsItems_WhenTheUrlServesAFeed()
    {
        var answer = await CheckAsync(new Uri(crawler.Feeds.BaseAddress, "feeds/AAPL").ToString());

        answer.IsFeed.ShouldBeTrue(answer.Detail);
        answer.Articles.ShouldBeGreaterThan(0);
        answer.HttpStatus.ShouldBe(200);
    }

    [Theory(Timeout = 60_000)]
    [InlineData("feeds/HTML", CrawlFailureReason.NotAFeed)]
    [InlineData("feeds/MISSING", CrawlFailureReason.HttpError)]
    [InlineData("feeds/TRUNCATED", CrawlFailureReason.ParseError)]
    public async Task CheckFeed_RefusesWithTheReason_WhenTheUrlIsNoFeed(string path, CrawlFailureReason reason)
    {
        var answer = await CheckAsync(new Uri(crawler.Feeds.BaseAddress, path).ToString());

        answer.IsFeed.ShouldBeFalse();
        answer.Reason.ShouldBe(reason);
        answer.Detail.ShouldNotBeNullOrWhiteSpace();
    }

    [Theory(Timeout = 60_000)]
    [Trait("Category", "Security")]
    [InlineData("http://169.254.169.254/latest/meta-data/")]
    [InlineData("http://10.0.0.1/feed.xml")]
    [InlineData("http://[::1]:9/feed.xml")]
    public async Task CheckFeed_RefusesBlockedAddress_WhenAUserOffersAnInternalAddress(string url)
    {
        var answer = await CheckAsync(url);

        answer.IsFeed.ShouldBeFalse();
        answer.Reason.ShouldBe(CrawlFailureReason.BlockedAddress);
    }

    private async Task<FeedChecked> CheckAsync(string url)
    {
        var client = crawler.Crawler.Services.GetRequiredService<IBus>().CreateRequestClient<CheckFeed>(RequestTimeout.After(s: 45));
        var response = await client.GetResponse<FeedChecked>(new CheckFeed(Guid.NewGuid(), url, DateTimeOffset.UtcNow), Cancel);
        response.Message.FeedUrl.ShouldBe(url);
        return response.Message;
    }
}
