namespace Finstage.Contracts;

// Messages are additive only: add optional members at the end, never rename or remove.

/// <summary>Asks the crawler to fetch one symbol's news from one source; one per symbol per cycle.</summary>
/// <param name="CycleId">Ties together every symbol that one scheduler run fanned out.</param>
/// <param name="NotAfter">When set, a crawl that starts later than this is pointless and ends as Cancelled.</param>
/// <param name="FeedUrl">
/// The feed to fetch, for a watchlist entry that names its feed by URL. When null the crawler resolves
/// (<paramref name="Source"/>, <paramref name="Symbol"/>) from its own configuration. A URL given here is
/// fetched under the same network rules as any other (never an internal address unless configured).
/// </param>
public record CrawlRequested(
    Guid CrawlId,
    Guid CycleId,
    string Source,
    string Symbol,
    DateTimeOffset RequestedAt,
    DateTimeOffset? NotAfter = null,
    string? FeedUrl = null);

/// <summary>The articles one crawl found (none when the feed answered 304 Not Modified).</summary>
/// <param name="RefreshAfter">
/// How long the feed asked not to be fetched again: the largest of its RSS <c>&lt;ttl&gt;</c>, the answer's
/// <c>Cache-Control: max-age</c> and its <c>Expires</c> less the fetch time; null when it gave no such hint.
/// </param>
public record NewsCrawled(
    Guid CrawlId,
    Guid CycleId,
    string Source,
    string Symbol,
    DateTimeOffset FetchedAt,
    TimeSpan Duration,
    int HttpStatus,
    bool NotModified,
    IReadOnlyList<NewsArticle> Articles,
    TimeSpan? RefreshAfter = null);

/// <summary>One item of a feed, with its URL already canonicalised by the crawler.</summary>
/// <param name="Url">
/// The article's identity, split between the two sides: the crawler canonicalises the link (absolute
/// http(s), tracking parameters and trivial variations removed: the crawler's <c>UrlCanonicalizer</c>),
/// and storage keys the article by the first 16 bytes of SHA-256 over this string as sent, less
/// surrounding white space (storage's <c>ArticleId</c>); storage does not canonicalise again. So every
/// publisher must send the canonical form, or one article is stored twice. Never cut to
/// <see cref="FieldLengths.Url"/> before storage: the key is taken from the whole URL.
/// </param>
/// <param name="Title">Cut to <see cref="FieldLengths.Title"/>; the other texts likewise to their <see cref="FieldLengths"/>.</param>
/// <param name="TitleDerived">True when the feed gave the item no title and <paramref name="Title"/> was made
/// from its summary's first words or its URL. Optional, so a message from before the flag reads as false.</param>
public record NewsArticle(
    string Url,
    string Title,
    string? Summary = null,
    DateTimeOffset? PublishedAt = null,
    string? Author = null,
    string? Publisher = null,
    string? ImageUrl = null,
    string? ExternalId = null,
    bool TitleDerived = false);

/// <summary>A crawl that ended without articles, and why.</summary>
/// <param name="RetryAfter">The wait the feed's host asked for with <c>Retry-After</c> (on 429 or 503), if it did.</param>
public record CrawlFailed(
    Guid CrawlId,
    Guid CycleId,
    string Source,
    string Symbol,
    CrawlFailureReason Reason,
    string Detail,
    int Attempts,
    DateTimeOffset FailedAt,
    int? HttpStatus = null,
    TimeSpan? Duration = null,
    TimeSpan? RetryAfter = null);

/// <summary>Why a crawl failed; stored by name, so members are never renamed.</summary>
public enum CrawlFailureReason
{
    Timeout,
    HttpError,
    RateLimited,
    NotAFeed,
    ParseError,
    TooLarge,
    Cancelled,
    /// <summary>The source, or the symbol within it, is not in the crawler's configuration.</summary>
    NotConfigured,
    /// <summary>
    /// The feed, or a redirect from it, leads to an address the crawler does not connect to
    /// (loopback, private, link-local, multicast, unspecified); refused before any connection.
    /// </summary>
    BlockedAddress,
}

/// <summary>
/// Published by storage after a batch commits: the articles one crawl result stored for the first time
/// (a result that stored nothing new publishes nothing). Delivered at least once.
/// </summary>
/// <param name="EventId">Stable across re-deliveries of the same event: consumers de-duplicate on it.</param>
/// <param name="Sequence">The event's position in storage's outbox; increases from one event to the next.</param>
public record ArticlesStored(
    Guid EventId,
    long Sequence,
    Guid CrawlId,
    Guid CycleId,
    string Source,
    string Symbol,
    DateTimeOffset StoredAt,
    IReadOnlyList<StoredArticle> Articles);

/// <summary>One article as <see cref="ArticlesStored"/> carries it.</summary>
/// <param name="Id">The article's id as the news API names it (<c>/api/news/{Id}</c>): 32 lower-case hex digits.</param>
public record StoredArticle(
    string Id,
    string Url,
    string Title,
    DateTimeOffset? PublishedAt,
    string? Publisher = null,
    bool TitleDerived = false);
