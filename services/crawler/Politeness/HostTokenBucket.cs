using System.Threading.RateLimiting;

namespace Finstage.Crawler.Politeness;

/// <summary>
/// The token bucket a crawler process keeps for a host when no Redis shares the host's budget between instances: the
/// host's rate exactly, refilled in short periods, never holding more than the host's burst.
/// </summary>
public static class HostTokenBucket
{
    public static TokenBucketRateLimiterOptions Options(double requestsPerSecond, int burst)
    {
        // Short periods for fast hosts (about 50 ms), so the bucket refills smoothly rather than in lumps; whole tokens per
        // period, and the period fitted to them, so the rate is exactly the configured one (rounding R x 50 ms made 50/s
        // into 2 tokens per 50 ms = 40/s, and 30/s into 40/s). Never more tokens a period than the bucket holds: a refill
        // drops what does not fit, so 3 tokens every 54 ms into a bucket of 1 gave a 55.6/s host a third of its rate.
        var tokensPerPeriod = Math.Clamp((int)Math.Ceiling((requestsPerSecond * 0.05) - 1e-9), 1, Math.Max(1, burst));
        return new TokenBucketRateLimiterOptions
        {
            TokenLimit = burst,
            TokensPerPeriod = tokensPerPeriod,
            ReplenishmentPeriod = TimeSpan.FromSeconds(tokensPerPeriod / requestsPerSecond),
            QueueLimit = 100_000,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            AutoReplenishment = true,
        };
    }
}
