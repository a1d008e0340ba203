using System.Xml.Linq;

namespace Finstage.FeedServer.Tests;

[Trait("Lane", "Fast")]
public sealed class FeedChangesTests
{
    [Theory(Timeout = 30_000)]
    [InlineData("/rss/2.0/headline?s=AAPL&region=US&lang=en-US")]
    [InlineData("/rss/2.0/headline?s=%5EVIX&region=US&lang=en-US")]
    [InlineData("/rss/news_302.rss")]
    public async Task Feed_GainsOneNewItemAndKeepsTheOthers_WhenOneIntervalPasses(string path)
    {
        var options = new FeedServerOptions { ItemInterval = TimeSpan.FromMinutes(4), ItemsPerFeed = 12 };
        var (server, http, time) = await TestFeeds.StartAsync(options);
        await using var _server = server;
        using var _http = http;
        var before = Snapshot(await http.GetFeedAsync(path));

        time.Advance(options.ItemInterval);
        var after = Snapshot(await http.GetFeedAsync(path));

        after.Count.ShouldBe(12);
        before.ShouldNotContain(after[0]);
        // Everything but the oldest is still there, unchanged (same link, title and date): the crawler re-sees it.
        after.Skip(1).ShouldBe(before.Take(11));
        DateTime.Parse(after[0].Date, System.Globalization.CultureInfo.InvariantCulture)
            .ShouldBeGreaterThan(DateTime.Parse(before[0].Date, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact(Timeout = 30_000)]
    public async Task Feed_GainsAsManyItemsAsIntervalsPassed_WhenCrawledEveryFewMinutes()
    {
        var options = new FeedServerOptions { ItemInterval = TimeSpan.FromMinutes(2), ItemsPerFeed = 15 };
        var (server, http, time) = await TestFeeds.StartAsync(options);
        await using var _server = server;
        using var _http = http;
        var path = TestFeeds.YahooPath("MSFT");
        var seen = Snapshot(await http.GetFeedAsync(path)).Select(i => i.Link).ToHashSet();

        // A crawler polling every 3 minutes for half an hour sees 15 intervals' worth of new items: one per 2 minutes.
        var fresh = 0;
        for (var poll = 0; poll < 10; poll++)
        {
            time.Advance(TimeSpan.FromMinutes(3));
            fresh += Snapshot(await http.GetFeedAsync(path)).Count(item => seen.Add(item.Link));
        }

        fresh.ShouldBe(15);
    }

    [Fact(Timeout = 30_000)]
    public async Task Feed_StaysTheSame_WhenClockHasNotMoved()
    {
        var (server, http, _) = await TestFeeds.StartAsync();
        await using var _server = server;
        using var _http = http;
        var ct = TestContext.Current.CancellationToken;

        var first = await http.GetStringAsync(TestFeeds.YahooPath("GOOGL"), ct);
        var second = await http.GetStringAsync(TestFeeds.YahooPath("GOOGL"), ct);

        second.ShouldBe(first);
    }

    private sealed record Item(string Link, string Title, string Date);

    private static List<Item> Snapshot(XDocument feed) =>
        feed.Items().Select(i => new Item(i.Child("link"), i.Child("title"), i.Child("pubDate"))).ToList();
}
