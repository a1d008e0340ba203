using System.Globalization;
using Finstage.Contracts;
using Finstage.Scheduler.Jobs;
using Finstage.Scheduler.Watchlist;
using MassTransit;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Finstage.Scheduler.Apis;

/// <summary>The watchlist as data: list, add or change (PUT), pause, resume and remove entries.</summary>
public static class WatchlistApi
{
    /// <summary>The body of PUT: every field optional; what is omitted takes its default (enabled, priority 0, the default bounds).</summary>
    public sealed record EntryBody(string? FeedUrl, bool? Enabled, int? Priority, int? MinIntervalSeconds, int? MaxIntervalSeconds);

    /// <summary>One entry as the API shows it: its settings, how it is polled now, and its last result.</summary>
    public sealed record EntryView(
        string Source, string Symbol, string? FeedUrl, string Host, string? Group, string Polling, bool Enabled, int Priority,
        int? MinIntervalSeconds, int? MaxIntervalSeconds, double IntervalSeconds, DateTimeOffset NextDueAt, double OverdueSeconds,
        bool RequestOut, DateTimeOffset? LastRequestedAt, DateTimeOffset? LastCrawledAt, string? LastResult, string? LastDetail,
        int? LastNewArticles, DateTimeOffset? LastNewAt, int Failures);

    /// <summary>
    /// How a host keeps up: its rate, what its entries ask (the sum of 1 / interval), how many are due and how late the
    /// latest is, and how long one crawl of every entry takes at its rate (the longest any entry waits when it is behind).
    /// </summary>
    public sealed record HostView(
        string Host, string Source, int Entries, double RequestsPerSecond, double DemandPerSecond, int Due, double BehindSeconds, double SecondsPerPass);

    /// <summary>GET /api/watchlist.</summary>
    public sealed record WatchlistView(IReadOnlyList<EntryView> Entries, IReadOnlyList<HostView> Hosts);

    public static IEndpointRouteBuilder MapWatchlistApi(this IEndpointRouteBuilder app, Func<RouteGroupBuilder, RouteGroupBuilder> protect)
    {
        var api = protect(app.MapGroup("/api/watchlist").WithTags("Watchlist"));
        api.MapGet("", List).WithSummary("Watchlist")
            .WithDescription("Every entry with its interval, next run, last result, and per host how far behind it is.");
        api.MapGet("/{source}/{symbol}", Get).WithSummary("One entry");
        api.MapPut("/{source}/{symbol}", Put).WithSummary("Add or change an entry")
            .WithDescription("Creates the entry (201, crawled within a polling round) or replaces its settings (200). A feed URL that is new " +
                "to the entry is fetched and parsed once by the crawler first, under the crawler's network rules; one that is not a " +
                "feed is refused with 400 naming 'feedUrl' and why. Idempotent.");
        api.MapPost("/{source}/{symbol}/pause", (string source, string symbol, WatchlistStore store, IOptionsMonitor<ScheduleOptions> schedule,
                TimeProvider clock, CancellationToken ct) => SetEnabled(source, symbol, false, store, schedule, clock, ct))
            .WithSummary("Pause an entry").WithDescription("It is not crawled until resumed. Idempotent.");
        api.MapPost("/{source}/{symbol}/resume", (string source, string symbol, WatchlistStore store, IOptionsMonitor<ScheduleOptions> schedule,
                TimeProvider clock, CancellationToken ct) => SetEnabled(source, symbol, true, store, schedule, clock, ct))
            .WithSummary("Resume an entry").WithDescription("Due at once. Idempotent.");
        api.MapDelete("/{source}/{symbol}", Delete).WithSummary("Remove an entry")
            .WithDescription("It is never crawled again (a request already out is still answered). 204 whether or not it was there.");
        return app;
    }

    public static async Task<Ok<WatchlistView>> List(
        WatchlistStore store, IOptionsMonitor<ScheduleOptions> schedule, TimeProvider clock, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var options = schedule.CurrentValue;
        var swept = options.SweptGroups().ToHashSet(StringComparer.OrdinalIgnoreCase);
        var entries = await store.ListAsync(ct);
        var views = entries.Select(entry => View(entry, swept, now)).ToList();
        // A swept group's entries follow its cron, not their due times: only what is polled adaptively can fall behind.
        var hosts = entries.Where(entry => entry.Enabled && !(entry.Group is not null && swept.Contains(entry.Group)))
            .GroupBy(entry => (entry.Host, entry.Source))
            .Select(host =>
            {
                var rate = options.RequestsPerSecondOf(host.Key.Source);
                var due = host.Where(entry => entry.NextDueAt <= now).ToList();
                return new HostView(
                    host.Key.Host, host.Key.Source, host.Count(), rate,
                    Math.Round(host.Sum(entry => 1 / entry.Interval.TotalSeconds), 4),
                    due.Count,
                    due.Count == 0 ? 0 : Math.Round(due.Max(entry => (now - entry.NextDueAt).TotalSeconds), 1),
                    Math.Round(host.Count() / rate, 1));
            })
            .OrderBy(host => host.Host, StringComparer.Ordinal)
            .ToList();
        return TypedResults.Ok(new WatchlistView(views, hosts));
    }

