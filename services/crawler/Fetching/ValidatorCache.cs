using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Finstage.Crawler.Fetching;

/// <summary>A feed's validators from its last full answer, sent back as If-None-Match / If-Modified-Since.</summary>
/// <param name="TimeToLive">That answer's RSS <c>&lt;ttl&gt;</c>, which a 304 for it does not repeat but still stands for.</param>
public sealed record FeedValidators(string? ETag, DateTimeOffset? LastModified, TimeSpan? TimeToLive = null);

/// <summary>
/// Remembers validators per URL so an unchanged feed costs one 304. Bounded: past its size the
/// cache starts afresh, which costs one full fetch per feed, never a wrong answer.
/// </summary>
public sealed class ValidatorCache(IOptions<FetchOptions> options)
{
    private readonly ConcurrentDictionary<string, FeedValidators> _validators = new(StringComparer.Ordinal);

    public FeedValidators? Get(Uri url) => _validators.GetValueOrDefault(url.AbsoluteUri);

    public void Remember(Uri url, FeedValidators? validators)
    {
        if (validators is null || (validators.ETag is null && validators.LastModified is null))
        {
            _validators.TryRemove(url.AbsoluteUri, out _);
            return;
        }
        if (_validators.Count >= options.Value.ValidatorCacheSize)
        {
            _validators.Clear();
        }
        _validators[url.AbsoluteUri] = validators;
    }
}
