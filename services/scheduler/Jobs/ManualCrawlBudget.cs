using System.Globalization;
using Cronos;
using Finstage.Scheduler.Watchlist;
using Microsoft.Extensions.Options;

namespace Finstage.Scheduler.Jobs;

/// <summary>
/// Decides whether a crawl asked for by hand can be fetched within its time to live, and if so books it.
/// Manual crawls wait in one queue of their own and drain at their sources' rates, less what each source's
/// schedule takes of its rate (its swept groups' crons, and what adaptive polling asks, <see cref="PollingLoad"/>);
/// the book is when that queue is expected to be empty.
/// </summary>
/// <remarks>
/// The book lives in this process: a second scheduler keeps its own, and a restart forgets it. It assumes
/// the crawler keeps up with each source's rate, and counts the whole manual queue ahead of a request,
/// whatever its sources, as the queue is first in, first out (docs/decisions/0013-manual-crawls.md).
/// </remarks>
public sealed class ManualCrawlBudget(IOptionsMonitor<ScheduleOptions> schedule, PollingLoad load, TimeProvider clock)
{
    private readonly Lock _gate = new();
    private DateTimeOffset _drainedAt = DateTimeOffset.MinValue;

    /// <summary>Books <paramref name="symbols"/> crawls of <paramref name="source"/> if they fit; answers how many would have.</summary>
    public ManualCrawlQuote TryBook(string source, int symbols)
    {
        var options = schedule.CurrentValue;
        var now = clock.GetUtcNow();
        var timeToLive = options.RequestTimeToLive;
        var rate = options.RequestsPerSecondOf(source);
        var scheduled = Math.Min(rate, (SweptCrawls(options, source, now, now + timeToLive) / timeToLive.TotalSeconds) + load.DemandOf(source));
        var manualRate = rate - scheduled;
        lock (_gate)
        {
            var ahead = _drainedAt > now ? _drainedAt - now : TimeSpan.Zero;
            var left = (timeToLive - ahead).TotalSeconds;
            var max = left <= 0 || manualRate <= 0 ? 0 : (int)Math.Min(int.MaxValue, Math.Floor((left * manualRate) + 1e-9));
            var booked = symbols <= max;
            if (booked)
            {
                _drainedAt = now + ahead + TimeSpan.FromSeconds(symbols / manualRate);
            }
            return new ManualCrawlQuote(booked, max, source, rate, scheduled, timeToLive, ahead);
        }
    }

    /// <summary>Crawls of <paramref name="source"/> its swept groups' crons will request between the two times.</summary>
    internal static double SweptCrawls(ScheduleOptions options, string source, DateTimeOffset from, DateTimeOffset to) =>
        options.Groups.Values
            .Where(group => group.Cron is not null && string.Equals(group.Source, source, StringComparison.OrdinalIgnoreCase))
            .Sum(group => (double)Occurrences(group.Cron, from, to) * group.Symbols.Distinct(StringComparer.Ordinal).Count());

    // As Hangfire reads a cron: with seconds when it has six fields, in UTC as every group's job is registered.
    private static int Occurrences(string? cron, DateTimeOffset from, DateTimeOffset to)
    {
        var format = (cron ?? "").Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries).Length == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard;
        return cron is not null && CronExpression.TryParse(cron, format, out var expression)
            ? expression.GetOccurrences(from, to, TimeZoneInfo.Utc, fromInclusive: false, toInclusive: true).Count()
            : 0;
    }
}

/// <summary>What <see cref="ManualCrawlBudget"/> answered about one request.</summary>
/// <param name="Booked">Whether the request fits and was booked.</param>
/// <param name="MaxSymbols">The most symbols a request of this source could have now.</param>
/// <param name="ScheduledPerSecond">The share of the source's rate its schedule takes, on average over a time to live.</param>
/// <param name="Ahead">How long the manual crawls booked earlier still need.</param>
public sealed record ManualCrawlQuote(
    bool Booked, int MaxSymbols, string Source, double RequestsPerSecond, double ScheduledPerSecond, TimeSpan TimeToLive, TimeSpan Ahead)
{
    /// <summary>Why a request over <see cref="MaxSymbols"/> is refused, in words.</summary>
    public string Explain()
    {
        var rate = RequestsPerSecond.ToString("0.###", CultureInfo.InvariantCulture);
        var schedule = ScheduledPerSecond > 0
            ? string.Create(CultureInfo.InvariantCulture, $" ({ScheduledPerSecond:0.###}/s of them for its schedule)")
            : "";
        var ahead = Ahead > TimeSpan.Zero
            ? string.Create(CultureInfo.InvariantCulture, $", after the crawls asked for by hand before it (about {Math.Ceiling(Ahead.TotalSeconds)} s of them still to fetch)")
            : "";
        return $"{Source} allows {rate} requests/s{schedule} and a request lives {Describe(TimeToLive)}: at most {MaxSymbols} symbols now{ahead}.";
    }

    private static string Describe(TimeSpan span) =>
        span.TotalMinutes >= 1 && span.TotalMinutes == Math.Floor(span.TotalMinutes)
            ? string.Create(CultureInfo.InvariantCulture, $"{span.TotalMinutes} min")
            : string.Create(CultureInfo.InvariantCulture, $"{span.TotalSeconds:0.#} s");
}
