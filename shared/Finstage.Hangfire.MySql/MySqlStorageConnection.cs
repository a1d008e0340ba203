using System.Globalization;
using Hangfire.Common;
using Hangfire.Server;
using Hangfire.Storage;
using MySqlConnector;

namespace Finstage.Hangfire.MySql;

/// <summary>
/// Hangfire's view of the storage for one worker or component. It holds no open connection: each call borrows
/// one from the pool for as long as the call lasts, so an idle or busy worker never pins a server session. Each
/// call is one round trip, except a fetch (two) and a distributed lock (one to take it, one to release it).
/// </summary>
/// <remarks>
/// Hangfire changes a job's state as: take the job's lock, <see cref="GetJobData"/>, one write transaction, release.
/// So taking a job's lock also reads the job in the same round trip, under the lock just taken, and the next
/// <see cref="GetJobData"/> for that job on this connection returns that read instead of asking again. The read is
/// used once, only while the lock is held, and dropped by any write through this connection in between.
/// </remarks>
public sealed class MySqlStorageConnection : JobStorageConnection
{
    private readonly MySqlStorage _storage;
    private readonly Db _db;
    private readonly Dictionary<string, HeldLock> _locks = new(StringComparer.Ordinal);
    private readonly Lock _locksSync = new();
    private (string Resource, long JobId, JobData? Data)? _readAhead;

    // The state lock the last fetch took for its job (FetchTakesJobLock), until the worker asks for it.
    private (JobRowLock Lock, JobData? Job)? _fetchedLock;

    internal MySqlStorageConnection(MySqlStorage storage)
    {
        _storage = storage;
        _db = storage.Db;
    }

    private Tables T => _db.Tables;

    /// <inheritdoc />
    public override IWriteOnlyTransaction CreateWriteTransaction() => new MySqlWriteOnlyTransaction(_storage, DropReadAhead, Write);

    /// <inheritdoc />
    public override IDisposable AcquireDistributedLock(string resource, TimeSpan timeout)
    {
        ArgumentException.ThrowIfNullOrEmpty(resource);

        // Hangfire takes the same lock again from the same connection (filters nest); GET_LOCK on a second
        // session would wait for ourselves, so nested acquisitions share the first one.
        lock (_locksSync)
        {
            if (_locks.TryGetValue(resource, out var held))
            {
                held.Count++;
                return new LockRelease(this, resource);
            }
        }

        // A job's state lock is the job row's lock, taken with the job's read; any other resource is a GET_LOCK. The
        // fetch may have taken it already, with the read: the worker's state change to Processing asks for it next.
        var jobId = JobLocks.JobIdOf(resource);
        IDisposable acquired;
        JobData? job = null;
        if (jobId is { } fetchedJob && _fetchedLock is { } fetched && fetched.Lock.JobId == fetchedJob)
        {
            _fetchedLock = null;
            fetched.Lock.Timeout = timeout;
            (acquired, job) = fetched;
        }
        else
        {
            // Any other lock first ends one the fetch took: nothing may wait for a row this connection holds unasked.
            ReleaseFetchedLock();
            if (jobId is { } lockedJob && _storage.Options.JobLockIsJobRow)
            {
                (acquired, job) = JobRowLock.Acquire(_db, lockedJob, timeout);
            }
            else
            {
                (acquired, job) = MySqlDistributedLock.Acquire(_db, resource, timeout, _storage.Options.DistributedLockSessionTimeout, jobId);
            }
        }

        lock (_locksSync)
        {
            _locks[resource] = new HeldLock(acquired, jobId);
            _readAhead = jobId is { } id ? (resource, id, job) : null;
        }

        return new LockRelease(this, resource);
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        ReleaseFetchedLock();
        lock (_locksSync)
        {
            foreach (var held in _locks.Values)
            {
                held.Lock.Dispose();
            }

            _locks.Clear();
        }

        base.Dispose();
    }

    /// <inheritdoc />
    public override string CreateExpiredJob(Job job, IDictionary<string, string?> parameters, DateTime createdAt, TimeSpan expireIn)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(parameters);

        DropReadAhead();
        var invocationData = InvocationData.SerializeJob(job);
        var payload = invocationData.SerializePayload(excludeArguments: true);
        var created = createdAt.ToUniversalTime();

