using Finstage.Crawler.Parsing;

namespace Finstage.Crawler.Tests;

/// <summary>HTML in titles and summaries reduced to the text a reader would see.</summary>
[Trait("Lane", "Fast")]
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

    [Trait("Category", "Reliability")]
    [Theory(Timeout = 30_000)]
    [InlineData("Hello <a href=\"x\" <b>world</b>", "Hello world")]
    [InlineData("Hello <a title=\"never closed <b>world</b>", "Hello")]
    [InlineData("1 < 2 <b>and</b> 3", "1 < 2 and 3")]
    public void ToPlainText_EndsATagWhoseValueWasQuotedAtTheNextTagOrTheEnd_WhenItsClosingBracketIsMissing(string html, string text)
    {
        // Giving up on such a tag and reading on from the character after its '<' would read its quoted '<'s
        // again, once for each of them: quadratic in a flood of them.
        HtmlText.ToPlainText(html).ShouldBe(text);
    }
}
