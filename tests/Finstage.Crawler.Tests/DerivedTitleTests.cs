using System.Text;
using System.Text.Json;
using Finstage.Contracts;
using Finstage.Crawler.Parsing;

namespace Finstage.Crawler.Tests;

/// <summary>
/// Entries with a link but no title: kept, with a title from the summary's first words or the URL,
/// flagged as derived. Entries without a link are not articles.
/// </summary>
[Trait("Category", "Reliability")]
public sealed class DerivedTitleTests
{
    private readonly FeedParser _parser = new();

    [Fact(Timeout = 30_000)]
    public void Parse_KeepsRssItemWithTitleFromDescription_WhenItemHasNoTitle()
    {
        var feed = Parse("""
            <rss version="2.0"><channel><title>Wire</title>
              <item>
                <link>https://news.example.com/markets/2026/12/05/fed-minutes</link>
                <description>&lt;p&gt;The &lt;b&gt;Federal Reserve&lt;/b&gt; left rates unchanged on Friday, and its minutes show members split over how long to hold them there.&lt;/p&gt;</description>
              </item>
            </channel></rss>
            """);

        var item = feed.Items.ShouldHaveSingleItem();
        item.Url.ShouldBe("https://news.example.com/markets/2026/12/05/fed-minutes");
        item.Title.ShouldBe("The Federal Reserve left rates unchanged on Friday, and its minutes show…");
        item.Title.Length.ShouldBeLessThanOrEqualTo(DerivedTitle.MaxLength);
        item.TitleDerived.ShouldBeTrue();
        item.Summary.ShouldStartWith("The Federal Reserve left rates unchanged");
    }

    [Fact(Timeout = 30_000)]
    public void Parse_KeepsAtomEntryWithTitleFromSummary_WhenEntryHasNoTitle()
    {
        var feed = Parse("""
            <feed xmlns="http://www.w3.org/2005/Atom"><title>Wire</title>
              <entry>
                <id>urn:example:1</id>
                <link rel="alternate" href="https://news.example.com/a/1"/>
                <summary type="html">Oil &amp;amp; gas shares fell.</summary>
              </entry>
            </feed>
            """);

        var item = feed.Items.ShouldHaveSingleItem();
        item.Url.ShouldBe("https://news.example.com/a/1");
        item.Title.ShouldBe("Oil & gas shares fell.");
        item.TitleDerived.ShouldBeTrue();
    }

    [Theory(Timeout = 30_000)]
    [InlineData("https://news.example.com/markets/apple-q4_results-beat.html", "apple q4 results beat")]
    [InlineData("https://news.example.com/stocks/caf%C3%A9-chain-ipo/", "café chain ipo")]
    [InlineData("https://news.example.com/rates/version-2.5", "version 2.5")]
    [InlineData("https://news.example.com/", "news.example.com")]
    public void Parse_TakesTitleFromUrlsLastSegment_WhenItemHasOnlyALink(string link, string expected)
    {
        var feed = Parse($"""
            <rss version="2.0"><channel><title>Wire</title>
              <item><link>{link}</link></item>
            </channel></rss>
            """);

        var item = feed.Items.ShouldHaveSingleItem();
        item.Title.ShouldBe(expected);
        item.TitleDerived.ShouldBeTrue();
        item.Summary.ShouldBeNull();
    }

    [Fact(Timeout = 30_000)]
    public void Parse_LeavesEntryOut_WhenItHasNeitherTitleNorLink()
    {
        var feed = Parse("""
            <rss version="2.0"><channel><title>Wire</title>
              <item><description>Nothing to open: no link.</description></item>
              <item><title>Kept</title><link>https://news.example.com/kept</link></item>
            </channel></rss>
            """);

        feed.Entries.Count.ShouldBe(2);
        feed.Items.ShouldHaveSingleItem().Title.ShouldBe("Kept");
    }

    [Fact(Timeout = 30_000)]
    public void Parse_KeepsTheFeedsTitleUnflagged_WhenItemHasATitle()
    {
        var feed = Parse("""
            <rss version="2.0"><channel><title>Wire</title>
              <item><title>Stocks close higher</title><link>https://news.example.com/s</link>
                <description>A long description that is not the title.</description></item>
            </channel></rss>
            """);

        var item = feed.Items.ShouldHaveSingleItem();
        item.Title.ShouldBe("Stocks close higher");
        item.TitleDerived.ShouldBeFalse();
    }

    [Fact(Timeout = 30_000)]
    public void FromText_CutsInsideTheWord_WhenOneWordFillsTheRoom()
    {
        var title = DerivedTitle.FromText(new string('x', 200));

        title.ShouldBe(new string('x', DerivedTitle.MaxLength - 1) + "…");
    }

    [Fact(Timeout = 30_000)]
    public void FromUrl_ReplacesControlCharacters_WhenSegmentEscapesThem()
    {
        DerivedTitle.FromUrl("https://news.example.com/a%00b%0Ac").ShouldBe("a b c");
    }

    [Fact(Timeout = 30_000)]
    public void NewsArticle_ReadsTitleDerivedAsFalse_WhenMessageComesFromBeforeTheFlag()
    {
        var article = JsonSerializer.Deserialize<NewsArticle>(
            """{"url":"https://news.example.com/a","title":"Old"}""", JsonSerializerOptions.Web)!;

        article.TitleDerived.ShouldBeFalse();
        article.Title.ShouldBe("Old");
    }

    private ParsedFeed Parse(string xml)
    {
        var result = _parser.Parse(Encoding.UTF8.GetBytes(xml), "application/xml; charset=utf-8");
        result.Succeeded.ShouldBeTrue(result.Detail);
        return result.Feed!;
    }
}
