using Finstage.ServiceDefaults;
using Microsoft.EntityFrameworkCore;

namespace Finstage.Storage.Infrastructure;

/// <summary>
/// Refuses to start on a news database that the migrate step has not brought to this build's schema: the service's
/// user may not change the schema, and a service on old tables would fail on every message instead of once, here.
/// </summary>
internal sealed class RequireMigratedDatabase(IDbContextFactory<NewsDbContext> contexts, ILogger<RequireMigratedDatabase> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        // Inside the execution strategy, so a database that is still starting up is waited for.
        var applied = await db.Database.CreateExecutionStrategy().ExecuteAsync(
            db, static (db, ct) => db.Database.GetAppliedMigrationsAsync(ct), cancellationToken);
        var pending = db.Database.GetMigrations().Except(applied, StringComparer.Ordinal).ToList();
        if (pending.Count > 0)
        {
            throw new SchemaNotMigratedException(NewsDatabaseMigrations.NotMigratedMessage(db.Database.GetDbConnection().Database, pending));
        }
        logger.LogInformation("News database is at migration {Migration}", applied.LastOrDefault());
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>Ready when the news database answers.</summary>
internal sealed class NewsDatabaseHealthCheck(IDbContextFactory<NewsDbContext> contexts)
    : Microsoft.Extensions.Diagnostics.HealthChecks.IHealthCheck
{
    public async Task<Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult> CheckHealthAsync(
        Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.Database.CanConnectAsync(cancellationToken)
            ? Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Healthy()
            : new Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult(context.Registration.FailureStatus, "The news database does not answer.");
    }
}
