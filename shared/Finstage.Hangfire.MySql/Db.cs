using System.Data;
using MySqlConnector;

namespace Finstage.Hangfire.MySql;

/// <summary>Opens connections, runs short READ COMMITTED transactions and retries the ones MySQL chose as deadlock victims.</summary>
internal sealed class Db
{
    // ER_LOCK_DEADLOCK and ER_LOCK_WAIT_TIMEOUT: the transaction was rolled back (1213) or its statement was (1205);
    // both leave nothing half-done once we roll back, so the whole unit is safe to run again.
    private const int DeadlockErrorCode = 1213;
    private const int LockWaitTimeoutErrorCode = 1205;

    private readonly int _attempts;
    private int _retriedCount;

    public Db(MySqlDataSource dataSource, string prefix, int attempts)
    {
        DataSource = dataSource;
        Tables = new Tables(prefix);
        _attempts = attempts;
    }

    public MySqlDataSource DataSource { get; }

    public Tables Tables { get; }

    /// <summary>How many times a retryable error was seen; the tests read it to show the retry happened.</summary>
    public int RetriedCount => Volatile.Read(ref _retriedCount);

    public MySqlConnection Open()
    {
        var connection = DataSource.CreateConnection();
        try
        {
            connection.Open();
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    public T Use<T>(Func<MySqlConnection, T> action)
    {
        using var connection = Open();
        return action(connection);
    }

    public void Use(Action<MySqlConnection> action)
    {
        using var connection = Open();
        action(connection);
    }

    public T InTransaction<T>(Func<MySqlConnection, MySqlTransaction, T> action)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                using var connection = Open();
                using var transaction = connection.BeginTransaction(IsolationLevel.ReadCommitted);
                var result = action(connection, transaction);
                transaction.Commit();
                return result;
            }
            catch (MySqlException ex) when (IsRetryable(ex) && attempt < _attempts)
            {
                Interlocked.Increment(ref _retriedCount);
                Thread.Sleep(Backoff(attempt));
            }
        }
    }

    public void InTransaction(Action<MySqlConnection, MySqlTransaction> action) =>
        InTransaction<object?>((c, t) =>
        {
            action(c, t);
            return null;
        });

    public static bool IsRetryable(MySqlException ex) =>
        ex.Number is DeadlockErrorCode or LockWaitTimeoutErrorCode;

    // Jitter keeps two victims of the same deadlock from colliding again on the same schedule.
    private static TimeSpan Backoff(int attempt) =>
        TimeSpan.FromMilliseconds((10 << Math.Min(attempt, 6)) + Random.Shared.Next(0, 50));
}

/// <summary>The quoted names of the storage's tables under the configured prefix.</summary>
internal sealed class Tables(string prefix)
{
    public string Prefix { get; } = prefix;
    public string Schema { get; } = Quote(prefix, "schema");
    public string Job { get; } = Quote(prefix, "job");
    public string JobParameter { get; } = Quote(prefix, "job_parameter");
    public string State { get; } = Quote(prefix, "state");
    public string JobQueue { get; } = Quote(prefix, "job_queue");
    public string Server { get; } = Quote(prefix, "server");
    public string Set { get; } = Quote(prefix, "set");
    public string Hash { get; } = Quote(prefix, "hash");
    public string List { get; } = Quote(prefix, "list");
    public string Counter { get; } = Quote(prefix, "counter");
    public string AggregatedCounter { get; } = Quote(prefix, "aggregated_counter");

    public IReadOnlyList<string> All =>
        [Job, JobParameter, State, JobQueue, Server, Set, Hash, List, Counter, AggregatedCounter];

    private static string Quote(string prefix, string name) => $"`{prefix}{name}`";
}

/// <summary>Small helpers so each query reads as SQL plus its parameters.</summary>
internal static class SqlExtensions
{
    public static MySqlCommand Command(this MySqlConnection connection, string sql, MySqlTransaction? transaction, params (string Name, object? Value)[] parameters)
    {
#pragma warning disable CA2100 // Table names come from Tables (validated prefix); every value is a parameter.
        var command = new MySqlCommand(sql, connection, transaction);
#pragma warning restore CA2100
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command;
    }

    public static int Execute(this MySqlConnection connection, string sql, MySqlTransaction? transaction = null, params (string Name, object? Value)[] parameters)
    {
        using var command = connection.Command(sql, transaction, parameters);
        return command.ExecuteNonQuery();
    }

    public static T? Scalar<T>(this MySqlConnection connection, string sql, MySqlTransaction? transaction = null, params (string Name, object? Value)[] parameters)
    {
        using var command = connection.Command(sql, transaction, parameters);
        var value = command.ExecuteScalar();
        if (value is null or DBNull)
        {
            return default;
        }

        var target = Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T);
        return (T)Convert.ChangeType(value, target, System.Globalization.CultureInfo.InvariantCulture);
    }

    public static List<T> Query<T>(this MySqlConnection connection, string sql, Func<MySqlDataReader, T> map, MySqlTransaction? transaction = null, params (string Name, object? Value)[] parameters)
    {
        using var command = connection.Command(sql, transaction, parameters);
        using var reader = command.ExecuteReader();
        var result = new List<T>();
        while (reader.Read())
        {
            result.Add(map(reader));
        }

        return result;
    }

    public static string? NullableString(this MySqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    public static DateTime? NullableUtc(this MySqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.Utc(ordinal);

    // Every DATETIME column holds UTC; the driver hands them back unspecified.
    public static DateTime Utc(this MySqlDataReader reader, int ordinal) =>
        DateTime.SpecifyKind(reader.GetDateTime(ordinal), DateTimeKind.Utc);

    public static long Microseconds(this TimeSpan value) => value.Ticks / 10;

    /// <summary>Builds "@p0, @p1, …" and the matching parameters for an IN list.</summary>
    public static (string Sql, (string Name, object? Value)[] Parameters) InList(string name, IReadOnlyList<string> values)
    {
        var parameters = values.Select((v, i) => ($"@{name}{i}", (object?)v)).ToArray();
        return (string.Join(", ", parameters.Select(p => p.Item1)), parameters);
    }
}
