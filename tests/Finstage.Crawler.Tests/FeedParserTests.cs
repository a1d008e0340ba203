using System.Text;
using Finstage.Contracts;
using Finstage.Crawler.Parsing;

namespace Finstage.Crawler.Tests;

/// <summary>The parser against the project's own fixtures: one per quirk of real feeds, plus the safety cases.</summary>
[Trait("Lane", "Fast")]
public sealed class FeedParserTests
{
    private readonly FeedParser _parser = new();

    [Fact(Timeout = 30_000)]
    public void Parse_ReadsChannelTitleAfterItems_WhenChildrenAreInAlphabeticalOrder()
    {
        var feed = ParseOwn("yahoo-child-order.xml");

        feed.Title.ShouldBe("Example Finance: EXMPL News");
        feed.Link.ShouldBe("http://finance.example.com/q/h?s=EXMPL");
        feed.Items.Select(i => i.Url).ShouldBe(
        [
            "https://finance.example.com/news/example-corp-beats-estimates-101.html",
            "https://markets.example.net/articles/2026/09/21/outlook?id=77",
            "https://finance.example.com/news/exmpl-older-story-099.html",
        ]);
        feed.Items[0].PublishedAt.ShouldBe(Utc("2026-09-24T12:45:01Z"));
        feed.Items[1].Title.ShouldBe("Is EXMPL a buy? Analysts “split”");
        feed.Items[0].ExternalId.ShouldBe("0f8c2b1e-5d8a-4c3e-9b61-2f0d7e4a9c11");
        feed.Warnings.ShouldBeEmpty();
    }

    [Fact(Timeout = 30_000)]
    public void Parse_TakesZonelessDatesAsUtc_WhenItemsHaveNoGuidOrDescription()
    {
        var feed = ParseOwn("investing-zoneless.xml");

        feed.Items.Count.ShouldBe(2);
        feed.Items[0].ShouldBe(new NewsArticle(
            "https://www.investing.example/news/stock-market-news/why-is-example-sliding-4859904",
            "Why is Example Holdings stock sliding today?",
            PublishedAt: Utc("2026-08-14T07:54:20Z"),
            Author: "Investing.com",
            ImageUrl: "https://media.investing.example/news/abc_M.jpg"));
        feed.Items[1].Title.ShouldBe("Futures edge higher & yields dip");
    }

    [Fact(Timeout = 30_000)]
    public void Parse_ReadsEveryDate_WhenSecondsAreMissingOrZonesAreNamed()
    {
        var feed = ParseOwn("cnbc-dates.xml");

        feed.Items.Select(i => i.PublishedAt).ShouldBe(
        [
            Utc("2026-08-14T02:51:00Z"),
            Utc("2026-08-07T12:10:00Z"),
            Utc("2026-08-14T02:30:00Z"),
            Utc("2026-08-13T12:30:00Z"),
            Utc("2026-08-13T08:00:00Z"),
            null,
        ]);
    }

    [Fact(Timeout = 30_000)]
    public void Parse_CanonicalisesAndCollapsesLinks_WhenLinksArePrettyPrintedAndTracked()
    {
        var feed = ParseOwn("pretty-links.xml");

        feed.Link.ShouldBe("https://news.example.org/");
        feed.Entries.Count.ShouldBe(3);
        feed.Items.ShouldHaveSingleItem().ShouldSatisfyAllConditions(
            i => i.Url.ShouldBe("https://news.example.org/markets/rates-hold?id=7"),
            i => i.Title.ShouldBe("Central bank holds rates"));
    }

    [Fact(Timeout = 30_000)]
    public void Parse_ReducesEscapedHtmlToText_WhenAtomContentIsHtml()
    {
        var feed = ParseOwn("atom-escaped-html.xml");

        feed.Format.ShouldBe(FeedFormat.Atom10);
        feed.Title.ShouldBe("r/exampletrading");
        feed.Link.ShouldBe("https://www.example-forum.com/r/exampletrading");
        var first = feed.Items[0];
        first.Title.ShouldBe("What are your moves tomorrow?");
        first.Summary.ShouldBe("Your daily trading thread. Rates & bonds");
        first.PublishedAt.ShouldBe(Utc("2020-07-02T20:06:57Z"), "no <published>: falls back to <updated>");
        first.Author.ShouldBe("/u/ExampleModerator");
        first.ImageUrl.ShouldBe("https://img.example-forum.com/thumb/abc123.jpg");
        first.ExternalId.ShouldBe("t3_abc123");
        var second = feed.Items[1];
        second.Title.ShouldBe("Plain <text> title", "type=text is literal, not HTML");
        second.Summary.ShouldBe("Inline XHTML content");
        second.PublishedAt.ShouldBe(Utc("2020-07-02T22:34:44Z"), "<published> wins over <updated>");
    }

