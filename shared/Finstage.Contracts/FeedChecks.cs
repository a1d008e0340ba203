namespace Finstage.Contracts;

/// <summary>
/// Asks the crawler to fetch and parse a feed once, under the same network rules as every crawl, before the scheduler
/// accepts it onto the watchlist. A request/response pair: the crawler answers with <see cref="FeedChecked"/>.
/// </summary>
public record CheckFeed(Guid CheckId, string FeedUrl, DateTimeOffset RequestedAt);

/// <summary>What came of a <see cref="CheckFeed"/>.</summary>
/// <param name="IsFeed">True when the URL answered with a feed the crawler could parse.</param>
/// <param name="Reason">Why not, when it was not; null when it was.</param>
/// <param name="Detail">The reason in words, for the person who added the feed.</param>
/// <param name="Articles">How many items the feed listed.</param>
/// <param name="Title">The feed's own title, when it has one.</param>
public record FeedChecked(
    Guid CheckId,
    string FeedUrl,
    bool IsFeed,
    CrawlFailureReason? Reason,
    string? Detail,
    int? HttpStatus,
    int Articles,
    string? Title);
