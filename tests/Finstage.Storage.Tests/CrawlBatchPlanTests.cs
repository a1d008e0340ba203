using Finstage.Contracts;
using Finstage.Storage.Infrastructure;
using Finstage.Storage.Writing;

namespace Finstage.Storage.Tests;

/// <summary>
/// What one batch of crawl results writes, decided without a database: NewsWriterTests check the
/// same rules end to end against MariaDB.
/// </summary>
[Trait("Lane", "Fast")]
public sealed class CrawlBatchPlanTests
{
    private static readonly DateTime Now = new(2026, 12, 5, 12, 0, 0, DateTimeKind.Utc);

    private static NewsCrawled Crawl(string source, string symbol, params NewsArticle[] articles) =>
        new(Guid.NewGuid(), Guid.NewGuid(), source, symbol, new DateTimeOffset(Now.AddSeconds(-1)), TimeSpan.FromMilliseconds(250), 200, false, articles);

    private static string Key(string url) => Convert.ToHexString(ArticleId.FromUrl(url));

    [Fact(Timeout = 30_000)]
    [Trait("Category", "Reliability")]
    public void Create_KeepsOneRowPerArticleAndSource_WhenTheBatchRepeatsAnArticle()
    {
        var a = new NewsArticle("https://ex.com/a", "A");
        var b = new NewsArticle("https://ex.com/b", "B", Summary: "from the second symbol");
        var crawls = new[]
        {
            Crawl("yahoo", "AAPL", a, new NewsArticle("https://ex.com/b", "B")),
            Crawl("yahoo", "MSFT", b, a),
            Crawl("google", "AAPL", a),
        };

        var plan = CrawlBatchPlan.Create(crawls, Now);

        plan.ArticleIds.Count.ShouldBe(2);
        plan.Articles.Select(row => (row.Url, row.Source)).OrderBy(pair => pair.Url).ThenBy(pair => pair.Source).ShouldBe(
        [
            ("https://ex.com/a", "google"),
            ("https://ex.com/a", "yahoo"),
            ("https://ex.com/b", "yahoo"),
        ]);
        // The same source's second sighting fills the gaps of the first, never overwrites it.
        plan.Articles.Single(row => row.Url == "https://ex.com/b").Summary.ShouldBe("from the second symbol");
        // Rows come in key order so that concurrent batches lock rows in the same order.
        plan.Articles.Select(row => row.Id).ShouldBe(plan.Articles.Select(row => row.Id).OrderBy(id => id, ByteOrder.Instance));
    }

    [Fact(Timeout = 30_000)]
    [Trait("Category", "Reliability")]
    public void Create_SkipsArticlesAndCrawls_ThatCarryNothingToStore()
    {
        var crawl = Crawl("yahoo", "AAPL", new NewsArticle(" ", "no url"), new NewsArticle("https://ex.com/t", "  "), new NewsArticle("https://ex.com/ok", "ok"));
        var notModified = Crawl("yahoo", "MSFT", new NewsArticle("https://ex.com/ignored", "304 has no body")) with { NotModified = true, HttpStatus = 304 };

        // A message delivered twice into one batch is one crawl.
        var plan = CrawlBatchPlan.Create([crawl, crawl, notModified], Now);

        plan.Articles.Select(row => row.Url).ShouldBe(["https://ex.com/ok"]);
        var (links, runs) = plan.Resolve(new Dictionary<string, DateTime>(), Now);
        runs.Count.ShouldBe(2);
        runs[1].Status.ShouldBe(CrawlStatus.NotModified);
        runs[1].NewArticles.ShouldBe(0);
        links.Count.ShouldBe(1);
    }

    [Fact(Timeout = 30_000)]
    [Trait("Category", "Reliability")]
    public void Create_SortsAFarFutureArticleByItsFirstSighting_WhenItsDateIsPastTheTrustedLead()
    {
        var trusted = Now + ArticleRow.TrustedLead;
        var plan = CrawlBatchPlan.Create(
            [Crawl("yahoo", "AAPL",
                new NewsArticle("https://ex.com/future", "F", PublishedAt: new DateTimeOffset(Now.AddYears(10))),
                new NewsArticle("https://ex.com/soon", "S", PublishedAt: new DateTimeOffset(trusted)))],
            Now);

        var future = plan.Articles.Single(row => row.Url == "https://ex.com/future");
        future.SortAt.ShouldBe(Now);
        future.PublishedAt.ShouldBe(Now.AddYears(10));
        plan.Articles.Single(row => row.Url == "https://ex.com/soon").SortAt.ShouldBe(trusted);
    }

    [Fact(Timeout = 30_000)]
    [Trait("Category", "Reliability")]
    public void Resolve_CountsStoredArticlesAsSeenAndKeepsTheirSortTime_WhenTheyAreAlreadyStored()
    {
        var storedAt = Now.AddDays(-3);
        var first = Crawl("yahoo", "AAPL", new NewsArticle("https://ex.com/old", "O"), new NewsArticle("https://ex.com/new", "N"));
        // The second crawl sees "new" after the first one in this batch already counted it as new.
        var second = Crawl("yahoo", "MSFT", new NewsArticle("https://ex.com/new", "N"), new NewsArticle("https://ex.com/new", "N again"));
        var plan = CrawlBatchPlan.Create([first, second], Now);

        var (links, runs) = plan.Resolve(new Dictionary<string, DateTime> { [Key("https://ex.com/old")] = storedAt }, Now);

        runs.Select(run => (run.CrawlId, run.NewArticles, run.SeenArticles)).ShouldBe([(first.CrawlId, 1, 1), (second.CrawlId, 0, 1)]);
        runs[0].Status.ShouldBe(CrawlStatus.Succeeded);
        runs[0].DurationMs.ShouldBe(250);
        runs[0].FinishedAt.ShouldBe(Now.AddSeconds(-1));
        runs[0].RecordedAt.ShouldBe(Now);
        links.Count.ShouldBe(3);
        links.Single(link => link.Symbol == "AAPL" && Convert.ToHexString(link.ArticleId) == Key("https://ex.com/old")).SortAt.ShouldBe(storedAt);
        links.Where(link => Convert.ToHexString(link.ArticleId) == Key("https://ex.com/new")).Select(link => link.Symbol).Order().ShouldBe(["AAPL", "MSFT"]);
        links.ShouldAllBe(link => link.FirstSeenAt == Now);
    }
}
