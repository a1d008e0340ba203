extern alias scheduler;

using System.Diagnostics;
using System.Globalization;
using Finstage.Testing;
using Microsoft.Extensions.DependencyInjection;
using CrawlFanOut = scheduler::Finstage.Scheduler.Jobs.CrawlFanOut;

namespace Finstage.Bench;

/// <summary>
/// p1: one cycle of N symbols through scheduler, crawler and storage, from the fan-out's first
/// publish to the last crawl run committed, against the politeness limit max(N/R, N·L/C).
/// </summary>
public static class CycleFigure
{
    public static async Task RunAsync(BenchSettings settings, Report report, CancellationToken ct)
    {
        var n = settings.CycleSymbols;
        var database = await TestServers.CreateDatabaseAsync("finstage_bench_cycle", ct);
        var broker = (await TestServers.CreateVirtualHostAsync("finstage-bench", ct)).ToString();
        await using var feeds = await FeedSite.StartAsync(settings.FeedLatency);
        // Consumers first: a message published before its queue is bound would be lost.
        await using var storage = await ServiceHosts.StorageAsync(database, broker);
        await using var crawler = ServiceHosts.Crawler(broker, feeds, settings.HostRate, settings.HostBurst, settings.Concurrency);
        await using var scheduler = ServiceHosts.Scheduler(database, broker);
        var fanOut = scheduler.Services.GetRequiredService<CrawlFanOut>();

        // A small cycle first, so JIT, connection pools and queues are warm; then the bucket refills.
        var warmUp = Symbols("W", 20);
        await CycleAsync(fanOut, database, warmUp, TimeSpan.FromSeconds(60), ct);
        await Task.Delay(TimeSpan.FromSeconds(Math.Max(1, settings.HostBurst / settings.HostRate) + 0.5), ct);
        feeds.Reset();

        var (elapsed, published) = await CycleAsync(fanOut, database, Symbols("S", n), TimeSpan.FromSeconds(n / settings.HostRate * 3 + 60), ct);
        var limit = Math.Max(n / settings.HostRate, n * settings.FeedLatency.TotalSeconds / settings.Concurrency);
        report.Raw("p1_cycle_s", elapsed.TotalSeconds);
        report.Raw("p1_limit_s", limit);
        report.Raw("p1_fanout_publish_s", published.TotalSeconds);
        report.Raw("p1_feed_requests", feeds.Requests);
        report.Raw("p1_max_host_rate_per_s", feeds.MaxRequestsPerSecond());
        report.Raw("p1_failed_crawls", await Measure.ScalarAsync(database, "SELECT COUNT(*) FROM `crawl_runs` WHERE `status` = 'Failed'", ct));
        report.Figure("p1_cycle_vs_limit", elapsed.TotalSeconds / limit);
    }

    private static string[] Symbols(string prefix, int count) =>
        [.. Enumerable.Range(0, count).Select(i => prefix + i.ToString("00000", CultureInfo.InvariantCulture))];

    private static async Task<(TimeSpan Cycle, TimeSpan Published)> CycleAsync(
        CrawlFanOut fanOut, string database, string[] symbols, TimeSpan timeout, CancellationToken ct)
    {
        var cycleId = Guid.NewGuid();
        var clock = Stopwatch.StartNew();
        await fanOut.RunCycleAsync("bench", symbols, cycleId, ct);
        var published = clock.Elapsed;
        var done = await Measure.UntilAsync(
            () => Measure.ScalarAsync(database, "SELECT COUNT(*) FROM `crawl_runs` WHERE `cycle_id` = @cycle", ct, ("@cycle", cycleId.ToString())),
            symbols.Length, clock, timeout, "every crawl run of the cycle", ct);
        return (done, published);
    }
}
