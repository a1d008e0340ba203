using System.ComponentModel.DataAnnotations;

namespace Finstage.Scheduler.Jobs;

/// <summary>
/// The watchlist's seed and the schedule's limits. Each group seeds the watchlist in the database once, the first time the
/// scheduler sees it; afterwards the database is the truth (<c>/api/watchlist</c>). A group without a <c>Cron</c> (the
/// default) is polled adaptively; one with a <c>Cron</c> is swept whole on it, as before the watchlist was data.
/// </summary>
public sealed class ScheduleOptions : IValidatableObject
{
    public const string SectionName = "Schedule";

    /// <summary>Groups by name; a swept one becomes the recurring job <c>crawl-{name}</c>.</summary>
    public Dictionary<string, SymbolGroup> Groups { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>A crawl request not started within this long is stale and ends as Cancelled.</summary>
    [Range(typeof(TimeSpan), "00:00:10", "1.00:00:00")]
    public TimeSpan RequestTimeToLive { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Crawl everything once right after start-up: every swept group, and every entry polled adaptively, due now.</summary>
    public bool CrawlOnStart { get; set; }

    /// <summary>Crawl requests a fan-out has sent and not yet had confirmed by the broker, at most.</summary>
    [Range(1, 10_000)]
    public int MaxPublishesInFlight { get; set; } = 256;

    /// <summary>The most symbols one manual crawl may name.</summary>
    [Range(1, 100_000)]
    public int MaxSymbolsPerRequest { get; set; } = 10_000;

    /// <summary>
    /// What the scheduler knows of each source's politeness limit, to refuse a manual crawl that could not
    /// be fetched within <see cref="RequestTimeToLive"/>; keep it equal to the crawler's <c>Sources:{name}:RequestsPerSecond</c>.
    /// </summary>
    public Dictionary<string, SourceRate> Sources { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Requests a second the crawler makes to <paramref name="source"/>: as configured, else the crawler's own default of 1.</summary>
    public double RequestsPerSecondOf(string source) =>
        Sources.TryGetValue(source, out var rate) ? rate.RequestsPerSecond : SourceRate.CrawlerDefault;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var (name, group) in Groups)
        {
            if (string.IsNullOrWhiteSpace(name) || name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_')))
            {
                yield return new ValidationResult($"Group name '{name}' must be letters, digits, '-' or '_'.");
            }
            if (string.IsNullOrWhiteSpace(group.Source))
            {
                yield return new ValidationResult($"Group '{name}' needs a Source.");
            }
            if (group.Cron is not null && string.IsNullOrWhiteSpace(group.Cron))
            {
                yield return new ValidationResult($"Group '{name}' has an empty Cron: omit it to poll the group adaptively.");
            }
            if ((group.Symbols.Count == 0 && group.Feeds.Count == 0) || group.Symbols.Any(string.IsNullOrWhiteSpace))
            {
                yield return new ValidationResult($"Group '{name}' needs at least one symbol, and no empty ones.");
            }
            foreach (var (feed, url) in group.Feeds)
            {
                if (!Uri.TryCreate(url, UriKind.Absolute, out var parsed) || parsed.Scheme is not ("http" or "https"))
                {
                    yield return new ValidationResult($"Group '{name}' feed '{feed}' needs an absolute http(s) URL.");
                }
            }
            if (group.MinInterval is { } min && group.MaxInterval is { } max && min > max)
            {
                yield return new ValidationResult($"Group '{name}': MinInterval must not exceed MaxInterval.");
            }
        }
        foreach (var (name, rate) in Sources)
        {
            if (rate.RequestsPerSecond is not (> 0 and <= 1000))
            {
                yield return new ValidationResult($"Schedule:Sources:{name}:RequestsPerSecond must be in (0, 1000], as the crawler's.");
            }
        }
    }

    /// <summary>The groups swept whole on a cron; the rest of the watchlist is polled adaptively.</summary>
    public IReadOnlyList<string> SweptGroups() => [.. Groups.Where(pair => pair.Value.Cron is not null).Select(pair => pair.Key)];

    /// <summary>The distinct symbols of every group that crawls <paramref name="source"/>.</summary>
    public IReadOnlyList<string> SymbolsOf(string source) =>
        [.. Groups.Values
            .Where(group => string.Equals(group.Source, source, StringComparison.OrdinalIgnoreCase))
            .SelectMany(group => group.Symbols)
            .Distinct(StringComparer.Ordinal)];
}

/// <summary>Symbols (and named feeds) of one source, seeded into the watchlist together.</summary>
public sealed class SymbolGroup
{
    public string Source { get; set; } = "";

    /// <summary>
    /// Unset (the default): the group's entries are polled adaptively. Set: a Hangfire cron in UTC (e.g. <c>*/3 * * * *</c>)
    /// on which the group's entries are all crawled, whatever their feeds do (the fixed sweep, kept for comparison).
    /// </summary>
    public string? Cron { get; set; }

    public List<string> Symbols { get; set; } = [];

    /// <summary>Feeds by URL, under a name that is their symbol (for a source such as <c>feed</c>).</summary>
    public Dictionary<string, string> Feeds { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The seeded entries' priority (higher first when a host cannot take everything due).</summary>
    [Range(0, 100)]
    public int Priority { get; set; }

    /// <summary>The seeded entries' shortest interval; unset: <c>Polling:MinInterval</c>.</summary>
    public TimeSpan? MinInterval { get; set; }

    /// <summary>The seeded entries' longest interval; unset: <c>Polling:MaxInterval</c>.</summary>
    public TimeSpan? MaxInterval { get; set; }
}

/// <summary>A source's rate limit as the crawler applies it (requests a second to its host).</summary>
public sealed class SourceRate
{
    /// <summary>The crawler's rate for a source that does not set one.</summary>
    public const double CrawlerDefault = 1;

    public double RequestsPerSecond { get; set; } = CrawlerDefault;
}