    [Fact(Timeout = 30_000)]
    public void Parse_ResolvesRelativeLinks_WhenXmlBaseIsSet()
    {
        var feed = ParseOwn("xml-base.xml");

        feed.Link.ShouldBe("https://blog.example.org/");
        feed.Items.Select(i => i.Url).ShouldBe(
        [
            "https://blog.example.org/posts/first-post",
            "https://blog.example.org/archive/2025/second-post",
            "https://elsewhere.example.com/a/b/c",
        ]);
    }

    [Fact(Timeout = 30_000)]
    public void Parse_ResolvesRelativeLinks_WhenOnlyTheDocumentAddressIsKnown()
    {
        const string rss = "<rss version=\"2.0\"><channel><title>t</title><item><title>a</title><link>/news/1</link></item></channel></rss>";

        var result = _parser.Parse(Encoding.UTF8.GetBytes(rss), documentUri: new Uri("https://feeds.example.com/rss/news.rss"));

        result.Feed!.Items.ShouldHaveSingleItem().Url.ShouldBe("https://feeds.example.com/news/1");
    }

    [Theory(Timeout = 30_000)]
    [InlineData("sitemap.xml", CrawlFailureReason.NotAFeed, "sitemap")]
    [InlineData("html-page.html", CrawlFailureReason.NotAFeed, "HTML")]
    [InlineData("not-xml.json", CrawlFailureReason.ParseError, "not XML")]
    [InlineData("billion-laughs.xml", CrawlFailureReason.ParseError, "entity")]
    public void Parse_RefusesWithReason_WhenDocumentIsNoUsableFeed(string fixture, CrawlFailureReason reason, string detail)
    {
        var result = _parser.Parse(FixturePaths.OwnBytes(fixture));

        result.Succeeded.ShouldBeFalse();
        result.Failure.ShouldBe(reason);
        result.Detail.ShouldContain(detail);
    }

    [Theory(Timeout = 30_000)]
    [InlineData("")]
    [InlineData("   \n")]
    [InlineData("<rss><channel><title>broken")]
    [InlineData("<<<>>>")]
    public void Parse_ReturnsParseError_WhenNothingCanBeRecovered(string text)
    {
        _parser.Parse(Encoding.UTF8.GetBytes(text)).Failure.ShouldBe(CrawlFailureReason.ParseError);
    }

    [Fact(Timeout = 30_000)]
    public void Parse_KeepsCompleteItems_WhenDocumentIsTruncated()
    {
        var feed = ParseOwn("truncated.xml");

        feed.Title.ShouldBe("Cut off mid-transfer");
        feed.Items.Select(i => i.Url).ShouldBe(["https://cut.example.com/1", "https://cut.example.com/2"]);
        feed.Items[0].PublishedAt.ShouldBe(Utc("2026-09-01T10:00:00Z"));
        feed.Warnings.ShouldContain(w => w.Contains("not well-formed XML; kept what was complete before line 17", StringComparison.Ordinal));
    }

    [Theory(Timeout = 60_000)]
    [InlineData("yahoo-child-order.xml")]
    [InlineData("atom-escaped-html.xml")]
    [InlineData("investing-zoneless.xml")]
    [InlineData("rss10-rdf.xml")]
    [InlineData("utf16le-bom.xml")]
    public void Parse_KeepsOnlyWholeItemsAndNeverThrows_WhenDocumentIsCutAnywhere(string fixture)
    {
        var bytes = FixturePaths.OwnBytes(fixture);
        var full = _parser.Parse(bytes).Feed!.Items;

        for (var cut = 0; cut < bytes.Length; cut += 7)
        {
            var result = _parser.Parse(bytes.AsSpan(0, cut));
            if (!result.Succeeded)
            {
                result.Failure.ShouldBe(CrawlFailureReason.ParseError, $"cut at {cut}");
                continue;
            }

            // Every article recovered from a prefix is exactly the article the whole document gives.
            foreach (var item in result.Feed.Items)
            {
                full.ShouldContain(item, $"cut at {cut}");
            }
        }
    }

