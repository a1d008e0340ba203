using System.Diagnostics;
using Finstage.Contracts;
using Finstage.Testing;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Finstage.Reliability.Tests;

/// <summary>
/// A cycle of a few hundred symbols in flight while one part of the system fails; afterwards
/// every symbol has its crawl run, no row is stored twice and no message is left behind, with
/// nothing restarted by hand but the process that was killed.
/// </summary>
/// <remarks>
/// Each fault is made to land inside the cycle by the cycle's own pace, not by the machine's: the
/// crawler fetches at most <c>Fetch:ConcurrentFetches</c> feeds at once from a feed site that answers
/// after a fixed latency, so results come no faster than that ratio however fast the machine is, and
/// a tap on the results' exchange (counted in real time) says when a fifth of them are out.
/// </remarks>
[Trait("Category", "Reliability")]
public sealed class FaultTests
{
    private const int Symbols = 240;

    private static void Record(string line) => TestContext.Current.TestOutputHelper?.WriteLine(line);

    [Fact(Timeout = 300_000)]
    public async Task Cycle_RecordsEveryCrawlOnce_WhenCrawlerIsKilledMidCycleAndRestarted()
    {
        var ct = TestContext.Current.CancellationToken;
        // 8 fetches at a time of 150 ms each: at most ~53 results a second, so the cycle lasts seconds.
        await using var pipeline = await RunningPipeline.StartAsync("crawler_kill", Symbols, TimeSpan.FromMilliseconds(150), ct,
            crawlerSettings: new Dictionary<string, string?> { ["Fetch:ConcurrentFetches"] = "8", ["Fetch:PrefetchCount"] = "16" });
        await pipeline.ReportOnFailureAsync(async () =>
        {
            await using var results = await ExchangeTap.StartAsync<NewsCrawled>(pipeline.VirtualHost, ct);
            var cycleId = await pipeline.RequestCycleAsync(ct);
            await results.WaitForCountAsync(Symbols / 5, TimeSpan.FromMinutes(2), ct);
            await pipeline.Crawler.KillAsync();
            var killedAt = Stopwatch.StartNew();
            var publishedAtKill = await results.SettledCountAsync(ct);
            Record($"crawler killed with {publishedAtKill} of {Symbols} results published");
            publishedAtKill.ShouldBeLessThan(Symbols, "the crawler must die in the middle of the cycle");
            await results.DisposeAsync();

            await pipeline.Crawler.RestartAsync(ct);
            await pipeline.WaitForCycleAsync(cycleId, TimeSpan.FromMinutes(3), ct);
            Record($"cycle complete {killedAt.Elapsed.TotalSeconds:0.0} s after the kill (restart included)");
            await pipeline.ShouldBeCompleteAndQuietAsync(cycleId, ct);
        });
    }

    // Longer than its neighbours: it starts the storage twice, and took 5 min on a machine shared by many builds.
    [Fact(Timeout = 480_000)]
    public async Task Cycle_RecordsEveryCrawlOnce_WhenStorageIsKilledMidIngestAndRestarted()
    {
        var ct = TestContext.Current.CancellationToken;
        // 4 fetches at a time of 250 ms each: at most 16 results a second, so after the first fifth is
        // recorded the crawler goes on publishing for over ten seconds, into the outage and past it.
        await using var pipeline = await RunningPipeline.StartAsync("storage_kill", Symbols, TimeSpan.FromMilliseconds(250), ct,
            crawlerSettings: new Dictionary<string, string?> { ["Fetch:ConcurrentFetches"] = "4", ["Fetch:PrefetchCount"] = "8" });
        await pipeline.ReportOnFailureAsync(async () =>
        {
            await using var results = await ExchangeTap.StartAsync<NewsCrawled>(pipeline.VirtualHost, ct);
            var cycleId = await pipeline.RequestCycleAsync(ct);
            await Eventually.WaitForAsync(() => pipeline.CountCrawlRunsAsync(cycleId, ct), count => count >= Symbols / 5,
                TimeSpan.FromMinutes(2), "a fifth of the cycle's crawl runs to be recorded", ct);
            await pipeline.Storage.KillAsync();
            var killedAt = Stopwatch.StartNew();
            var recordedAtKill = await pipeline.CountCrawlRunsAsync(cycleId, ct);
            Record($"storage killed with {recordedAtKill} of {Symbols} crawl runs recorded");
            recordedAtKill.ShouldBeLessThan(Symbols, "the storage must die in the middle of the cycle's ingest");

            // The outage itself: a fixed span (as tried by hand), while results go on queueing for the storage.
            await Task.Delay(TimeSpan.FromSeconds(8), ct);
            Record($"{await results.CountAsync(ct)} results published, {await pipeline.CountCrawlRunsAsync(cycleId, ct)} crawl runs recorded " +
                   "when the storage is started again");
            await pipeline.Storage.RestartAsync(ct);

            await pipeline.WaitForCycleAsync(cycleId, TimeSpan.FromMinutes(3), ct);
            Record($"cycle complete {killedAt.Elapsed.TotalSeconds:0.0} s after the kill (outage and restart included)");
            await results.DisposeAsync();
            await pipeline.ShouldBeCompleteAndQuietAsync(cycleId, ct);
        });
    }

