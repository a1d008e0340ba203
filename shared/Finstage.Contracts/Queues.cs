namespace Finstage.Contracts;

/// <summary>Queues that a producer addresses by name, where publishing to every subscriber would be wrong.</summary>
public static class Queues
{
    /// <summary>
    /// Crawls asked for by hand. The scheduler sends them here, not to the exchange every crawl request
    /// is published to, so a large request never queues ahead of a scheduled cycle in <c>fetch-news</c>.
    /// </summary>
    public const string ManualCrawls = "fetch-news-manual";
}
