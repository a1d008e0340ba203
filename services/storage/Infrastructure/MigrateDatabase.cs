using Microsoft.EntityFrameworkCore;

namespace Finstage.Storage.Infrastructure;

/// <summary>Applies pending EF Core migrations before the service takes messages or requests.</summary>
internal sealed class MigrateDatabase(IDbContextFactory<NewsDbContext> contexts, ILogger<MigrateDatabase> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        // Inside the execution strategy, so a database that is still starting up is waited for.
        await db.Database.CreateExecutionStrategy().ExecuteAsync(
            db, static (db, ct) => db.Database.MigrateAsync(ct), cancellationToken);
        logger.LogInformation("News database is at migration {Migration}", (await db.Database.GetAppliedMigrationsAsync(cancellationToken)).LastOrDefault());
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
