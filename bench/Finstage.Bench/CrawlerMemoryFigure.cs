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
        var dll = Path.Combine(Repository.Root, "services", "crawler", "bin", Repository.Configuration, "net10.0", "Finstage.Crawler.dll");
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException("Build the crawler first (bench.sh builds Release)", dll);
        }
        var virtualHost = await TestServers.CreateVirtualHostAsync("finstage-bench", ct);
        await using var feeds = await FeedSite.StartAsync(settings.MemoryFeedLatency);
        await using var results = await BenchBus.StartCountingAsync<NewsCrawled, CrawlFailed>(virtualHost, "bench-crawl-results", prefetch: 200);

        var start = new ProcessStartInfo("dotnet", [dll])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment =
            {
                ["ConnectionStrings__RabbitMq"] = virtualHost.ToString(),
                ["Sources__bench__UrlTemplate"] = feeds.UrlTemplate,
                ["Sources__bench__RequestsPerSecond"] = "1000",
                ["Sources__bench__Burst"] = "100",
                ["Fetch__ConcurrentMessageLimit"] = settings.Concurrency.ToString(CultureInfo.InvariantCulture),
                ["Fetch__PrefetchCount"] = (2 * settings.Concurrency).ToString(CultureInfo.InvariantCulture),
                ["Urls"] = "http://127.0.0.1:0",
                ["DOTNET_ENVIRONMENT"] = "Production",
                ["ASPNETCORE_ENVIRONMENT"] = "Production",
                ["MASSTRANSIT_USAGE_TELEMETRY"] = "false",
                ["Logging__LogLevel__Default"] = "Warning",
                ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "",
            },
        };
        using var crawler = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        // Drain its output so a full pipe never blocks it.
        crawler.OutputDataReceived += (_, _) => { };
        var errors = new List<string>();
        crawler.ErrorDataReceived += (_, line) => { if (line.Data is not null) { lock (errors) { errors.Add(line.Data); } } };
        crawler.BeginOutputReadLine();
        crawler.BeginErrorReadLine();
        var samples = new List<(TimeSpan At, double RssMb)>();
        using var sampling = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var clock = Stopwatch.StartNew();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested && !crawler.HasExited)
            {
                if (Status(crawler.Id, "VmRSS") is { } rss)
                {
                    lock (samples) { samples.Add((clock.Elapsed, rss)); }
                }
                await Task.Delay(100, CancellationToken.None);
            }
        }, CancellationToken.None);
        try
        {
            await WaitForConsumerAsync(virtualHost, crawler, ct);
            await using var publisher = await BenchBus.StartAsync(virtualHost);
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
                afterCycle.Add(Status(crawler.Id, "VmRSS") ?? double.NaN);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    cycle {cycle + 1}: RSS {afterCycle[^1]:0.0} MB"));
            }
            var peak = Status(crawler.Id, "VmHWM") ?? double.NaN;
            report.Raw("p7_rss_after_first_cycle_mb", afterCycle[0]);
            report.Raw("p7_rss_after_last_cycle_mb", afterCycle[^1]);
            report.Raw("p7_rss_growth_mb", afterCycle[^1] - afterCycle[Math.Min(1, afterCycle.Count - 1)]);
            report.Raw("p7_crawl_results", results.Received);
            report.Raw("p7_crawls_per_s", expected / clock.Elapsed.TotalSeconds);
            report.Figure("p7_crawler_rss_mb", peak);
        }
        finally
        {
            sampling.Cancel();
            if (!crawler.HasExited)
            {
                crawler.Kill(entireProcessTree: true);
            }
            await crawler.WaitForExitAsync(CancellationToken.None);
            await sampler;
        }
        if (errors.Count > 0)
        {
            Console.WriteLine("    crawler stderr: " + string.Join(" | ", errors.Take(5)));
        }
    }

    /// <summary>A <c>kB</c> line of /proc/PID/status, in MB.</summary>
    private static double? Status(int pid, string key)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith(key + ":", StringComparison.Ordinal));
            return line is null ? null : double.Parse(line.Split(':')[1].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024;
        }
        catch (IOException)
        {
            return null;
        }
    }

    // Requests published before the crawler's queue is bound would be lost.
    private static async Task WaitForConsumerAsync(Uri virtualHost, Process crawler, CancellationToken ct)
    {
        var broker = TestServers.RabbitMq;
        using var http = new HttpClient { BaseAddress = TestServers.RabbitMqManagement };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue(
            "Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(Uri.UnescapeDataString(broker.UserInfo))));
        var path = new Uri($"api/queues/{Uri.EscapeDataString(virtualHost.AbsolutePath.TrimStart('/'))}/fetch-news", UriKind.Relative);
        await Measure.UntilAsync(async () =>
        {
            if (crawler.HasExited)
            {
                throw new InvalidOperationException($"The crawler exited with {crawler.ExitCode}");
            }
            using var response = await http.GetAsync(path, ct);
            if (!response.IsSuccessStatusCode)
            {
                return 0;
            }
            using var json = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
            return json.RootElement.TryGetProperty("consumers", out var consumers) ? consumers.GetInt64() : 0;
        }, 1, Stopwatch.StartNew(), TimeSpan.FromSeconds(60), "the crawler's consumer", ct, pollMs: 250);
    }
}
