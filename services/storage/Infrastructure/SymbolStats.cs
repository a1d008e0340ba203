namespace Finstage.Storage.Infrastructure;

/// <summary>
/// What GET /api/symbols shows of a symbol's articles, kept up to date by the batch that links them
/// (Writing/SymbolStatsStatements.cs), so the list costs one row per symbol however long the history.
/// </summary>
public sealed class SymbolStats
{
    public string Symbol { get; set; } = "";
    /// <summary>Articles linked to the symbol.</summary>
    public int ArticleCount { get; set; }
    /// <summary>The latest <see cref="ArticleSymbol.SortAt"/> among them.</summary>
    public DateTime? NewestArticleAt { get; set; }
}
