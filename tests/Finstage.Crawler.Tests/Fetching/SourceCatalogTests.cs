using Finstage.Crawler.Sources;
using Microsoft.Extensions.Options;

namespace Finstage.Crawler.Tests.Fetching;

/// <summary>Which hosts and ports count as configured sources, and the per-host key their limits are found by.</summary>
[Trait("Category", "Reliability")]
[Trait("Category", "Security")]
[Trait("Lane", "Fast")]
public sealed class SourceCatalogTests
{
    private static readonly SourceCatalog Catalog = new(Options.Create(new SourcesOptions
    {
        Sources =
        {
            ["yahoo"] = new FeedSourceOptions { UrlTemplate = "http://127.0.0.1:5090/rss/2.0/headline?s={symbol}", RequestsPerSecond = 50, Burst = 20 },
            ["investing"] = new FeedSourceOptions { BaseUrl = "https://www.investing.com", Feeds = { ["FED"] = "/rss/news_302.rss" }, RequestsPerSecond = 3, Burst = 4 },
            ["feed"] = new FeedSourceOptions { Feeds = { ["lan"] = "http://reader:hunter2@[fd00::5]:8080/feed.xml" }, RequestsPerSecond = 7, Burst = 2 },
        },
    }));

    [Theory]
    [InlineData("127.0.0.1", 5090, true)]
    [InlineData("www.investing.com", 443, true)]
    [InlineData("WWW.Investing.COM", 443, true)]
    [InlineData("fd00::5", 8080, true)]
    [InlineData("[fd00::5]", 8080, true)]
    [InlineData("127.0.0.1", 5091, false)] // another port of a configured host
    [InlineData("localhost", 5090, false)] // another name for it
    [InlineData("www.investing.com", 80, false)]
    [InlineData("fd00::6", 8080, false)]
    public void IsConfiguredEndpoint_IsTrueOnlyForTheExactHostAndPort_WhenAskedAboutAConnection(string host, int port, bool configured)
    {
        Catalog.IsConfiguredEndpoint(host, port).ShouldBe(configured);
    }

    [Theory]
    [InlineData("http://127.0.0.1:5090/rss/2.0/headline?s=AAPL", 50, 20)]
    [InlineData("https://www.investing.com/rss/news_302.rss", 3, 4)]
    [InlineData("http://reader:hunter2@[fd00::5]:8080/feed.xml", 7, 2)]
    [InlineData("https://elsewhere.example/feed", 1, 1)]
    public void LimitsFor_FindsTheSourcesLimits_ByTheHostKeyOfAUrl(string url, double rate, int burst)
    {
        var key = SourceCatalog.HostKeyOf(new Uri(url));

        key.ShouldNotContain("hunter2");
        Catalog.LimitsFor(key).ShouldBe((rate, burst));
    }
}
