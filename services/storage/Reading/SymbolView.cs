namespace Finstage.Storage.Reading;

/// <summary>A symbol as GET /api/symbols shows it.</summary>
public sealed record SymbolView(
    string Symbol, int ArticleCount, DateTime? NewestArticleAt, DateTime? LastCrawlAt, string? LastCrawlSource, string? LastCrawlStatus);