    [Fact(Timeout = 30_000)]
    public void Parse_DecodesHtmlEntities_WhenXmlDoesNotDefineThem()
    {
        var feed = ParseOwn("html-entities.xml");

        feed.Title.ShouldBe("Café & Marchés — daily");
        var item = feed.Items.ShouldHaveSingleItem();
        item.Title.ShouldBe("Stocks rally… again – € gains ’n’ all");
        item.Url.ShouldBe("https://entities.example.com/a?x=1&y=2");
        item.Summary.ShouldBe("Prices & yields © Example &madeup; €5");
    }

    [Fact(Timeout = 30_000)]
    public void Parse_NeverExpandsNestedEntities_WhenDocumentIsABillionLaughs()
    {
        var bytes = FixturePaths.OwnBytes("billion-laughs.xml");
        var limits = new FeedParserOptions { MaxCharactersFromEntities = 1_000 };

        var result = new FeedParser(limits).Parse(bytes);

        result.Failure.ShouldBe(CrawlFailureReason.ParseError);
        result.Detail!.ShouldContain("nested entity expansion is refused");
    }

    [Fact(Timeout = 30_000)]
    public void Parse_RefusesEntityExpansionPastTheLimit_WhenOneEntityIsRepeatedMany()
    {
        var body = string.Concat(Enumerable.Repeat("&big;", 2_000));
        var doc = $"<!DOCTYPE rss [<!ENTITY big \"{new string('x', 1_000)}\">]><rss version=\"2.0\"><channel><title>{body}</title></channel></rss>";

        var result = _parser.Parse(Encoding.UTF8.GetBytes(doc));

        result.Failure.ShouldBe(CrawlFailureReason.ParseError);
        result.Detail!.ShouldContain("expand past");
    }

    [Fact(Timeout = 30_000)]
    public void Parse_NeverLoadsExternalEntities_WhenDtdDeclaresOne()
    {
        var feed = ParseOwn("external-entity.xml");

        feed.Title.ShouldBe("Example Wire feed", "a plain internal entity is harmless and expanded");
        feed.Items.ShouldHaveSingleItem().Title.ShouldBe("Leak: &secret;");
        feed.Warnings.ShouldContain("external entity 'secret' not loaded");
    }

    [Fact(Timeout = 30_000)]
    public void Parse_UsesDeclaredEncoding_WhenDocumentIsLatin1()
    {
        var feed = ParseOwn("latin1-declared.xml");

        feed.Title.ShouldBe("Zürich café news");
        feed.Items.ShouldHaveSingleItem().Title.ShouldBe("Grüezi from the Börse");
        feed.Warnings.ShouldBeEmpty();
    }

    [Fact(Timeout = 30_000)]
    public void Parse_FollowsTheByteOrderMark_WhenDocumentIsUtf16()
    {
        var feed = ParseOwn("utf16le-bom.xml");

        feed.Title.ShouldBe("뉴스 UTF-16");
        feed.Items.ShouldHaveSingleItem().PublishedAt.ShouldBe(Utc("2026-08-03T00:00:00Z"));
    }

    [Fact(Timeout = 30_000)]
    public void Parse_PrefersTheByteOrderMark_WhenDeclarationSaysOtherwise()
    {
        ParseOwn("utf8-bom-wrong-declaration.xml").Title.ShouldBe("BOM wins: € and “quotes”");
    }

    [Fact(Timeout = 30_000)]
    public void Parse_UsesHttpCharset_WhenContentTypeNamesOne()
    {
        var bytes = FixturePaths.OwnBytes("windows1251-no-declaration.xml");

        var feed = _parser.Parse(bytes, "text/xml; charset=\"windows-1251\"").Feed!;

        feed.Title.ShouldBe("Новости рынка");
        feed.Items.ShouldHaveSingleItem().Title.ShouldBe("Индекс вырос");
        feed.Warnings.ShouldBeEmpty();
    }

    [Fact(Timeout = 30_000)]
    public void Parse_PrefersHttpCharsetOverDeclaration_WhenBothAreGiven()
    {
        var doc = "<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel><title>Börse</title></channel></rss>";
        var bytes = Encoding.Latin1.GetBytes(doc);

        _parser.Parse(bytes, "application/rss+xml; charset=ISO-8859-1").Feed!.Title.ShouldBe("Börse");
    }

