extern alias scheduler;

using System.Diagnostics;
using System.Globalization;
using Finstage.Testing;
using Microsoft.Extensions.DependencyInjection;
using CrawlFanOut = scheduler::Finstage.Scheduler.Jobs.CrawlFanOut;

namespace Finstage.Bench;

/// <summary>
/// p2: the end-to-end crawl at the limit. One cycle of N symbols through scheduler, crawler and storage (storage
/// committing every result), feeds with a fixed latency L, the crawler's C consumers and no politeness limit to speak
/// of (1,000 requests a second, the most a source may be given): symbols per second from the fan-out's first publish
/// to the last crawl run committed, against min(C/L, what the feed server itself can serve).
/// </summary>
public static class CrawlFigure
{
    // The crawler's settings allow at most 1,000 requests a second and a burst of 1,000 per host: far above C/L here.
    private const double Unlimited = 1_000;

    public static async Task RunAsync(BenchSettings settings, Report report, CancellationToken ct)
    {
        var n = settings.CycleSymbols;
        var concurrency = settings.Concurrency;
        var database = await TestServers.CreateDatabaseAsync("finstage_bench_crawl", ct);
        var broker = (await TestServers.CreateVirtualHostAsync("finstage-bench", ct)).ToString();
        await using var feeds = await FeedSite.StartAsync(settings.FeedLatency);

        // The feed server's own capacity, measured alone: four times the crawler's concurrency, in a closed loop.
        var capacity = await FeedCapacityAsync(feeds, 4 * concurrency, settings.Quick ? TimeSpan.FromSeconds(2) : TimeSpan.FromSeconds(5), ct);
        feeds.Reset();

        await using var storage = await ServiceHosts.StorageAsync(database, broker);
        await using var crawler = ServiceHosts.Crawler(broker, feeds, Unlimited, (int)Unlimited, concurrency);
        await using var scheduler = ServiceHosts.Scheduler(database, broker);
        var fanOut = scheduler.Services.GetRequiredService<CrawlFanOut>();

        // Warm-up cycles of a tenth of the size (at least 100) until the runtime has stopped recompiling
        // (Measure.WarmUpAsync): JIT, pools, queues; then the measured one.
        var warmUps = await Measure.WarmUpAsync(
            round => CycleAsync(fanOut, database, Symbols("W" + round.ToString(CultureInfo.InvariantCulture), Math.Max(100, n / 10)), TimeSpan.FromSeconds(300), ct),
            maxRounds: 10);
        report.Raw("p2_warm_up_cycles", warmUps);
        feeds.Reset();
        var databasePid = await CpuMeter.FindDatabasePidAsync(TestServers.MySqlAdmin, ct);
        var meter = CpuMeter.Start(databasePid);
        var elapsed = await CycleAsync(fanOut, database, Symbols("S", n), TimeSpan.FromSeconds(n * settings.FeedLatency.TotalSeconds / concurrency * 5 + 120), ct);
        var cpu = meter.Stop();

        var bound = Math.Min(concurrency / settings.FeedLatency.TotalSeconds, capacity);
        var rate = n / elapsed.TotalSeconds;
        report.Raw("p2_crawls_per_s", rate);
        report.Raw("p2_bound_per_s", bound);
        report.Raw("p2_concurrency_over_latency_per_s", concurrency / settings.FeedLatency.TotalSeconds);
        report.Raw("p2_feed_capacity_per_s", capacity);
        report.Raw("p2_max_feed_rate_per_s", feeds.MaxRequestsPerSecond());
        report.Raw("p2_failed_crawls", await Measure.ScalarAsync(database, "SELECT COUNT(*) FROM `crawl_runs` WHERE `status` = 'Failed'", ct));
        // Where the time goes: the three services share this process, so their CPU is one figure; the database's is its own.
        report.Raw("p2_cpu_ms_per_crawl_services", 1000 * cpu.ProcessSeconds / n);
        if (cpu.DatabaseSeconds is { } db)
        {
            report.Raw("p2_cpu_ms_per_crawl_db", 1000 * db / n);
        }
        report.Raw("p2_machine_busy_pct", cpu.MachineBusyPercent);
        report.Raw("p2_other_cores", cpu.OtherCores);
        report.Raw("p2_gc_count_gen2", GC.CollectionCount(2));
        report.Figure("p2_crawl_vs_bound", rate / bound);
    }

    private static string[] Symbols(string prefix, int count) =>
        [.. Enumerable.Range(0, count).Select(i => prefix + i.ToString("00000", CultureInfo.InvariantCulture))];

    private static async Task<TimeSpan> CycleAsync(CrawlFanOut fanOut, string database, string[] symbols, TimeSpan timeout, CancellationToken ct)
    {
        var cycleId = Guid.NewGuid();
        var clock = Stopwatch.StartNew();
        await fanOut.RunCycleAsync("bench", symbols, cycleId, ct);
        return await Measure.UntilAsync(
            () => Measure.ScalarAsync(database, "SELECT COUNT(*) FROM `crawl_runs` WHERE `cycle_id` = @cycle", ct, ("@cycle", cycleId.ToString())),
            symbols.Length, clock, timeout, "every crawl run of the cycle", ct);
    }

    private static async Task<double> FeedCapacityAsync(FeedSite feeds, int clients, TimeSpan duration, CancellationToken ct)
    {
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients });
        var url = feeds.UrlTemplate.Replace("{symbol}", "CAPACITY", StringComparison.Ordinal);
        var served = 0L;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            while (clock.Elapsed < duration)
            {
                using var response = await http.GetAsync(new Uri(url), ct);
                await response.Content.ReadAsByteArrayAsync(ct);
                Interlocked.Increment(ref served);
            }
        }, ct)));
        return served / clock.Elapsed.TotalSeconds;
    }
}
