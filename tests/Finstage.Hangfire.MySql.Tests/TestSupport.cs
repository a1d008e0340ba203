using System.Collections.Concurrent;
using System.Diagnostics;
using Hangfire;
using Hangfire.Storage;
using MySqlConnector;

namespace Finstage.Hangfire.MySql.Tests;

/// <summary>Jobs the background-server tests run; each records its runs under a token that only one test uses.</summary>
public static class TestJobs
{
    private static readonly ConcurrentDictionary<string, int> Runs = new(StringComparer.Ordinal);

    public static void Record(string token) => Runs.AddOrUpdate(token, 1, (_, n) => n + 1);

    public static int RunsOf(string token) => Runs.GetValueOrDefault(token);

    /// <summary>Like <see cref="Record"/>, but a failure stays failed instead of being scheduled for a retry.</summary>
    [AutomaticRetry(Attempts = 0)]
    public static void RecordWithoutRetry(string token) => Record(token);
}

/// <summary>Waiting for a condition with a deadline instead of sleeping.</summary>
internal static class Eventually
{
    public static async Task<bool> TrueAsync(Func<bool> condition, TimeSpan deadline, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < deadline)
        {
            if (condition())
            {
                return true;
            }

            await Task.Delay(50, cancellationToken);
        }

        return condition();
    }

    /// <summary>Fetches a job or gives up after <paramref name="wait"/>; null means nothing could be fetched.</summary>
    public static IFetchedJob? TryFetch(IStorageConnection connection, string[] queues, TimeSpan wait)
    {
        using var cts = new CancellationTokenSource(wait);
        try
        {
            return connection.FetchNextJob(queues, cts.Token);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }
}

/// <summary>The test database on the real MariaDB/MySQL server, created once per run.</summary>
internal static class TestDatabase
{
    public const string Name = "finstage_hangfire_tests";

    /// <summary>A database that only the session-counting tests use, so other sessions never blur the count.</summary>
    public const string SessionsName = "finstage_hangfire_tests_sessions";

    private static readonly Lazy<string> Created = new(() => Create(Name));
    private static readonly Lazy<string> SessionsCreated = new(() => Create(SessionsName));

    private static string Create(string name)
    {
        using var connection = new MySqlConnection(AdminConnectionString);
        connection.Open();
        using var command = new MySqlCommand($"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci", connection);
        command.ExecuteNonQuery();
        return new MySqlConnectionStringBuilder(AdminConnectionString) { Database = name }.ConnectionString;
    }

    public static string SessionsConnectionString => SessionsCreated.Value;

    public static string AdminConnectionString =>
        Environment.GetEnvironmentVariable("FINSTAGE_MYSQL_ADMIN") is { Length: > 0 } value
            ? value
            : "Server=127.0.0.1;Port=3306;User ID=finstage_migrator;Password=finstage-migrator-local";

    /// <summary>The test database as the user the scheduler runs as: SELECT, INSERT, UPDATE, DELETE and nothing else.</summary>
    public static string RuntimeConnectionString
    {
        get
        {
            var runtime = new MySqlConnectionStringBuilder(
                Environment.GetEnvironmentVariable("FINSTAGE_MYSQL_RUNTIME") is { Length: > 0 } value
                    ? value
                    : "Server=127.0.0.1;Port=3306;User ID=finstage_runtime;Password=finstage-runtime-local");
            return new MySqlConnectionStringBuilder(ConnectionString) { UserID = runtime.UserID, Password = runtime.Password }.ConnectionString;
        }
    }

    public static string ConnectionString => Created.Value;

    public static MySqlStorage CreateStorage(string prefix, Action<MySqlStorageOptions>? configure = null, string? connectionString = null)
    {
        var storage = new MySqlStorage(connectionString ?? ConnectionString, Options(prefix, configure));
        MySqlSchema.Truncate(storage.Db);
        return storage;
    }

    /// <summary>
    /// A storage as the scheduler runs it: the tables installed and emptied by the migrator, the storage itself
    /// over the runtime user, which may not create, alter or empty them.
    /// </summary>
    public static MySqlStorage CreateRuntimeStorage(string prefix)
    {
        CreateStorage(prefix).Dispose();
        return new MySqlStorage(RuntimeConnectionString, Options(prefix, options => options.PrepareSchemaIfNecessary = false));
    }

    private static MySqlStorageOptions Options(string prefix, Action<MySqlStorageOptions>? configure)
    {
        var options = new MySqlStorageOptions
        {
            TablesPrefix = prefix,
            InvisibilityTimeout = TimeSpan.FromSeconds(2),
            QueuePollInterval = TimeSpan.FromMilliseconds(50),
        };
        configure?.Invoke(options);
        return options;
    }
}

/// <summary>MySQL test classes share one database, so they run one after another.</summary>
[CollectionDefinition(Name)]
public sealed class MySqlTestGroup
{
    public const string Name = "mysql";
}
