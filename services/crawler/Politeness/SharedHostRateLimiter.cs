using System.Globalization;
using System.Threading.RateLimiting;
using StackExchange.Redis;

namespace Finstage.Crawler.Politeness;

/// <summary>
/// One host's budget, shared by every crawler instance through Redis: a token bucket of the host's rate and burst
/// kept as the time its next token is due (the generic cell rate algorithm, GCRA). Each request reserves the next
/// slot in one Lua script, on Redis's own clock, and sleeps until it; nobody polls, and the instances' clocks do
/// not matter. While Redis fails, the host's per-process share is used instead (see <see cref="SharedBudgetStore"/>).
/// </summary>
/// <remarks>Why not RedisRateLimiting's bucket: docs/decisions/0017-shared-host-budget.md.</remarks>
public sealed class SharedHostRateLimiter : RateLimiter
{
    // KEYS[1]: the host's key. ARGV[1]: microseconds between tokens. ARGV[2]: the burst.
    // The stored value is when the bucket would next be empty-and-refilled by one token (the "theoretical arrival
    // time"); a request may go at that time less what the burst allows ahead of it, and pushes it on by one token.
    // Answers how many microseconds the caller must wait. The key expires once the bucket would be full again.
    private static readonly LuaScript Reserve = LuaScript.Prepare("""
        local clock = redis.call('TIME')
        local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
        local interval = tonumber(@interval)
        local burst = tonumber(@burst)
        local due = tonumber(redis.call('GET', @key) or '0')
        if due < now then due = now end
        local at = due - (burst - 1) * interval
        if at < now then at = now end
        local next_due = due + interval
        redis.call('SET', @key, string.format('%.0f', next_due), 'PX', math.ceil((next_due - now) / 1000) + 1)
        return string.format('%.0f', at - now)
        """);

    private readonly RedisKey _key;
    private readonly long _intervalMicroseconds;
    private readonly int _burst;
    private readonly TokenBucketRateLimiter _fallback;
    private readonly SharedBudgetStore _store;
    private readonly TimeProvider _time;

    public SharedHostRateLimiter(string hostKey, double requestsPerSecond, int burst, SharedBudgetStore store, TimeProvider time)
    {
        _store = store;
        _time = time;
        _key = $"{store.KeyPrefix}:host-budget:{hostKey}";
        _intervalMicroseconds = (long)Math.Ceiling(1_000_000 / requestsPerSecond);
        _burst = Math.Max(1, burst);
        // This process's share: the rate and the burst split between the instances there may be (at least one token).
        var instances = store.FallbackInstances;
        _fallback = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = Math.Max(1, burst / instances),
            TokensPerPeriod = 1,
            ReplenishmentPeriod = TimeSpan.FromSeconds(instances / requestsPerSecond),
            QueueLimit = 100_000,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            AutoReplenishment = true,
        });
    }

    public override TimeSpan? IdleDuration => null;

    public override RateLimiterStatistics? GetStatistics() => null;

    // Polly's rate limiter asks with AcquireAsync only; a shared permit cannot be had without a round trip.
    protected override RateLimitLease AttemptAcquireCore(int permitCount) => Lease.Refused;

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        if (!_store.UsesFallback)
        {
            try
            {
                var wait = 0L;
                for (var permit = 0; permit < permitCount; permit++)
                {
                    var answer = await Reserve.EvaluateAsync(_store.Connection.GetDatabase(),
                        new { key = _key, interval = _intervalMicroseconds, burst = _burst });
                    wait = long.Parse((string)answer!, CultureInfo.InvariantCulture);
                }
                _store.ReportSuccess();
                if (wait > 0)
                {
                    // The slot is ours whether or not we wait for it: cancelled, it is simply left unused.
                    await Task.Delay(TimeSpan.FromMicroseconds(wait), _time, cancellationToken);
                }
                return Lease.Granted;
            }
            catch (Exception error) when (error is RedisException or TimeoutException)
            {
                _store.ReportFailure(error);
            }
        }
        return await _fallback.AcquireAsync(permitCount, cancellationToken);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _fallback.Dispose();
        }
        base.Dispose(disposing);
    }

    protected override async ValueTask DisposeAsyncCore()
    {
        await _fallback.DisposeAsync();
        await base.DisposeAsyncCore();
    }

    private sealed class Lease(bool acquired) : RateLimitLease
    {
        public static readonly Lease Granted = new(true);
        public static readonly Lease Refused = new(false);

        public override bool IsAcquired => acquired;

        public override IEnumerable<string> MetadataNames => [];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = null;
            return false;
        }
    }
}
