using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Finstage.Storage.Infrastructure;

/// <summary>
/// Ready when the news database answers. Asked once, outside the execution strategy: the write path
/// retries a refused connection for seconds, but a probe must say "not ready" at once.
/// </summary>
internal sealed class NewsDatabaseHealthCheck(IOptions<StorageConnection> connection) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var db = new MySqlConnection(connection.Value.ConnectionString);
            await db.OpenAsync(cancellationToken);
            if (await db.PingAsync(cancellationToken))
            {
                return HealthCheckResult.Healthy();
            }
        }
        catch (MySqlException exception)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "The news database does not answer.", exception);
        }
        return new HealthCheckResult(context.Registration.FailureStatus, "The news database does not answer.");
    }
}
