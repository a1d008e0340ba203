using Finstage.Scheduler.Jobs;
using Finstage.Scheduler.Watchlist;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Finstage.Scheduler.Tests;

/// <summary>How many symbols a crawl asked for by hand may have: what its source's rate fetches within the time to live.</summary>
[Trait("Category", "Reliability")]
[Trait("Lane", "Fast")]
public sealed class ManualCrawlBudgetTests
{
    private static readonly DateTimeOffset Noon = new(2026, 8, 14, 12, 0, 0, TimeSpan.Zero);

    [Fact(Timeout = 10_000)]
    public void TryBook_RefusesSayingHowManyFit_WhenRequestOutlastsItsTimeToLive()
    {
        var budget = Budget(new FakeTimeProvider(Noon));

        var refused = budget.TryBook("yahoo", 1201);
        // A source the scheduler has no rate for counts at the crawler's default, one request a second.
        var unknown = budget.TryBook("feed", 601);
        var booked = budget.TryBook("yahoo", 1200);

        refused.Booked.ShouldBeFalse();
        refused.MaxSymbols.ShouldBe(1200);
        refused.Explain().ShouldBe("yahoo allows 2 requests/s and a request lives 10 min: at most 1200 symbols now.");
        unknown.Booked.ShouldBeFalse();
        unknown.MaxSymbols.ShouldBe(600);
        booked.Booked.ShouldBeTrue();
    }

    [Fact(Timeout = 10_000)]
    public void TryBook_CountsTheManualCrawlsStillQueued_WhenEarlierRequestsAreNotYetFetched()
    {
        var clock = new FakeTimeProvider(Noon);
        var budget = Budget(clock);

        budget.TryBook("yahoo", 600).Booked.ShouldBeTrue();
        clock.Advance(TimeSpan.FromSeconds(100));
        var yahoo = budget.TryBook("yahoo", 801);
        // One first-in-first-out queue for every source: investing's crawls wait behind yahoo's too.
        var investing = budget.TryBook("investing", 401);
        clock.Advance(TimeSpan.FromSeconds(200));
        var drained = budget.TryBook("yahoo", 1200);

        // 600 symbols at 2/s take 300 s, of which 200 s are left: (600 s - 200 s) x 2/s.
        yahoo.Booked.ShouldBeFalse();
        yahoo.MaxSymbols.ShouldBe(800);
        yahoo.Explain().ShouldContain("at most 800 symbols now, after the crawls asked for by hand before it (about 200 s of them still to fetch)");
        investing.MaxSymbols.ShouldBe(400);
        // Refused requests booked nothing: once the first has drained, the whole time to live is free again.
        drained.Booked.ShouldBeTrue();
    }

    [Fact(Timeout = 10_000)]
    public void TryBook_LeavesTheScheduleItsShareOfTheRate_WhenSourceHasRecurringGroups()
    {
        var symbols = Enumerable.Range(0, 33).Select(i => $"S{i}").ToList();
        var budget = Budget(new FakeTimeProvider(Noon), new SymbolGroup { Source = "yahoo", Cron = "*/3 * * * *", Symbols = symbols });

        var quote = budget.TryBook("yahoo", 1200);

        // The group runs at 12:03, 12:06 and 12:09 within the next ten minutes: 99 of yahoo's 1,200 requests.
        quote.Booked.ShouldBeFalse();
        quote.MaxSymbols.ShouldBe(1101);
        quote.Explain().ShouldBe("yahoo allows 2 requests/s (0.165/s of them for its schedule) and a request lives 10 min: at most 1101 symbols now.");
    }

    [Fact(Timeout = 10_000)]
    public void TryBook_CountsCronsWithSeconds_AsHangfireReadsThem()
    {
        var budget = Budget(
            new FakeTimeProvider(Noon), new SymbolGroup { Source = "yahoo", Cron = "*/10 * * * * *", Symbols = ["A", "B", "C", "D", "E", "F"] });

        // Every 10 s, six symbols: 360 of the 1,200 requests in ten minutes.
        budget.TryBook("yahoo", 10_000).MaxSymbols.ShouldBe(840);
    }

    [Fact(Timeout = 10_000)]
    public void TryBook_LeavesAdaptivePollingItsShareOfTheRate_WhenTheWatchlistAsksForIt()
    {
        var load = new PollingLoad();
        // The last polling round found yahoo's entries asking half a request a second (say 90 entries every 3 minutes).
        load.Update(new Dictionary<string, double> { ["yahoo"] = 0.5 });
        var budget = Budget(new FakeTimeProvider(Noon), load: load);

        var quote = budget.TryBook("yahoo", 10_000);

        // (2 - 0.5) requests a second for ten minutes.
        quote.MaxSymbols.ShouldBe(900);
        quote.Explain().ShouldContain("(0.5/s of them for its schedule)");
    }

    [Fact(Timeout = 10_000)]
    public void TryBook_CountsNoCron_WhenTheSourcesGroupIsPolledAdaptively()
    {
        var budget = Budget(new FakeTimeProvider(Noon), new SymbolGroup { Source = "yahoo", Symbols = ["A", "B"] });

        budget.TryBook("yahoo", 10_000).MaxSymbols.ShouldBe(1200);
    }

    private static ManualCrawlBudget Budget(TimeProvider clock, SymbolGroup? group = null, PollingLoad? load = null)
    {
        var options = new ScheduleOptions
        {
            Sources = new(StringComparer.OrdinalIgnoreCase)
            {
                ["yahoo"] = new SourceRate { RequestsPerSecond = 2 },
                ["investing"] = new SourceRate { RequestsPerSecond = 1 },
            },
        };
        if (group is not null)
        {
            options.Groups["yahoo"] = group;
        }
        return new ManualCrawlBudget(new FixedOptions(options), load ?? new PollingLoad(), clock);
    }

    private sealed class FixedOptions(ScheduleOptions value) : IOptionsMonitor<ScheduleOptions>
    {
        public ScheduleOptions CurrentValue => value;

        public ScheduleOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<ScheduleOptions, string?> listener) => null;
    }
}
