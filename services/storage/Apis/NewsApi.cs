using Finstage.Storage.Infrastructure;
using Microsoft.AspNetCore.Http.HttpResults;

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

    public static async Task<Ok<IReadOnlyList<SymbolView>>> ListSymbolsAsync(NewsReader reader, CancellationToken cancellationToken) =>
        TypedResults.Ok(await reader.ListSymbolsAsync(cancellationToken));

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

    public static async Task<Results<Ok<IReadOnlyList<SourceHealthView>>, ValidationProblem>> GetSourceHealthAsync(
        NewsReader reader, string? runs, CancellationToken cancellationToken)
    {
        var query = new QueryReader();
        var window = query.Limit(runs, nameof(runs), byDefault: 100);
        if (!query.IsValid)
        {
            return TypedResults.ValidationProblem(query.Errors);
        }
        return TypedResults.Ok(await reader.GetSourceHealthAsync(window, cancellationToken));
    }
}
