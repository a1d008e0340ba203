namespace Finstage.Scheduler.Watchlist;

/// <summary>One row of the watchlist: what to crawl, how it is polled, and what came of the last crawl.</summary>
/// <param name="Host">The host the crawl goes to: the feed URL's host, else the source's name (one host per configured source).</param>
/// <param name="Group">The <c>Schedule:Groups</c> group it was seeded from; null when added through the API.</param>
/// <param name="PendingUntil">A crawl request is out until then (its <c>NotAfter</c>), unless its result came back first.</param>
public sealed record WatchlistEntry(
    long Id,
    string Source,
    string Symbol,
    string? FeedUrl,
    string Host,
    string? Group,
    bool Enabled,
    int Priority,
    TimeSpan? MinInterval,
    TimeSpan? MaxInterval,
    TimeSpan Interval,
    DateTimeOffset NextDueAt,
    DateTimeOffset? PendingUntil,
    DateTimeOffset? LastRequestedAt,
    DateTimeOffset? LastCrawledAt,
    string? LastResult,
    string? LastDetail,
    int? LastNewArticles,
    DateTimeOffset? LastNewAt,
    int Failures);

/// <summary>What a user sets on an entry: everything else the scheduler keeps.</summary>
public sealed record EntrySettings(
    string Source, string Symbol, string? FeedUrl, bool Enabled, int Priority, TimeSpan? MinInterval, TimeSpan? MaxInterval, string? Group = null)
{
    /// <summary>The host whose budget the entry's crawls spend: a feed URL's host, else the source's own.</summary>
    public string Host => FeedUrl is not null && Uri.TryCreate(FeedUrl, UriKind.Absolute, out var url)
        ? url.IdnHost.ToLowerInvariant()
        : Source;
}

/// <summary>An entry the fan-out may publish now, with what it orders them by.</summary>
public sealed record DueEntry(long Id, string Source, string Symbol, string? FeedUrl, string Host, int Priority, DateTimeOffset NextDueAt);
