using System.ComponentModel.DataAnnotations;

namespace Finstage.Scheduler.Watchlist;

/// <summary>How the watchlist is polled: the fan-out's round and the bounds of the adaptive rule (docs/decisions/0015-adaptive-polling.md).</summary>
public sealed class PollingOptions : IValidatableObject
{
    public const string SectionName = "Polling";

    /// <summary>How often the fan-out looks for due entries; a whole number of seconds that divides a minute.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:01:00")]
    public TimeSpan Round { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A new entry's first interval (today's fixed sweep ran every 3 minutes).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")]
    public TimeSpan InitialInterval { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>The shortest interval of an entry that sets none.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")]
    public TimeSpan MinInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The longest interval of an entry that sets none.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")]
    public TimeSpan MaxInterval { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>The shortest interval an entry may ask for through the API.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan Floor { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The interval is multiplied by this for each new article a crawl found (at most <see cref="MaxShrinkSteps"/> times).</summary>
    [Range(0.1, 0.99)]
    public double ShrinkFactor { get; set; } = 0.7;

    /// <summary>A crawl that found nothing new (or a 304) multiplies the interval by this.</summary>
    [Range(1.01, 10)]
    public double GrowFactor { get; set; } = 1.4;

    /// <summary>The most shrink steps one crawl takes, however many new articles it found.</summary>
    [Range(1, 10)]
    public int MaxShrinkSteps { get; set; } = 3;

    /// <summary>The longest wait after failures (exponential from the entry's interval, with jitter).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")]
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromHours(6);

    /// <summary>The longest a feed's own hint (<c>&lt;ttl&gt;</c>, max-age, Expires, Retry-After) may postpone its next crawl.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")]
    public TimeSpan MaxHint { get; set; } = TimeSpan.FromDays(1);

    /// <summary>How much lateness one point of priority is worth when the fan-out orders due entries.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan PriorityWeight { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long the API waits for the crawler's check of a feed URL before it refuses the entry.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan FeedCheckTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The queue the scheduler follows crawl results on. Every scheduler of one deployment shares it (they share the
    /// database); a second deployment on the same broker needs a name of its own, or it takes this one's results.
    /// </summary>
    [Required, RegularExpression("^[a-z0-9][a-z0-9._-]{0,99}$")]
    public string ResultsQueue { get; set; } = "scheduler-crawl-results";

    /// <summary>The Hangfire cron of the fan-out: every <see cref="Round"/>.</summary>
    public string RoundCron => $"*/{(int)Round.TotalSeconds} * * * * *";

    /// <summary>An entry's bounds: its own where set, else these defaults (an own minimum above the default maximum lifts it).</summary>
    public IntervalBounds BoundsFor(TimeSpan? min, TimeSpan? max)
    {
        var lower = min ?? MinInterval;
        var upper = max ?? MaxInterval;
        return new IntervalBounds(lower, upper < lower ? lower : upper);
    }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        var seconds = Round.TotalSeconds;
        if (seconds != Math.Floor(seconds) || 60 % (int)seconds != 0)
        {
            yield return new ValidationResult("Polling:Round must be a whole number of seconds that divides a minute (1, 2, 5, 10, 15, 20, 30 or 60 s).");
        }
        if (MinInterval > MaxInterval)
        {
            yield return new ValidationResult("Polling:MinInterval must not exceed Polling:MaxInterval.");
        }
        if (Floor > MinInterval)
        {
            yield return new ValidationResult("Polling:Floor must not exceed Polling:MinInterval.");
        }
    }
}
