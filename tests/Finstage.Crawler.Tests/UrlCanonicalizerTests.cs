using Finstage.Crawler.Parsing;

namespace Finstage.Crawler.Tests;

/// <summary>Tracking parameters, trivial variations and non-web links, as storage's URL hash needs them.</summary>
[Trait("Lane", "Fast")]
public sealed class UrlCanonicalizerTests
{
    [Theory(Timeout = 30_000)]
    [InlineData("https://ex.com/a?utm_source=rss&utm_medium=feed&utm_campaign=x", "https://ex.com/a")]
    [InlineData("https://ex.com/a?mtm_campaign=x&id=1", "https://ex.com/a?id=1")]
    [InlineData("https://ex.com/a?fbclid=1&gclid=2&dclid=3&gbraid=4&wbraid=5&msclkid=6", "https://ex.com/a")]
    [InlineData("https://ex.com/a?yclid=1&ysclid=2&twclid=3&mc_cid=4&mc_eid=5", "https://ex.com/a")]
    [InlineData("https://ex.com/a?_hsenc=1&__hstc=2&mkt_tok=3&page=2", "https://ex.com/a?page=2")]
    [InlineData("https://finance.example.com/news/x.html?.tsrc=rss", "https://finance.example.com/news/x.html")]
    [InlineData("https://ex.com/q?s=BE&.tsrc=rss", "https://ex.com/q?s=BE")]
    [InlineData("https://ex.com/a?UTM_SOURCE=x", "https://ex.com/a")]
    public void Canonicalize_RemovesTrackingParameters_WhenPresent(string url, string expected)
    {
        UrlCanonicalizer.Canonicalize(url).ShouldBe(expected);
    }

    [Fact(Timeout = 30_000)]
    public void Canonicalize_KeepsOtherParametersInOrder_WhenTrackingParametersAreRemoved()
    {
        UrlCanonicalizer.Canonicalize("https://ex.com/p?z=1&utm_source=a&b=2&fbclid=x&a=3&a=4")
            .ShouldBe("https://ex.com/p?z=1&b=2&a=3&a=4");
    }

    [Theory(Timeout = 30_000)]
    [InlineData("HTTPS://News.Example.ORG/Path/Is/Kept", "https://news.example.org/Path/Is/Kept")]
    [InlineData("https://ex.com:443/a", "https://ex.com/a")]
    [InlineData("http://ex.com:80/a", "http://ex.com/a")]
    [InlineData("http://ex.com:8080/a", "http://ex.com:8080/a")]
    [InlineData("https://ex.com/a#comments", "https://ex.com/a")]
    [InlineData("https://ex.com", "https://ex.com/")]
    [InlineData("https://ex.com/a/../b/./c", "https://ex.com/b/c")]
    public void Canonicalize_ErasesTrivialVariations_WhenUrlDiffersOnlyInForm(string url, string expected)
    {
        UrlCanonicalizer.Canonicalize(url).ShouldBe(expected);
    }

    [Fact(Timeout = 30_000)]
    public void Canonicalize_TrimsWhitespace_WhenLinkIsPrettyPrinted()
    {
        UrlCanonicalizer.Canonicalize("\n      https://ex.com/a?id=7\n    ").ShouldBe("https://ex.com/a?id=7");
    }

    [Theory(Timeout = 30_000)]
    [InlineData("mailto:desk@example.org")]
    [InlineData("javascript:alert(1)")]
    [InlineData("ftp://ex.com/file")]
    [InlineData("file:///etc/passwd")]
    [InlineData("/relative/without/base")]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(null)]
    public void Canonicalize_ReturnsNull_WhenNotAnHttpUrl(string? url)
    {
        UrlCanonicalizer.Canonicalize(url).ShouldBeNull();
    }

    [Theory(Timeout = 30_000)]
    [InlineData("posts/1", "https://blog.example.org/feed/posts/1")]
    [InlineData("/posts/1", "https://blog.example.org/posts/1")]
    [InlineData("../news/2?utm_source=x", "https://blog.example.org/news/2")]
    [InlineData("//cdn.example.org/img.png", "https://cdn.example.org/img.png")]
    [InlineData("https://other.example.com/x", "https://other.example.com/x")]
    public void Canonicalize_ResolvesAgainstBase_WhenLinkIsRelative(string url, string expected)
    {
        UrlCanonicalizer.Canonicalize(url, new Uri("https://blog.example.org/feed/")).ShouldBe(expected);
    }

    [Theory(Timeout = 30_000)]
    [InlineData("utm_anything", true)]
    [InlineData(".tsrc", true)]
    [InlineData("fbclid", true)]
    [InlineData("id", false)]
    [InlineData("tsrc", false)]
    [InlineData("at_medium", false)]
    public void IsTrackingParameter_MatchesTheTrackerList_WhenAskedByName(string name, bool expected)
    {
        UrlCanonicalizer.IsTrackingParameter(name).ShouldBe(expected);
    }
}