        // One round trip: the job, its id, and its parameters (sorted, so every writer touches them in the same order)
        // as one multi-row insert that takes the job's id from LAST_INSERT_ID() on the same session.
        var ordered = parameters.OrderBy(p => p.Key, StringComparer.Ordinal).ToList();
        List<Statement> statements =
        [
            new($"INSERT INTO {T.Job} (`invocation_data`, `arguments`, `created_at`, `expire_at`) VALUES (@data, @args, @created, @expire)",
                ("@data", payload), ("@args", invocationData.Arguments), ("@created", created), ("@expire", created.Add(expireIn))),
            new("SELECT LAST_INSERT_ID()"),
        ];
        if (ordered.Count > 0)
        {
            var rows = string.Join(", ", ordered.Select((_, i) => $"(LAST_INSERT_ID(), @n{i}, @v{i})"));
            statements.Add(new($"INSERT INTO {T.JobParameter} (`job_id`, `name`, `value`) VALUES {rows}",
                [.. ordered.SelectMany((p, i) => new (string, object?)[] { ($"@n{i}", p.Key), ($"@v{i}", p.Value) })]));
        }

        var id = Convert.ToInt64(_db.Write(statements)[0], CultureInfo.InvariantCulture);
        return id.ToString(CultureInfo.InvariantCulture);
    }

    /// <inheritdoc />
    public override IFetchedJob FetchNextJob(string[] queues, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(queues);
        if (queues.Length == 0)
        {
            throw new ArgumentException("Queue array must be non-empty.", nameof(queues));
        }

        // A worker back from a job, or woken for one, goes straight for the next, unless another worker here just
        // found its queues empty (then it waits to be woken); one that merely timed out looks, lock-free, before it locks.
        ReleaseFetchedLock();
        var lookFirst = false;
        var backFromJob = true;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var listener = _storage.Signal.Listen(queues);
            if (!(backFromJob && _storage.Signal.FoundEmpty(queues)))
            {
                var fetched = JobQueue.TryFetch(_storage, queues, lookFirst, out var jobLock);
                if (fetched is not null)
                {
                    _fetchedLock = jobLock;
                    return fetched;
                }
            }

            backFromJob = false;
            lookFirst = !listener.Wait(_storage.Options.QueuePollInterval, cancellationToken);
        }
    }

    /// <inheritdoc />
    public override void SetJobParameter(string id, string name, string? value)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(name);
        if (!TryParseId(id, out var jobId))
        {
            return;
        }

        DropReadAhead();
        _db.Write(new Statement(
            $"INSERT INTO {T.JobParameter} (`job_id`, `name`, `value`) VALUES (@id, @name, @value) ON DUPLICATE KEY UPDATE `value` = VALUES(`value`)",
            ("@id", jobId), ("@name", name), ("@value", value)));
    }

    /// <inheritdoc />
    public override string? GetJobParameter(string id, string name)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(name);
        if (!TryParseId(id, out var jobId))
        {
            return null;
        }

        return _db.Use(c => c.Scalar<string>(
            $"SELECT `value` FROM {T.JobParameter} WHERE `job_id` = @id AND `name` = @name",
            null, ("@id", jobId), ("@name", name)));
    }

    /// <inheritdoc />
    public override JobData? GetJobData(string jobId)
    {
        ArgumentNullException.ThrowIfNull(jobId);
        if (!TryParseId(jobId, out var id))
        {
            return null;
        }

        lock (_locksSync)
        {
            if (_readAhead is { } ahead && ahead.JobId == id)
            {
                _readAhead = null;
                return ahead.Data;
            }
        }

        return _db.Use(c =>
        {
            using var command = c.Command(JobDataReader.Sql(T), null, ("@id", id));
            using var reader = command.ExecuteReader();
            return JobDataReader.Read(reader);
        });
    }

    /// <inheritdoc />
    public override StateData? GetStateData(string jobId)
    {
        ArgumentNullException.ThrowIfNull(jobId);
        if (!TryParseId(jobId, out var id))
        {
            return null;
        }

        return _db.Use(c => c.Query(
            $"SELECT s.`name`, s.`reason`, s.`data` FROM {T.Job} j JOIN {T.State} s ON s.`id` = j.`state_id` WHERE j.`id` = @id",
            r => new StateData { Name = r.GetString(0), Reason = r.NullableString(1), Data = JobPayload.StateData(r.NullableString(2)) },
            null, ("@id", id)).FirstOrDefault());
    }

    /// <inheritdoc />
    public override void AnnounceServer(string serverId, ServerContext context)
    {
        ArgumentNullException.ThrowIfNull(serverId);
        ArgumentNullException.ThrowIfNull(context);

        var data = SerializationHelper.Serialize(new ServerData
        {
            WorkerCount = context.WorkerCount,
            Queues = context.Queues,
            StartedAt = DateTime.UtcNow,
        });
        _db.Write(new Statement(
            $"INSERT INTO {T.Server} (`id`, `data`, `last_heartbeat`) VALUES (@id, @data, UTC_TIMESTAMP(6)) ON DUPLICATE KEY UPDATE `data` = VALUES(`data`), `last_heartbeat` = VALUES(`last_heartbeat`)",
            ("@id", serverId), ("@data", data)));
    }

    /// <inheritdoc />
    public override void RemoveServer(string serverId)
    {
        ArgumentNullException.ThrowIfNull(serverId);
        _db.Write(new Statement($"DELETE FROM {T.Server} WHERE `id` = @id", ("@id", serverId)));
    }

    /// <inheritdoc />
    public override void Heartbeat(string serverId)
    {
        ArgumentNullException.ThrowIfNull(serverId);
        var found = _db.Write(new Statement($"UPDATE {T.Server} SET `last_heartbeat` = UTC_TIMESTAMP(6) WHERE `id` = @id", ("@id", serverId)));
        if (found == 0)
        {
            // Another server removed us as timed out; Hangfire restarts the server when it sees this.
            throw new BackgroundServerGoneException();
        }
    }

    /// <inheritdoc />
    public override int RemoveTimedOutServers(TimeSpan timeOut)
    {
        if (timeOut.Duration() != timeOut)
        {
            throw new ArgumentException("The `timeOut` value must be positive.", nameof(timeOut));
        }

        return _db.Write(new Statement(
            $"DELETE FROM {T.Server} WHERE `last_heartbeat` < UTC_TIMESTAMP(6) - INTERVAL @us MICROSECOND", ("@us", timeOut.Microseconds())));
    }

    /// <inheritdoc />
    public override HashSet<string> GetAllItemsFromSet(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return _db.Use(c => c.Query($"SELECT `value` FROM {T.Set} WHERE `key` = @key", r => r.GetString(0), null, ("@key", key)))
            .ToHashSet(StringComparer.Ordinal);
    }

    /// <inheritdoc />
    public override string? GetFirstByLowestScoreFromSet(string key, double fromScore, double toScore) =>
        GetFirstByLowestScoreFromSet(key, fromScore, toScore, 1).FirstOrDefault();

    /// <inheritdoc />
    public override List<string> GetFirstByLowestScoreFromSet(string key, double fromScore, double toScore, int count)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (toScore < fromScore)
        {
            throw new ArgumentException("The `toScore` value must be higher or equal to the `fromScore` value.", nameof(toScore));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        return _db.Use(c => c.Query(
            $"SELECT `value` FROM {T.Set} WHERE `key` = @key AND `score` BETWEEN @from AND @to ORDER BY `score`, `value` LIMIT @count",
            r => r.GetString(0), null, ("@key", key), ("@from", fromScore), ("@to", toScore), ("@count", count)));
    }

    /// <inheritdoc />
    public override long GetSetCount(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return _db.Use(c => c.Scalar<long>($"SELECT COUNT(*) FROM {T.Set} WHERE `key` = @key", null, ("@key", key)));
    }

    /// <inheritdoc />
    public override long GetSetCount(IEnumerable<string> keys, int limit)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        var list = keys.ToList();
        if (list.Count == 0 || limit == 0)
        {
            return 0;
        }

        var (inSql, parameters) = SqlExtensions.InList("k", list);
        return _db.Use(c => c.Scalar<long>(
            $"SELECT COUNT(*) FROM (SELECT 1 FROM {T.Set} WHERE `key` IN ({inSql}) LIMIT @limit) AS x",
            null, [.. parameters, ("@limit", limit)]));
    }

    /// <inheritdoc />
    public override bool GetSetContains(string key, string value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        return _db.Use(c => c.Scalar<long?>(
            $"SELECT 1 FROM {T.Set} WHERE `key` = @key AND `value` = @value", null, ("@key", key), ("@value", value))) == 1;
    }

    /// <inheritdoc />
    public override List<string> GetRangeFromSet(string key, int startingFrom, int endingAt)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Range($"SELECT `value` FROM {T.Set} WHERE `key` = @key ORDER BY `score`, `value`", key, startingFrom, endingAt);
    }

    /// <inheritdoc />
    public override TimeSpan GetSetTtl(string key) => Ttl(T.Set, key);

    /// <inheritdoc />
    public override void SetRangeInHash(string key, IEnumerable<KeyValuePair<string, string?>> keyValuePairs)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(keyValuePairs);
        if (HashWriter.Upsert(T, key, keyValuePairs.ToList()) is { } upsert)
        {
            _db.Write(upsert);
        }
    }

    /// <inheritdoc />
    public override Dictionary<string, string?>? GetAllEntriesFromHash(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var entries = _db.Use(c => c.Query(
            $"SELECT `field`, `value` FROM {T.Hash} WHERE `key` = @key", r => (Field: r.GetString(0), Value: r.NullableString(1)), null, ("@key", key)));
        return entries.Count == 0 ? null : entries.ToDictionary(e => e.Field, e => e.Value, StringComparer.Ordinal);
    }

    /// <inheritdoc />
    public override string? GetValueFromHash(string key, string name)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(name);
        return _db.Use(c => c.Scalar<string>(
            $"SELECT `value` FROM {T.Hash} WHERE `key` = @key AND `field` = @field", null, ("@key", key), ("@field", name)));
    }

    /// <inheritdoc />
    public override long GetHashCount(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return _db.Use(c => c.Scalar<long>($"SELECT COUNT(*) FROM {T.Hash} WHERE `key` = @key", null, ("@key", key)));
    }

    /// <inheritdoc />
    public override TimeSpan GetHashTtl(string key) => Ttl(T.Hash, key);

    /// <inheritdoc />
    public override long GetListCount(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return _db.Use(c => c.Scalar<long>($"SELECT COUNT(*) FROM {T.List} WHERE `key` = @key", null, ("@key", key)));
    }

    /// <inheritdoc />
    public override List<string> GetAllItemsFromList(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return _db.Use(c => c.Query(
            $"SELECT `value` FROM {T.List} WHERE `key` = @key ORDER BY `id` DESC", r => r.NullableString(0)!, null, ("@key", key)));
    }

    /// <inheritdoc />
    public override List<string> GetRangeFromList(string key, int startingFrom, int endingAt)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Range($"SELECT `value` FROM {T.List} WHERE `key` = @key ORDER BY `id` DESC", key, startingFrom, endingAt);
    }

    /// <inheritdoc />
    public override TimeSpan GetListTtl(string key) => Ttl(T.List, key);

    /// <inheritdoc />
    public override long GetCounter(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return _db.Use(c => Counters.Get(c, T, key));
    }

    /// <inheritdoc />
    public override DateTime GetUtcDateTime() =>
        DateTime.SpecifyKind(_db.Use(c => c.Scalar<DateTime>("SELECT UTC_TIMESTAMP(6)")), DateTimeKind.Utc);

    /// <summary>The server session of the job lock the last fetch took, while nobody asked for it; the tests kill it.</summary>
    internal int? FetchedLockSession => _fetchedLock?.Lock.Session;

    internal void ReleaseLock(string resource)
    {
        lock (_locksSync)
        {
            if (!_locks.TryGetValue(resource, out var held))
            {
                return;
            }

            if (--held.Count == 0)
            {
                _locks.Remove(resource);
                if (_readAhead?.Resource == resource)
                {
                    _readAhead = null;
                }

                held.Lock.Dispose();
            }
        }
    }

    private List<string> Range(string orderedSelect, string key, int startingFrom, int endingAt)
    {
        if (endingAt < startingFrom || endingAt < 0)
        {
            return [];
        }

        var from = Math.Max(startingFrom, 0);
        return _db.Use(c => c.Query(
            $"{orderedSelect} LIMIT @count OFFSET @from", r => r.NullableString(0)!, null,
            ("@key", key), ("@count", endingAt - from + 1), ("@from", from)));
    }

    private TimeSpan Ttl(string table, string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var microseconds = _db.Use(c => c.Scalar<long?>(
            $"SELECT TIMESTAMPDIFF(MICROSECOND, UTC_TIMESTAMP(6), MIN(`expire_at`)) FROM {table} WHERE `key` = @key", null, ("@key", key)));
        return microseconds is { } us ? TimeSpan.FromTicks(us * 10) : TimeSpan.FromSeconds(-1);
    }

    // A write transaction that writes the row of a job whose state lock this connection holds commits in that lock's
    // transaction (one round trip with the lock's end); any other goes through a pooled connection of its own.
    private List<object> Write(IReadOnlyList<Statement> statements, IReadOnlyList<long> jobIds)
    {
        JobRowLock? rowLock = null;
        lock (_locksSync)
        {
            foreach (var held in _locks.Values)
            {
                if (held.JobId is { } id && jobIds.Contains(id) && held.Lock is JobRowLock jobLock)
                {
                    rowLock = jobLock;
                    break;
                }
            }
        }

        if (rowLock is not null)
        {
            return rowLock.CommitWith(statements);
        }

        // A job lock the fetch took and nobody asked for would make this write wait for ourselves.
        ReleaseFetchedLock();
        return _db.Write(statements);
    }

    // Ends a job lock the fetch took that the worker did not ask for (rolls back a transaction that only locked the row).
    private void ReleaseFetchedLock()
    {
        if (_fetchedLock is { } fetched)
        {
            _fetchedLock = null;
            fetched.Lock.Dispose();
        }
    }

    private void DropReadAhead()
    {
        lock (_locksSync)
        {
            _readAhead = null;
        }
    }

    internal static bool TryParseId(string id, out long value) =>
        long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out value);

    private sealed class HeldLock(IDisposable acquired, long? jobId)
    {
        public IDisposable Lock { get; } = acquired;
        public long? JobId { get; } = jobId;
        public int Count { get; set; } = 1;
    }

    private sealed class LockRelease(MySqlStorageConnection owner, string resource) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                owner.ReleaseLock(resource);
            }
        }
    }
}
