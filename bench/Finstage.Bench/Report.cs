using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Finstage.Bench;

/// <summary>The figures of a run, the raw rates behind them, and where they are written.</summary>
public sealed class Report(BenchSettings settings)
{
    // The issue's table: key, what it compares, the target and whether it is met.
    private static readonly (string Key, string What, string Target, Func<double, bool> Met)[] Targets =
    [
        ("p1_cycle_vs_limit", "cycle wall time / politeness limit", "<= 1.10", v => v <= 1.10),
        ("p2_crawl_vs_bound", "end-to-end crawls/s, no politeness limit / min(C/L, feed server capacity)", ">= 0.92", v => v >= 0.92),
        ("p3_fanout_vs_raw", "fan-out rate / raw publish rate", ">= 0.70", v => v >= 0.70),
        ("p4_ingest_vs_raw", "ingest articles/s / slower raw path", ">= 0.60", v => v >= 0.60),
        ("p5_hangfire_vs_redis", "MySQL storage jobs/s / Hangfire.Redis.StackExchange jobs/s", ">= 1.0", v => v >= 1.0),
        ("p5_hangfire_vs_postgresql", "MySQL storage jobs/s / Hangfire.PostgreSql jobs/s", ">= 1.0", v => v >= 1.0),
        ("p5_pickup_ms", "median enqueue-to-start on an idle server", "< 100", v => v < 100),
        ("p6_api_vs_raw", "API pages/s / raw query pages/s", ">= 0.60", v => v >= 0.60),
        ("p6_p99_vs_raw", "API p99 / raw queries' p99, 32 clients", "<= 1.2", v => v <= 1.2),
        ("p6_p99_ms_at_2_clients", "API p99 latency, 2 clients", "< 10", v => v < 10),
        ("p7_crawler_rss_mb", "crawler peak RSS", "<= 150", v => v <= 150),
        ("p8_two_crawlers_vs_one", "crawls/s of 2 crawler processes / of 1 (40 hosts)", ">= 1.8", v => v >= 1.8),
        ("p8_four_crawlers_vs_one", "crawls/s of 4 crawler processes / of 1 (40 hosts)", ">= 3.2", v => v >= 3.2),
        ("p8_two_storages_vs_one", "articles/s of 2 storage processes / of 1, one database (p4's workload)", ">= 1.5", v => v >= 1.5),
        ("p11_parse_adversarial_vs_benign", "slowest adversarial 5 MB feed's MB/s / benign feed's", ">= 0.2", v => v >= 0.2),
        ("p9_freshness_vs_sweep", "median appear-to-API delay, adaptive / fixed sweep, same host rate", "<= 0.33", v => v <= 0.33),
        ("p9_overload_ok", "5x over budget: none expired, rate kept, all crawled each pass (1 = yes)", ">= 1", v => v >= 1),
        ("p10_event_latency_ms", "median commit-to-SSE-client time of an article, 100 clients connected", "< 50", v => v < 50),
    ];

    private readonly Dictionary<string, double?> _figures = Targets.ToDictionary(t => t.Key, _ => (double?)null);
    private readonly SortedDictionary<string, double> _raw = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, string> _errors = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, string> _unmeasured = new(StringComparer.Ordinal);