    [Fact(Timeout = 300_000)]
    public async Task Cycle_RecordsEveryCrawlOnce_WhenBrokerIsStoppedMidCycleAndStartedAgain()
    {
        var ct = TestContext.Current.CancellationToken;
        (await LocalServers.WhyNotControllableAsync(ct)).ShouldBeNull();
        // 4 fetches at a time of 250 ms each: at most 16 results a second, so after the first fifth the
        // cycle has over ten seconds to run, far longer than the broker takes to stop.
        await using var pipeline = await RunningPipeline.StartAsync("broker_restart", Symbols, TimeSpan.FromMilliseconds(250), ct,
            crawlerSettings: new Dictionary<string, string?> { ["Fetch:ConcurrentFetches"] = "4", ["Fetch:PrefetchCount"] = "8" });
        await pipeline.ReportOnFailureAsync(async () =>
        {
            Guid cycleId;
            RunningPipeline.CycleAccepted duringOutage;
            Stopwatch startedAt;
            await using (var results = await ExchangeTap.StartAsync<NewsCrawled>(pipeline.VirtualHost, ct))
            {
                cycleId = await pipeline.RequestCycleAsync(ct);
                await results.WaitForCountAsync(Symbols / 5, TimeSpan.FromMinutes(2), ct);
            }
            try
            {
                await LocalServers.StopAsync(LocalServers.RabbitMq, ct);
                // Crawl results reach the database only through the broker: what is recorded now is all that made it.
                var recordedWhileDown = await pipeline.CountCrawlRunsAsync(cycleId, ct);
                Record($"broker stopped with {recordedWhileDown} of {Symbols} crawl runs recorded");
                recordedWhileDown.ShouldBeLessThan(Symbols, "the broker must go away in the middle of the cycle");

                // A cycle asked for while the broker is away: its fan-out cannot publish, gives up
                // after Bus:PublishTimeout, and Hangfire schedules a retry of the job.
                duringOutage = await pipeline.RequestCycleJobAsync(ct);
                await Eventually.WaitForAsync(() => pipeline.CountJobRetriesAsync(duringOutage.JobId, ct), retries => retries >= 1,
                    TimeSpan.FromMinutes(2), "the fan-out that could not publish to be scheduled for a retry", ct);
            }
            finally
            {
                await LocalServers.StartAsync(LocalServers.RabbitMq, CancellationToken.None);
            }
            startedAt = Stopwatch.StartNew();

            await pipeline.WaitForCycleAsync(cycleId, TimeSpan.FromMinutes(3), ct);
            Record($"interrupted cycle complete {startedAt.Elapsed.TotalSeconds:0.0} s after the broker was back");
            await pipeline.WaitForCycleAsync(duringOutage.CycleId, TimeSpan.FromMinutes(3), ct);
            Record($"cycle asked for during the outage complete {startedAt.Elapsed.TotalSeconds:0.0} s after the broker was back " +
                   $"(its fan-out retried {await pipeline.CountJobRetriesAsync(duringOutage.JobId, ct)} times)");
            foreach (var service in new[] { pipeline.Scheduler, pipeline.Crawler, pipeline.Storage })
            {
                service.HasExited.ShouldBeFalse($"{service.Name} must ride out the broker's restart without being restarted");
            }
            await pipeline.ShouldBeCompleteAndQuietAsync(cycleId, ct);
            await pipeline.ShouldBeCompleteAndQuietAsync(duringOutage.CycleId, ct);
        });
    }

