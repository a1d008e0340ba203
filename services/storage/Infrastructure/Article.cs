namespace Finstage.Storage.Infrastructure;

/// <summary>One news article, identified by the hash of its canonical URL.</summary>
public sealed class Article
{
    /// <summary>The first 16 bytes of SHA-256 over the canonical URL (see <see cref="ArticleId"/>).</summary>
    public byte[] Id { get; set; } = [];
    public string Url { get; set; } = "";
    /// <summary>The source that saw the article first.</summary>
    public string Source { get; set; } = "";
    public string Title { get; set; } = "";
    public string? Summary { get; set; }
    public string? Author { get; set; }
    public string? Publisher { get; set; }
    public string? ImageUrl { get; set; }
    public string? ExternalId { get; set; }
    public DateTime? PublishedAt { get; set; }
    /// <summary>Newest-first order: the publication time, or first sight where the feed gave none. Never changes.</summary>
    public DateTime SortAt { get; set; }
    public DateTime FirstSeenAt { get; set; }
    public DateTime LastSeenAt { get; set; }
    public List<ArticleSymbol> Symbols { get; set; } = [];
}

/// <summary>Says that an article was found in a symbol's feed; one article can belong to many symbols.</summary>
public sealed class ArticleSymbol
{
    public byte[] ArticleId { get; set; } = [];
    public string Symbol { get; set; } = "";
    /// <summary>A copy of the article's <see cref="Article.SortAt"/>, so a symbol's page is read from one index.</summary>
    public DateTime SortAt { get; set; }
    public DateTime FirstSeenAt { get; set; }
    public Article? Article { get; set; }
}

/// <summary>
/// What GET /api/symbols shows of a symbol's articles, kept up to date by the batch that links them
/// (<see cref="SymbolStatsStatements"/>), so the list costs one row per symbol however long the history.
/// </summary>
public sealed class SymbolStats
{
    public string Symbol { get; set; } = "";
    /// <summary>Articles linked to the symbol.</summary>
    public int ArticleCount { get; set; }
    /// <summary>The latest <see cref="ArticleSymbol.SortAt"/> among them.</summary>
    public DateTime? NewestArticleAt { get; set; }
}

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

/// <summary>How a crawl ended; stored by name.</summary>
public enum CrawlStatus
{
    Succeeded,
    NotModified,
    Failed,
}
