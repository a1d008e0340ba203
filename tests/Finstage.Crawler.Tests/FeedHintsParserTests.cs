using Finstage.Crawler.Parsing;

namespace Finstage.Crawler.Tests;

/// <summary>The channel's own refresh hints (issue 14): RSS <c>&lt;ttl&gt;</c> and the RSS 1.0 syndication module.</summary>
[Trait("Category", "Reliability")]
[Trait("Lane", "Fast")]
public sealed class FeedHintsParserTests
{
    [Theory(Timeout = 30_000)]
    [InlineData("<ttl>60</ttl>", 60)]
    [InlineData("<ttl> 15 </ttl>", 15)]
    [InlineData("<ttl>999999999</ttl>", 365 * 24 * 60)] // capped at a year
    public void Parse_ReadsTheTtlInMinutes_WhenTheChannelHasOne(string ttl, int minutes)
    {
        var feed = Parse($"""<rss version="2.0"><channel><title>T</title>{ttl}<item><link>https://example.com/a</link></item></channel></rss>""");

        feed.TimeToLive.ShouldBe(TimeSpan.FromMinutes(minutes));
    }

    [Theory(Timeout = 30_000)]
    [InlineData("")]
    [InlineData("<ttl>0</ttl>")]
    [InlineData("<ttl>-5</ttl>")]
    [InlineData("<ttl>ten</ttl>")]
    [InlineData("<ttl>1.5</ttl>")]
    [InlineData("<item><ttl>30</ttl><link>https://example.com/b</link></item>")] // an item's, not the channel's
    public void Parse_GivesNoTtl_WhenTheChannelHasNoneOrNoPositiveWholeNumber(string ttl)
    {
        var feed = Parse($"""<rss version="2.0"><channel><title>T</title>{ttl}<item><link>https://example.com/a</link></item></channel></rss>""");

        feed.TimeToLive.ShouldBeNull();
    }

    [Theory(Timeout = 30_000)]
    [InlineData("<sy:updatePeriod>hourly</sy:updatePeriod><sy:updateFrequency>2</sy:updateFrequency>", 30)]
    [InlineData("<sy:updatePeriod>daily</sy:updatePeriod>", 24 * 60)]
    [InlineData("<sy:updatePeriod> Weekly </sy:updatePeriod><sy:updateFrequency>7</sy:updateFrequency>", 24 * 60)]
    [InlineData("<sy:updatePeriod>hourly</sy:updatePeriod><sy:updateFrequency>0</sy:updateFrequency>", 60)]
    public void Parse_ReadsTheSyndicationInterval_WhenTheChannelNamesAPeriod(string sy, int minutes)
    {
        var feed = Parse($"""<rss version="2.0" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"><channel><title>T</title>{sy}<item><link>https://example.com/a</link></item></channel></rss>""");

        feed.UpdateInterval.ShouldBe(TimeSpan.FromMinutes(minutes));
        feed.TimeToLive.ShouldBeNull();
    }

    [Fact(Timeout = 30_000)]
    public void Parse_ReadsTheSyndicationInterval_InAnRss10Channel()
    {
        var feed = Parse("""
            <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/">
              <channel rdf:about="https://example.com/"><title>T</title><sy:updatePeriod>hourly</sy:updatePeriod><sy:updateFrequency>4</sy:updateFrequency></channel>
              <item rdf:about="https://example.com/a"><title>A</title><link>https://example.com/a</link></item>
            </rdf:RDF>
            """);

        feed.UpdateInterval.ShouldBe(TimeSpan.FromMinutes(15));
        feed.Items.Count.ShouldBe(1);
    }

    [Fact(Timeout = 30_000)]
    public void Parse_GivesNoSyndicationInterval_WhenThePeriodIsUnknownOrMissing()
    {
        Parse("""<rss version="2.0" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"><channel><sy:updatePeriod>sometimes</sy:updatePeriod></channel></rss>""")
            .UpdateInterval.ShouldBeNull();
        Parse("""<rss version="2.0" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"><channel><sy:updateFrequency>3</sy:updateFrequency></channel></rss>""")
            .UpdateInterval.ShouldBeNull();
    }

    private static ParsedFeed Parse(string xml)
    {
        var result = new FeedParser().Parse(System.Text.Encoding.UTF8.GetBytes(xml), "application/rss+xml");
        result.Succeeded.ShouldBeTrue(result.ToString());
        return result.Feed!;
    }
}
