using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Finstage.Contracts;
using Finstage.Testing;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Finstage.Bench;

/// <summary>
/// p9 (issue 14): how long after an item appears in its feed it is in <c>/api/news</c>, with adaptive polling (the
/// scheduler's watchlist, driven through <c>/api/watchlist</c>) over the same for a fixed sweep, at the same requests
/// per second to the host; and whether a watchlist five times larger than its host's budget is still crawled in full.
/// </summary>
/// <remarks>
/// Everything real runs in real time, scaled down by <see cref="BenchSettings.FreshnessTimeScale"/> (10): an item rate
/// of one a minute becomes one every 6 s, a 5-minute sweep of 500 feeds 30 s (16.7 requests/s), and the scheduler's
/// polling settings (round, initial, minimum and maximum interval, request time to live) are divided alike.
/// </remarks>
public static class FreshnessFigure
{
    private const string Source = "bench";
    private const int Seed = 20261205;

    public static async Task RunAsync(BenchSettings settings, Report report, CancellationToken ct)
    {
        var scale = settings.FreshnessTimeScale;
        var feeds = Feeds(settings.FreshnessFeeds, settings.FreshnessHotFeeds, settings.FreshnessWarmFeeds, scale);
        // The budget a fixed sweep needs to cover every feed every 5 minutes (scaled).
        var rate = settings.FreshnessFeeds / (300 / scale);
        report.Raw("p9_feeds", feeds.Count);
        report.Raw("p9_host_rate_per_s", rate);
        report.Raw("p9_time_scale", scale);

        // Only the adaptive mode can find no watchlist; the sweep always measures.
        var sweep = (await RunModeAsync(settings, feeds, rate, adaptive: false, ct))!;
        sweep.Report(report, "p9_sweep");
        var adaptive = await RunModeAsync(settings, feeds, rate, adaptive: true, ct);
        if (adaptive is null)
        {
            report.Unmeasured("p9_freshness_vs_sweep", "the scheduler has no /api/watchlist on this build (issue 14's scheduler side is not merged)");
        }
        else
        {
            adaptive.Report(report, "p9_adaptive");
            report.Figure("p9_freshness_vs_sweep", adaptive.MedianDelay / sweep.MedianDelay);
            report.Raw("p9_p95_vs_sweep", adaptive.P95Delay / sweep.P95Delay);
        }

        var overload = await RunOverloadAsync(settings, ct);
        if (overload is null)
        {
            report.Unmeasured("p9_overload_ok", "the scheduler has no /api/watchlist on this build (issue 14's scheduler side is not merged)");
        }
        else
        {
            overload.Report(report);
            report.Figure("p9_overload_ok", overload.Ok ? 1 : 0);
        }
    }

    /// <summary>A few hot feeds (a story a minute), some warm (one an hour), the rest quiet (three a day); all times scaled.</summary>
    private static List<PoissonFeed> Feeds(int count, int hot, int warm, double scale) =>
        [.. Enumerable.Range(0, count).Select(i => new PoissonFeed(
            FeedName(i),
            (i < hot ? 1.0 / 60 : i < hot + warm ? 1.0 / 3600 : 3.0 / 86_400) * scale))];

    private static string FeedName(int index) => "F" + index.ToString("00000", CultureInfo.InvariantCulture);

    private static async Task<ModeResult?> RunModeAsync(BenchSettings settings, List<PoissonFeed> feeds, double rate, bool adaptive, CancellationToken ct)
    {
        var mode = adaptive ? "adaptive" : "sweep";
        var scale = settings.FreshnessTimeScale;
        var warmUp = adaptive ? settings.FreshnessAdaptiveWarmUp : settings.FreshnessSweepWarmUp;
        var measured = settings.FreshnessMeasured;
        var drain = TimeSpan.FromSeconds(Math.Max(60, 2 * 1800 / scale));
        Console.WriteLine($"  p9 {mode}: {feeds.Count} feeds at {rate:0.##} requests/s, warm-up {warmUp.TotalSeconds:0} s, measured {measured.TotalSeconds:0} s");

        var database = await TestServers.CreateDatabaseAsync("finstage_bench_p9_" + mode, ct);
        var broker = (await TestServers.CreateVirtualHostAsync("finstage-bench", ct)).ToString();
        await using var site = await PoissonFeedSite.StartAsync(feeds, Seed, warmUp + measured + drain, TimeSpan.FromHours(24 / scale));
        await using var storage = await ServiceHosts.StorageAsync(database, broker);
        await using var crawler = ServiceHosts.Crawler(broker, site.UrlTemplate, rate, burst: 1, settings.Concurrency);
        await using var scheduler = adaptive ? ServiceHosts.Scheduler(database, broker, SchedulerSettings(rate, scale)) : null;
        using var news = storage.CreateClient();

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        Task driver;
        if (adaptive)
        {
            using var api = Watchlist(scheduler!);
            if (!await AddEntriesAsync(api, feeds.Select(feed => feed.Name), body: new { }, ct))
            {
                return null;
            }
            site.Begin();
            // The scheduler's own polling round (a Hangfire recurring job every Polling:Round) does the rest.
            driver = Task.CompletedTask;
        }
        else
        {
            await using var bus = await BenchBus.StartAsync(new Uri(broker));
            site.Begin();
            driver = SweepAsync(bus, feeds, rate, TimeSpan.FromSeconds(600 / scale), stop.Token);
            var result = await MeasureAsync(site, news, warmUp, measured, drain, stop);
            await Ignoring(driver);
            return result;
        }
        var adaptiveResult = await MeasureAsync(site, news, warmUp, measured, drain, stop);
        await Ignoring(driver);
        using (var api = Watchlist(scheduler!))
        {
            await DescribeWatchlistAsync(api, feeds, ct);
        }
        return adaptiveResult;
    }

