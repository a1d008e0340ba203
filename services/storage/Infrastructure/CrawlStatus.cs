namespace Finstage.Storage.Infrastructure;

/// <summary>How a crawl ended; stored by name.</summary>
public enum CrawlStatus
{
    Succeeded,
    NotModified,
    Failed,
}
