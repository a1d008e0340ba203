using Finstage.Contracts;
using Finstage.Crawler.Fetching;

namespace Finstage.Crawler.Tests.Fetching;

/// <summary>What a crawl publishes is cut to storage's columns and measured as the bus writes it, without a broker.</summary>
[Trait("Lane", "Fast")]
public sealed class OutgoingArticlesTests
{
    [Fact(Timeout = 30_000)]
    [Trait("Category", "Reliability")]
    public void Fit_ReturnsTheSameList_WhenNothingIsTooLong()
    {
        IReadOnlyList<NewsArticle> articles = [new("https://ex.com/a", "A", "summary", Author: "me"), new("https://ex.com/b", "B")];

        OutgoingArticles.Fit(articles).ShouldBeSameAs(articles);
    }

    [Fact(Timeout = 30_000)]
    [Trait("Category", "Reliability")]
    public void Fit_CutsEachTextToItsColumnAndDropsALongImageUrl_WhenTheyAreTooLong()
    {
        var longUrl = "https://" + new string('u', 5000);
        var first = new NewsArticle("https://ex.com/a", "A");
        var second = new NewsArticle(
            longUrl,
            new string('t', FieldLengths.Title + 1),
            new string('s', FieldLengths.Summary + 1),
            Author: new string('a', FieldLengths.Name + 1),
            Publisher: new string('p', FieldLengths.Name + 1),
            ImageUrl: "https://ex.com/" + new string('i', FieldLengths.Url),
            ExternalId: new string('e', FieldLengths.ExternalId + 1));

        var fitted = OutgoingArticles.Fit([first, second]);

        fitted.Count.ShouldBe(2);
        fitted[0].ShouldBe(first);
        // The URL is the article's key: never cut.
        fitted[1].Url.ShouldBe(longUrl);
        fitted[1].Title.Length.ShouldBe(FieldLengths.Title);
        fitted[1].Summary!.Length.ShouldBe(FieldLengths.Summary);
        fitted[1].Author!.Length.ShouldBe(FieldLengths.Name);
        fitted[1].Publisher!.Length.ShouldBe(FieldLengths.Name);
        fitted[1].ExternalId!.Length.ShouldBe(FieldLengths.ExternalId);
        fitted[1].ImageUrl.ShouldBeNull();
    }

    [Fact(Timeout = 30_000)]
    [Trait("Category", "Reliability")]
    public void Fit_DoesNotSplitASurrogatePair_WhenTheCutFallsInsideOne()
    {
        // "😀" is two UTF-16 units; the title's limit falls between them.
        var title = new string('x', FieldLengths.Title - 1) + "😀" + "tail";

        var fitted = OutgoingArticles.Fit([new NewsArticle("https://ex.com/a", title)]);

        fitted[0].Title.ShouldBe(new string('x', FieldLengths.Title - 1));
        char.IsHighSurrogate(fitted[0].Title[^1]).ShouldBeFalse();
    }

    [Fact(Timeout = 30_000)]
    [Trait("Category", "Reliability")]
    public void JsonBytes_CountsTheUtf8Bytes_WhenTheArticlesFitTheLimit()
    {
        IReadOnlyList<NewsArticle> ascii = [new("https://ex.com/a", "price")];
        IReadOnlyList<NewsArticle> euro = [new("https://ex.com/a", "€€€€€")];

        var asciiBytes = OutgoingArticles.JsonBytes(ascii, 1_000_000);
        var euroBytes = OutgoingArticles.JsonBytes(euro, 1_000_000);

        asciiBytes.ShouldNotBeNull();
        // Five characters either way; "€" is three bytes in UTF-8 (or a six-byte escape), "e" one.
        euroBytes.ShouldNotBeNull();
        (euroBytes.Value - asciiBytes.Value).ShouldBeGreaterThanOrEqualTo(5 * 2);
    }

    [Fact(Timeout = 30_000)]
    [Trait("Category", "Reliability")]
    public void JsonBytes_IsNull_WhenTheArticlesPassTheLimit()
    {
        IReadOnlyList<NewsArticle> articles = [new("https://ex.com/a", new string('t', 1000))];
        var size = OutgoingArticles.JsonBytes(articles, long.MaxValue)!.Value;

        OutgoingArticles.JsonBytes(articles, size).ShouldBe(size);
        OutgoingArticles.JsonBytes(articles, size - 1).ShouldBeNull();
        // Past the limit in characters alone: refused before anything is serialised.
        OutgoingArticles.JsonBytes(articles, 100).ShouldBeNull();
    }
}
