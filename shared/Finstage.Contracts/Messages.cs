namespace Finstage.Contracts;

// Messages are additive only: add optional members at the end, never rename or remove.

/// <summary>Asks the crawler to fetch one symbol's news from one source; one per symbol per cycle.</summary>
/// <param name="CycleId">Ties together every symbol that one scheduler run fanned out.</param>
/// <param name="NotAfter">When set, a crawl that starts later than this is pointless and ends as Cancelled.</param>
public record CrawlRequested(
    Guid CrawlId,
    Guid CycleId,
    string Source,
    string Symbol,
    DateTimeOffset RequestedAt,
    DateTimeOffset? NotAfter = null);

/// <summary>The articles one crawl found (none when the feed answered 304 Not Modified).</summary>
public record NewsCrawled(
    Guid CrawlId,
    Guid CycleId,
    string Source,
    string Symbol,
    DateTimeOffset FetchedAt,
    TimeSpan Duration,
    int HttpStatus,
    bool NotModified,
    IReadOnlyList<NewsArticle> Articles);

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
    TimeSpan? Duration = null);

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