    public static async Task<Results<Ok<EntryView>, NotFound>> Get(
        string source, string symbol, WatchlistStore store, IOptionsMonitor<ScheduleOptions> schedule, TimeProvider clock, CancellationToken ct)
    {
        var entry = await store.GetAsync(CanonicalSource(schedule.CurrentValue, source) ?? source, symbol, ct);
        return entry is null
            ? TypedResults.NotFound()
            : TypedResults.Ok(View(entry, schedule.CurrentValue.SweptGroups().ToHashSet(StringComparer.OrdinalIgnoreCase), clock.GetUtcNow()));
    }

    public static async Task<Results<Created<EntryView>, Ok<EntryView>, ValidationProblem>> Put(
        string source, string symbol, EntryBody? body, WatchlistStore store, IRequestClient<CheckFeed> checks,
        IOptionsMonitor<ScheduleOptions> schedule, IOptionsMonitor<PollingOptions> polling, TimeProvider clock, CancellationToken ct)
    {
        var options = schedule.CurrentValue;
        var limits = polling.CurrentValue;
        body ??= new EntryBody(null, null, null, null, null);
        var errors = new Dictionary<string, string[]>();
        var canonical = CanonicalSource(options, source);
        if (canonical is null)
        {
            errors["source"] = [$"'{source}' is not a configured source; configured: {string.Join(", ", KnownSources(options))}."];
        }
        symbol = symbol.Trim();
        if (symbol.Length is 0 or > FieldLengths.Symbol || symbol.Any(char.IsControl) || symbol.Contains('/', StringComparison.Ordinal))
        {
            errors["symbol"] = [$"A symbol must be 1 to {FieldLengths.Symbol} characters long, without control characters or '/'."];
        }
        var feedUrl = body.FeedUrl?.Trim();
        if (feedUrl is not null && (feedUrl.Length > FieldLengths.Url || !Uri.TryCreate(feedUrl, UriKind.Absolute, out var url)
            || url.Scheme is not ("http" or "https") || !string.IsNullOrEmpty(url.UserInfo)))
        {
            errors["feedUrl"] = [$"'feedUrl' must be an absolute http(s) URL of at most {FieldLengths.Url} characters, without user name or password."];
        }
        if (body.Priority is < 0 or > 100)
        {
            errors["priority"] = ["'priority' must be 0 to 100 (higher first when a host cannot take everything due)."];
        }
        var floor = (int)limits.Floor.TotalSeconds;
        const int week = 7 * 24 * 3600;
        if (body.MinIntervalSeconds is { } min && (min < floor || min > week))
        {
            errors["minIntervalSeconds"] = [$"'minIntervalSeconds' must be {floor} to {week}."];
        }
        if (body.MaxIntervalSeconds is { } max && (max < floor || max > week))
        {
            errors["maxIntervalSeconds"] = [$"'maxIntervalSeconds' must be {floor} to {week}."];
        }
        else if (body.MinIntervalSeconds is { } lower && body.MaxIntervalSeconds is { } upper && lower > upper)
        {
            errors["maxIntervalSeconds"] = ["'maxIntervalSeconds' must not be below 'minIntervalSeconds'."];
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var existing = await store.GetAsync(canonical!, symbol, ct);
        // A URL the entry already had was checked when it was put; only a new one is fetched first.
        if (feedUrl is not null && existing?.FeedUrl != feedUrl)
        {
            var refusal = await CheckFeedAsync(checks, feedUrl, limits.FeedCheckTimeout, clock, ct);
            if (refusal is not null)
            {
                return refusal;
            }
        }
        var settings = new EntrySettings(canonical!, symbol, feedUrl, body.Enabled ?? true, body.Priority ?? 0,
            body.MinIntervalSeconds is { } minimum ? TimeSpan.FromSeconds(minimum) : null,
            body.MaxIntervalSeconds is { } maximum ? TimeSpan.FromSeconds(maximum) : null);
        var now = clock.GetUtcNow();
        var initial = limits.BoundsFor(settings.MinInterval, settings.MaxInterval).Clamp(limits.InitialInterval);
        var created = await store.UpsertAsync(settings, initial, now, ct);
        var view = View((await store.GetAsync(canonical!, symbol, ct))!, options.SweptGroups().ToHashSet(StringComparer.OrdinalIgnoreCase), now);
        return created
            ? TypedResults.Created($"/api/watchlist/{Uri.EscapeDataString(canonical!)}/{Uri.EscapeDataString(symbol)}", view)
            : TypedResults.Ok(view);
    }

    public static async Task<NoContent> Delete(string source, string symbol, WatchlistStore store, IOptionsMonitor<ScheduleOptions> schedule, CancellationToken ct)
    {
        await store.DeleteAsync(CanonicalSource(schedule.CurrentValue, source) ?? source, symbol.Trim(), ct);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<EntryView>, NotFound>> SetEnabled(
        string source, string symbol, bool enabled, WatchlistStore store, IOptionsMonitor<ScheduleOptions> schedule, TimeProvider clock, CancellationToken ct)
    {
        var canonical = CanonicalSource(schedule.CurrentValue, source) ?? source;
        var now = clock.GetUtcNow();
        if (!await store.SetEnabledAsync(canonical, symbol.Trim(), enabled, now, ct))
        {
            return TypedResults.NotFound();
        }
        var entry = (await store.GetAsync(canonical, symbol.Trim(), ct))!;
        return TypedResults.Ok(View(entry, schedule.CurrentValue.SweptGroups().ToHashSet(StringComparer.OrdinalIgnoreCase), now));
    }

    // The crawler fetches and parses the URL once, under its own network rules; the scheduler never fetches anything itself.
    private static async Task<ValidationProblem?> CheckFeedAsync(
        IRequestClient<CheckFeed> checks, string feedUrl, TimeSpan timeout, TimeProvider clock, CancellationToken ct)
    {
        var seconds = timeout.TotalSeconds.ToString("0", CultureInfo.InvariantCulture);
        try
        {
            var answer = await checks.GetResponse<FeedChecked>(
                new CheckFeed(Guid.NewGuid(), feedUrl, clock.GetUtcNow()), ct, RequestTimeout.After(s: (int)Math.Ceiling(timeout.TotalSeconds)));
            var checkedFeed = answer.Message;
            return checkedFeed.IsFeed
                ? null
                : TypedResults.ValidationProblem(new Dictionary<string, string[]>
                {
                    ["feedUrl"] = [$"Not accepted: {checkedFeed.Reason}: {checkedFeed.Detail}"],
                });
        }
        catch (RequestTimeoutException)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["feedUrl"] = [$"Not accepted: the crawler did not check the feed within {seconds} s; try again later."],
            });
        }
    }

    private static EntryView View(WatchlistEntry entry, HashSet<string> swept, DateTimeOffset now) => new(
        entry.Source, entry.Symbol, entry.FeedUrl, entry.Host, entry.Group,
        entry.Group is not null && swept.Contains(entry.Group) ? "swept" : "adaptive",
        entry.Enabled, entry.Priority,
        entry.MinInterval is { } min ? (int)min.TotalSeconds : null,
        entry.MaxInterval is { } max ? (int)max.TotalSeconds : null,
        Math.Round(entry.Interval.TotalSeconds, 3), entry.NextDueAt,
        entry.Enabled && entry.NextDueAt < now && !(entry.Group is not null && swept.Contains(entry.Group)) ? Math.Round((now - entry.NextDueAt).TotalSeconds, 1) : 0,
        entry.PendingUntil > now, entry.LastRequestedAt, entry.LastCrawledAt, entry.LastResult, entry.LastDetail,
        entry.LastNewArticles, entry.LastNewAt, entry.Failures);

    /// <summary>The sources the scheduler knows: those of its groups and those it has a rate for.</summary>
    internal static List<string> KnownSources(ScheduleOptions options) =>
        [.. options.Groups.Values.Select(group => group.Source).Concat(options.Sources.Keys)
            .Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.Ordinal)];

    internal static string? CanonicalSource(ScheduleOptions options, string? source) =>
        KnownSources(options).FirstOrDefault(name => string.Equals(name, source?.Trim(), StringComparison.OrdinalIgnoreCase));
}
