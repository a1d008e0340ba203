namespace Finstage.Storage.Reading;

/// <summary>What GET /api/news filters on.</summary>
public sealed record NewsFilter(
    string? Symbol, string? Source, DateTime? From, DateTime? To, string? Text, int Limit, PageCursor? After);
