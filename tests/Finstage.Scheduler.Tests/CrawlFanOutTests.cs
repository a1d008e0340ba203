using Finstage.Hangfire.MySql;
using Finstage.Scheduler.Jobs;
using Finstage.Scheduler.Watchlist;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;

namespace Finstage.Scheduler.Tests;

public sealed class CrawlFanOutTests(SchedulerFixture scheduler)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact(Timeout = 120_000)]
    public async Task Trigger_PublishesTheGroupsCycle_WhenRecurringJobIsTriggeredByHand()
    {
        var before = scheduler.Requests.Messages.Select(r => r.Message.CycleId).ToHashSet();

        scheduler.Factory.Services.GetRequiredService<IRecurringJobManager>().Trigger("crawl-yahoo");

        // Room for one of the fan-out's own retries (10 s after a publish outlived Bus:PublishTimeout):
        // on a machine loaded by other builds, 30 s once ran out with nothing received.
        var received = await scheduler.Requests.WaitForAsync(
            3, request => !before.Contains(request.CycleId) && request.Source == "yahoo", TimeSpan.FromSeconds(90), Cancel);
        received.Select(r => r.Message.CycleId).Distinct().Count().ShouldBe(1);
        received.Select(r => r.Message.Symbol).ShouldBe(SchedulerFixture.TestGroupSymbols.Split(','), ignoreOrder: true);
    }

    [Fact(Timeout = 60_000)]
    public async Task RunRequestAsync_PublishesTheSameCrawlIds_WhenARunIsRepeated()
    {
        var fanOut = scheduler.Factory.Services.GetRequiredService<CrawlFanOut>();
        var cycleId = Guid.NewGuid();

        await fanOut.RunRequestAsync("yahoo", ["AAPL", "MSFT"], cycleId, Cancel);
        await fanOut.RunRequestAsync("yahoo", ["AAPL", "MSFT"], cycleId, Cancel);

        var received = await scheduler.ManualRequests.WaitForAsync(4, request => request.CycleId == cycleId, TimeSpan.FromSeconds(30), Cancel);
        received.Select(r => r.Message.CrawlId).Distinct().Count().ShouldBe(2);
    }

    [Fact(Timeout = 60_000)]
    public async Task RunGroupAsync_SkipsTheRun_WhenThePreviousRunStillHoldsItsLock()
    {
        var storage = scheduler.Factory.Services.GetRequiredService<JobStorage>();
        var fanOut = scheduler.Factory.Services.GetRequiredService<CrawlFanOut>();
        using var connection = storage.GetConnection();

        int published;
        using (connection.AcquireDistributedLock("finstage:fan-out:group:investing", TimeSpan.FromSeconds(5)))
        {
            published = await fanOut.RunGroupAsync("investing", null, Cancel);
        }
        var afterRelease = await fanOut.RunGroupAsync("investing", null, Cancel);

        published.ShouldBe(0);
        afterRelease.ShouldBe(1);
    }

    [Fact(Timeout = 120_000)]
    public async Task RunRequestAsync_PublishesThousandsOfRequests_WhenWatchlistIsLarge()
    {
        var fanOut = scheduler.Factory.Services.GetRequiredService<CrawlFanOut>();
        var cycleId = Guid.NewGuid();
        var symbols = Enumerable.Range(0, 2000).Select(i => $"SYM{i:D4}").ToArray();

        var published = await fanOut.RunRequestAsync("yahoo", symbols, cycleId, Cancel);

        published.ShouldBe(2000);
        var received = await scheduler.ManualRequests.WaitForAsync(2000, request => request.CycleId == cycleId, TimeSpan.FromSeconds(60), Cancel);
        received.Select(r => r.Message.Symbol).Distinct().Count().ShouldBe(2000);
    }

    [Fact(Timeout = 240_000)]
    [Trait("Category", "Reliability")]
    public async Task RunDueAsync_RequestsEachDueEntryOnce_WhenTwoInstancesRoundsRunAtOnceWithoutTheRoundLock()
    {
        // Two instances' rounds whose round lock does not keep them apart (its session lost to a network cut or a
        // database restart, which releases a GET_LOCK while its holder runs on): each claims its entries itself. Their
        // Hangfire storages differ only in the lock names' prefix; the watchlist, broker and clock are the fixture's.
        var services = scheduler.Factory.Services;
        CrawlFanOut Instance(string prefix) => ActivatorUtilities.CreateInstance<CrawlFanOut>(services, new RoundPlanner(),
            (JobStorage)new MySqlStorage(scheduler.RuntimeConnectionString, new MySqlStorageOptions { TablesPrefix = prefix, PrepareSchemaIfNecessary = false }));
        var first = Instance("twin_a_");
        var second = Instance("twin_b_");
        var watchlist = services.GetRequiredService<WatchlistStore>();
        var symbols = Enumerable.Range(0, 8).Select(i => $"TWIN{i}").ToList();
        const int rounds = 6;
        try
        {
            foreach (var symbol in symbols)
            {
                await watchlist.UpsertAsync(new EntrySettings("yahoo", symbol, null, true, 0, null, null), TimeSpan.FromMinutes(3), DateTimeOffset.UtcNow, Cancel);
            }
            for (var round = 0; round < rounds; round++)
            {
                // Due again with no request out, as when each entry's result is back and its interval has passed.
                await scheduler.CountAsync(
                    "UPDATE watchlist_entries SET next_due_at = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND, pending_until = NULL WHERE symbol LIKE 'TWIN%'");
                using var start = new Barrier(2);
                await Task.WhenAll(
                    Task.Run(() => { start.SignalAndWait(Cancel); return first.RunDueAsync(null, Cancel); }, Cancel),
                    Task.Run(() => { start.SignalAndWait(Cancel); return second.RunDueAsync(null, Cancel); }, Cancel));
                // Each round of the two (or the fixture's own, every 10 s) may take an entry; together once each.
                await scheduler.Requests.WaitForAsync(symbols.Count * (round + 1), request => request.Symbol.StartsWith("TWIN", StringComparison.Ordinal),
                    TimeSpan.FromSeconds(60), Cancel);
            }
            // Room for a duplicate still on its way through the broker to arrive.
            await Task.Delay(TimeSpan.FromSeconds(5), Cancel);
            var requested = scheduler.Requests.Messages.Select(received => received.Message).Where(request => request.Symbol.StartsWith("TWIN", StringComparison.Ordinal)).ToList();
            requested.GroupBy(request => request.Symbol).ToDictionary(symbol => symbol.Key, symbol => symbol.Count())
                .ShouldBe(symbols.ToDictionary(symbol => symbol, _ => rounds), ignoreOrder: true, "each entry once per time it was due");
            requested.Select(request => request.CrawlId).Distinct().Count().ShouldBe(symbols.Count * rounds);
        }
        finally
        {
            foreach (var symbol in symbols)
            {
                await watchlist.DeleteAsync("yahoo", symbol, CancellationToken.None);
            }
        }
    }

    [Fact(Timeout = 10_000)]
    public void DeterministicGuid_IsStableAndDistinct_WhenNamesRepeatOrDiffer()
    {
        CrawlFanOut.DeterministicGuid("crawl:a").ShouldBe(CrawlFanOut.DeterministicGuid("crawl:a"));
        CrawlFanOut.DeterministicGuid("crawl:a").ShouldNotBe(CrawlFanOut.DeterministicGuid("crawl:b"));
        CrawlFanOut.DeterministicGuid("crawl:a").ToString()[14].ShouldBe('5');
    }
}
