using Finstage.Scheduler.Jobs;
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

    [Fact(Timeout = 10_000)]
    public void DeterministicGuid_IsStableAndDistinct_WhenNamesRepeatOrDiffer()
    {
        CrawlFanOut.DeterministicGuid("crawl:a").ShouldBe(CrawlFanOut.DeterministicGuid("crawl:a"));
        CrawlFanOut.DeterministicGuid("crawl:a").ShouldNotBe(CrawlFanOut.DeterministicGuid("crawl:b"));
        CrawlFanOut.DeterministicGuid("crawl:a").ToString()[14].ShouldBe('5');
    }
}
