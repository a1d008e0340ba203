using System.Diagnostics;
using Hangfire.Storage;
using MySqlConnector;

namespace Finstage.Hangfire.MySql;

/// <summary>
/// A job's state lock (<c>job:{id}:state-lock</c>) held as the job row's own lock: a READ COMMITTED transaction on a
/// connection of its own that read the job <c>FOR UPDATE</c>. Hangfire changes a state as lock, read, one write
/// transaction, release; here the lock and the read are one round trip, and the write transaction commits on this
/// connection, its statements and COMMIT in one more, which ends the lock (no release round trip). A second write in
/// the same lock scope takes the row lock again first. The server rolls the transaction back, and so frees the row,
/// when the session ends, as it releases a GET_LOCK.
/// </summary>
/// <remarks>
/// Every holder of a job's state lock goes through here (the connection sends job locks nowhere else), so two state
/// changes of one job exclude each other as before. The cost is the one docs/decisions/0021 weighs: while the lock is
/// held, a write to the job row through another session waits for it.
/// </remarks>
internal sealed class JobRowLock : IDisposable
{
    // ER_LOCK_WAIT_TIMEOUT (the statement waited innodb_lock_wait_timeout) and ER_LOCK_DEADLOCK.
    private const int LockWaitTimeout = 1205;
    private const int Deadlock = 1213;
    private const long MaxServerWaitSeconds = 5;
    private static readonly TimeSpan PollStep = TimeSpan.FromMilliseconds(50);

    private readonly Db _db;
    private readonly long _jobId;
    private TimeSpan _timeout;
    private MySqlConnection? _connection;
    private LeanTransaction? _transaction;

    private JobRowLock(Db db, long jobId, TimeSpan timeout)
    {
        _db = db;
        _jobId = jobId;
        _timeout = timeout;
    }

    /// <summary>Takes the job's row lock and reads the job under it, in one round trip; the job is null when it is gone.</summary>
    public static (JobRowLock Lock, JobData? Job) Acquire(Db db, long jobId, TimeSpan timeout)
    {
        if (timeout < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "The timeout must not be negative.");
        }

        var held = new JobRowLock(db, jobId, timeout);
        var job = held.Lock();
        return (held, job);
    }

    /// <summary>
    /// A lock the fetch already took in its round trip (<see cref="JobQueue"/>): the connection and its open transaction,
    /// which holds the job's row and nothing else. It becomes Hangfire's lock when the worker asks for the job's state lock.
    /// </summary>
    public static JobRowLock Held(Db db, long jobId, MySqlConnection connection, LeanTransaction transaction) =>
        new(db, jobId, TimeSpan.Zero) { _connection = connection, _transaction = transaction };

    /// <summary>The server session holding the row, while it does; the tests kill it.</summary>
    internal int? Session => _connection?.ServerThread;

    /// <summary>The job whose row this lock holds.</summary>
    public long JobId => _jobId;

    /// <summary>How long a second write in the same scope waits to take the row again; set when Hangfire takes over a held lock.</summary>
    public TimeSpan Timeout
    {
        set => _timeout = value;
    }

    /// <summary>
    /// Commits the statements in the lock's transaction, in one round trip with COMMIT; the row lock ends with it.
    /// Returns the first column of every row they selected, as <see cref="Db.Write(IReadOnlyList{Statement})"/>.
    /// </summary>
    public List<object> CommitWith(IReadOnlyList<Statement> statements)
    {
        if (_transaction is null)
        {
            // The lock ended with an earlier commit in this scope: take it again before writing under it.
            Lock();
        }

        try
        {
            return _transaction!.Commit(statements);
        }
        finally
        {
            End();
        }
    }

    public void Dispose() => End();

    private JobData? Lock()
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var remaining = _timeout - clock.Elapsed;
            // MariaDB's FOR UPDATE WAIT n waits whole seconds (NOWAIT: not at all); below one second we poll. A wait is
            // capped well inside the driver's command timeout, as for GET_LOCK.
            var serverWait = remaining >= TimeSpan.FromSeconds(1) ? Math.Min((long)remaining.TotalSeconds, MaxServerWaitSeconds) : 0;
            var connection = _db.Open();
            var transaction = new LeanTransaction(connection);
            try
            {
                var job = transaction.Read(JobDataReader.LockingStatements(_db.Tables, _jobId, serverWait), JobDataReader.Read);
                _connection = connection;
                _transaction = transaction;
                return job;
            }
            catch (MySqlException ex) when (ex.Number is LockWaitTimeout or Deadlock)
            {
                // Another holder has the row: roll back (the statement failed, the transaction is still open) and wait again.
                transaction.Dispose();
                connection.Dispose();
            }
            catch
            {
                transaction.Dispose();
                connection.Dispose();
                throw;
            }

            remaining = _timeout - clock.Elapsed;
            if (remaining <= TimeSpan.Zero)
            {
                throw new DistributedLockTimeoutException($"job:{_jobId}:state-lock");
            }

            if (serverWait == 0)
            {
                Thread.Sleep(remaining < PollStep ? remaining : PollStep);
            }
        }
    }

    // Rolls back a transaction that is still open (nothing was written in it) and returns the connection to the pool.
    private void End()
    {
        var connection = _connection;
        var transaction = _transaction;
        _connection = null;
        _transaction = null;
        transaction?.Dispose();
        connection?.Dispose();
    }
}
