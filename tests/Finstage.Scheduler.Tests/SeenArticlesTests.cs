using Finstage.Contracts;
using Finstage.Scheduler.Watchlist;

namespace Finstage.Scheduler.Tests;

/// <summary>What counts as a new article for an entry: a URL it has not seen lately.</summary>
[Trait("Category", "Reliability")]
[Trait("Lane", "Fast")]
public sealed class SeenArticlesTests
{
    private static readonly DateTimeOffset Noon = new(2026, 8, 14, 12, 0, 0, TimeSpan.Zero);

    [Fact(Timeout = 10_000)]
    public void Compare_CountsOnlyUrlsNotSeenBefore_WhenTheFeedKeepsItsOlderItems()
    {
        var (_, seen) = SeenArticles.Compare(null, [Article("a"), Article("b")], firstCrawl: false, TimeSpan.FromMinutes(3), Noon);

        var (fresh, after) = SeenArticles.Compare(seen, [Article("c"), Article("a"), Article("b"), Article("c")], firstCrawl: false, TimeSpan.FromMinutes(3), Noon);
        var (again, _) = SeenArticles.Compare(after, [Article("c"), Article("a")], firstCrawl: false, TimeSpan.FromMinutes(3), Noon);

        fresh.ShouldBe(1);
        again.ShouldBe(0);
        after.Length.ShouldBe(3 * 8);
    }

    [Fact(Timeout = 10_000)]
    public void Compare_CountsWhatWasPublishedWithinOneInterval_WhenTheEntryIsCrawledForTheFirstTime()
    {
        var articles = new[]
        {
            Article("recent", Noon - TimeSpan.FromMinutes(1)),
            Article("old", Noon - TimeSpan.FromHours(5)),
            Article("undated", null),
        };

        var (fresh, seen) = SeenArticles.Compare(null, articles, firstCrawl: true, TimeSpan.FromMinutes(3), Noon);

        fresh.ShouldBe(1);
        seen.Length.ShouldBe(3 * 8);
    }

    [Fact(Timeout = 10_000)]
    public void Compare_KeepsTheNewestUrlsOnly_WhenMoreThanItsCapacityWereSeen()
    {
        var many = Enumerable.Range(0, SeenArticles.Capacity + 50).Select(i => Article("n" + i)).ToList();

        var (_, seen) = SeenArticles.Compare(null, many, firstCrawl: false, TimeSpan.FromMinutes(3), Noon);
        var (fresh, _) = SeenArticles.Compare(seen, [many[0], many[^1]], firstCrawl: false, TimeSpan.FromMinutes(3), Noon);

        seen.Length.ShouldBe(SeenArticles.Capacity * 8);
        fresh.ShouldBe(1, "the feed's first items are kept, its 50 last beyond the capacity are not");
    }

    private static NewsArticle Article(string name, DateTimeOffset? publishedAt = null) =>
        new($"https://news.example.com/{name}.html", name, PublishedAt: publishedAt);
}