    public void Figure(string key, double value)
    {
        if (!_figures.ContainsKey(key))
        {
            throw new ArgumentException($"{key} is not one of the issue's figures", nameof(key));
        }
        _figures[key] = Math.Round(value, 3);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {key} = {value:0.###}"));
    }

    public void Raw(string key, double value)
    {
        _raw[key] = Math.Round(value, 3);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    {key} = {value:0.###}"));
    }

    /// <summary>A figure this build cannot measure, and why: printed and written as such, never as a number.</summary>
    public void Unmeasured(string key, string why)
    {
        _unmeasured[key] = why;
        Console.WriteLine($"  {key}: not measurable: {why}");
    }

    public void Error(string figure, Exception error)
    {
        _errors[figure] = error.GetType().Name + ": " + error.Message;
        Console.Error.WriteLine($"{figure} failed: {error}");
    }

    public bool AllMet => Targets.All(t => _figures[t.Key] is { } value && t.Met(value));

    public void Print(TextWriter output)
    {
        output.WriteLine();
        output.WriteLine($"{"figure",-30} {"value",10}  {"target",-8} {"met",-4} what");
        foreach (var (key, what, target, met) in Targets)
        {
            var value = _figures[key];
            var text = value is { } v ? v.ToString("0.###", CultureInfo.InvariantCulture) : "-";
            var verdict = value is { } x ? (met(x) ? "yes" : "NO") : "n/a";
            output.WriteLine($"{key,-30} {text,10}  {target,-8} {verdict,-4} {what}");
        }
        foreach (var (key, why) in _unmeasured)
        {
            output.WriteLine($"not measured {key}: {why}");
        }
        foreach (var (figure, error) in _errors)
        {
            output.WriteLine($"error in {figure}: {error}");
        }
    }

    public async Task WriteAsync(string path, IReadOnlyDictionary<string, string> machine)
    {
        var json = new JsonObject();
        // With --only, the figures not run this time are kept from the last results, so one file holds a whole run.
        var earlier = settings.Only.Count > 0 && File.Exists(path) ? JsonNode.Parse(await File.ReadAllTextAsync(path)) as JsonObject : null;
        foreach (var (key, value) in _figures)
        {
            json[key] = value ?? earlier?[key]?.GetValue<double?>();
        }
        foreach (var (key, value) in earlier?["raw"]?.AsObject() ?? [])
        {
            if (!_raw.ContainsKey(key) && value is not null)
            {
                _raw[key] = value.GetValue<double>();
            }
        }
        json["machine"] = new JsonObject(machine.Select(pair => KeyValuePair.Create(pair.Key, (JsonNode?)pair.Value)));
        json["sizes"] = JsonSerializer.SerializeToNode(new
        {
            quick = settings.Quick,
            p1_symbols = settings.CycleSymbols,
            p1_latency_ms = settings.FeedLatency.TotalMilliseconds,
            p1_host_rate_per_s = settings.HostRate,
            p1_host_burst = settings.HostBurst,
            p1_concurrency = settings.Concurrency,
            p3_requests = settings.FanOutRequests,
            p4_messages = settings.IngestMessages,
            p4_articles_per_message = settings.ArticlesPerMessage,
            p5_jobs = settings.HangfireJobs,
            p5_pickup_samples = settings.PickupSamples,
            p6_articles = settings.ApiArticles,
            p6_symbols = settings.ApiSymbols,
            p6_clients = settings.ApiClients,
            p6_seconds = settings.ApiDuration.TotalSeconds,
            p7_cycles = settings.MemoryCycles,
            p7_symbols = settings.MemorySymbols,
            p7_latency_ms = settings.MemoryFeedLatency.TotalMilliseconds,
            p9_time_scale = settings.FreshnessTimeScale,
            p9_feeds = settings.FreshnessFeeds,
            p9_hot_feeds = settings.FreshnessHotFeeds,
            p9_warm_feeds = settings.FreshnessWarmFeeds,
            p9_sweep_warm_up_s = settings.FreshnessSweepWarmUp.TotalSeconds,
            p9_adaptive_warm_up_s = settings.FreshnessAdaptiveWarmUp.TotalSeconds,
            p9_measured_s = settings.FreshnessMeasured.TotalSeconds,
            p9_overload_entries = settings.OverloadEntries,
            p10_clients = settings.StreamClients,
            p10_articles = settings.StreamArticles,
            p10_memory_clients = settings.StreamMemoryClients,
        });
        json["raw"] = new JsonObject(_raw.Select(pair => KeyValuePair.Create(pair.Key, (JsonNode?)pair.Value)));
        if (_unmeasured.Count > 0)
        {
            json["unmeasured"] = new JsonObject(_unmeasured.Select(pair => KeyValuePair.Create(pair.Key, (JsonNode?)pair.Value)));
        }
        if (_errors.Count > 0)
        {
            json["errors"] = new JsonObject(_errors.Select(pair => KeyValuePair.Create(pair.Key, (JsonNode?)pair.Value)));
        }
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllTextAsync(path, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>What the run ran on: cores, memory, CPU, OS, runtime and the servers' versions.</summary>
    public static Dictionary<string, string> DescribeMachine(string? mariaDb, string? rabbitMq)
    {
        static string Find(string file, string prefix) =>
            File.Exists(file)
                ? File.ReadLines(file).FirstOrDefault(line => line.StartsWith(prefix, StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?"
                : "?";
        return new Dictionary<string, string>
        {
            ["cores"] = Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture),
            ["memory"] = Find("/proc/meminfo", "MemTotal"),
            ["cpu"] = Find("/proc/cpuinfo", "model name"),
            ["os"] = RuntimeInformation.OSDescription,
            ["runtime"] = RuntimeInformation.FrameworkDescription,
            ["mariadb"] = mariaDb ?? "?",
            ["rabbitmq"] = rabbitMq ?? "?",
        };
    }
}
