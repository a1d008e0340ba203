using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Finstage.Crawler.Politeness;

/// <summary>
/// The Redis that holds every host's shared token bucket, and whether it answers: after a failure each host's
/// limiter keeps to its per-process share for <see cref="HostBudgetOptions.RetryRedisAfter"/> before it asks again,
/// and the health check says the crawler is degraded.
/// </summary>
public sealed partial class SharedBudgetStore : IDisposable
{
    private readonly HostBudgetOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<SharedBudgetStore> _logger;
    private long _fallbackUntilTicks;
    private int _degraded;

    public SharedBudgetStore(string configuration, IOptions<HostBudgetOptions> options, TimeProvider time, ILogger<SharedBudgetStore> logger)
    {
        _options = options.Value;
        _time = time;
        _logger = logger;
        var redis = ConfigurationOptions.Parse(configuration);
        // Never refuse to start, never queue commands while disconnected: a crawl waiting for Redis would wait
        // for nothing, as its own share is there at once. The multiplexer reconnects in the background.
        redis.AbortOnConnectFail = false;
        redis.BacklogPolicy = BacklogPolicy.FailFast;
        redis.ConnectTimeout = Math.Min(redis.ConnectTimeout, 2000);
        redis.AsyncTimeout = Math.Min(redis.AsyncTimeout, 2000);
        redis.ClientName ??= "finstage-crawler";
        Endpoint = string.Join(",", redis.EndPoints.Select(endpoint => endpoint.ToString()));
        Connection = ConnectionMultiplexer.Connect(redis);
    }

    public IConnectionMultiplexer Connection { get; }

    /// <summary>Where Redis is, for messages (no password).</summary>
    public string Endpoint { get; }

    public string KeyPrefix => _options.KeyPrefix;

    public int FallbackInstances => _options.FallbackInstances;

    /// <summary>True while limiters keep to their own share because Redis failed a moment ago.</summary>
    public bool UsesFallback => _time.GetUtcNow().UtcTicks < Interlocked.Read(ref _fallbackUntilTicks);

    /// <summary>True from a failure until Redis answers again.</summary>
    public bool IsDegraded => Volatile.Read(ref _degraded) == 1;

    internal void ReportFailure(Exception error)
    {
        Interlocked.Exchange(ref _fallbackUntilTicks, (_time.GetUtcNow() + _options.RetryRedisAfter).UtcTicks);
        if (Interlocked.Exchange(ref _degraded, 1) == 0)
        {
            LogFallback(error, Endpoint, _options.FallbackInstances, _options.RetryRedisAfter.TotalSeconds);
        }
    }

    internal void ReportSuccess()
    {
        if (Interlocked.Exchange(ref _degraded, 0) == 1)
        {
            LogRecovered(Endpoint);
        }
    }

    public void Dispose() => Connection.Dispose();

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Redis at {Endpoint} did not answer: each host's rate and burst are divided by {Instances} in this process " +
                  "until it does (asked again every {RetrySeconds} s)")]
    private partial void LogFallback(Exception error, string endpoint, int instances, double retrySeconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Redis at {Endpoint} answers again: hosts share one budget across crawler instances")]
    private partial void LogRecovered(string endpoint);
}

/// <summary>Degraded (still ready: crawls go on, each process at its share of every host's rate) while Redis does not answer.</summary>
public sealed class SharedBudgetHealthCheck(SharedBudgetStore store) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await store.Connection.GetDatabase().PingAsync();
            store.ReportSuccess();
        }
        catch (Exception error) when (error is RedisException or TimeoutException)
        {
            store.ReportFailure(error);
        }
        return store.IsDegraded
            ? HealthCheckResult.Degraded(
                $"Redis at {store.Endpoint} does not answer: each host's rate is divided by {store.FallbackInstances} in this process")
            : HealthCheckResult.Healthy($"hosts' budgets shared through Redis at {store.Endpoint}");
    }
}
