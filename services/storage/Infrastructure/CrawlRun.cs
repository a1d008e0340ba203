namespace Finstage.Storage.Infrastructure;

/// <summary>The record of one crawl of one symbol, failed or not.</summary>
public sealed class CrawlRun
{
    public Guid CrawlId { get; set; }
    public Guid CycleId { get; set; }
    public string Source { get; set; } = "";
    public string Symbol { get; set; } = "";
    public CrawlStatus Status { get; set; }
    public int NewArticles { get; set; }
    public int SeenArticles { get; set; }
    public int? HttpStatus { get; set; }
    public string? FailureReason { get; set; }
    public string? FailureDetail { get; set; }
    public int? Attempts { get; set; }
    public int? DurationMs { get; set; }
    /// <summary>When the crawler finished: fetched or gave up.</summary>
    public DateTime FinishedAt { get; set; }
    public DateTime RecordedAt { get; set; }
}
