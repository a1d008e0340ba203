using Hangfire;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Finstage.Scheduler.Infrastructure;

/// <summary>Ready when Hangfire's storage answers.</summary>
internal sealed class JobStorageHealthCheck(JobStorage storage) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        using var connection = storage.GetConnection();
        var now = connection is global::Hangfire.Storage.JobStorageConnection extended ? extended.GetUtcDateTime() : DateTime.UtcNow;
        return Task.FromResult(HealthCheckResult.Healthy($"Job storage time {now:O}"));
    }
}
