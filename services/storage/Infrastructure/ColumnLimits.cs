namespace Finstage.Storage.Infrastructure;

/// <summary>
/// Lengths of the columns only storage has. Those of the texts the messages carry are the contract's
/// (<see cref="Finstage.Contracts.FieldLengths"/>).
/// </summary>
internal static class ColumnLimits
{
    /// <summary>Characters (code points) of a summary that list pages show; <c>articles.summary_preview</c> holds them.</summary>
    public const int SummaryPreview = 500;

    /// <summary>A crawl run's status, kept by the name of its <see cref="CrawlStatus"/>.</summary>
    public const int Status = 16;

    /// <summary>The name of an outbox cursor (<c>article_event_cursors.name</c>: <c>stored</c>, <c>relayed</c>).</summary>
    public const int EventCursorName = 32;
}