    [Fact(Timeout = 300_000)]
    public async Task Cycle_RecordsEveryCrawlOnce_WhenDatabaseIsDownForThirtySecondsMidIngest()
    {
        var ct = TestContext.Current.CancellationToken;
        (await LocalServers.WhyNotControllableAsync(ct)).ShouldBeNull();
        // As in the broker's test: at most 16 results a second, so the cycle outlasts the database's stop.
        await using var pipeline = await RunningPipeline.StartAsync("database_outage", Symbols, TimeSpan.FromMilliseconds(250), ct,
            crawlerSettings: new Dictionary<string, string?> { ["Fetch:ConcurrentFetches"] = "4", ["Fetch:PrefetchCount"] = "8" });
        await pipeline.ReportOnFailureAsync(async () =>
        {
            Guid cycleId;
            Stopwatch startedAt;
            await using var results = await ExchangeTap.StartAsync<NewsCrawled>(pipeline.VirtualHost, ct);
            cycleId = await pipeline.RequestCycleAsync(ct);
            await results.WaitForCountAsync(Symbols / 5, TimeSpan.FromMinutes(2), ct);
            var outage = Stopwatch.StartNew();
            try
            {
                await LocalServers.StopAsync(LocalServers.MariaDb, ct);
                var publishedAtStop = await results.CountAsync(ct);
                Record($"database stopped with {publishedAtStop} of {Symbols} crawl results published");
                publishedAtStop.ShouldBeLessThan(Symbols, "the database must go away while crawl results are still coming in");

                await Eventually.WaitForAsync(() => pipeline.Storage.IsReadyAsync(ct), ready => !ready, TimeSpan.FromSeconds(25),
                    "the storage to report itself not ready while its database is away", ct);
                await Eventually.WaitForAsync(() => pipeline.Scheduler.IsReadyAsync(ct), ready => !ready, TimeSpan.FromSeconds(25),
                    "the scheduler to report itself not ready while its job storage is away", ct);
                Record($"storage and scheduler not ready {outage.Elapsed.TotalSeconds:0.0} s after the database began to stop");
                // The outage itself: a fixed span, not a wait for something.
                var rest = TimeSpan.FromSeconds(30) - outage.Elapsed;
                if (rest > TimeSpan.Zero)
                {
                    await Task.Delay(rest, ct);
                }
            }
            finally
            {
                await LocalServers.StartAsync(LocalServers.MariaDb, CancellationToken.None);
            }
            startedAt = Stopwatch.StartNew();
            Record($"database down for {outage.Elapsed.TotalSeconds:0.0} s; {await results.CountAsync(ct)} results published by then");

            await Eventually.WaitForAsync(() => pipeline.Storage.IsReadyAsync(ct), ready => ready, TimeSpan.FromMinutes(1),
                "the storage to be ready again once its database is back", ct);
            Record($"storage ready again {startedAt.Elapsed.TotalSeconds:0.0} s after the database was back");
            await pipeline.WaitForCycleAsync(cycleId, TimeSpan.FromMinutes(3), ct);
            Record($"cycle complete {startedAt.Elapsed.TotalSeconds:0.0} s after the database was back");
            await Eventually.WaitForAsync(() => pipeline.Scheduler.IsReadyAsync(ct), ready => ready, TimeSpan.FromMinutes(1),
                "the scheduler to be ready again once its job storage is back", ct);

            // The scheduler's Hangfire server, never restarted, still runs jobs: a whole new cycle.
            var after = await pipeline.RequestCycleAsync(ct);
            await pipeline.WaitForCycleAsync(after, TimeSpan.FromMinutes(3), ct);
            Record($"a new cycle asked for after the outage complete {startedAt.Elapsed.TotalSeconds:0.0} s after the database was back");
            foreach (var service in new[] { pipeline.Scheduler, pipeline.Crawler, pipeline.Storage })
            {
                service.HasExited.ShouldBeFalse($"{service.Name} must ride out the database's outage without being restarted");
            }
            await results.DisposeAsync();
            await pipeline.ShouldBeCompleteAndQuietAsync(cycleId, ct);
            await pipeline.ShouldBeCompleteAndQuietAsync(after, ct);
        });
    }

