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
