using Finstage.Contracts;
using Finstage.Crawler.Parsing;
using Finstage.Testing;

namespace Finstage.Crawler.Tests;

/// <summary>
/// The parser on one huge title (issue 6): refused past the size cap, kept whole within it. Apart from
/// <see cref="HostileFeedTests"/> because each parses megabytes (tens of seconds on a loaded machine), so the fast lane leaves them out.
/// </summary>
[Trait("Category", "Reliability")]
[Trait("Lane", "Slow")]
public sealed class OversizedTitleTests
{
    private readonly FeedParser _parser = new();

    [Fact(Timeout = 30_000)]
    public void Parse_ReturnsTooLarge_WhenOneTitleIsTenMegabytes()
    {
        var document = HostileFeeds.SingleTitle(10 * HostileFeeds.Megabyte);

        var result = _parser.Parse(document);

        result.Failure.ShouldBe(CrawlFailureReason.TooLarge);
        using var stream = new MemoryStream(document);
        _parser.Parse(stream).Failure.ShouldBe(CrawlFailureReason.TooLarge);
    }

    [Fact(Timeout = 30_000)]
    public void Parse_KeepsTheWholeTitle_WhenOneTitleIsThreeMegabytesWithinTheCap()
    {
        // Within the cap a long title is odd, not hostile: the crawler passes it on whole and
        // storage cuts it to its column (NewsWriterTests).
        var result = _parser.Parse(HostileFeeds.SingleTitle(3 * HostileFeeds.Megabyte));

        result.Succeeded.ShouldBeTrue(result.ToString());
        var title = result.Feed.Items.ShouldHaveSingleItem().Title;
        title.Length.ShouldBeGreaterThanOrEqualTo(3 * HostileFeeds.Megabyte - 1);
        title.ShouldStartWith("Markets rally as yields fall;");
    }
}
