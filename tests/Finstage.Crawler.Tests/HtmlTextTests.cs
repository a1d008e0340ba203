using Finstage.Crawler.Parsing;

namespace Finstage.Crawler.Tests;

/// <summary>HTML in titles and summaries reduced to the text a reader would see.</summary>
public sealed class HtmlTextTests
{
    [Theory(Timeout = 30_000)]
    [InlineData("<p>Prices <b>rise</b></p><p>again</p>", "Prices rise again")]
    [InlineData("a<br>b<br/>c", "a b c")]
    [InlineData("safe<script>alert('x')</script> text<style>p{}</style>", "safe text")]
    [InlineData("<!-- SC_OFF -->kept", "kept")]
    [InlineData("Rates &amp; bonds&nbsp;&mdash; &#8364;5 &#x2019;", "Rates & bonds — €5 ’")]
    [InlineData("1 < 2 and 3 > 2", "1 < 2 and 3 > 2")]
    [InlineData("  many \n\t spaces  ", "many spaces")]
    [InlineData("<a href=\"x\">link</a> &unknown; stays", "link &unknown; stays")]
    [InlineData("<a href=http://example.com/\">example</a>", "example")]
    public void ToPlainText_GivesReadableText_WhenInputIsHtml(string html, string expected)
    {
        HtmlText.ToPlainText(html).ShouldBe(expected);
    }

    [Theory(Timeout = 30_000)]
    [InlineData("donâ€™t", "don’t")]
    [InlineData("\u00e2\u0080\u00a6", "…")]
    [InlineData("don\u0092t", "don’t")]
    [InlineData("café Señor", "café Señor")]
    public void NormalizeWhitespace_RepairsMisdecodedText_WhenUtf8WasReadAsLatin1(string text, string expected)
    {
        HtmlText.NormalizeWhitespace(text).ShouldBe(expected);
    }
}
