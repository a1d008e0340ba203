using Finstage.Contracts;
using Finstage.Scheduler.Jobs;
using Hangfire;
using Hangfire.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Finstage.Scheduler.Apis;

/// <summary>Crawls by hand and the watchlist.</summary>
public static class CrawlsApi
{
    /// <summary>The body of POST /api/crawls: a source, and the symbols to crawl (all of the source's when omitted).</summary>
    public sealed record CrawlRequest(string? Source, string[]? Symbols);

    /// <summary>What POST /api/crawls answers: the cycle that will carry the requests.</summary>
    public sealed record CrawlAccepted(Guid CycleId, string JobId, string Source, int Symbols);

    /// <summary>One group of the watchlist, with its recurring job's times.</summary>
    public sealed record WatchlistGroup(
        string Name, string Source, string Cron, IReadOnlyList<string> Symbols, DateTime? NextRunAt, DateTime? LastRunAt);

    public static IEndpointRouteBuilder MapCrawlsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").WithTags("Crawls");
        api.MapPost("/crawls", RequestCrawl).WithSummary("Start a crawl")
            .WithDescription("Starts a crawl cycle now for a source, over the given symbols or all of its watchlist; answers the cycle id. " +
                "Manual crawls wait in a queue of their own, behind earlier manual ones but never ahead of the schedule; a request that " +
                "could not be fetched within its time to live at the source's rate is refused with 400, and 'maxSymbols' says how many it could take.");
        api.MapGet("/watchlist", GetWatchlist).WithSummary("Watchlist").WithDescription("The configured groups of symbols, their sources, crons and next runs.");
        return app;
    }

    public static Results<Accepted<CrawlAccepted>, ValidationProblem> RequestCrawl(
        CrawlRequest? request, IBackgroundJobClient jobs, IOptionsMonitor<ScheduleOptions> schedule, ManualCrawlBudget budget)
    {
        var options = schedule.CurrentValue;
        var errors = new Dictionary<string, string[]>();
        var source = request?.Source?.Trim();
        var known = options.Groups.Values.Select(group => group.Source).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        if (string.IsNullOrEmpty(source))
        {
            errors["source"] = [$"'source' is required: one of {string.Join(", ", known)}."];
        }
        else if (!known.Contains(source, StringComparer.OrdinalIgnoreCase))
        {
            errors["source"] = [$"'{source}' is not a configured source; configured: {string.Join(", ", known)}."];
        }
        var symbols = request?.Symbols is { } given
            ? given.Select(symbol => symbol?.Trim() ?? "").ToArray()
            : source is null ? [] : [.. options.SymbolsOf(source)];
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

    public static Ok<List<WatchlistGroup>> GetWatchlist(IOptionsMonitor<ScheduleOptions> schedule, JobStorage storage)
    {
        using var connection = storage.GetConnection();
        var recurring = connection.GetRecurringJobs().ToDictionary(job => job.Id, StringComparer.OrdinalIgnoreCase);
        var groups = schedule.CurrentValue.Groups
            .OrderBy(pair => pair.Key, StringComparer.Ordinal)
            .Select(pair =>
            {
                var job = recurring.GetValueOrDefault(RegisterRecurringJobs.JobIdPrefix + pair.Key.ToLowerInvariant());
                return new WatchlistGroup(pair.Key, pair.Value.Source, pair.Value.Cron, pair.Value.Symbols, job?.NextExecution, job?.LastExecution);
            })
            .ToList();
        return TypedResults.Ok(groups);
    }
}