    [Fact(Timeout = 300_000)]
    public async Task Cycle_RecordsEveryCrawlOnce_WhenSchedulerIsKilledMidFanOut()
    {
        var ct = TestContext.Current.CancellationToken;
        // A watchlist large enough that its fan-out takes hundreds of milliseconds even on a fast
        // machine (about 5,000 publishes a second, docs/performance.md), against a tap counted in
        // about a millisecond: the kill lands at the first requests, far from the last.
        const int watchlist = 2000;
        await using var pipeline = await RunningPipeline.StartAsync("scheduler_kill", watchlist, TimeSpan.FromMilliseconds(10), ct,
            crawlerSettings: new Dictionary<string, string?> { ["Fetch:ConcurrentFetches"] = "32", ["Fetch:PrefetchCount"] = "64" },
            // A fetched job whose server stops heartbeating comes back after this (5 min by default).
            schedulerSettings: new Dictionary<string, string?> { ["Hangfire:InvisibilityTimeout"] = "00:00:15" });
        await pipeline.ReportOnFailureAsync(async () =>
        {
            // A cycle asked for by hand is sent to the crawler's queue for manual crawls, through the exchange of that name.
            await using var requests = await ExchangeTap.StartAsync(pipeline.VirtualHost, Queues.ManualCrawls, ct);
            var cycleId = await pipeline.RequestCycleAsync(ct);
            await requests.WaitForCountAsync(1, TimeSpan.FromMinutes(2), ct);
            await pipeline.Scheduler.KillAsync();
            var killedAt = Stopwatch.StartNew();
            var publishedAtKill = await requests.SettledCountAsync(ct);
            Record($"scheduler killed with {publishedAtKill} of {watchlist} crawl requests published");
            publishedAtKill.ShouldBeInRange(1L, watchlist - 1L, "the scheduler must die in the middle of its fan-out");

            await pipeline.Scheduler.RestartAsync(ct);
            await pipeline.WaitForCycleAsync(cycleId, TimeSpan.FromMinutes(3), ct);
            Record($"cycle complete {killedAt.Elapsed.TotalSeconds:0.0} s after the kill (restart and invisibility timeout included)");

            // The job ran again from the start, with the same crawl ids: the requests published before
            // the kill are repeated, not new crawls.
            await requests.WaitForCountAsync(publishedAtKill + watchlist, TimeSpan.FromMinutes(1), ct);
            var published = await requests.DrainAsync(ct);
            Record($"{published.Count} crawl requests published in all");
            published.Count.ShouldBeGreaterThanOrEqualTo((int)publishedAtKill + watchlist, "at least one whole fan-out after the partial one");
            var publishedIds = published.Select(message => message.GetProperty("crawlId").GetGuid()).ToHashSet();
            publishedIds.Count.ShouldBe(watchlist);
            publishedIds.SetEquals(await pipeline.CrawlIdsAsync(cycleId, ct)).ShouldBeTrue("the crawl ids of both runs are the cycle's recorded ones");
            await requests.DisposeAsync();
            await pipeline.ShouldBeCompleteAndQuietAsync(cycleId, ct);
        });
    }

