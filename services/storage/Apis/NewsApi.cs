using Finstage.Storage.Infrastructure;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Finstage.Storage.Apis;

/// <summary>The read API: news, one article, symbols, crawl runs and per-source health.</summary>
public static class NewsApi
{
    private const int MaxNameLength = ColumnLimits.Symbol;

    public static IEndpointRouteBuilder MapNewsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").WithTags("News");
        api.MapGet("/news", ListNewsAsync).WithSummary("List news")
            .WithDescription("News, newest first, filtered by symbol, source, time range (inclusive, UTC) and text in title or summary; keyset-paged: pass nextCursor back as cursor.");
        api.MapGet("/news/{id}", GetArticleAsync).WithSummary("Get an article").WithDescription("One article by its id (32 hex digits), with every symbol it belongs to.");
        api.MapGet("/symbols", ListSymbolsAsync).WithSummary("List symbols").WithDescription("Every symbol with its article count, newest article and last crawl.");
        api.MapGet("/crawls", ListCrawlsAsync).WithSummary("List crawl runs")
            .WithDescription("Crawl runs, newest first, filtered by source, symbol, status and cycle; keyset-paged.");
        api.MapGet("/sources/health", GetSourceHealthAsync).WithSummary("Source health")
            .WithDescription("Per source: success rate over its most recent runs, last success, last failure and its reason.");
        return app;
    }

    public static async Task<Results<Ok<Page<ArticleView>>, ValidationProblem>> ListNewsAsync(
        NewsReader reader, string? symbol, string? source, string? from, string? to, string? text, string? limit, string? cursor,
        CancellationToken cancellationToken)
    {
        var query = new QueryReader();
        var filter = new NewsFilter(
            query.Text(nameof(symbol), symbol, MaxNameLength),
            query.Text(nameof(source), source, ColumnLimits.Source),
            query.Time(nameof(from), from),
            query.Time(nameof(to), to),
            query.Text(nameof(text), text, 200),
            query.Limit(limit),
            query.Cursor(cursor, key => ArticleId.TryParse(key, out _)));
        if (filter.From > filter.To)
        {
            query.Fail(nameof(from), "'from' must not be later than 'to'.");
        }
        if (!query.IsValid)
        {
            return TypedResults.ValidationProblem(query.Errors);
        }
        return TypedResults.Ok(await reader.ListNewsAsync(filter, cancellationToken));
    }

    public static async Task<Results<Ok<ArticleView>, ProblemHttpResult, ValidationProblem>> GetArticleAsync(
        NewsReader reader, string id, CancellationToken cancellationToken)
    {
        if (!ArticleId.TryParse(id, out var key))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                [nameof(id)] = ["'id' must be 32 hexadecimal digits, as in the 'id' of a listed article."],
            });
        }
        var article = await reader.FindArticleAsync(key, cancellationToken);
        return article is null
            ? TypedResults.Problem($"No article has the id '{id}'.", statusCode: StatusCodes.Status404NotFound, title: "No such article")
            : TypedResults.Ok(article);
    }

    /// <summary>A symbol as GET /api/symbols shows it.</summary>
    public sealed record SymbolView(
        string Symbol, int ArticleCount, DateTime? NewestArticleAt, DateTime? LastCrawlAt, string? LastCrawlSource, string? LastCrawlStatus);

    public static Task<Ok<List<SymbolView>>> ListSymbolsAsync(NewsSessions sessions, CancellationToken cancellationToken) =>
        sessions.ReadAsync(async (db, ct) =>
        {
            var articles = await db.ArticleSymbols
                .GroupBy(link => link.Symbol)
                .Select(group => new { Symbol = group.Key, Count = group.Count(), Newest = group.Max(link => link.SortAt) })
                .ToDictionaryAsync(row => row.Symbol, StringComparer.OrdinalIgnoreCase, ct);
            var lastCrawls = await (
                from run in db.CrawlRuns
                join last in db.CrawlRuns.GroupBy(run => run.Symbol).Select(runs => new { Symbol = runs.Key, At = runs.Max(run => run.FinishedAt) })
                    on new { run.Symbol, At = run.FinishedAt } equals new { last.Symbol, last.At }
                select new { run.Symbol, run.Source, run.Status, run.FinishedAt })
                .ToListAsync(ct);
            var crawlBySymbol = lastCrawls.GroupBy(run => run.Symbol, StringComparer.OrdinalIgnoreCase)
                .ToDictionary(group => group.Key, group => group.First(), StringComparer.OrdinalIgnoreCase);

            var symbols = articles.Keys.Union(crawlBySymbol.Keys, StringComparer.OrdinalIgnoreCase)
                .Order(StringComparer.Ordinal)
                .Select(symbol =>
                {
                    var counted = articles.GetValueOrDefault(symbol);
                    var crawl = crawlBySymbol.GetValueOrDefault(symbol);
                    return new SymbolView(
                        symbol, counted?.Count ?? 0, counted?.Newest, crawl?.FinishedAt, crawl?.Source, crawl?.Status.ToString());
                })
                .ToList();
            return TypedResults.Ok(symbols);
        }, cancellationToken);

    public static async Task<Results<Ok<Page<CrawlRun>>, ValidationProblem>> ListCrawlsAsync(
        NewsReader reader, string? source, string? symbol, string? status, string? cycleId, string? limit, string? cursor,
        CancellationToken cancellationToken)
    {
        var query = new QueryReader();
        var filter = new CrawlFilter(
            query.Text(nameof(source), source, ColumnLimits.Source),
            query.Text(nameof(symbol), symbol, MaxNameLength),
            query.Enum<CrawlStatus>(nameof(status), status),
            query.Guid(nameof(cycleId), cycleId),
            query.Limit(limit),
            query.Cursor(cursor, key => Guid.TryParse(key, out _)));
        if (!query.IsValid)
        {
            return TypedResults.ValidationProblem(query.Errors);
        }
        return TypedResults.Ok(await reader.ListCrawlsAsync(filter, cancellationToken));
    }

    /// <summary>One source's health as GET /api/sources/health shows it.</summary>
    public sealed record SourceHealthView(
        string Source, int RecentRuns, double SuccessRate, DateTime? LastSuccessAt, DateTime? LastFailureAt,
        string? LastFailureReason, string? LastFailureDetail);

    public static async Task<Results<Ok<List<SourceHealthView>>, ValidationProblem>> GetSourceHealthAsync(
        NewsSessions sessions, string? runs, CancellationToken cancellationToken)
    {
        var query = new QueryReader();
        var window = runs is null ? 100 : query.Limit(runs);
        if (!query.IsValid)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                [nameof(runs)] = [$"'runs' must be a whole number from 1 to {QueryReader.MaxLimit}."],
            });
        }
        var health = await sessions.ReadAsync(async (db, ct) =>
        {
            var sources = await db.CrawlRuns.Select(run => run.Source).Distinct().OrderBy(source => source).ToListAsync(ct);
            var result = new List<SourceHealthView>(sources.Count);
            foreach (var source in sources)
            {
                var ofSource = db.CrawlRuns.Where(run => run.Source == source).OrderByDescending(run => run.FinishedAt);
                var recent = await ofSource.Take(window).Select(run => run.Status).ToListAsync(ct);
                var lastSuccess = await ofSource.Where(run => run.Status != CrawlStatus.Failed)
                    .Select(run => (DateTime?)run.FinishedAt).FirstOrDefaultAsync(ct);
                var lastFailure = await ofSource.Where(run => run.Status == CrawlStatus.Failed)
                    .Select(run => new { run.FinishedAt, run.FailureReason, run.FailureDetail }).FirstOrDefaultAsync(ct);
                result.Add(new SourceHealthView(
                    source,
                    recent.Count,
                    Math.Round(recent.Count(status => status != CrawlStatus.Failed) / (double)recent.Count, 4),
                    lastSuccess,
                    lastFailure?.FinishedAt,
                    lastFailure?.FailureReason,
                    lastFailure?.FailureDetail));
            }
            return result;
        }, cancellationToken);
        return TypedResults.Ok(health);
    }
}
