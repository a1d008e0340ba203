using System.Diagnostics;
using System.Globalization;
using Finstage.Contracts;
using Finstage.Testing;

namespace Finstage.Bench;

/// <summary>
/// p8: throughput against the number of crawler processes. 40 feed hosts (a local server each, on a port of its
/// own), each with a modest limit, answering after a fixed latency; the same requests crawled by 1, 2 and 4
/// crawler processes of the same concurrency, sharing each host's budget through Redis. The hosts together allow
/// more than four instances can ask for, so the work is bound by latency × concurrency per instance, and should
/// grow with the instances; the highest rate any one host saw in a second is reported beside it, which the
/// shared budget must keep within the host's limit plus its burst.
/// </summary>
public static class ScaleOutFigure
{
    private const int Hosts = 40;
    private const int HostRate = 4;
    private const int HostBurst = 2;
    private const int Concurrency = 8;
    private static readonly TimeSpan Latency = TimeSpan.FromMilliseconds(250);

    public static async Task RunAsync(BenchSettings settings, Report report, CancellationToken ct)
    {
        // One instance: 8 at a time of 250 ms, at most 32 crawls a second; four: 128, under the hosts' 40 × 4 = 160.
        var perHost = settings.Quick ? 6 : 20;
        var sites = new List<FeedSite>();
        try
        {
            for (var i = 0; i < Hosts; i++)
            {
                sites.Add(await FeedSite.StartAsync(Latency));
            }
            var rates = new Dictionary<int, double>();
            var busiestHost = 0.0;
            foreach (var instances in new[] { 1, 2, 4 })
            {
                var (rate, busiest) = await CrawlWithAsync(instances, sites, perHost, ct);
                rates[instances] = rate;
                busiestHost = Math.Max(busiestHost, busiest);
                report.Raw($"p8_crawls_per_s_{instances}_crawlers", rate);
                report.Raw($"p8_busiest_host_requests_per_s_{instances}_crawlers", busiest);
            }
            report.Raw("p8_host_limit_plus_burst", HostRate + HostBurst);
            report.Raw("p8_busiest_host_requests_per_s", busiestHost);
            report.Figure("p8_two_crawlers_vs_one", rates[2] / rates[1]);
            report.Figure("p8_four_crawlers_vs_one", rates[4] / rates[1]);
        }
        finally
        {
            foreach (var site in sites)
            {
                await site.DisposeAsync();
            }
        }
    }

    private static async Task<(double CrawlsPerSecond, double BusiestHostPerSecond)> CrawlWithAsync(
        int instances, List<FeedSite> sites, int perHost, CancellationToken ct)
    {
        var virtualHost = await TestServers.CreateVirtualHostAsync($"finstage-bench-p8-{instances}", ct);
        foreach (var site in sites)
        {
            site.Reset();
        }
        var crawlerSettings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:RabbitMq"] = virtualHost.ToString(),
            ["ConnectionStrings:Redis"] = TestServers.Redis,
            // Keys of this run's own: the buckets of an earlier run are not this one's.
            ["HostBudget:KeyPrefix"] = "finstage-bench-p8-" + Guid.NewGuid().ToString("N"),
            ["Sources:bench:RequestsPerSecond"] = HostRate.ToString(CultureInfo.InvariantCulture),
            ["Sources:bench:Burst"] = HostBurst.ToString(CultureInfo.InvariantCulture),
            ["Fetch:ConcurrentFetches"] = Concurrency.ToString(CultureInfo.InvariantCulture),
            ["Fetch:PrefetchCount"] = (2 * Concurrency).ToString(CultureInfo.InvariantCulture),
            ["Logging:LogLevel:Default"] = "Warning",
        };
        for (var i = 0; i < sites.Count; i++)
        {
            // Each feed its own host: a port of its own, so a bucket of its own.
            crawlerSettings[$"Sources:bench:Feeds:{HostName(i)}"] = sites[i].UrlTemplate.Replace("{symbol}", HostName(i), StringComparison.Ordinal);
        }
        await using var results = await BenchBus.StartCountingAsync<NewsCrawled, CrawlFailed>(virtualHost, "bench-scale-results", prefetch: 200);
        var crawlers = new List<ServiceProcess>();
        try
        {
            // Ready means each one's bus is started and its queue bound: no request published after this is lost.
            crawlers.AddRange(await Task.WhenAll(Enumerable.Range(0, instances).Select(i => ServiceProcess.StartAsync(
                $"crawler{i + 1}", Repository.ProjectOutput("services/crawler", "Finstage.Crawler"), crawlerSettings, ct))));
            await using var publisher = await BenchBus.StartAsync(virtualHost);
            var total = Hosts * perHost;
            // A warm-up round of the same work first, unmeasured: fresh processes compile their code as they go (tiered
            // compilation), and four of them compiling at once on two cores would otherwise be measured against one.
            await CrawlRoundAsync(publisher, results, total, instances, "warm-up", ct);
            var clock = Stopwatch.StartNew();
            await CrawlRoundAsync(publisher, results, total, instances, "measured", ct);
            var elapsed = clock.Elapsed;
            var rate = total / elapsed.TotalSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"    {instances} crawler(s): {total} crawls in {elapsed.TotalSeconds:0.0} s = {rate:0.0}/s"));
            return (rate, sites.Max(site => site.MaxRequestsPerSecond()));
        }
        finally
        {
            foreach (var crawler in crawlers)
            {
                await crawler.DisposeAsync();
            }
        }
    }

    // Publishes `total` requests round-robin over the hosts, as a watchlist spread over many sites would arrive, and
    // waits for their results.
    private static async Task CrawlRoundAsync(BenchBus publisher, BenchBus results, int total, int instances, string round, CancellationToken ct)
    {
        var now = DateTimeOffset.UtcNow;
        var cycleId = Guid.NewGuid();
        var before = results.Received;
        await Task.WhenAll(Enumerable.Range(0, total).Select(i => publisher.Bus.Publish(
            new CrawlRequested(Guid.NewGuid(), cycleId, "bench", HostName(i % Hosts), now, now.AddMinutes(10)), ct)));
        await Measure.UntilAsync(() => Task.FromResult(results.Received - before), total, Stopwatch.StartNew(), TimeSpan.FromMinutes(5),
            $"the {round} crawl results of {instances} crawler(s)", ct, pollMs: 20);
    }

    private static string HostName(int index) => "h" + index.ToString("00", CultureInfo.InvariantCulture);
}
