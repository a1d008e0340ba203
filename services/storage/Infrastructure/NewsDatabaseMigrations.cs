using System.ComponentModel.DataAnnotations;
using Finstage.ServiceDefaults;
using Microsoft.EntityFrameworkCore;
using MySqlConnector;

namespace Finstage.Storage.Infrastructure;

/// <summary>
/// The storage's migrate step (<c>dotnet Finstage.Storage.dll migrate</c>): applies the pending EF Core migrations
/// with the credentials of <c>ConnectionStrings:StorageMigrations</c>, a user that may change the schema, and exits.
/// </summary>
public static class NewsDatabaseMigrations
{
    /// <summary>The connection string the migrate step uses; where it is unset, <c>ConnectionStrings:Storage</c>.</summary>
    public const string ConnectionName = "StorageMigrations";

    /// <summary>Runs the <c>migrate</c> command: exit code 0 when the database is current.</summary>
    public static Task<int> RunCommandAsync(string[] args, CancellationToken cancellationToken = default) =>
        MigrateCommand.RunAsync(args, ConnectionName, "Storage", async (configuration, connectionString, logger, ct) =>
        {
            var database = configuration.GetSection(DatabaseOptions.SectionName).Get<DatabaseOptions>() ?? new DatabaseOptions();
            Validator.ValidateObject(database, new ValidationContext(database), validateAllProperties: true);
            var target = new MySqlConnectionStringBuilder(connectionString);
            logger.LogInformation("Migrating the news database {Database} on {Server}:{Port} as {User}", target.Database, target.Server, target.Port, target.UserID);
            var applied = await ApplyAsync(connectionString, database, ct);
            logger.LogInformation(
                "News database {Database} is current: {Count} migration(s) applied now ({Migrations})",
                target.Database, applied.Count, applied.Count == 0 ? "none pending" : string.Join(", ", applied));
        }, cancellationToken);

    /// <summary>
    /// Applies the pending migrations and returns them (none when the database was current, so running it again is
    /// harmless). The connection string names a user that may create and alter tables.
    /// </summary>
    public static async Task<IReadOnlyList<string>> ApplyAsync(string connectionString, DatabaseOptions database, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(connectionString);
        ArgumentNullException.ThrowIfNull(database);
        // A one-off: no connections kept open for later.
        var oneOff = new MySqlConnectionStringBuilder(database.BuildConnectionString(connectionString)) { MinimumPoolSize = 0 };
        var options = new DbContextOptionsBuilder<NewsDbContext>();
        database.UseFor(options, oneOff.ConnectionString);
        await using var db = new NewsDbContext(options.Options);
        var strategy = db.Database.CreateExecutionStrategy();
        // Inside the execution strategy, so a database that is still starting up is waited for.
        var pending = (await strategy.ExecuteAsync(db, static (db, ct) => db.Database.GetPendingMigrationsAsync(ct), cancellationToken)).ToList();
        await strategy.ExecuteAsync(db, static (db, ct) => db.Database.MigrateAsync(ct), cancellationToken);
        return pending;
    }

    internal static string NotMigratedMessage(string database, IReadOnlyList<string> pending) =>
        $"The news database '{database}' is not migrated: {pending.Count} migration(s) pending ({string.Join(", ", pending)}). " +
        $"Run the migrate step first, as a user that may change the schema: `dotnet Finstage.Storage.dll migrate` " +
        $"(or `dotnet run --project services/storage -- migrate`) with ConnectionStrings__{ConnectionName} set; " +
        "the service itself runs as a user that may only read and write rows (see README, Running).";
}
