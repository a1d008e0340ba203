using System.Globalization;
using System.Xml.Linq;
using Finstage.Crawler.Parsing;

namespace Finstage.FeedServer.Tests;

/// <summary>The generated feeds, read by the parser the crawler itself uses.</summary>
[Trait("Lane", "Fast")]
public sealed class CrawlerParserTests
{
    [Theory(Timeout = 30_000)]
    [MemberData(nameof(TestFeeds.WatchlistSymbols), MemberType = typeof(TestFeeds))]
    public async Task FeedParser_ReadsEveryItemWithTitleUrlAndDate_WhenFeedIsYahooShaped(string symbol)
    {
        await AssertCrawlerReadsEveryItemAsync(TestFeeds.YahooPath(symbol), "pubDate", "ddd, dd MMM yyyy HH:mm:ss +0000");
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(TestFeeds.InvestingPaths), MemberType = typeof(TestFeeds))]
    public async Task FeedParser_ReadsEveryItemWithTitleUrlAndDate_WhenFeedIsInvestingShaped(string path)
    {
        await AssertCrawlerReadsEveryItemAsync(path, "pubDate", "yyyy-MM-dd HH:mm:ss");
    }

    private static async Task AssertCrawlerReadsEveryItemAsync(string path, string dateElement, string dateFormat)
    {
        var (server, http, _) = await TestFeeds.StartAsync();
        await using var _server = server;
        using var _http = http;
        using var response = await http.GetAsync(path, TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken);
        var expected = XDocument.Parse(System.Text.Encoding.UTF8.GetString(body)).Items();

        var parsed = new FeedParser().Parse(body, response.Content.Headers.ContentType?.ToString(), new Uri(server.BaseAddress, path));

        parsed.Succeeded.ShouldBeTrue(parsed.ToString());
        parsed.Feed.Warnings.ShouldBeEmpty();
        parsed.Feed.Items.Count.ShouldBe(expected.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            var article = parsed.Feed.Items[i];
            article.Title.ShouldBe(expected[i].Child("title"));
            article.Url.ShouldStartWith(server.BaseAddress.AbsoluteUri);
            // The crawler strips Yahoo's tracking parameter; what remains is the article's own address.
            article.Url.ShouldNotContain(".tsrc");
            article.Url.ShouldBe(expected[i].Child("link").Replace("?.tsrc=rss", "", StringComparison.Ordinal).Replace("&.tsrc=rss", "", StringComparison.Ordinal));
            var published = DateTime.ParseExact(expected[i].Child(dateElement), dateFormat, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);
            article.PublishedAt.ShouldBe(new DateTimeOffset(published, TimeSpan.Zero));
        }
    }
}
