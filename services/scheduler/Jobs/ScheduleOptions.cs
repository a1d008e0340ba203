using System.ComponentModel.DataAnnotations;

namespace Finstage.Scheduler.Jobs;

/// <summary>The watchlist: groups of symbols, each crawled from one source on its own cron.</summary>
public sealed class ScheduleOptions : IValidatableObject
{
    public const string SectionName = "Schedule";

    /// <summary>Groups by name; each becomes the recurring job <c>crawl-{name}</c>.</summary>
    public Dictionary<string, SymbolGroup> Groups { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>A crawl request not started within this long is stale and ends as Cancelled.</summary>
    [Range(typeof(TimeSpan), "00:00:10", "1.00:00:00")]
    public TimeSpan RequestTimeToLive { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Crawl every group once right after start-up, instead of waiting for its cron.</summary>
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
            if (string.IsNullOrWhiteSpace(group.Cron))
            {
                yield return new ValidationResult($"Group '{name}' needs a Cron expression.");
            }
            if (group.Symbols.Count == 0 || group.Symbols.Any(string.IsNullOrWhiteSpace))
            {
                yield return new ValidationResult($"Group '{name}' needs at least one symbol, and no empty ones.");
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

    /// <summary>The distinct symbols of every group that crawls <paramref name="source"/>.</summary>
    public IReadOnlyList<string> SymbolsOf(string source) =>
        [.. Groups.Values
            .Where(group => string.Equals(group.Source, source, StringComparison.OrdinalIgnoreCase))
            .SelectMany(group => group.Symbols)
            .Distinct(StringComparer.Ordinal)];
}

/// <summary>Symbols crawled together from one source on one cron.</summary>
public sealed class SymbolGroup
{
    public string Source { get; set; } = "";

    /// <summary>A Hangfire cron expression in UTC, e.g. <c>*/3 * * * *</c>.</summary>
    public string Cron { get; set; } = "*/3 * * * *";

    public List<string> Symbols { get; set; } = [];
}

/// <summary>A source's rate limit as the crawler applies it (requests a second to its host).</summary>
public sealed class SourceRate
{
    /// <summary>The crawler's rate for a source that does not set one.</summary>
    public const double CrawlerDefault = 1;

    public double RequestsPerSecond { get; set; } = CrawlerDefault;
}
