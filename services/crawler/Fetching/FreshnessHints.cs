using System.Net;

namespace Finstage.Crawler.Fetching;

/// <summary>
/// What an answer's headers say about when to ask again: how long it stays fresh (<c>Cache-Control: max-age</c>,
/// <c>Expires</c>) and, for 429 and 503, how long to wait (<c>Retry-After</c>). The scheduler takes these as lower
/// bounds of a feed's next poll (docs/decisions/0016-crawl-hints.md).
/// </summary>
public static class FreshnessHints
{
    /// <summary>
    /// How long the answer stays fresh from now: the larger of its <c>max-age</c> less its <c>Age</c> and its
    /// <c>Expires</c> less its <c>Date</c> (or <paramref name="receivedAt"/> without one); null when it names neither,
    /// forbids caching (<c>no-store</c>, <c>no-cache</c>) or is already stale.
    /// </summary>
    /// <remarks>
    /// The server's own <c>Date</c> is the base for <c>Expires</c>, so a clock that is off here or there does not
    /// shift the hint. <c>Age</c> is what a cache in between has already used up of <c>max-age</c>.
    /// </remarks>
    public static TimeSpan? FreshFor(HttpResponseMessage response, DateTimeOffset receivedAt)
    {
        ArgumentNullException.ThrowIfNull(response);
        var cacheControl = response.Headers.CacheControl;
        if (cacheControl is { NoStore: true } or { NoCache: true })
        {
            return null;
        }
        TimeSpan? fromMaxAge = cacheControl?.MaxAge is { } maxAge ? maxAge - (response.Headers.Age ?? TimeSpan.Zero) : null;
        // An Expires that is not a date (often "0" or "-1") reads as DateTimeOffset.MinValue: already expired.
        TimeSpan? fromExpires = response.Content.Headers.Expires is { } expires && expires != DateTimeOffset.MinValue
            ? expires - (response.Headers.Date ?? receivedAt)
            : null;
        return Positive(Max(fromMaxAge, fromExpires));
    }

    /// <summary>
    /// The wait a 429 or 503 asks for with <c>Retry-After</c>, in seconds or as a date (less the answer's <c>Date</c>,
    /// or <paramref name="receivedAt"/>); null for any other status, without the header, or when the date is past.
    /// </summary>
    public static TimeSpan? RetryAfter(HttpResponseMessage response, DateTimeOffset receivedAt)
    {
        ArgumentNullException.ThrowIfNull(response);
        if (response.StatusCode is not (HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable)
            || response.Headers.RetryAfter is not { } retryAfter)
        {
            return null;
        }
        return Positive(retryAfter.Delta ?? (retryAfter.Date - (response.Headers.Date ?? receivedAt)));
    }

    /// <summary>The larger of two hints, either of which may be missing.</summary>
    public static TimeSpan? Max(TimeSpan? first, TimeSpan? second) =>
        first is null ? second : second is null ? first : first.Value >= second.Value ? first : second;

    private static TimeSpan? Positive(TimeSpan? value) => value > TimeSpan.Zero ? value : null;
}