    [Fact(Timeout = 30_000)]
    public void Parse_WarnsAndStillReads_WhenBytesAreNotTheEncodingAssumed()
    {
        var feed = ParseOwn("windows1251-no-declaration.xml");

        feed.Items.Count.ShouldBe(1);
        feed.Warnings.ShouldContain(w => w.Contains("not valid utf-8", StringComparison.Ordinal));
    }

    [Fact(Timeout = 30_000)]
    public void Parse_ReadsUtf8_WhenHttpCharsetWronglySaysAscii()
    {
        var bytes = Encoding.UTF8.GetBytes("<rss version=\"2.0\"><channel><title>Ünïcode “text”</title></channel></rss>");

        var feed = _parser.Parse(bytes, "text/xml; charset=us-ascii").Feed!;

        feed.Title.ShouldBe("Ünïcode “text”");
        feed.Warnings.ShouldContain(w => w.StartsWith("bytes that are not valid us-ascii", StringComparison.Ordinal));
    }

    [Fact(Timeout = 30_000)]
    public void Parse_ReturnsTooLarge_WhenDocumentExceedsTheCap()
    {
        var parser = new FeedParser(new FeedParserOptions { MaxBytes = 1_000 });
        var bytes = FixturePaths.OwnBytes("yahoo-child-order.xml");

        parser.Parse(bytes).Failure.ShouldBe(CrawlFailureReason.TooLarge);
        using var stream = new MemoryStream(bytes);
        parser.Parse(stream).Failure.ShouldBe(CrawlFailureReason.TooLarge);
    }

    [Fact(Timeout = 30_000)]
    public void Parse_AcceptsFiveMegabytes_WhenOptionsAreDefault()
    {
        new FeedParserOptions().MaxBytes.ShouldBe(5 * 1024 * 1024);
    }

    [Theory(Timeout = 30_000)]
    [InlineData("rss10-rdf.xml", FeedFormat.Rss10, "https://rdf.example.com/story/1", "2026-05-05T22:08:09Z")]
    [InlineData("atom03.xml", FeedFormat.Atom03, "https://atom03.example.com/2004/01/01/entry", "2004-01-01T19:48:21Z")]
    [InlineData("rss091.xml", FeedFormat.Rss091, "http://rss091.example.com/item1", null)]
    public void Parse_ReadsOlderFormats_WhenDocumentIsRss10Atom03OrRss091(string fixture, FeedFormat format, string url, string? date)
    {
        var feed = ParseOwn(fixture);

        feed.Format.ShouldBe(format);
        var item = feed.Items.ShouldHaveSingleItem();
        item.Url.ShouldBe(url);
        item.PublishedAt.ShouldBe(date is null ? null : Utc(date));
    }

    [Fact(Timeout = 30_000)]
    public void Parse_SkipsTooDeepMarkup_WhenItemNestsElementsThousandsDeep()
    {
        var deep = string.Concat(Enumerable.Repeat("<div>", 5_000)) + "deep" + string.Concat(Enumerable.Repeat("</div>", 5_000));
        var rss = $"<rss version=\"2.0\"><channel><item><title>kept</title><description>{deep}</description>"
            + "<link>https://deep.example.com/1</link></item></channel></rss>";

        var item = _parser.Parse(Encoding.UTF8.GetBytes(rss)).Feed!.Items.ShouldHaveSingleItem();

        item.Title.ShouldBe("kept");
        item.Url.ShouldBe("https://deep.example.com/1", "elements after the skipped subtree are still read");
    }

    [Fact(Timeout = 30_000)]
    public void Parse_ReadsItemsAfterUnclosedHtml_WhenDescriptionHasNakedBrAndImg()
    {
        const string rss = """
            <rss version="2.0"><channel><title>t</title>
              <item><title>one</title><link>https://naked.example.com/1</link>
                <description>line<br>next<img src="https://naked.example.com/i.png" alt="x"><BR/>end<img src="x.png"></img></description></item>
              <item><title>two</title><link>https://naked.example.com/2</link></item>
            </channel></rss>
            """;

        var feed = _parser.Parse(Encoding.UTF8.GetBytes(rss)).Feed!;

        feed.Items.Select(i => i.Title).ShouldBe(["one", "two"]);
        feed.Items[0].Summary.ShouldBe("line next end");
        feed.Warnings.ShouldBeEmpty();
    }

