using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Hangfire.Logging;
using Hangfire.Storage;
using MySqlConnector;

namespace Finstage.Hangfire.MySql;

/// <summary>
/// A distributed lock held with <c>GET_LOCK()</c> on a connection of its own: the server releases it when the
/// session ends, so a crashed holder never leaves it taken, and it never expires under a live holder.
/// </summary>
/// <remarks>
/// A holder cut off by the network, its TCP connection left half-open, would keep the session, and the lock, until the
/// server's <c>wait_timeout</c> (8 hours by default). The lock's session therefore has a wait timeout of its own
/// (<see cref="MySqlStorageOptions.DistributedLockSessionTimeout"/>), and the holder speaks on it every third of that:
/// a live holder keeps the lock, a silent one loses it within the timeout. The session gets the server's own timeout
/// back before it returns to the pool.
/// </remarks>
internal sealed class MySqlDistributedLock : IDisposable
{
    private static readonly TimeSpan PollStep = TimeSpan.FromMilliseconds(50);
    private static readonly ILog Log = LogProvider.GetLogger(typeof(MySqlDistributedLock));

    private const string RestoreSessionTimeout = "SET SESSION wait_timeout = @@GLOBAL.wait_timeout";

    // One GET_LOCK waits at most this long on the server, well inside the driver's command timeout (30 s by default):
    // a longer wait would end in a timeout error instead of the lock or a DistributedLockTimeoutException.
    private const long MaxServerWaitSeconds = 5;

    // The heartbeat and the release both use the connection: one at a time.
    private readonly Lock _gate = new();
    private readonly Timer _heartbeat;
    private MySqlConnection? _connection;
    private readonly string _name;

    private MySqlDistributedLock(MySqlConnection connection, string name, TimeSpan sessionTimeout)
    {
        _connection = connection;
        _name = name;
        var every = sessionTimeout / 3;
        _heartbeat = new Timer(_ => Beat(), null, every, every);
    }

    /// <summary>
    /// Takes the lock; with <paramref name="readJob"/>, also reads that job (see <see cref="JobDataReader"/>) in the
    /// same round trip, right after GET_LOCK and so under the lock.
    /// </summary>
    public static (MySqlDistributedLock Lock, JobData? Job) Acquire(Db db, string resource, TimeSpan timeout, TimeSpan sessionTimeout, long? readJob = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(resource);
        if (timeout < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "The timeout must not be negative.");
        }

        var connection = db.Open();
        try
        {
            var name = DistributedLockNames.For(connection.Database, db.Tables.Prefix, resource);
            var clock = Stopwatch.StartNew();
            while (true)
            {
                var remaining = timeout - clock.Elapsed;
                // GET_LOCK waits whole seconds; below one second we poll without waiting on the server.
                var serverWait = remaining >= TimeSpan.FromSeconds(1) ? Math.Min((long)remaining.TotalSeconds, MaxServerWaitSeconds) : 0;
                var (taken, job) = TryGetLock(db, connection, name, serverWait, sessionTimeout, readJob);
                if (taken)
                {
                    return (new MySqlDistributedLock(connection, name, sessionTimeout), job);
                }

                remaining = timeout - clock.Elapsed;
                if (remaining <= TimeSpan.Zero)
                {
                    throw new DistributedLockTimeoutException(resource);
                }

                if (serverWait == 0)
                {
                    Thread.Sleep(remaining < PollStep ? remaining : PollStep);
                }
            }
        }
        catch (DistributedLockTimeoutException)
        {
            // GET_LOCK said no every time: the session holds nothing, and goes back with the server's timeout.
            try
            {
                connection.Execute(RestoreSessionTimeout);
            }
            catch (Exception ex) when (ex is MySqlException or InvalidOperationException or IOException)
            {
                Db.Scrub(connection);
            }
            connection.Dispose();
            throw;
        }
        catch
        {
            // A GET_LOCK may have succeeded on the server before the error reached us; the pool does not reset sessions.
            Db.Scrub(connection);
            connection.Dispose();
            throw;
        }
    }

    private static (bool Taken, JobData? Job) TryGetLock(
        Db db, MySqlConnection connection, string name, long serverWait, TimeSpan sessionTimeout, long? readJob)
    {
        // The session's own timeout is set in the same round trip, before the lock can be held on it.
        const string getLock = "SET SESSION wait_timeout = @session; SELECT GET_LOCK(@name, @wait)";
        var sql = readJob is null ? getLock : getLock + "; " + JobDataReader.Sql(db.Tables);
        using var command = connection.Command(sql, null,
            ("@session", (long)Math.Ceiling(sessionTimeout.TotalSeconds)), ("@name", name), ("@wait", serverWait), ("@id", readJob));
        using var reader = command.ExecuteReader();
        var taken = reader.Read() && !reader.IsDBNull(0) && reader.GetInt64(0) == 1;
        if (!taken || readJob is null)
        {
            return (taken, null);
        }

        reader.NextResult();
        return (true, JobDataReader.Read(reader));
    }

    // Any statement keeps the session from timing out; DO 1 asks the least of the server.
    private void Beat()
    {
        lock (_gate)
        {
            if (_connection is not { } connection)
            {
                return;
            }

            try
            {
                connection.Execute("DO 1");
            }
            catch (Exception ex) when (ex is MySqlException or InvalidOperationException or IOException)
            {
                // The session is gone, and the server released the lock with it: nothing a heartbeat can mend.
                Log.WarnException($"The session holding the distributed lock '{_name}' did not answer its heartbeat; the lock may be released.", ex);
            }
        }
    }

    public void Dispose()
    {
        MySqlConnection? connection;
        lock (_gate)
        {
            connection = _connection;
            _connection = null;
        }
        _heartbeat.Dispose();
        if (connection is null)
        {
            return;
        }

        try
        {
            connection.Execute("DO RELEASE_LOCK(@name); " + RestoreSessionTimeout, null, ("@name", _name));
        }
        catch (Exception ex) when (ex is MySqlException or InvalidOperationException or IOException)
        {
            // Either the session is gone, and the server released the lock with it (a heartbeat may have found the
            // connection broken already), or it lives on still holding the lock: a reset releases it before the pool
            // lends the session out again.
            Db.Scrub(connection);
        }
        finally
        {
            connection.Dispose();
        }
    }
}

/// <summary>Maps a Hangfire lock resource to a MySQL lock name: unique per database and prefix, at most 64 characters.</summary>
internal static class DistributedLockNames
{
    // GET_LOCK names are server-wide and limited to 64 characters.
    private const int MaxLength = 64;

    public static string For(string database, string prefix, string resource)
    {
        var full = $"{database}:{prefix}:{resource}";
        if (full.Length <= MaxLength)
        {
            return full;
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(full)));
        return "hf:" + hash[..(MaxLength - 3)];
    }
}
