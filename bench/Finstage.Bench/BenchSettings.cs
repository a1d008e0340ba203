using System.Globalization;

namespace Finstage.Bench;

/// <summary>The sizes of one run: the defaults, or small ones with <c>--quick</c>.</summary>
public sealed record BenchSettings
{
    public bool Quick { get; init; }

    /// <summary>Figures to run (p1 … p11); all when empty.</summary>
    public IReadOnlySet<string> Only { get; init; } = new HashSet<string>();

    public int CycleSymbols { get; init; } = 2_000;
    public TimeSpan FeedLatency { get; init; } = TimeSpan.FromMilliseconds(100);
    public double HostRate { get; init; } = 50;
    public int HostBurst { get; init; } = 5;
    public int Concurrency { get; init; } = 16;

    public int FanOutRequests { get; init; } = 10_000;

    public int IngestMessages { get; init; } = 2_000;
    public int ArticlesPerMessage { get; init; } = 20;

    public int HangfireJobs { get; init; } = 2_000;
    public int PickupSamples { get; init; } = 25;

    public int ApiArticles { get; init; } = 1_000_000;
    public int ApiSymbols { get; init; } = 1_000;
    public int ApiClients { get; init; } = 32;
    public TimeSpan ApiDuration { get; init; } = TimeSpan.FromSeconds(20);

    public int MemoryCycles { get; init; } = 10;
    public int MemorySymbols { get; init; } = 2_000;
    public TimeSpan MemoryFeedLatency { get; init; } = TimeSpan.FromMilliseconds(20);

    /// <summary>p9: every time of the freshness figure is the real one divided by this (a 5-minute sweep takes 30 s).</summary>
    public double FreshnessTimeScale { get; init; } = 10;
    public int FreshnessFeeds { get; init; } = 500;
    public int FreshnessHotFeeds { get; init; } = 25;
    public int FreshnessWarmFeeds { get; init; } = 75;
    public TimeSpan FreshnessSweepWarmUp { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Long enough for quiet feeds' intervals to grow from the initial 18 s to the 180 s maximum (7 empty crawls).</summary>
    public TimeSpan FreshnessAdaptiveWarmUp { get; init; } = TimeSpan.FromSeconds(420);
    public TimeSpan FreshnessMeasured { get; init; } = TimeSpan.FromSeconds(240);
    public int OverloadEntries { get; init; } = 5_000;

    /// <summary>p10: clients on the live stream while articles' commit-to-event latency is measured (the 100).</summary>
    public int StreamClients { get; init; } = 100;
    /// <summary>p10: articles measured, one at a time, each delivered to every client.</summary>
    public int StreamArticles { get; init; } = 200;
    /// <summary>p10: streams held for the memory per client (more than the latency's, to rise well above the noise of RSS).</summary>
    public int StreamMemoryClients { get; init; } = 1_000;

    /// <summary>Every figure must be done by then; a run never hangs.</summary>
    public TimeSpan Budget { get; init; } = TimeSpan.FromMinutes(55);

    public bool Runs(string figure) => Only.Count == 0 || Only.Contains(figure);

    public static BenchSettings Parse(string[] args)
    {
        var settings = args.Contains("--quick")
            ? new BenchSettings
            {
                Quick = true,
                CycleSymbols = 200,
                FanOutRequests = 2_000,
                IngestMessages = 300,
                HangfireJobs = 300,
                PickupSamples = 7,
                ApiArticles = 20_000,
                ApiSymbols = 100,
                ApiDuration = TimeSpan.FromSeconds(3),
                MemoryCycles = 3,
                MemorySymbols = 200,
                FreshnessFeeds = 100,
                FreshnessHotFeeds = 5,
                FreshnessWarmFeeds = 15,
                FreshnessSweepWarmUp = TimeSpan.FromSeconds(30),
                FreshnessAdaptiveWarmUp = TimeSpan.FromSeconds(60),
                FreshnessMeasured = TimeSpan.FromSeconds(60),
                OverloadEntries = 500,
                StreamArticles = 40,
                StreamMemoryClients = 200,
                Budget = TimeSpan.FromMinutes(16),
            }
            : new BenchSettings();
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            settings = args[i] switch
            {
                "--quick" => settings,
                "--only" => settings with { Only = Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet() },
                "--symbols" => settings with { CycleSymbols = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--latency-ms" => settings with { FeedLatency = TimeSpan.FromMilliseconds(double.Parse(Next(), CultureInfo.InvariantCulture)) },
                "--rate" => settings with { HostRate = double.Parse(Next(), CultureInfo.InvariantCulture) },
                "--burst" => settings with { HostBurst = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--concurrency" => settings with { Concurrency = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--api-articles" => settings with { ApiArticles = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--p9-measured-s" => settings with { FreshnessMeasured = TimeSpan.FromSeconds(int.Parse(Next(), CultureInfo.InvariantCulture)) },
                "--p9-adaptive-warmup-s" => settings with { FreshnessAdaptiveWarmUp = TimeSpan.FromSeconds(int.Parse(Next(), CultureInfo.InvariantCulture)) },
                "--p10-clients" => settings with { StreamClients = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--p9-overload-entries" => settings with { OverloadEntries = int.Parse(Next(), CultureInfo.InvariantCulture) },
                _ => throw new ArgumentException(
                    $"Unknown argument {args[i]}. Use --quick, --only p1,p2,p3,p4,p5,p6,p7,p8,p8s,p9,p10,p11, --symbols N, --latency-ms L, --rate R, --burst B, --concurrency C, --api-articles N, --p9-measured-s S, --p9-adaptive-warmup-s S, --p9-overload-entries N, --p10-clients N."),
            };
        }
        return settings;
    }
}