    [Fact(Timeout = 30_000)]
    public void Parse_DeclaresMissingPrefixes_WhenFeedUsesDcWithoutDeclaringIt()
    {
        const string rss = """
            <rss version="2.0"><channel><title>t</title><itunes:subtitle>s</itunes:subtitle>
              <item><title>one</title><link>https://ns.example.com/1</link><dc:creator>Ann One</dc:creator>
                <description><![CDATA[<o:p>Word HTML</o:p>]]></description></item>
            </channel></rss>
            """;

        var feed = _parser.Parse(Encoding.UTF8.GetBytes(rss)).Feed!;

        feed.Items.ShouldHaveSingleItem().Author.ShouldBe("Ann One");
        feed.Warnings.ShouldHaveSingleItem().ShouldBe("undeclared namespace prefix(es) dc, itunes declared");
    }

    [Fact(Timeout = 30_000)]
    public void Parse_PrefersCoreElements_WhenAnExtensionUsesTheSameNameFirst()
    {
        const string rss = """
            <rss version="2.0" xmlns:x="https://vendor.example.com/ns"><channel><x:title>vendor</x:title><title>core</title>
              <item><x:link>https://vendor.example.com/wrong</x:link><link>https://core.example.com/1</link><title>t</title></item>
            </channel></rss>
            """;

        var feed = _parser.Parse(Encoding.UTF8.GetBytes(rss)).Feed!;

        feed.Title.ShouldBe("core");
        feed.Items.ShouldHaveSingleItem().Url.ShouldBe("https://core.example.com/1");
    }

    [Fact(Timeout = 30_000)]
    public void Parse_ReturnsAnEmptyFeed_WhenChannelHasNoItems()
    {
        var feed = _parser.Parse("<rss version=\"2.0\"><channel><title>Quiet day</title></channel></rss>"u8).Feed!;

        feed.Title.ShouldBe("Quiet day");
        feed.Items.ShouldBeEmpty();
    }

    [Fact(Timeout = 30_000)]
    public void Parse_UsesPermalinkGuid_WhenItemHasNoLink()
    {
        const string rss = """
            <rss version="2.0"><channel>
              <item><title>a</title><guid>https://guid.example.com/a</guid></item>
              <item><title>b</title><guid isPermaLink="false">https://guid.example.com/b</guid></item>
              <item><description>Only a description, which stands in for the missing title of this item.</description><link>https://guid.example.com/c</link></item>
            </channel></rss>
            """;

        var feed = _parser.Parse(Encoding.UTF8.GetBytes(rss)).Feed!;

        feed.Entries.Count.ShouldBe(3);
        feed.Items.Select(i => (i.Url, i.Title)).ShouldBe(
        [
            ("https://guid.example.com/a", "a"),
            ("https://guid.example.com/c", "Only a description, which stands in for the missing title of this item."),
        ]);
    }

    [Fact(Timeout = 30_000)]
    public void Parse_ReadsRss20Fields_WhenExtensionsCarryThem()
    {
        const string rss = """
            <rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:media="http://search.yahoo.com/mrss/">
              <channel><title>x</title>
                <item>
                  <title><![CDATA[
                      Wrapped in newlines
                  ]]></title>
                  <link>https://x.example.com/1</link>
                  <dc:creator>Ann One</dc:creator><dc:creator>Bob Two</dc:creator>
                  <source url="https://publisher.example.com/">Publisher Wire</source>
                  <media:content url="https://img.example.com/1.jpg" medium="image"/>
                  <dc:date>2026-08-14T07:54:20+09:00</dc:date>
                </item>
              </channel>
            </rss>
            """;

        var item = _parser.Parse(Encoding.UTF8.GetBytes(rss)).Feed!.Items.ShouldHaveSingleItem();

        item.ShouldBe(new NewsArticle(
            "https://x.example.com/1", "Wrapped in newlines", null, Utc("2026-08-13T22:54:20Z"),
            "Ann One, Bob Two", "Publisher Wire", "https://img.example.com/1.jpg", null));
    }

    private ParsedFeed ParseOwn(string fixture)
    {
        var result = _parser.Parse(FixturePaths.OwnBytes(fixture));
        result.Succeeded.ShouldBeTrue(result.ToString());
        return result.Feed;
    }

    private static DateTimeOffset Utc(string iso) =>
        DateTimeOffset.Parse(iso, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal);
}
