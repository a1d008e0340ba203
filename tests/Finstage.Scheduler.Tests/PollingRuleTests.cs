using Finstage.Contracts;
using Finstage.Scheduler.Watchlist;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Finstage.Scheduler.Tests;

/// <summary>The adaptive polling rule alone, on a clock and a random source of the test's (docs/decisions/0015-adaptive-polling.md).</summary>
[Trait("Category", "Reliability")]
[Trait("Lane", "Fast")]
public sealed class PollingRuleTests
{
    private static readonly DateTimeOffset Noon = new(2026, 8, 14, 12, 0, 0, TimeSpan.Zero);
    private static readonly IntervalBounds Wide = new(TimeSpan.FromSeconds(10), TimeSpan.FromHours(1));

    [Fact(Timeout = 10_000)]
    public void AfterCrawl_ShortensTheIntervalPerNewArticle_WhenTheCrawlFoundNewArticles()
    {
        var rule = Rule(new FakeTimeProvider(Noon));

        var one = rule.AfterCrawl(TimeSpan.FromSeconds(100), Wide, newArticles: 1, refreshAfter: null);
        var two = rule.AfterCrawl(TimeSpan.FromSeconds(100), Wide, newArticles: 2, refreshAfter: null);
        // At most three steps, however many arrived: one busy crawl must not throw the interval to its floor.
        var many = rule.AfterCrawl(TimeSpan.FromSeconds(100), Wide, newArticles: 40, refreshAfter: null);

        one.Interval.ShouldBe(TimeSpan.FromSeconds(70));
        one.NextDueAt.ShouldBe(Noon + TimeSpan.FromSeconds(70));
        one.Failures.ShouldBe(0);
        two.Interval.ShouldBe(TimeSpan.FromSeconds(49));
        many.Interval.ShouldBe(TimeSpan.FromSeconds(34.3));
    }

    [Fact(Timeout = 10_000)]
    public void AfterCrawl_LengthensTheInterval_WhenNothingWasNewOrTheFeedAnswered304()
    {
        var rule = Rule(new FakeTimeProvider(Noon));

        var decision = rule.AfterCrawl(TimeSpan.FromSeconds(100), Wide, newArticles: 0, refreshAfter: null);

        decision.Interval.ShouldBe(TimeSpan.FromSeconds(140));
        decision.NextDueAt.ShouldBe(Noon + TimeSpan.FromSeconds(140));
    }

    [Fact(Timeout = 10_000)]
    public void AfterCrawl_KeepsTheIntervalWithinTheEntrysBounds_WhenTheRuleWouldLeaveThem()
    {
        var rule = Rule(new FakeTimeProvider(Noon));
        var bounds = new IntervalBounds(TimeSpan.FromSeconds(90), TimeSpan.FromSeconds(120));

        rule.AfterCrawl(TimeSpan.FromSeconds(100), bounds, newArticles: 3, refreshAfter: null).Interval.ShouldBe(TimeSpan.FromSeconds(90));
        rule.AfterCrawl(TimeSpan.FromSeconds(100), bounds, newArticles: 0, refreshAfter: null).Interval.ShouldBe(TimeSpan.FromSeconds(120));
    }

    [Fact(Timeout = 10_000)]
    public void AfterCrawl_WaitsAtLeastRefreshAfter_WhenTheFeedAskedNotToBeFetchedSooner()
    {
        var rule = Rule(new FakeTimeProvider(Noon));

        // A <ttl> of 10 minutes postpones a crawl the rule would make in 84 s.
        var longer = rule.AfterCrawl(TimeSpan.FromSeconds(60), Wide, newArticles: 0, refreshAfter: TimeSpan.FromMinutes(10));
        // A shorter hint is a lower bound only: it never brings a crawl forward.
        var shorter = rule.AfterCrawl(TimeSpan.FromSeconds(60), Wide, newArticles: 0, refreshAfter: TimeSpan.FromSeconds(5));
        // A max-age of a year is cut to Polling:MaxHint (a day): a bogus header must not lose the feed.
        var bogus = rule.AfterCrawl(TimeSpan.FromSeconds(60), Wide, newArticles: 0, refreshAfter: TimeSpan.FromDays(365));

        longer.NextDueAt.ShouldBe(Noon + TimeSpan.FromMinutes(10));
        longer.Interval.ShouldBe(TimeSpan.FromSeconds(84));
        shorter.NextDueAt.ShouldBe(Noon + TimeSpan.FromSeconds(84));
        bogus.NextDueAt.ShouldBe(Noon + TimeSpan.FromDays(1));
    }

