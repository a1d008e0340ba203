using System.Globalization;
using System.Text.RegularExpressions;

namespace Finstage.FeedServer.Tests;

[Trait("Lane", "Fast")]
public sealed class FeedShapeTests
{
    [Theory(Timeout = 30_000)]
    [MemberData(nameof(TestFeeds.WatchlistSymbols), MemberType = typeof(TestFeeds))]
    [InlineData("ZZZZ")]
    public async Task YahooHeadline_AnswersFeedInYahooShape_WhenSymbolIsRequested(string symbol)
    {
        var (server, http, _) = await TestFeeds.StartAsync();
        await using var _server = server;
        using var _http = http;

        using var response = await http.GetAsync(TestFeeds.YahooPath(symbol), TestContext.Current.CancellationToken);
        response.StatusCode.ShouldBe(System.Net.HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/rss+xml");
        var feed = System.Xml.Linq.XDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));

        feed.Root!.Attribute("version")!.Value.ShouldBe("2.0");
        var channel = feed.Root.Element("channel")!.Elements().Select(e => e.Name.LocalName).ToList();
        // The channel's own title and link come after the items, as in Yahoo's feed.
        channel.TakeLast(4).ShouldBe(["language", "lastBuildDate", "link", "title"]);
        channel.IndexOf("item").ShouldBeLessThan(channel.IndexOf("title"));
        var items = feed.Items();
        items.Count.ShouldBe(new FeedServerOptions().ItemsPerFeed);
        foreach (var item in items)
        {
            item.Elements().Select(e => e.Name.LocalName).ShouldBe(["description", "guid", "link", "pubDate", "title"]);
            item.Element("guid")!.Attribute("isPermaLink")!.Value.ShouldBe("false");
            Guid.TryParse(item.Child("guid"), out _).ShouldBeTrue();
            item.Child("link").ShouldEndWith(".tsrc=rss");
            item.Child("link").ShouldStartWith(server.BaseAddress.AbsoluteUri);
            item.Child("title").ShouldNotBeNullOrWhiteSpace();
            item.Child("description").ShouldNotBeNullOrWhiteSpace();
            item.Child("pubDate").ShouldEndWith(" +0000");
            var published = DateTimeOffset.ParseExact(item.Child("pubDate"), "ddd, dd MMM yyyy HH:mm:ss zzz", CultureInfo.InvariantCulture);
            published.ShouldBeLessThanOrEqualTo(TestFeeds.Now);
            published.ShouldBeGreaterThan(TestFeeds.Now - (new FeedServerOptions().ItemInterval * (items.Count + 1)));
        }
        items.Select(i => i.Child("link")).ShouldBeUnique();
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(TestFeeds.InvestingPaths), MemberType = typeof(TestFeeds))]
    public async Task InvestingPath_AnswersFeedInInvestingShape_WhenPathIsKnown(string path)
    {
        var (server, http, _) = await TestFeeds.StartAsync();
        await using var _server = server;
        using var _http = http;

        var feed = await http.GetFeedAsync(path);

        var channel = feed.Root!.Element("channel")!;
        channel.Elements().Where(e => e.Name != "item").Select(e => e.Name.LocalName).ShouldBe(["title", "link"]);
        var items = feed.Items();
        items.Count.ShouldBe(new FeedServerOptions().ItemsPerFeed);
        foreach (var item in items)
        {
            item.Elements().Select(e => e.Name.LocalName).ShouldBe(["enclosure", "title", "pubDate", "author", "link"]);
            item.Element("enclosure")!.Attribute("type")!.Value.ShouldBe("image/jpeg");
            int.Parse(item.Element("enclosure")!.Attribute("length")!.Value, CultureInfo.InvariantCulture).ShouldBePositive();
            // Zone-less, as Investing.com writes it; the time is UTC.
            item.Child("pubDate").ShouldMatch(@"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$");
            var published = DateTime.ParseExact(item.Child("pubDate"), "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
            published.ShouldBeLessThanOrEqualTo(TestFeeds.Now.UtcDateTime);
            item.Child("author").ShouldNotBeNullOrWhiteSpace();
            item.Child("link").ShouldStartWith(server.BaseAddress.AbsoluteUri);
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task InvestingPath_Answers404_WhenPathIsUnknown()
    {
        var (server, http, _) = await TestFeeds.StartAsync();
        await using var _server = server;
        using var _http = http;

        using var response = await http.GetAsync("/rss/news_999.rss", TestContext.Current.CancellationToken);

        response.StatusCode.ShouldBe(System.Net.HttpStatusCode.NotFound);
    }

    [Fact(Timeout = 30_000)]
    public async Task YahooHeadline_Answers400_WhenSymbolIsMissing()
    {
        var (server, http, _) = await TestFeeds.StartAsync();
        await using var _server = server;
        using var _http = http;

        using var response = await http.GetAsync("/rss/2.0/headline?region=US&lang=en-US", TestContext.Current.CancellationToken);

        response.StatusCode.ShouldBe(System.Net.HttpStatusCode.BadRequest);
    }

    [Fact(Timeout = 30_000)]
    public async Task Health_Answers200_WhenServerRuns()
    {
        var (server, http, _) = await TestFeeds.StartAsync();
        await using var _server = server;
        using var _http = http;

        using var response = await http.GetAsync("/health", TestContext.Current.CancellationToken);

        response.StatusCode.ShouldBe(System.Net.HttpStatusCode.OK);
    }

    [Fact(Timeout = 30_000)]
    public async Task ArticleLink_AnswersPageWithItsHeadline_WhenFollowedFromFeed()
    {
        var (server, http, _) = await TestFeeds.StartAsync();
        await using var _server = server;
        using var _http = http;
        var item = (await http.GetFeedAsync(TestFeeds.YahooPath("^GSPC"))).Items()[3];

        var page = await http.GetStringAsync(new Uri(item.Child("link")), TestContext.Current.CancellationToken);

        page.ShouldContain(System.Net.WebUtility.HtmlEncode(item.Child("title")));
    }

    [Fact(Timeout = 30_000)]
    public async Task Feeds_AreByteForByteEqual_WhenTwoServersShareClockAndPublicBaseUrl()
    {
        var options = new FeedServerOptions { PublicBaseUrl = new Uri("http://feeds.test/") };
        var (first, firstHttp, _) = await TestFeeds.StartAsync(options);
        var (second, secondHttp, _) = await TestFeeds.StartAsync(options);
        await using var _first = first;
        await using var _second = second;
        using var _firstHttp = firstHttp;
        using var _secondHttp = secondHttp;
        var ct = TestContext.Current.CancellationToken;

        foreach (var path in new[] { TestFeeds.YahooPath("NVDA"), "/rss/forex.rss" })
        {
            var a = await firstHttp.GetByteArrayAsync(path, ct);
            var b = await secondHttp.GetByteArrayAsync(path, ct);
            a.ShouldBe(b);
            System.Text.Encoding.UTF8.GetString(a).ShouldContain("http://feeds.test/articles/");
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task Feeds_HaveDifferentHeadlines_WhenSymbolsDiffer()
    {
        var (server, http, _) = await TestFeeds.StartAsync();
        await using var _server = server;
        using var _http = http;

        var appleItems = (await http.GetFeedAsync(TestFeeds.YahooPath("AAPL"))).Items();
        var apple = appleItems.Select(i => i.Child("title")).ToList();
        var tesla = (await http.GetFeedAsync(TestFeeds.YahooPath("TSLA"))).Items().Select(i => i.Child("title")).ToList();

        apple.ShouldAllBe(title => title.Contains("Apple", StringComparison.Ordinal));
        tesla.ShouldAllBe(title => title.Contains("Tesla", StringComparison.Ordinal));
        var text = string.Join('\n', apple.Concat(appleItems.Select(i => i.Child("description"))));
        Regex.IsMatch(text, @"[{}]").ShouldBeFalse("every template slot is filled");
    }
}
