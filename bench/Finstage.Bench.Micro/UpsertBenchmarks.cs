using System.Globalization;
using BenchmarkDotNet.Attributes;
using Finstage.Contracts;
using Finstage.Storage.Infrastructure;
using Finstage.Storage.Writing;

namespace Finstage.Bench.Micro;

/// <summary>
/// The storage write path without the database: planning a batch of 100 crawl results of 20
/// articles, and building the 500-row article upsert from it.
/// </summary>
[MemoryDiagnoser]
public class UpsertBenchmarks
{
    private readonly DateTime _now = new(2026, 11, 25, 12, 0, 0, DateTimeKind.Utc);
    private List<NewsCrawled> _crawls = [];
    private IReadOnlyList<ArticleRow> _rows = [];

    [GlobalSetup]
    public void Setup()
    {
        _crawls = [.. Enumerable.Range(0, 100).Select(crawl => new NewsCrawled(
            Guid.NewGuid(), Guid.Empty, "yahoo", "SYM" + crawl.ToString(CultureInfo.InvariantCulture), _now, TimeSpan.FromMilliseconds(120), 200, false,
            [.. Enumerable.Range(0, 20).Select(item => new NewsArticle(
                string.Create(CultureInfo.InvariantCulture, $"https://finance.example.com/news/{crawl}-{item}.html"),
                string.Create(CultureInfo.InvariantCulture, $"Headline {item} about symbol {crawl}, markets move"),
                "A summary of a few dozen words, as feeds carry them, about what happened today in the markets.",
                _now.AddMinutes(-item), Publisher: "Example News"))]))];
        _rows = [.. CrawlBatchPlan.Create(_crawls, _now).Articles.Take(UpsertStatements.ChunkSize)];
    }

    [Benchmark]
    public int PlanBatch() => CrawlBatchPlan.Create(_crawls, _now).Articles.Count;

    [Benchmark]
    public int BuildArticleUpsert()
    {
        var command = UpsertStatements.Articles(_rows);
        return command.CommandText!.Length;
    }
}
