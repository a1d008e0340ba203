using System.Diagnostics;
using System.Globalization;
using Finstage.Contracts;
using Finstage.Testing;

namespace Finstage.Bench;

/// <summary>
/// p7: the crawler as its own process (the Release build, settings by environment variables)
/// through several cycles of crawl requests, its resident memory read from /proc/PID/status:
/// the peak (VmHWM) and the resident size after each cycle, to see whether it grows.
/// </summary>
public static class CrawlerMemoryFigure
{
    public static async Task RunAsync(BenchSettings settings, Report report, CancellationToken ct)
    {
        var virtualHost = await TestServers.CreateVirtualHostAsync("finstage-bench", ct);
        await using var feeds = await FeedSite.StartAsync(settings.MemoryFeedLatency);
        await using var results = await BenchBus.StartCountingAsync<NewsCrawled, CrawlFailed>(virtualHost, "bench-crawl-results", prefetch: 200);
        // Ready means its bus is started and its queue bound, so no request published after this is lost.
        await using var crawler = await ServiceProcess.StartAsync("crawler", Repository.ProjectOutput("services/crawler", "Finstage.Crawler"),
            new Dictionary<string, string?>
            {
                ["ConnectionStrings:RabbitMq"] = virtualHost.ToString(),
                ["Sources:bench:UrlTemplate"] = feeds.UrlTemplate,
                ["Sources:bench:RequestsPerSecond"] = "1000",
                ["Sources:bench:Burst"] = "100",
                ["Fetch:ConcurrentFetches"] = settings.Concurrency.ToString(CultureInfo.InvariantCulture),
                ["Fetch:PrefetchCount"] = (2 * settings.Concurrency).ToString(CultureInfo.InvariantCulture),
                ["Logging:LogLevel:Default"] = "Warning",
            }, ct);
        await using var publisher = await BenchBus.StartAsync(virtualHost);
        var clock = Stopwatch.StartNew();
        var afterCycle = new List<double>();
        long expected = 0;
        for (var cycle = 0; cycle < settings.MemoryCycles; cycle++)
        {
            var now = DateTimeOffset.UtcNow;
            var cycleId = Guid.NewGuid();
            await Task.WhenAll(Enumerable.Range(0, settings.MemorySymbols).Select(i => publisher.Bus.Publish(
                new CrawlRequested(Guid.NewGuid(), cycleId, "bench", "M" + i.ToString("00000", CultureInfo.InvariantCulture), now, now.AddMinutes(10)), ct)));
            expected += settings.MemorySymbols;
            await Measure.UntilAsync(() => Task.FromResult(results.Received), expected, Stopwatch.StartNew(), TimeSpan.FromMinutes(5), "the cycle's crawl results", ct, pollMs: 50);
            // A short settle, so the figure is what stays resident between cycles, not the cycle's last burst.
            await Task.Delay(TimeSpan.FromSeconds(1), ct);
            afterCycle.Add(crawler.ResidentMegabytes ?? double.NaN);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    cycle {cycle + 1}: RSS {afterCycle[^1]:0.0} MB"));
        }
        if (crawler.HasExited)
        {
            throw new InvalidOperationException("The crawler died during the cycles: " + crawler.OutputTail);
        }
        report.Raw("p7_rss_after_first_cycle_mb", afterCycle[0]);
        report.Raw("p7_rss_after_last_cycle_mb", afterCycle[^1]);
        report.Raw("p7_rss_growth_mb", afterCycle[^1] - afterCycle[Math.Min(1, afterCycle.Count - 1)]);
        report.Raw("p7_crawl_results", results.Received);
        report.Raw("p7_crawls_per_s", expected / clock.Elapsed.TotalSeconds);
        report.Figure("p7_crawler_rss_mb", crawler.PeakResidentMegabytes ?? double.NaN);
    }
}
