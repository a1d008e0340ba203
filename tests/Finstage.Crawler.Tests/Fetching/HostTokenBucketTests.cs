using Finstage.Crawler.Politeness;

namespace Finstage.Crawler.Tests.Fetching;

[Trait("Lane", "Fast")]
public sealed class HostTokenBucketTests
{
    // A refill adds TokensPerPeriod but the bucket keeps at most TokenLimit, so a period that brings more than the
    // bucket holds loses the rest: the host then gets TokenLimit a period, not its rate (3 tokens every 54 ms into a
    // bucket of 1 ran a 55.6/s host at 18.5/s in the bench's p9 overload run).
    [Theory(Timeout = 10_000)]
    [InlineData(55.556, 1)]
    [InlineData(25, 1)]
    [InlineData(1000, 1)]
    [InlineData(50, 5)]
    [InlineData(30, 5)]
    [InlineData(2, 1)]
    [InlineData(0.5, 4)]
    public void Options_RefillAtTheHostsRate_NeverMoreThanTheBucketHolds(double rate, int burst)
    {
        var options = HostTokenBucket.Options(rate, burst);

        options.TokenLimit.ShouldBe(burst);
        options.TokensPerPeriod.ShouldBeLessThanOrEqualTo(options.TokenLimit);
        (options.TokensPerPeriod / options.ReplenishmentPeriod.TotalSeconds).ShouldBe(rate, tolerance: rate * 1e-4); // the period is whole ticks of 100 ns
        // Short periods: about 50 ms for a fast host (whole tokens, so up to one token's time more), one token's time for a slow one.
        options.ReplenishmentPeriod.TotalSeconds.ShouldBeLessThanOrEqualTo(0.05 + (1 / rate));
        options.AutoReplenishment.ShouldBeTrue();
    }
}