    // Publishes a crawl request for every feed in turn at the host's rate, round and round: the fixed sweep.
    private static async Task SweepAsync(BenchBus bus, List<PoissonFeed> feeds, double rate, TimeSpan timeToLive, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var cycle = Guid.NewGuid();
        for (long i = 0; !ct.IsCancellationRequested; i++)
        {
            var due = TimeSpan.FromSeconds(i / rate);
            if (due > clock.Elapsed)
            {
                await Task.Delay(due - clock.Elapsed, ct);
            }
            if (i % feeds.Count == 0)
            {
                cycle = Guid.NewGuid();
            }
            var now = DateTimeOffset.UtcNow;
            await bus.Bus.Publish(new CrawlRequested(Guid.NewGuid(), cycle, Source, feeds[(int)(i % feeds.Count)].Name, now, now + timeToLive), ct);
        }
    }

    // Watches /api/news until every item that appeared in the measured window is there (or the drain runs out).
    private static async Task<ModeResult> MeasureAsync(
        PoissonFeedSite site, HttpClient news, TimeSpan warmUp, TimeSpan measured, TimeSpan drain, CancellationTokenSource stop)
    {
        var items = site.ItemsAppearing(warmUp, warmUp + measured);
        var pending = items.ToDictionary(item => item.Url, StringComparer.Ordinal);
        var delays = new List<double>();
        var end = warmUp + measured;
        var tick = 0;
        while (pending.Count > 0 || site.Elapsed < end)
        {
            if (site.Elapsed > end + drain)
            {
                break;
            }
            var now = DateTimeOffset.UtcNow;
            var appeared = pending.Values.Where(item => item.AppearedAt <= now).ToList();
            if (appeared.Count > 0)
            {
                // Every 250 ms the newest page; every 2 s every page back to the oldest item not yet seen.
                var from = appeared.Min(item => item.AppearedAt).AddSeconds(-2);
                await foreach (var url in NewsSinceAsync(news, from, allPages: tick % 8 == 0, stop.Token))
                {
                    if (pending.Remove(url, out var item))
                    {
                        delays.Add((DateTimeOffset.UtcNow - item.AppearedAt).TotalSeconds);
                    }
                }
            }
            tick++;
            await Task.Delay(250, stop.Token);
        }
        var finished = site.Elapsed;
        await stop.CancelAsync();
        // An item never seen counts with the time it had waited when the drain ended: a lower bound of its delay.
        var missing = pending.Values.Select(item => (DateTimeOffset.UtcNow - item.AppearedAt).TotalSeconds).ToList();
        return new ModeResult(
            items.Count, delays.Count, delays.Concat(missing).ToList(),
            site.RequestsBetween(warmUp, end), site.MaxRequestsInASecond(TimeSpan.Zero, finished));
    }

