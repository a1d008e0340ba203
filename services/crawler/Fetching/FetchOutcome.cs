using Finstage.Contracts;

namespace Finstage.Crawler.Fetching;

/// <summary>
/// What one fetch of a feed URL came to: a body (with the answer's validators, not yet remembered),
/// "not modified", or a failure with its reason.
/// </summary>
/// <param name="RefreshAfter">How long the answer stays fresh by its headers (<see cref="FreshnessHints.FreshFor"/>); for a 304,
/// at least the remembered copy's RSS <c>&lt;ttl&gt;</c>.</param>
/// <param name="RetryAfter">The wait a 429 or 503 asked for (<see cref="FreshnessHints.RetryAfter"/>).</param>
public sealed record FetchOutcome(
    int? HttpStatus,
    int Attempts,
    byte[]? Body = null,
    string? ContentType = null,
    bool NotModified = false,
    CrawlFailureReason? Failure = null,
    string? Detail = null,
    FeedValidators? Validators = null,
    TimeSpan? RefreshAfter = null,
    TimeSpan? RetryAfter = null)
{
    public bool Failed => Failure is not null;
}
