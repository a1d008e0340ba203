using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Finstage.ServiceDefaults;

/// <summary>
/// The <c>migrate</c> command of a service that owns a schema: brings the schema to this build's version with the
/// credentials of a user that may change it, then exits. The service itself then runs as a user that can only
/// read and write rows, and refuses to start on a schema this step has not brought up to date.
/// </summary>
public static class MigrateCommand
{
    public const string Name = "migrate";

    public static bool Handles(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        return args is [Name, ..];
    }

    /// <summary>
    /// Runs <paramref name="migrate"/> over <c>ConnectionStrings:{migrationsConnection}</c>, or where that is unset over
    /// <c>ConnectionStrings:{runtimeConnection}</c> (one user with both rights), read from the service's own configuration
    /// sources (appsettings, environment, the arguments after <c>migrate</c>). Returns the exit code: 0 when the schema is
    /// current, 1 when the migration failed, 2 when no connection string is configured.
    /// </summary>
    public static async Task<int> RunAsync(
        string[] args,
        string migrationsConnection,
        string runtimeConnection,
        Func<IConfiguration, string, ILogger, CancellationToken, Task> migrate,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(migrate);
        // The web builder, though nothing is served: the same configuration sources, in the same order, as the service.
        var builder = WebApplication.CreateBuilder(args.Skip(1).ToArray());
        builder.ConfigureJsonLogging();
        // Disposing the app flushes the console logger, so the last lines are not lost when the process exits.
        await using var app = builder.Build();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(MigrateCommand).FullName!);
        var connectionString = builder.Configuration.GetConnectionString(migrationsConnection) is { Length: > 0 } own
            ? own
            : builder.Configuration.GetConnectionString(runtimeConnection);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            logger.LogError(
                "Nothing to migrate: set ConnectionStrings:{Migrations} (ConnectionStrings__{Migrations} in the environment) to a user that may change the schema",
                migrationsConnection, migrationsConnection);
            return 2;
        }
        try
        {
            await migrate(builder.Configuration, connectionString, logger, cancellationToken);
            return 0;
        }
        catch (Exception error) when (error is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            logger.LogError(error, "Migration failed: {Reason}", error.Message);
            return 1;
        }
    }
}

/// <summary>
/// A service's schema is older than its build: the migrate step has not run. Thrown at start-up, before the service
/// takes any message or request, so the process ends with this message instead of failing on every message.
/// </summary>
public sealed class SchemaNotMigratedException(string message) : InvalidOperationException(message);
