using Finstage.Contracts;

namespace Finstage.Crawler.Fetching;

/// <summary>
/// What one fetch of a feed URL came to: a body (with the answer's validators, not yet remembered),
/// "not modified", or a failure with its reason.
/// </summary>
public sealed record FetchOutcome(
    int? HttpStatus,
    int Attempts,
    byte[]? Body = null,
    string? ContentType = null,
    bool NotModified = false,
    CrawlFailureReason? Failure = null,
    string? Detail = null,
    FeedValidators? Validators = null)
{
    public bool Failed => Failure is not null;
}
