using Finstage.Hangfire.MySql;
using Finstage.ServiceDefaults;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Finstage.Scheduler.Infrastructure;

/// <summary>
/// The scheduler's migrate step (<c>dotnet Finstage.Scheduler.dll migrate</c>): creates or upgrades Hangfire's tables
/// with the credentials of <c>ConnectionStrings:HangfireMigrations</c>, a user that may change the schema, and exits.
/// </summary>
public static class JobStorageMigrations
{
    /// <summary>The connection string the migrate step uses; where it is unset, <c>ConnectionStrings:Hangfire</c>.</summary>
    public const string ConnectionName = "HangfireMigrations";

    /// <summary>Runs the <c>migrate</c> command: exit code 0 when the tables are current.</summary>
    public static Task<int> RunCommandAsync(string[] args, CancellationToken cancellationToken = default) =>
        MigrateCommand.RunAsync(args, ConnectionName, "Hangfire", (configuration, connectionString, logger, _) =>
        {
            var options = StorageOptions(configuration);
            var target = new MySqlConnectionStringBuilder(connectionString);
            logger.LogInformation(
                "Migrating Hangfire's tables {Prefix}* in {Database} on {Server}:{Port} as {User}",
                options.TablesPrefix, target.Database, target.Server, target.Port, target.UserID);
            var before = Apply(connectionString, options);
            logger.LogInformation(
                "Hangfire's tables {Prefix}* in {Database} are current at version {Version} (were at {Before})",
                options.TablesPrefix, target.Database, MySqlStorage.SchemaVersion, before);
            return Task.CompletedTask;
        }, cancellationToken);

    /// <summary>
    /// Creates or upgrades the tables and returns the version they were at before (0: there were none). Running it
    /// again is harmless. The connection string names a user that may create and alter tables.
    /// </summary>
    public static int Apply(string connectionString, MySqlStorageOptions? options = null)
    {
        var before = MySqlStorage.GetInstalledSchemaVersion(connectionString, options);
        MySqlStorage.InstallSchema(connectionString, options);
        // The watchlist lives beside the job storage and is migrated with it.
        Watchlist.WatchlistSchema.Install(connectionString);
        return before;
    }

    /// <summary>
    /// The storage's options from the <c>Hangfire</c> section. The running scheduler never creates tables (its user
    /// may not); the migrate step does, with the same prefix.
    /// </summary>
    internal static MySqlStorageOptions StorageOptions(IConfiguration configuration)
    {
        var options = new MySqlStorageOptions();
        configuration.GetSection("Hangfire").Bind(options);
        options.PrepareSchemaIfNecessary = false;
        return options;
    }

    internal static string NotMigratedMessage(string database, string prefix, int installed) =>
        $"Hangfire's tables {prefix}* in database '{database}' are " +
        (installed == 0 ? "missing" : $"at version {installed}") + $"; this build needs version {MySqlStorage.SchemaVersion}. " +
        "Run the migrate step first, as a user that may change the schema: `dotnet Finstage.Scheduler.dll migrate` " +
        $"(or `dotnet run --project services/scheduler -- migrate`) with ConnectionStrings__{ConnectionName} set; " +
        "the scheduler itself runs as a user that may only read and write rows (see README, Running).";
}

/// <summary>
/// Refuses to start on Hangfire tables that the migrate step has not brought to this build's version, before
/// Hangfire's server starts: the scheduler's user may not create them, and a server on missing tables would fail
/// on every poll instead of once, here.
/// </summary>
internal sealed class RequireMigratedJobStorage(
    IOptions<HangfireConnection> connection, IConfiguration configuration, ILogger<RequireMigratedJobStorage> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var connectionString = connection.Value.ConnectionString!;
        var options = JobStorageMigrations.StorageOptions(configuration);
        var installed = MySqlStorage.GetInstalledSchemaVersion(connectionString, options);
        if (installed < MySqlStorage.SchemaVersion)
        {
            throw new SchemaNotMigratedException(JobStorageMigrations.NotMigratedMessage(
                new MySqlConnectionStringBuilder(connectionString).Database, options.TablesPrefix, installed));
        }
        var missing = Watchlist.WatchlistSchema.Missing(connectionString);
        if (missing.Count > 0)
        {
            throw new SchemaNotMigratedException(
                $"The watchlist's tables {string.Join(", ", missing)} are missing in database '{new MySqlConnectionStringBuilder(connectionString).Database}'. " +
                "Run the migrate step first, as a user that may change the schema: `dotnet Finstage.Scheduler.dll migrate` " +
                $"with ConnectionStrings__{JobStorageMigrations.ConnectionName} set (see README, Running).");
        }
        logger.LogInformation("Hangfire's tables {Prefix}* are at version {Version}", options.TablesPrefix, installed);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
