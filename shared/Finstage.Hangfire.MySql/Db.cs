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

    /// <summary>One round trip of autocommitted statements, run again when the server chose it as a deadlock victim.</summary>
    public T UseRetrying<T>(Func<MySqlConnection, T> action) => Retrying(() => Use(action));

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
