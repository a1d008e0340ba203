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
