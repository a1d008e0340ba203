namespace Finstage.Storage.Infrastructure;

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