    private static async IAsyncEnumerable<string> NewsSinceAsync(
        HttpClient news, DateTimeOffset from, bool allPages, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        string? cursor = null;
        do
        {
            var query = $"api/news?source={Source}&limit=200&from={Uri.EscapeDataString(from.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture))}"
                + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor));
            using var page = JsonDocument.Parse(await news.GetStringAsync(new Uri(query, UriKind.Relative), ct));
            foreach (var article in page.RootElement.GetProperty("items").EnumerateArray())
            {
                yield return article.GetProperty("url").GetString()!;
            }
            cursor = page.RootElement.TryGetProperty("nextCursor", out var next) && next.ValueKind == JsonValueKind.String ? next.GetString() : null;
        }
        while (allPages && cursor is not null);
    }

    /// <summary>p9_overload_ok: 5,000 entries on a host whose budget covers 1,000 per entry interval.</summary>
    private static async Task<OverloadResult?> RunOverloadAsync(BenchSettings settings, CancellationToken ct)
    {
        var scale = settings.FreshnessTimeScale;
        var entries = settings.OverloadEntries;
        var interval = 180 / scale;
        var rate = entries / 5.0 / interval;
        var pass = entries / rate;
        var span = TimeSpan.FromSeconds(3 * pass);
        Console.WriteLine($"  p9 overload: {entries} entries every {interval:0.#} s on a host of {rate:0.##} requests/s (one pass {pass:0} s), for {span.TotalSeconds:0} s");
        var feeds = Enumerable.Range(0, entries).Select(i => new PoissonFeed(FeedName(i), 3.0 / 86_400 * scale)).ToList();

        var database = await TestServers.CreateDatabaseAsync("finstage_bench_p9_overload", ct);
        var broker = (await TestServers.CreateVirtualHostAsync("finstage-bench", ct)).ToString();
        await using var site = await PoissonFeedSite.StartAsync(feeds, Seed, span + TimeSpan.FromMinutes(5), TimeSpan.FromHours(24 / scale));
        await using var storage = await ServiceHosts.StorageAsync(database, broker);
        const int burst = 1;
        await using var crawler = ServiceHosts.Crawler(broker, site.UrlTemplate, rate, burst, settings.Concurrency);
        await using var scheduler = ServiceHosts.Scheduler(database, broker, SchedulerSettings(rate, scale));
        using var api = Watchlist(scheduler);
        // Every entry wants a crawl every interval: together five times what the host allows.
        var seconds = (int)Math.Round(interval);
        site.Begin();
        if (!await AddEntriesAsync(api, feeds.Select(feed => feed.Name), new { minIntervalSeconds = seconds, maxIntervalSeconds = seconds }, ct))
        {
            return null;
        }
        // From when the last entry was added: each must then be crawled within one pass.
        var from = site.Elapsed;
        await Task.Delay(span, ct);
        var to = site.Elapsed;
        var expired = await Measure.ScalarAsync(database,
            "SELECT COUNT(*) FROM `crawl_runs` WHERE `failure_reason` = 'Cancelled'", ct);
        var failed = await Measure.ScalarAsync(database, "SELECT COUNT(*) FROM `crawl_runs` WHERE `status` = 'Failed'", ct);
        return new OverloadResult(
            entries, rate, burst, pass, site.LongestGapSeconds(feeds.Select(feed => feed.Name), from, to),
            site.MaxRequestsInASecond(TimeSpan.Zero, to), expired, failed, site.RequestsBetween(from, to) / (to - from).TotalSeconds);
    }

    /// <summary>The scheduler's polling settings, divided by the time scale, and the host's rate.</summary>
    private static Dictionary<string, string?> SchedulerSettings(double rate, double scale)
    {
        string Seconds(double value) => TimeSpan.FromSeconds(value / scale).ToString("c", CultureInfo.InvariantCulture);
        return new()
        {
            [$"Schedule:Sources:{Source}:RequestsPerSecond"] = rate.ToString(CultureInfo.InvariantCulture),
            ["Schedule:RequestTimeToLive"] = Seconds(600),
            ["Polling:Round"] = Seconds(10),
            ["Polling:InitialInterval"] = Seconds(180),
            ["Polling:MinInterval"] = Seconds(60),
            ["Polling:MaxInterval"] = Seconds(1800),
            ["Polling:Floor"] = Seconds(10),
            ["Polling:MaxBackoff"] = Seconds(6 * 3600),
            ["Polling:MaxHint"] = Seconds(24 * 3600),
            ["Polling:PriorityWeight"] = Seconds(60),
            // The control API asks the dashboard's credentials of a caller that is not on loopback (the in-memory client has no address).
            ["Dashboard:Username"] = "bench",
            ["Dashboard:Password"] = "bench-only-password",
        };
    }

    private static HttpClient Watchlist<T>(WebApplicationFactory<T> scheduler)
        where T : class
    {
        var client = scheduler.CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue(
            "Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("bench:bench-only-password")));
        return client;
    }

    // What the scheduler made of the feeds: the median interval per kind of feed and the last results, as GET /api/watchlist shows them.
    private static async Task DescribeWatchlistAsync(HttpClient api, List<PoissonFeed> feeds, CancellationToken ct)
    {
        using var view = JsonDocument.Parse(await api.GetStringAsync(new Uri("api/watchlist", UriKind.Relative), ct));
        var rates = feeds.ToDictionary(feed => feed.Name, feed => feed.ItemsPerSecond, StringComparer.Ordinal);
        var entries = view.RootElement.GetProperty("entries").EnumerateArray()
            .Where(entry => rates.ContainsKey(entry.GetProperty("symbol").GetString()!))
            .Select(entry => (Rate: rates[entry.GetProperty("symbol").GetString()!], Interval: entry.GetProperty("intervalSeconds").GetDouble(),
                Result: entry.TryGetProperty("lastResult", out var result) ? result.GetString() ?? "none" : "none"))
            .ToList();
        foreach (var tier in entries.GroupBy(entry => entry.Rate).OrderByDescending(group => group.Key))
        {
            var intervals = tier.Select(entry => entry.Interval).ToList();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  p9 watchlist: {tier.Count()} feeds of one item per {1 / tier.Key:0} s: interval median {Measure.Percentile(intervals, 50):0.#} s " +
                $"(min {intervals.Min():0.#}, max {intervals.Max():0.#}); last results {string.Join(", ", tier.GroupBy(entry => entry.Result).Select(group => $"{group.Key} {group.Count()}"))}"));
        }
        foreach (var host in view.RootElement.GetProperty("hosts").EnumerateArray())
        {
            Console.WriteLine($"  p9 watchlist host: {host}");
        }
    }

    // PUT /api/watchlist/bench/{name} for every feed; false when the scheduler has no watchlist API.
    private static async Task<bool> AddEntriesAsync(HttpClient api, IEnumerable<string> names, object body, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var added = 0;
        foreach (var name in names)
        {
            using var response = await api.PutAsJsonAsync(new Uri($"api/watchlist/{Source}/{name}", UriKind.Relative), body, ct);
            if (added == 0 && response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed)
            {
                Console.WriteLine($"  p9: PUT /api/watchlist answered {(int)response.StatusCode}: no watchlist on this build");
                return false;
            }
            response.EnsureSuccessStatusCode();
            added++;
        }
        Console.WriteLine($"  p9: {added} watchlist entries added in {clock.Elapsed.TotalSeconds:0.#} s");
        return true;
    }

    private static async Task Ignoring(Task task)
    {
        try
        {
            await task;
        }
        catch (OperationCanceledException)
        {
        }
    }

    private sealed record ModeResult(int Items, int Seen, List<double> Delays, long Requests, int MaxPerSecond)
    {
        public double MedianDelay => Measure.Percentile(Delays, 50);

        public double P95Delay => Measure.Percentile(Delays, 95);

        public void Report(Report report, string prefix)
        {
            report.Raw(prefix + "_items", Items);
            report.Raw(prefix + "_items_unseen", Items - Seen);
            report.Raw(prefix + "_median_delay_s", MedianDelay);
            report.Raw(prefix + "_p95_delay_s", P95Delay);
            report.Raw(prefix + "_requests", Requests);
            report.Raw(prefix + "_requests_per_new_article", Items == 0 ? double.NaN : (double)Requests / Items);
            report.Raw(prefix + "_max_requests_in_a_second", MaxPerSecond);
        }
    }

    private sealed record OverloadResult(
        int Entries, double Rate, int Burst, double PassSeconds, double LongestGapSeconds, int MaxPerSecond, long Expired, long Failed, double RequestsPerSecond)
    {
        // A request the token bucket lets through at most Rate a second plus its burst; the round's granularity (one
        // scaled round, 1 s) and the crawl's own time may stretch a pass by a little: 10 % is allowed and reported.
        public bool Ok => Expired == 0 && MaxPerSecond <= Math.Ceiling(Rate) + Burst && LongestGapSeconds <= PassSeconds * 1.1;

        public void Report(Report report)
        {
            report.Raw("p9_overload_entries", Entries);
            report.Raw("p9_overload_host_rate_per_s", Rate);
            report.Raw("p9_overload_pass_s", PassSeconds);
            report.Raw("p9_overload_longest_gap_s", LongestGapSeconds);
            report.Raw("p9_overload_max_requests_in_a_second", MaxPerSecond);
            report.Raw("p9_overload_requests_per_s", RequestsPerSecond);
            report.Raw("p9_overload_expired", Expired);
            report.Raw("p9_overload_failed", Failed);
        }
    }
}
