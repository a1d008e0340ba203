using System.ComponentModel.DataAnnotations;

namespace Finstage.Storage.Events;

/// <summary>The outbox relay of <c>ArticlesStored</c> events (section <c>ArticleEvents</c>).</summary>
public sealed class ArticleEventsOptions
{
    public const string SectionName = "ArticleEvents";

    /// <summary>
    /// How often the relay looks for unpublished events when nothing woke it: a commit in this instance wakes it at
    /// once, so this bounds the delay of events left by a crashed instance, another instance, or a failed publish.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Events published per relay transaction.</summary>
    [Range(1, 1000)]
    public int BatchSize { get; set; } = 100;

    /// <summary>
    /// How long a published event stays in <c>article_events</c> (counted from when it was stored), for consumers
    /// that replay recent events from the table. Unpublished events are never deleted.
    /// </summary>
    [Range(typeof(TimeSpan), "00:01:00", "30.00:00:00")]
    public TimeSpan Retention { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// Test hook, unset in production: the relay waits this long between reading events and publishing them,
    /// widening the window between commit and publish so a test can kill the process inside it.
    /// </summary>
    public TimeSpan? HoldBeforePublish { get; set; }

    /// <summary>
    /// Test hook, unset in production: the relay waits this long between publishing events and marking them
    /// published, so a test can kill the process after the broker has them and before the database says so.
    /// </summary>
    public TimeSpan? HoldBeforeMarking { get; set; }
}
