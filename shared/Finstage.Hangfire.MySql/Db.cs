using System.Data;
using MySqlConnector;

namespace Finstage.Hangfire.MySql;

/// <summary>
/// Opens connections, runs READ COMMITTED writes in as few round trips as the server allows, and retries the
/// transactions MySQL chose as deadlock victims.
/// </summary>
/// <remarks>
/// The storage's own pool does not reset a session when it lends it out (a round trip per borrow, the largest single
/// cost per job before), so nothing here may leave session state behind: every transaction ends before its
/// connection goes back, and a session whose state is in doubt after a failure is reset explicitly (<see cref="Scrub"/>).
/// </remarks>
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

    /// <summary>
    /// The connection string the storage builds its own pool from: without a session reset per borrow, unless the
    /// caller set <c>ConnectionReset</c> explicitly.
    /// </summary>
    public static string WithoutConnectionReset(string connectionString)
    {
        var builder = new MySqlConnectionStringBuilder(connectionString);
        if (!builder.ContainsKey(nameof(MySqlConnectionStringBuilder.ConnectionReset)))
        {
            builder.ConnectionReset = false;
        }

        return builder.ConnectionString;
    }

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

    /// <summary>
    /// Runs the statements as one READ COMMITTED transaction in a single round trip (see <see cref="LeanTransaction"/>)
    /// and returns, in order, the first column of every row the statements selected (e.g. <c>LAST_INSERT_ID()</c>).
    /// </summary>
    public List<object> Write(IReadOnlyList<Statement> statements) =>
        InLeanTransaction(transaction => transaction.Commit(statements));

    /// <summary>Runs one write statement in its own round trip; returns the rows it changed.</summary>
    public int Write(Statement statement) =>
        InLeanTransaction(transaction => transaction.CommitCounting(statement));

    /// <summary>A transaction that reads before it writes, begun and committed in the same round trips as its statements.</summary>
    public T InLeanTransaction<T>(Func<LeanTransaction, T> action) =>
        Retrying(() =>
        {
            using var connection = Open();
            using var transaction = new LeanTransaction(connection);
            return action(transaction);
        });

    /// <summary>An interactive transaction for housekeeping, where round trips do not matter.</summary>
    public T InTransaction<T>(Func<MySqlConnection, MySqlTransaction, T> action) =>
        Retrying(() =>
        {
            using var connection = Open();
            using var transaction = connection.BeginTransaction(IsolationLevel.ReadCommitted);
            var result = action(connection, transaction);
            transaction.Commit();
            return result;
        });

    public void InTransaction(Action<MySqlConnection, MySqlTransaction> action) =>
        InTransaction<object?>((c, t) =>
        {
            action(c, t);
            return null;
        });

    /// <summary>
    /// Resets a session whose state is in doubt after a failure (an open transaction, a held GET_LOCK), so the pool
    /// never lends it out that way. A session that cannot even be reset is broken, and the pool drops broken ones.
    /// </summary>
    public static void Scrub(MySqlConnection connection)
    {
        try
        {
            connection.ResetConnectionAsync().AsTask().GetAwaiter().GetResult();
        }
        catch (Exception ex) when (ex is MySqlException or InvalidOperationException or IOException)
        {
            // The session is gone; the server released whatever it held.
        }
    }

    public static bool IsRetryable(MySqlException ex) =>
        ex.Number is DeadlockErrorCode or LockWaitTimeoutErrorCode;

    private T Retrying<T>(Func<T> unit)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return unit();
            }
            catch (MySqlException ex) when (IsRetryable(ex) && attempt < _attempts)
            {
                Interlocked.Increment(ref _retriedCount);
                Thread.Sleep(Backoff(attempt));
            }
        }
    }

    // Jitter keeps two victims of the same deadlock from colliding again on the same schedule.
    private static TimeSpan Backoff(int attempt) =>
        TimeSpan.FromMilliseconds((10 << Math.Min(attempt, 6)) + Random.Shared.Next(0, 50));
}

/// <summary>One SQL statement and its parameter values, kept as data so that a retried transaction can send it again.</summary>
internal sealed class Statement(string sql, params (string Name, object? Value)[] parameters)
{
    public string Sql { get; } = sql;

