using Finstage.Contracts;
using Finstage.Crawler.Parsing;
using Finstage.Crawler.Tests.Evaluation;

namespace Finstage.Crawler.Tests;

/// <summary>The real captures in ../shared/fixtures/feeds/finance: every item, checked against an independent reading.</summary>
[Trait("Lane", "Fast")]
public sealed class FinanceCaptureTests
{
    private const string Folder = "feeds/finance";
    private const string Absent = "(shared fixtures absent)";

    public static TheoryData<string> Captures()
    {
        var root = FixturePaths.Shared();
        var folder = root is null ? null : Path.Combine(root, Folder);
        if (folder is null || !Directory.Exists(folder))
        {
            return new TheoryData<string>(Absent);
        }

        return new TheoryData<string>(Directory.EnumerateFiles(folder, "*.xml", SearchOption.AllDirectories)
            .Where(p => !p.Contains("NOT-A-FEED", StringComparison.Ordinal))
            .Select(p => Path.GetRelativePath(folder, p).Replace('\\', '/'))
            .Order(StringComparer.Ordinal));
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(Captures))]
    public void Parse_GivesEveryItemTitleCanonicalUrlAndUtcDate_WhenCaptureIsReal(string capture)
    {
        var folder = FixturePaths.SharedOrSkip(Folder);
        if (capture == Absent)
        {
            Assert.Skip($"shared fixtures not found under {folder}");
        }

        var truth = FinanceTruth.Load(folder, capture);
        var result = new FeedParser().Parse(truth.Content);

        result.Succeeded.ShouldBeTrue(result.ToString());
        var feed = result.Feed;
        feed.Entries.Count.ShouldBe(truth.ItemCount);
        feed.Items.Count.ShouldBe(feed.Entries.Select(e => e.Url).Distinct().Count(), "one article per canonical URL");
        feed.Title.ShouldNotBeNullOrWhiteSpace();
        foreach (var item in feed.Items)
        {
            item.Title.ShouldNotBeNullOrWhiteSpace();
            item.Title.ShouldBe(item.Title.Trim());
            item.Url.ShouldBe(UrlCanonicalizer.Canonicalize(item.Url), "URLs are already canonical");
            item.Url.ShouldNotContain("utm_");
            item.Url.ShouldNotContain(".tsrc");
            if (truth.DatesByUrl.TryGetValue(item.Url, out var expected))
            {
                item.PublishedAt.ShouldBe(expected, item.Url);
                item.PublishedAt!.Value.Offset.ShouldBe(TimeSpan.Zero);
            }
        }

        feed.Items.Count(i => i.PublishedAt is not null).ShouldBe(truth.DatesByUrl.Count);
    }

    [Theory(Timeout = 30_000)]
    [InlineData("yahoo/yahoo-headline-BE-2026-09-24.xml", "Yahoo! Finance: BE News", 20, "2026-09-24T12:45:01Z")]
    [InlineData("investing/investing-stock-market-news-2026-08-14.xml", "Stock Market News", 10, "2026-08-14T07:54:20Z")]
    [InlineData("cnbc/cnbc-finance-10000664-2026-08-14.xml", "Finance", 30, null)]
    [InlineData("reddit/reddit-r-wallstreetbets-atom-2020-07-03.xml", "wallstreetbets", 26, "2020-07-02T20:06:57Z")]
    [InlineData("economist/economist-finance-and-economics-2026-08-10.xml", "Finance & economics", 300, null)]
    public void Parse_MatchesHandCheckedValues_WhenCaptureIsReal(string capture, string title, int items, string? firstDate)
    {
        var path = Path.Combine(FixturePaths.SharedOrSkip(Folder), capture);

        var feed = new FeedParser().Parse(File.ReadAllBytes(path)).Feed!;

        feed.Title.ShouldBe(title);
        feed.Items.Count.ShouldBe(items);
        if (firstDate is not null)
        {
            feed.Items[0].PublishedAt.ShouldBe(DateTimeOffset.Parse(firstDate, System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    [Fact(Timeout = 30_000)]
    public void Parse_DropsYahooTrackingSuffix_WhenLinkHasOtherParameters()
    {
        var path = Path.Combine(FixturePaths.SharedOrSkip(Folder), "yahoo/yahoo-headline-BE-2026-09-24.xml");

        var feed = new FeedParser().Parse(File.ReadAllBytes(path)).Feed!;

        feed.Items.ShouldAllBe(i => !i.Url.EndsWith('?') && !i.Url.EndsWith('&'));
        feed.Items.ShouldContain(i => i.Url.Contains('?'), "links with their own query keep it");
    }

    [Fact(Timeout = 30_000)]
    public void Parse_ReturnsNotAFeed_WhenCaptureIsTheBloombergSitemap()
    {
        var path = Path.Combine(FixturePaths.SharedOrSkip(Folder), "bloomberg/bloomberg-news-sitemap-NOT-A-FEED-2026-03-15.xml");

        var result = new FeedParser().Parse(File.ReadAllBytes(path));

        result.Failure.ShouldBe(CrawlFailureReason.NotAFeed);
    }
}
