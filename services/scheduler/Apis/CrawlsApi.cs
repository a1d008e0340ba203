using Finstage.Contracts;
using Finstage.Scheduler.Jobs;
using Finstage.Scheduler.Watchlist;
using Hangfire;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Finstage.Scheduler.Apis;

/// <summary>Crawls by hand.</summary>
public static class CrawlsApi
{
    /// <summary>The body of POST /api/crawls: a source, and the symbols to crawl (all of the source's when omitted).</summary>
    public sealed record CrawlRequest(string? Source, string[]? Symbols);

    /// <summary>What POST /api/crawls answers: the cycle that will carry the requests.</summary>
    public sealed record CrawlAccepted(Guid CycleId, string JobId, string Source, int Symbols);

    public static IEndpointRouteBuilder MapCrawlsApi(this IEndpointRouteBuilder app, Func<RouteGroupBuilder, RouteGroupBuilder> protect)
    {
        var api = protect(app.MapGroup("/api").WithTags("Crawls"));
        api.MapPost("/crawls", RequestCrawl).WithSummary("Start a crawl")
            .WithDescription("Starts a crawl cycle now for a source, over the given symbols or all of its watchlist; answers the cycle id. " +
                "Manual crawls wait in a queue of their own, behind earlier manual ones but never ahead of the schedule; a request that " +
                "could not be fetched within its time to live at the source's rate is refused with 400, and 'maxSymbols' says how many it could take.");
        return app;
    }

    public static async Task<Results<Accepted<CrawlAccepted>, ValidationProblem>> RequestCrawl(
        CrawlRequest? request, IBackgroundJobClient jobs, IOptionsMonitor<ScheduleOptions> schedule, ManualCrawlBudget budget,
        WatchlistStore watchlist, CancellationToken cancellationToken)
    {
        var options = schedule.CurrentValue;
        var errors = new Dictionary<string, string[]>();
        var source = request?.Source?.Trim();
        var known = WatchlistApi.KnownSources(options);
        if (string.IsNullOrEmpty(source))
        {
            errors["source"] = [$"'source' is required: one of {string.Join(", ", known)}."];
        }
        else if (!known.Contains(source, StringComparer.OrdinalIgnoreCase))
        {
            errors["source"] = [$"'{source}' is not a configured source; configured: {string.Join(", ", known)}."];
        }
        // Omitted symbols mean the source's whole watchlist as it is now: the database's enabled entries.
        var symbols = request?.Symbols is { } given
            ? given.Select(symbol => symbol?.Trim() ?? "").ToArray()
            : source is null || errors.Count > 0 ? [] : [.. (await watchlist.ListAsync(cancellationToken))
                .Where(entry => entry.Enabled && string.Equals(entry.Source, source, StringComparison.OrdinalIgnoreCase))
                .Select(entry => entry.Symbol)];
        // No ticker holds a control character; one would reach the crawler's URLs and the database.
        if (symbols.Any(symbol => symbol.Length is 0 or > FieldLengths.Symbol || symbol.Any(char.IsControl)))
        {
            errors["symbols"] = [$"Every symbol must be 1 to {FieldLengths.Symbol} characters long, without control characters."];
        }
        else if (request?.Symbols is not null && symbols.Length == 0)
        {
            errors["symbols"] = ["'symbols' may be omitted (the whole watchlist of the source) but not empty."];
        }
        else if (symbols.Length > options.MaxSymbolsPerRequest)
        {
            errors["symbols"] = [$"At most {options.MaxSymbolsPerRequest} symbols may be crawled in one request."];
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var canonicalSource = known.First(name => string.Equals(name, source, StringComparison.OrdinalIgnoreCase));
        var distinct = symbols.Distinct(StringComparer.Ordinal).Count();
        // Requests the crawler could not start within their time to live would only expire in its queue.
        var quote = budget.TryBook(canonicalSource, distinct);
        if (!quote.Booked)
        {
            return TypedResults.ValidationProblem(
                new Dictionary<string, string[]> { ["symbols"] = [quote.Explain()] },
                extensions: new Dictionary<string, object?> { ["maxSymbols"] = quote.MaxSymbols });
        }
        var cycleId = Guid.NewGuid();
        var jobId = jobs.Enqueue<CrawlFanOut>(job => job.RunRequestAsync(canonicalSource, symbols, cycleId, CancellationToken.None));
        return TypedResults.Accepted($"/hangfire/jobs/details/{jobId}", new CrawlAccepted(cycleId, jobId, canonicalSource, distinct));
    }
}
