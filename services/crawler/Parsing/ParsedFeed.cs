using Finstage.Contracts;

namespace Finstage.Crawler.Parsing;

/// <summary>A feed as read from one document: its own metadata, every entry, and the entries fit to publish.</summary>
/// <param name="Entries">Every entry in document order, including those that lack a usable link.</param>
/// <param name="Items">The publishable articles: entries with an http(s) link, one per canonical URL; an entry
/// without a title gets one from its summary or URL, with <see cref="NewsArticle.TitleDerived"/> set.</param>
/// <param name="Warnings">What had to be repaired or guessed to read the document; empty for a clean feed.</param>
/// <param name="WellFormed">False when the document broke off or broke down and only what came before was kept.</param>
/// <param name="TimeToLive">RSS <c>&lt;ttl&gt;</c>: how long the channel may be cached before it is fetched again; null when
/// absent or not a positive whole number of minutes.</param>
/// <param name="UpdateInterval">RSS 1.0 syndication (<c>sy:updatePeriod</c> / <c>sy:updateFrequency</c>): how often the publisher
/// says the channel is updated (the period over the frequency); null when the feed names no period.</param>
public sealed record ParsedFeed(
    FeedFormat Format,
    string? Title,
    string? Link,
    IReadOnlyList<FeedEntry> Entries,
    IReadOnlyList<NewsArticle> Items,
    IReadOnlyList<string> Warnings,
    bool WellFormed = true,
    TimeSpan? TimeToLive = null,
    TimeSpan? UpdateInterval = null);

/// <summary>One entry of a feed after normalisation; a field the document lacks is null.</summary>
/// <param name="Url">The canonical http(s) link, or null when the entry has none that is usable.</param>
public sealed record FeedEntry(
    string? Url,
    string? Title,
    string? Summary,
    DateTimeOffset? PublishedAt,
    string? Author,
    string? Publisher,
    string? ImageUrl,
    string? ExternalId);
