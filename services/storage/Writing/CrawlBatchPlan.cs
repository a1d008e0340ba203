using Finstage.Contracts;
using Finstage.Storage.Events;
using Finstage.Storage.Infrastructure;

namespace Finstage.Storage.Writing;

/// <summary>
/// What one batch of crawl results writes: each article once per source that saw it, each symbol
/// link once, each crawl run once with its new/seen counts. Pure, so it can be built and checked
/// without a database.
/// </summary>
internal sealed class CrawlBatchPlan
{
    // The first sighting of each article in the batch: its sort time, should it be new.
    private readonly Dictionary<string, ArticleRow> _articles = new(StringComparer.Ordinal);
    // One row per article and source, in the order the batch saw them: what each source may write
    // differs (UpsertStatements), so two sources' words are never merged into one row.
    private readonly List<ArticleRow> _rows = [];
    private readonly Dictionary<(string Key, string Source), int> _rowOf = [];
    private readonly List<(NewsCrawled Crawl, List<byte[]> ArticleIds)> _crawls = [];
    private readonly List<NewArticles> _newArticles = [];

    private CrawlBatchPlan()
    {
    }

    /// <summary>
    /// Rows to upsert, in key order so that concurrent batches lock rows in the same order; an
    /// article seen by two sources has a row for each, in the order the batch saw them (a stable sort).
    /// </summary>
    public IReadOnlyList<ArticleRow> Articles => [.. _rows.OrderBy(row => row.Id, ByteOrder.Instance)];

    public IReadOnlyCollection<byte[]> ArticleIds => [.. _articles.Values.Select(row => row.Id)];

    /// <summary>
    /// After <see cref="Resolve"/>: each crawl that stored articles for the first time, with those articles
    /// (as first seen in the batch), in batch order; what the batch's <c>ArticlesStored</c> events carry.
    /// </summary>
    public IReadOnlyList<NewArticles> NewArticles => _newArticles;

    public static CrawlBatchPlan Create(IEnumerable<NewsCrawled> crawls, DateTime now)
    {
        var plan = new CrawlBatchPlan();
        var seenCrawls = new HashSet<Guid>();
        foreach (var crawl in crawls)
        {
            // A message delivered twice into the same batch is one crawl.
            if (!seenCrawls.Add(crawl.CrawlId))
            {
                continue;
            }
            var ids = new List<byte[]>();
            var inThisCrawl = new HashSet<string>(StringComparer.Ordinal);
            foreach (var article in crawl.NotModified || crawl.Articles is null ? Array.Empty<NewsArticle>() : crawl.Articles)
            {
                if (string.IsNullOrWhiteSpace(article.Url) || string.IsNullOrWhiteSpace(article.Title))
                {
                    continue;
                }
                var row = ArticleRow.From(article, crawl.Source, now);
                var key = Convert.ToHexString(row.Id);
                if (inThisCrawl.Add(key))
                {
                    ids.Add(row.Id);
                }
                plan._articles.TryAdd(key, row);
                // The same article from two symbols of one source in one batch: keep the first, fill its gaps.
                if (plan._rowOf.TryGetValue((key, row.Source), out var index))
                {
                    plan._rows[index] = plan._rows[index].FilledFrom(row);
                }
                else
                {
                    plan._rowOf.Add((key, row.Source), plan._rows.Count);
                    plan._rows.Add(row);
                }
            }
            plan._crawls.Add((crawl, ids));
        }
        return plan;
    }

    /// <summary>
    /// Given the articles already stored (id → sort time), says which of each crawl's articles
    /// are new, the links to write and the crawl runs to record.
    /// </summary>
    public (IReadOnlyList<LinkRow> Links, IReadOnlyList<CrawlRun> Runs) Resolve(IReadOnlyDictionary<string, DateTime> stored, DateTime now)
    {
        var known = new Dictionary<string, DateTime>(stored, StringComparer.Ordinal);
        var links = new Dictionary<(string, string), LinkRow>();
        var runs = new List<CrawlRun>(_crawls.Count);
        _newArticles.Clear();
        foreach (var (crawl, ids) in _crawls)
        {
            int fresh = 0, seen = 0;
            var newRows = new List<StoredArticle>();
            foreach (var id in ids)
            {
                var key = Convert.ToHexString(id);
                if (known.TryGetValue(key, out var sortAt))
                {
                    seen++;
                }
                else
                {
                    fresh++;
                    newRows.Add(_articles[key].AsStored());
                    sortAt = _articles[key].SortAt;
                    known[key] = sortAt;
                }
                links.TryAdd((key, crawl.Symbol), new LinkRow(id, crawl.Symbol, sortAt, now));
            }
            if (newRows.Count > 0)
            {
                _newArticles.Add(new NewArticles(crawl, newRows));
            }
            runs.Add(new CrawlRun
            {
                CrawlId = crawl.CrawlId,
                CycleId = crawl.CycleId,
                Source = crawl.Source,
                Symbol = crawl.Symbol,
                Status = crawl.NotModified ? CrawlStatus.NotModified : CrawlStatus.Succeeded,
                NewArticles = fresh,
                SeenArticles = seen,
                HttpStatus = crawl.HttpStatus,
                DurationMs = (int)Math.Min(int.MaxValue, crawl.Duration.TotalMilliseconds),
                FinishedAt = crawl.FetchedAt.UtcDateTime,
                RecordedAt = now,
            });
        }
        return ([.. links.Values.OrderBy(link => link.ArticleId, ByteOrder.Instance).ThenBy(link => link.Symbol, StringComparer.Ordinal)], runs);
    }
}
