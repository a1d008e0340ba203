using Finstage.Contracts;
using Finstage.Storage.Events;
using Finstage.Storage.Infrastructure;
using Finstage.Storage.Reading;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Finstage.Storage.Apis;

/// <summary>The read API: news, one article, symbols, crawl runs and per-source health.</summary>
public static class NewsApi
{
    private const int MaxNameLength = FieldLengths.Symbol;

    public static IEndpointRouteBuilder MapNewsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").WithTags("News")
            .AddEndpointFilter(AnswerUnavailableReadsAsync)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        api.MapGet("/news", ListNewsAsync).WithSummary("List news").AddEndpointFilter(EntityTags.ValidateAsync)
            .WithDescription(
                "News, newest first, filtered by symbol, source, time range (inclusive, UTC) and text (a substring, any case, of the title or the whole summary); " +
                $"keyset-paged: pass nextCursor back as cursor. Each summary is cut to its first {ColumnLimits.SummaryPreview} characters (summaryTruncated says so, " +
                "summaryLength is the whole length; GET /api/news/{id} has it whole). With text, or with symbol and source together, one request " +
                "examines at most Reads:ScanRows (5,000) of the newest articles in range: a page can then be short, even empty, while nextCursor " +
                "goes on with the older ones; the list is over only when nextCursor is null. The answer's ETag is its body's hash: send it " +
                "back in If-None-Match to get 304 Not Modified while nothing changed.");
        api.MapGet("/news/{id}", GetArticleAsync).WithSummary("Get an article").AddEndpointFilter(EntityTags.ValidateAsync)
            .WithDescription("One article by its id (32 hex digits), with its whole summary and every symbol it belongs to; with an ETag, " +
                "and 304 Not Modified for an If-None-Match that names it.");
        api.MapGet("/symbols", ListSymbolsAsync).WithSummary("List symbols").WithDescription("Every symbol with its article count, newest article and last crawl.");
        api.MapGet("/crawls", ListCrawlsAsync).WithSummary("List crawl runs")
            .WithDescription(
                "Crawl runs, newest first, filtered by source, symbol, status and cycle; keyset-paged. Without cycleId, a status filter (unless " +
                "with source alone) or source and symbol together examine at most Reads:ScanRows runs per request: a page can be short, " +
                "even empty, while nextCursor goes on; the list is over only when nextCursor is null.");
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
            query.Text(nameof(source), source, FieldLengths.Source),
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
            query.Text(nameof(source), source, FieldLengths.Source),
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

    // A read the database cannot take now (the read pool busy past its checkout timeout, a statement past its command
    // timeout, the database away) is a 503 that says to come back, not a 500: the service itself is fine.
    private static async ValueTask<object?> AnswerUnavailableReadsAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        catch (ReadsUnavailableException)
        {
            context.HttpContext.Response.Headers.RetryAfter = "1";
            return TypedResults.Problem(
                "The news database cannot take more reads right now; try again shortly.",
                statusCode: StatusCodes.Status503ServiceUnavailable, title: "Too many reads");
        }
    }
}
