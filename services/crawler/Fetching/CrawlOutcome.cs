using Finstage.Contracts;

namespace Finstage.Crawler.Fetching;

/// <summary>
/// What one crawl came to: either <see cref="Crawled"/> (a <see cref="NewsCrawled"/> and, for a feed
/// fetched in full, the validators of that answer) or <see cref="Failed"/> (a <see cref="CrawlFailed"/>).
/// </summary>
/// <remarks>
/// Closed: the constructor is private, so these two cases are all there are, and <see cref="Match{T}"/>
/// makes a caller handle both without a default arm.
/// </remarks>
public abstract record CrawlOutcome
{
    private CrawlOutcome()
    {
    }

    /// <summary>Calls <paramref name="crawled"/> or <paramref name="failed"/>, whichever this outcome is.</summary>
    public abstract T Match<T>(Func<Crawled, T> crawled, Func<Failed, T> failed);

    /// <summary>The feed was read (or had not changed): <see cref="Message"/> is to be published.</summary>
    public sealed record Crawled(NewsCrawled Message, Uri? FeedUrl = null, FeedValidators? Validators = null) : CrawlOutcome
    {
        public override T Match<T>(Func<Crawled, T> crawled, Func<Failed, T> failed)
        {
            ArgumentNullException.ThrowIfNull(crawled);
            return crawled(this);
        }

        /// <summary>Remembers the answer's validators (or forgets old ones it did not repeat); call it only after <see cref="Message"/> is published.</summary>
        public void RememberValidators(ValidatorCache cache)
        {
            ArgumentNullException.ThrowIfNull(cache);
            if (FeedUrl is not null && Validators is not null)
            {
                cache.Remember(FeedUrl, Validators);
            }
        }
    }

    /// <summary>The crawl failed: <see cref="Message"/> says why, and is to be published.</summary>
    public sealed record Failed(CrawlFailed Message) : CrawlOutcome
    {
        public override T Match<T>(Func<Crawled, T> crawled, Func<Failed, T> failed)
        {
            ArgumentNullException.ThrowIfNull(failed);
            return failed(this);
        }
    }
}
