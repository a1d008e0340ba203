using Finstage.Contracts;
using Microsoft.Extensions.Options;

namespace Finstage.Scheduler.Watchlist;

/// <summary>An entry's interval bounds: its own where set, else <see cref="PollingOptions"/>'.</summary>
public readonly record struct IntervalBounds(TimeSpan Min, TimeSpan Max)
{
    public TimeSpan Clamp(TimeSpan interval) => interval < Min ? Min : interval > Max ? Max : interval;
}

/// <summary>What the rule decided for an entry after a crawl result.</summary>
/// <param name="Interval">The entry's polling interval from now on.</param>
/// <param name="NextDueAt">When the entry is next due: at least the interval away, later where the feed asked.</param>
/// <param name="Failures">Failures in a row, counting this result.</param>
public readonly record struct PollingDecision(TimeSpan Interval, DateTimeOffset NextDueAt, int Failures);

/// <summary>
/// The adaptive polling rule (docs/decisions/0015-adaptive-polling.md): multiplicative, as Nutch's adaptive schedule.
/// A crawl that found new articles shortens the interval by <see cref="PollingOptions.ShrinkFactor"/> per article (at
/// most <see cref="PollingOptions.MaxShrinkSteps"/> steps); one that found none, or a 304, lengthens it by
/// <see cref="PollingOptions.GrowFactor"/>; always within the entry's bounds. The feed's own hints (<c>RefreshAfter</c>,
/// <c>RetryAfter</c>) are lower bounds of the next crawl. Failures back off exponentially from the interval, with jitter,
/// and leave the interval as it was. Pure: the time comes from the clock, the jitter from the random source.
/// </summary>
public sealed class PollingRule(IOptionsMonitor<PollingOptions> options, TimeProvider clock, Random random)
{
    // Beyond 2^20 times any interval the cap has long applied; stops the power from overflowing.
    private const int MaxDoublings = 20;

    /// <summary>After a crawl that answered: <paramref name="newArticles"/> not seen before by this entry (0 for a 304).</summary>
    public PollingDecision AfterCrawl(TimeSpan interval, IntervalBounds bounds, int newArticles, TimeSpan? refreshAfter)
    {
        var polling = options.CurrentValue;
        var factor = newArticles > 0
            ? Math.Pow(polling.ShrinkFactor, Math.Min(newArticles, polling.MaxShrinkSteps))
            : polling.GrowFactor;
        var next = bounds.Clamp(TimeSpan.FromSeconds(Math.Round(interval.TotalSeconds * factor, 3)));
        var now = clock.GetUtcNow();
        return new PollingDecision(next, Later(now + next, now, refreshAfter, polling), Failures: 0);
    }

    /// <summary>After a crawl that failed; <paramref name="failures"/> is how many failed in a row before this one.</summary>
    public PollingDecision AfterFailure(TimeSpan interval, IntervalBounds bounds, int failures, CrawlFailureReason reason, TimeSpan? retryAfter)
    {
        var polling = options.CurrentValue;
        var now = clock.GetUtcNow();
        if (reason == CrawlFailureReason.Cancelled)
        {
            // The request outlived its time to live in our own queue: the host was busy or the crawler away, not the
            // feed at fault. Due again now; the fan-out's budget and its stalest-first order decide when.
            return new PollingDecision(interval, Later(now, now, retryAfter, polling), failures);
        }
        var inARow = failures + 1;
        var cap = polling.MaxBackoff > bounds.Max ? polling.MaxBackoff : bounds.Max;
        var backoff = interval.TotalSeconds * Math.Pow(2, Math.Min(inARow, MaxDoublings));
        var ceiling = Math.Min(backoff, cap.TotalSeconds);
        // "Equal jitter": half the wait is fixed, half random, so failing feeds spread out and never wait less than half.
        var wait = TimeSpan.FromSeconds((ceiling / 2) + (random.NextDouble() * ceiling / 2));
        return new PollingDecision(interval, Later(now + wait, now, retryAfter, polling), inARow);
    }

    // A feed's hint postpones the next crawl, but never beyond MaxHint: a bogus year-long max-age must not lose the feed.
    private static DateTimeOffset Later(DateTimeOffset next, DateTimeOffset now, TimeSpan? hint, PollingOptions polling)
    {
        if (hint is not { } wait || wait <= TimeSpan.Zero)
        {
            return next;
        }
        var honoured = now + (wait < polling.MaxHint ? wait : polling.MaxHint);
        return honoured > next ? honoured : next;
    }
}
