using System.Text.Json;
using Finstage.Crawler.Commands;

namespace Finstage.FeedServer.Tests;

/// <summary>The crawler's own <c>fetch</c> command (its sources, HTTP pipeline and parser) against a feed server on the real clock.</summary>
[Trait("Lane", "Fast")]
public sealed class CrawlerFetchTests
{
    [Theory(Timeout = 60_000)]
    [InlineData("yahoo", "AAPL")]
    [InlineData("yahoo", "^GSPC")]
    [InlineData("investing", "ECONOMY")]
    [InlineData("investing", "ASIA")]
    public async Task FetchCommand_PrintsEveryItem_WhenSourcesPointAtFeedServer(string source, string symbol)
    {
        await using var feeds = await FeedServerApp.StartAsync(new FeedServerOptions(), TestContext.Current.CancellationToken);

        var (exitCode, output, error) = await FetchAsync(feeds, source, symbol);

        exitCode.ShouldBe(0, error);
        var items = JsonDocument.Parse(output).RootElement.GetProperty("items");
        items.GetArrayLength().ShouldBe(new FeedServerOptions().ItemsPerFeed);
        foreach (var item in items.EnumerateArray())
        {
            item.GetProperty("url").GetString().ShouldStartWith(feeds.BaseAddress.AbsoluteUri);
            item.GetProperty("title").GetString().ShouldNotBeNullOrWhiteSpace();
            DateTimeOffset.Parse(item.GetProperty("publishedAt").GetString()!, System.Globalization.CultureInfo.InvariantCulture)
                .ShouldBeLessThanOrEqualTo(DateTimeOffset.UtcNow);
        }
    }

    [Theory(Timeout = 60_000)]
    [InlineData("broken", "ParseError")]
    [InlineData("html", "NotAFeed")]
    public async Task FetchCommand_ReportsTheFailureReason_WhenFeedMisbehaves(string misbehaviour, string reason)
    {
        var options = misbehaviour == "broken" ? new FeedServerOptions { BrokenSymbols = "TSLA" } : new FeedServerOptions { HtmlSymbols = "TSLA" };
        await using var feeds = await FeedServerApp.StartAsync(options, TestContext.Current.CancellationToken);

        var (exitCode, _, error) = await FetchAsync(feeds, "yahoo", "TSLA");

        exitCode.ShouldBe(ParseCommand.NotParsedExitCode);
        error.ShouldStartWith($"{reason}:");
    }

    private static async Task<(int ExitCode, string Output, string Error)> FetchAsync(RunningFeedServer feeds, string source, string symbol)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        string[] settings =
        [
            $"Sources:yahoo:UrlTemplate={feeds.YahooUrlTemplate}",
            $"Sources:investing:BaseUrl={feeds.InvestingBaseUrl}",
            "Sources:investing:Feeds:ECONOMY=/rss/news.rss",
            "Sources:investing:Feeds:ASIA=/rss/news_308.rss",
        ];
        var exitCode = await FetchCommand.ExecuteAsync(source, symbol, settings, output, error, TestContext.Current.CancellationToken);
        return (exitCode, output.ToString(), error.ToString());
    }
}
