using Finstage.Storage.Infrastructure;

namespace Finstage.Storage.Reading;

/// <summary>What GET /api/crawls filters on.</summary>
public sealed record CrawlFilter(
    string? Source, string? Symbol, CrawlStatus? Status, Guid? CycleId, int Limit, PageCursor? After);