    public IReadOnlyList<(string Name, object? Value)> Parameters { get; } = parameters;

    public MySqlBatchCommand ToBatchCommand()
    {
#pragma warning disable CA2100 // Table names come from Tables (validated prefix); every value is a parameter.
        var command = new MySqlBatchCommand(Sql);
#pragma warning restore CA2100
        foreach (var (name, value) in Parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command;
    }
}

/// <summary>
/// A READ COMMITTED transaction whose begin travels in the same round trip as its first statements and whose
/// COMMIT travels with its last, as one <see cref="MySqlBatch"/> each: a write-only transaction is one round trip
/// however many statements it has. The server runs a batch's statements in order and stops at the first error,
/// so a failure leaves the transaction open with part of it done; <see cref="Dispose"/> then rolls it back.
/// </summary>
internal sealed class LeanTransaction(MySqlConnection connection) : IDisposable
{
    // SET TRANSACTION (not SESSION) applies to the next transaction only, so the pooled session keeps no setting;
    // and it fails with 1568 inside an open transaction, so a leftover transaction is an error, never silently joined.
    private static readonly Statement ReadCommitted = new("SET TRANSACTION ISOLATION LEVEL READ COMMITTED");
    private static readonly Statement Begin = new("START TRANSACTION");
    private static readonly Statement End = new("COMMIT");

    private bool _begun;
    private bool _ended;

    /// <summary>Runs one query inside the transaction (beginning it in the same round trip) and maps its rows.</summary>
    public List<T> Query<T>(Statement statement, Func<MySqlDataReader, T> map)
    {
        ObjectDisposedException.ThrowIf(_ended, this);
        var prefix = _begun ? [] : new[] { ReadCommitted, Begin };
        _begun = true;
        using var batch = Batch([.. prefix, statement]);
        using var reader = batch.ExecuteReader();
        var rows = new List<T>();
        while (reader.Read())
        {
            rows.Add(map(reader));
        }

        return rows;
    }

    /// <summary>
    /// Sends the last statements and COMMIT in one round trip and returns the first column of every row they selected.
    /// Without earlier statements, one statement needs no transaction of its own: it commits by itself.
    /// </summary>
    public List<object> Commit(IReadOnlyList<Statement> statements)
    {
        ObjectDisposedException.ThrowIf(_ended, this);
        var values = new List<object>();
        if (statements.Count == 0 && !_begun)
        {
            _ended = true;
            return values;
        }

        IEnumerable<Statement> sent = _begun || statements.Count > 1
            ? [.. _begun ? [] : new[] { ReadCommitted, Begin }, .. statements, End]
            : [ReadCommitted, statements[0]];
        _begun = true;
        using (var batch = Batch(sent))
        using (var reader = batch.ExecuteReader())
        {
            do
            {
                while (reader.Read())
                {
                    values.Add(reader.GetValue(0));
                }
            }
            while (reader.NextResult());
        }

        _ended = true;
        return values;
    }

    /// <summary>Commits one last statement and returns how many rows it changed.</summary>
    public int CommitCounting(Statement statement)
    {
        ObjectDisposedException.ThrowIf(_ended, this);
        // The driver reports the batch's total only; SET TRANSACTION and COMMIT change no rows, so it is the statement's.
        var sent = _begun ? new[] { statement, End } : [ReadCommitted, statement];
        _begun = true;
        using var batch = Batch(sent);
        var changed = batch.ExecuteNonQuery();
        _ended = true;
        return changed;
    }

    public void Dispose()
    {
        if (!_begun || _ended)
        {
            return;
        }

        try
        {
            using var rollback = new MySqlCommand("ROLLBACK", connection);
            rollback.ExecuteNonQuery();
        }
        catch (Exception ex) when (ex is MySqlException or InvalidOperationException or IOException)
        {
            Db.Scrub(connection);
        }
    }

    private MySqlBatch Batch(IEnumerable<Statement> statements)
    {
        var batch = new MySqlBatch(connection);
        foreach (var statement in statements)
        {
            batch.BatchCommands.Add(statement.ToBatchCommand());
        }

        return batch;
    }
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
