using System.Xml.Linq;
using Microsoft.Extensions.Time.Testing;

namespace Finstage.FeedServer.Tests;

/// <summary>Starts feed servers on a fake clock and fetches from them, for the tests of this project.</summary>
internal static class TestFeeds
{
    /// <summary>A fixed, realistic "now", so that dates in the feeds are recent and assertions are exact.</summary>
    public static readonly DateTimeOffset Now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    public static readonly string[] Watchlist =
    [
        "^IXIC", "^GSPC", "^DJI", "ES=F", "NQ=F", "YM=F", "AAPL", "AMZN", "GOOGL", "TSLA", "MSFT", "META", "NVDA",
        "^TNX", "^TYX", "^IRX", "DX-Y.NYB", "UUP", "UDN", "^VIX", "^VXN", "XLF", "XLK", "XLE", "XLV", "XLI",
        "LQD", "HYG", "JNK", "EFA", "EEM", "IWM", "VTI",
    ];

    public static readonly (string Path, string Symbol)[] InvestingFeeds =
    [
        ("/rss/news.rss", "ECONOMY"), ("/rss/news_25.rss", "US"), ("/rss/market_overview.rss", "MARKET"),
        ("/rss/commodities.rss", "COMMODITY"), ("/rss/forex.rss", "FOREX"), ("/rss/news_301.rss", "TREASURY"),
        ("/rss/news_302.rss", "FED"), ("/rss/news_303.rss", "FINANCIAL"), ("/rss/news_304.rss", "TECH"),
        ("/rss/news_305.rss", "ENERGY"), ("/rss/news_306.rss", "EMERGING"), ("/rss/news_307.rss", "EUROPE"),
        ("/rss/news_308.rss", "ASIA"),
    ];

    public static TheoryData<string> WatchlistSymbols() => new(Watchlist);

    public static TheoryData<string> InvestingPaths() => new(InvestingFeeds.Select(f => f.Path));

    public static async Task<(RunningFeedServer Server, HttpClient Http, FakeTimeProvider Time)> StartAsync(FeedServerOptions? options = null)
    {
        var time = new FakeTimeProvider(Now);
        var server = await FeedServerApp.StartAsync(options ?? new FeedServerOptions(), time, port: 0, TestContext.Current.CancellationToken);
        return (server, new HttpClient { BaseAddress = server.BaseAddress }, time);
    }

    public static string YahooPath(string symbol) => $"/rss/2.0/headline?s={Uri.EscapeDataString(symbol)}&region=US&lang=en-US";

    public static async Task<XDocument> GetFeedAsync(this HttpClient http, string path)
    {
        using var response = await http.GetAsync(path, TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
        return XDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    public static List<XElement> Items(this XDocument feed) => feed.Root!.Element("channel")!.Elements("item").ToList();

    public static string Child(this XElement element, string name) => element.Element(name)?.Value ?? throw new ShouldAssertException($"<{element.Name}> has no <{name}>");
}