    [Theory(Timeout = 10_000)]
    [InlineData(0, 0.0, 60)]
    [InlineData(0, 1.0, 120)]
    [InlineData(3, 0.0, 480)]
    [InlineData(3, 0.5, 720)]
    [InlineData(30, 0.0, 3 * 3600)]
    [InlineData(30, 1.0, 6 * 3600)]
    public void AfterFailure_BacksOffExponentiallyWithJitter_WhenCrawlsFailInARow(int failuresBefore, double random, int expectedSeconds)
    {
        // Interval 60 s: the n-th failure in a row waits between 60 x 2^n / 2 and 60 x 2^n s, at most Polling:MaxBackoff (6 h).
        var rule = Rule(new FakeTimeProvider(Noon), random);

        var decision = rule.AfterFailure(TimeSpan.FromSeconds(60), Wide, failuresBefore, CrawlFailureReason.HttpError, retryAfter: null);

        decision.NextDueAt.ShouldBe(Noon + TimeSpan.FromSeconds(expectedSeconds));
        decision.Interval.ShouldBe(TimeSpan.FromSeconds(60), "a failure says nothing about how often the feed changes");
        decision.Failures.ShouldBe(failuresBefore + 1);
    }

    [Fact(Timeout = 10_000)]
    public void AfterFailure_WaitsAtLeastRetryAfter_WhenTheHostAskedForIt()
    {
        var rule = Rule(new FakeTimeProvider(Noon), random: 0);

        var decision = rule.AfterFailure(TimeSpan.FromSeconds(60), Wide, 0, CrawlFailureReason.RateLimited, retryAfter: TimeSpan.FromHours(2));

        decision.NextDueAt.ShouldBe(Noon + TimeSpan.FromHours(2));
    }

    [Fact(Timeout = 10_000)]
    public void AfterFailure_IsDueAgainWithoutCountingAFailure_WhenTheRequestExpiredInTheQueue()
    {
        var rule = Rule(new FakeTimeProvider(Noon), random: 1);

        var decision = rule.AfterFailure(TimeSpan.FromSeconds(60), Wide, 2, CrawlFailureReason.Cancelled, retryAfter: null);

        decision.NextDueAt.ShouldBe(Noon);
        decision.Failures.ShouldBe(2);
    }

    [Fact(Timeout = 10_000)]
    public void AfterCrawl_SettlesNearTheFeedsOwnPace_WhenAFeedPublishesSteadily()
    {
        // A feed with a new item every 60 s, polled by the rule from the 3-minute start. The rule's balance point is where a
        // shrink (x0.7) is as likely as a growth (x1.4): about one new item every second poll, so the interval settles
        // around half the feed's pace (29 s on average here, between 17 and 44 s) and spends about two requests per item.
        var clock = new FakeTimeProvider(Noon);
        var rule = Rule(clock);
        var interval = TimeSpan.FromMinutes(3);
        var polls = 0;
        var lastPoll = Noon;
        var tail = new List<TimeSpan>();
        while (clock.GetUtcNow() < Noon + TimeSpan.FromHours(6))
        {
            clock.Advance(interval);
            var now = clock.GetUtcNow();
            var published = (int)((now - Noon).TotalSeconds / 60) - (int)((lastPoll - Noon).TotalSeconds / 60);
            lastPoll = now;
            interval = rule.AfterCrawl(interval, Wide, published, refreshAfter: null).Interval;
            if (++polls > 50)
            {
                tail.Add(interval);
            }
        }

        tail.ShouldAllBe(settled => settled >= TimeSpan.FromSeconds(15) && settled <= TimeSpan.FromSeconds(60));
        (polls / 360.0).ShouldBeInRange(1.5, 3.0, "requests per new item over the six hours");
    }

    private static PollingRule Rule(TimeProvider clock, double random = 0.5) =>
        new(new FixedOptions<PollingOptions>(new PollingOptions()), clock, new FixedRandom(random));

    /// <summary>A random source that always answers the same, so a jittered wait is exact.</summary>
    private sealed class FixedRandom(double value) : Random
    {
        // 1.0 stands for the top of the range, which Random itself never quite reaches.
        public override double NextDouble() => value;
    }
}

/// <summary>Options of a test's own, never reloaded.</summary>
internal sealed class FixedOptions<T>(T value) : IOptionsMonitor<T>
{
    public T CurrentValue => value;

    public T Get(string? name) => value;

    public IDisposable? OnChange(Action<T, string?> listener) => null;
}