    [Fact(Timeout = 600_000)]
    public async Task Cycle_RecordsEveryCrawlOnce_WhenOneOfTwoOfEachServiceIsKilledMidCycleAndTheBrokerRestarts()
    {
        var ct = TestContext.Current.CancellationToken;
        (await LocalServers.WhyNotControllableAsync(ct)).ShouldBeNull();
        // As in the scheduler's kill: a watchlist whose fan-out outlasts the first request by far. Two crawlers each
        // fetching 4 feeds at a time of 100 ms fetch at most 80 a second, so the cycle lasts well past every fault below.
        const int watchlist = 2000;
        await using var pipeline = await RunningPipeline.StartAsync("two_of_each", watchlist, TimeSpan.FromMilliseconds(100), ct,
            crawlerSettings: new Dictionary<string, string?> { ["Fetch:ConcurrentFetches"] = "4", ["Fetch:PrefetchCount"] = "8" },
            // A fetched job whose server stopped comes back to the other server's workers after this (5 min by default).
            schedulerSettings: new Dictionary<string, string?> { ["Hangfire:InvisibilityTimeout"] = "00:00:15" },
            crawlers: 2, storages: 2, schedulers: 2);
        await pipeline.ReportOnFailureAsync(async () =>
        {
            Guid cycleId;
            var killed = new List<ServiceProcess>();
            await using (var requests = await ExchangeTap.StartAsync(pipeline.VirtualHost, Queues.ManualCrawls, ct))
            await using (var results = await ExchangeTap.StartAsync<NewsCrawled>(pipeline.VirtualHost, ct))
            {
                cycleId = await pipeline.RequestCycleAsync(ct);
                // The scheduler whose worker runs the fan-out is the one whose process sends the requests.
                await requests.WaitForCountAsync(1, TimeSpan.FromMinutes(2), ct);
                var first = (await requests.TakeEnvelopeAsync(ct)).ShouldNotBeNull();
                var sender = first.GetProperty("host").GetProperty("processId").GetInt32();
                var fanningOut = pipeline.Schedulers.Single(scheduler => scheduler.Id == sender);
                await fanningOut.KillAsync();
                killed.Add(fanningOut);
                var publishedAtKill = await requests.SettledCountAsync(ct) + 1;
                Record($"{fanningOut.Name} killed with {publishedAtKill} of {watchlist} crawl requests published");
                publishedAtKill.ShouldBeLessThan(watchlist, "the scheduler must die in the middle of its fan-out");

                await results.WaitForCountAsync(watchlist / 10, TimeSpan.FromMinutes(3), ct);
                await pipeline.Crawler.KillAsync();
                killed.Add(pipeline.Crawler);
                // The other crawler goes on publishing: a count now, not a settled one. Requests published twice (before
                // and after the scheduler's kill) are crawled twice, so the results may outnumber the watchlist.
                var resultsAtKill = await results.CountAsync(ct);
                var recordedAtCrawlerKill = await pipeline.CountCrawlRunsAsync(cycleId, ct);
                Record($"{pipeline.Crawler.Name} killed with {resultsAtKill} crawl results published, {recordedAtCrawlerKill} of {watchlist} crawl runs recorded");
                recordedAtCrawlerKill.ShouldBeLessThan(watchlist, "the crawler must die in the middle of the cycle");
            }

            await Eventually.WaitForAsync(() => pipeline.CountCrawlRunsAsync(cycleId, ct), count => count >= watchlist / 5,
                TimeSpan.FromMinutes(3), "a fifth of the cycle's crawl runs to be recorded", ct);
            await pipeline.Storage.KillAsync();
            killed.Add(pipeline.Storage);
            var recordedAtKill = await pipeline.CountCrawlRunsAsync(cycleId, ct);
            Record($"{pipeline.Storage.Name} killed with {recordedAtKill} of {watchlist} crawl runs recorded");
            recordedAtKill.ShouldBeLessThan(watchlist, "the storage must die in the middle of the cycle's ingest");

            try
            {
                await LocalServers.StopAsync(LocalServers.RabbitMq, ct);
                var recordedWhileDown = await pipeline.CountCrawlRunsAsync(cycleId, ct);
                Record($"broker stopped with {recordedWhileDown} of {watchlist} crawl runs recorded");
                recordedWhileDown.ShouldBeLessThan(watchlist, "the broker must go away in the middle of the cycle");
            }
            finally
            {
                await LocalServers.StartAsync(LocalServers.RabbitMq, CancellationToken.None);
            }
            var startedAt = Stopwatch.StartNew();

            // Nothing killed is started again: the other instance of each carries the cycle to its end.
            await pipeline.WaitForCycleAsync(cycleId, TimeSpan.FromMinutes(5), ct);
            Record($"cycle complete {startedAt.Elapsed.TotalSeconds:0.0} s after the broker was back, by the surviving instances");
            foreach (var service in pipeline.Services)
            {
                service.HasExited.ShouldBe(killed.Contains(service), $"{service.Name} must ride out the faults without being restarted, unless it was killed");
            }
            await pipeline.ShouldBeCompleteAndQuietAsync(cycleId, ct);
            await pipeline.ShouldHaveEachArticleAnnouncedOnceAsync(ct);
        });
    }
}
