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
