using System.Text;
using Finstage.Contracts;
using Finstage.Crawler.Parsing;
using Finstage.Testing;

namespace Finstage.Crawler.Tests;

/// <summary>
/// The parser under hostile and broken documents (issue 6): each is refused with its reason, or,
/// where it is merely odd, read with every item it holds. The fixtures' safety cases (billion
/// laughs, external entity, HTML page, sitemap) are in <see cref="FeedParserTests"/>.
/// </summary>
[Trait("Category", "Reliability")]
[Trait("Lane", "Fast")]
public sealed class HostileFeedTests
{
    private readonly FeedParser _parser = new();

    [Fact(Timeout = 30_000)]
    public void Parse_ReadsEveryItemAndItsText_WhenOneTitleHasBytesInvalidInTheDeclaredUtf8()
    {
        var result = _parser.Parse(HostileFeeds.InvalidInDeclaredEncoding, "application/rss+xml; charset=utf-8");

        result.Succeeded.ShouldBeTrue(result.ToString());
        result.Feed.Title.ShouldBe("Café € news");
        result.Feed.Items.Select(item => item.Title).ShouldBe(["Stray é byte", "Über “quotes”"]);
        result.Feed.Warnings.ShouldContain(w => w.Contains("not valid utf-8", StringComparison.Ordinal));
    }

    [Fact(Timeout = 30_000)]
    public void Parse_KeepsEveryItem_WhenBytesAreInvalidInADeclaredMultiByteEncoding()
    {
        // Shift_JIS "日本" in the channel title; 0x81 0xFF is no Shift_JIS character.
        byte[] document =
        [
            .. "<?xml version=\"1.0\" encoding=\"shift_jis\"?><rss version=\"2.0\"><channel><title>"u8, 0x93, 0xFA, 0x96, 0x7B,
            .. "</title><item><title>bad "u8, 0x81, 0xFF, .. " end</title><link>https://sjis.example.com/1</link></item>"u8,
            .. "<item><title>good</title><link>https://sjis.example.com/2</link></item></channel></rss>"u8,
        ];

        var result = _parser.Parse(document);

        result.Succeeded.ShouldBeTrue(result.ToString());
        result.Feed.Title.ShouldBe("日本");
        result.Feed.Items.Count.ShouldBe(2);
        result.Feed.Items[0].Title.ShouldStartWith("bad ");
        result.Feed.Items[0].Title.ShouldEndWith(" end");
        result.Feed.Warnings.ShouldContain(w => w.Contains("not valid shift_jis", StringComparison.Ordinal));
    }

    [Fact(Timeout = 30_000)]
    public void Parse_KeepsEveryItem_WhenTitlesHoldControlCharactersXmlForbids()
    {
        var result = _parser.Parse(HostileFeeds.ControlCharacters);

        result.Succeeded.ShouldBeTrue(result.ToString());
        result.Feed.WellFormed.ShouldBeTrue();
        result.Feed.Items.Select(item => item.Title).ShouldBe(["Vertical tab and control", "NUL and here", "Clean"]);
        result.Feed.Warnings.ShouldContain("control characters XML forbids removed");
    }

    [Fact(Timeout = 30_000)]
    public void Parse_NeverReadsTheTarget_WhenAnExternalEntityPointsAtALocalFile()
    {
        var secret = Path.GetTempFileName();
        File.WriteAllText(secret, "TOP-SECRET-CONTENT");
        try
        {
            var result = _parser.Parse(HostileFeeds.ExternalEntity(new Uri(secret).AbsoluteUri));

            result.Succeeded.ShouldBeTrue(result.ToString());
            var item = result.Feed.Items.ShouldHaveSingleItem();
            item.Title.ShouldBe("Leak: &secret;");
            Encoding.UTF8.GetString(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(result.Feed.Items)).ShouldNotContain("TOP-SECRET");
        }
        finally
        {
            File.Delete(secret);
        }
    }
}
