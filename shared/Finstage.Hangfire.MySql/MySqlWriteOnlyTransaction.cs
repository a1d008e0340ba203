using Hangfire.Common;
using Hangfire.States;
using Hangfire.Storage;

namespace Finstage.Hangfire.MySql;

/// <summary>
/// Hangfire's write-only transaction: commands are queued and run on commit in one short READ COMMITTED
/// transaction, in a fixed table-then-key order so that concurrent writers lock rows in the same order. The
/// whole transaction, begin and COMMIT included, goes to the server in one round trip.
/// </summary>
public sealed class MySqlWriteOnlyTransaction : JobStorageTransaction
{
    // The order tables are written in; with keys sorted inside each table it is the same for every writer.
    private enum Target
    {
        Job,
        Queue,
        Counter,
        Set,
        Hash,
        List,
    }

    private readonly Db _db;
    private readonly QueueSignal _signal;
    private readonly List<(Target Target, string Key, int Sequence, Piece[] Pieces)> _commands = [];
    private readonly List<MySqlFetchedJob> _removedFromQueue = [];
    private readonly List<string> _enqueuedTo = [];
    private readonly List<long> _jobIds = [];
    private readonly Action _beforeCommit;
    private readonly Func<IReadOnlyList<Statement>, IReadOnlyList<long>, List<object>> _write;

    /// <param name="storage">The storage.</param>
    /// <param name="beforeCommit">Runs before the statements are sent.</param>
    /// <param name="write">
    /// Sends the statements as one transaction, given the jobs whose rows they write: the connection commits them on the
    /// job's state lock when it holds it (<see cref="JobRowLock"/>).
    /// </param>
    internal MySqlWriteOnlyTransaction(MySqlStorage storage, Action beforeCommit, Func<IReadOnlyList<Statement>, IReadOnlyList<long>, List<object>> write)
    {
        _db = storage.Db;
        _signal = storage.Signal;
        _beforeCommit = beforeCommit;
        _write = write;
    }

    private Tables T => _db.Tables;

    /// <inheritdoc />
    public override void Commit()
    {
        // A stable sort keeps the caller's order for commands on the same key (insert then trim, add then remove).
        var statements = _commands
            .OrderBy(c => c.Target)
            .ThenBy(c => c.Key, StringComparer.Ordinal)
            .ThenBy(c => c.Sequence)
            .SelectMany(c => c.Pieces)
            .Aggregate(new StatementList(T), (list, piece) => list.Add(piece))
            .ToList();
        if (statements.Count > 0)
        {
            _beforeCommit();
            _write(statements, _jobIds);
        }

        foreach (var fetched in _removedFromQueue)
        {
            fetched.MarkRemoved();
        }

        // Only after the commit: a worker woken earlier would find nothing and go back to sleep.
        foreach (var queue in _enqueuedTo)
        {
            _signal.Notify(queue);
        }
    }

    /// <inheritdoc />
    public override void ExpireJob(string jobId, TimeSpan expireIn) =>
        OnJob(jobId, id => [new JobColumn(id, "expire_at", "`expire_at` = UTC_TIMESTAMP(6) + INTERVAL @expire_us MICROSECOND", ("@expire_us", expireIn.Microseconds()))]);

    /// <inheritdoc />
    public override void PersistJob(string jobId) =>
        OnJob(jobId, id => [new JobColumn(id, "expire_at", "`expire_at` = NULL")]);

    /// <inheritdoc />
    public override void SetJobState(string jobId, IState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var (name, reason, data) = Describe(state);
        // LAST_INSERT_ID() is the state row just inserted: the insert and the job's update run back to back on one session.
        OnJob(jobId, id =>
        [
            new Plain(new($"INSERT INTO {T.State} (`job_id`, `name`, `reason`, `created_at`, `data`) VALUES (@id, @name, @reason, UTC_TIMESTAMP(6), @data)",
                ("@id", id), ("@name", name), ("@reason", reason), ("@data", data))),
            new JobColumn(id, "state", "`state_id` = LAST_INSERT_ID(), `state_name` = @state_name", ("@state_name", name)),
        ]);
    }

    /// <inheritdoc />
    public override void AddJobState(string jobId, IState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var (name, reason, data) = Describe(state);
        OnJob(jobId, id => [new Plain(new($"INSERT INTO {T.State} (`job_id`, `name`, `reason`, `created_at`, `data`) VALUES (@id, @name, @reason, UTC_TIMESTAMP(6), @data)",
            ("@id", id), ("@name", name), ("@reason", reason), ("@data", data)))]);
    }

    /// <inheritdoc />
    public override void SetJobParameter(string jobId, string name, string? value)
    {
        ArgumentNullException.ThrowIfNull(name);
        OnJob(jobId, id => [new Plain(new($"INSERT INTO {T.JobParameter} (`job_id`, `name`, `value`) VALUES (@id, @name, @value) ON DUPLICATE KEY UPDATE `value` = VALUES(`value`)",
            ("@id", id), ("@name", name), ("@value", value)))]);
    }

    /// <inheritdoc />
    public override void AddToQueue(string queue, string jobId)
    {
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentNullException.ThrowIfNull(jobId);
        if (!MySqlStorageConnection.TryParseId(jobId, out var id))
        {
            throw new ArgumentException($"'{jobId}' is not a job id of this storage.", nameof(jobId));
        }

        Add(Target.Queue, queue, new($"INSERT INTO {T.JobQueue} (`job_id`, `queue`) VALUES (@id, @queue)", ("@id", id), ("@queue", queue)));
        _enqueuedTo.Add(queue);
    }

    /// <inheritdoc />
    public override void RemoveFromQueue(IFetchedJob fetchedJob)
    {
        if (fetchedJob is not MySqlFetchedJob fetched)
        {
            throw new NotSupportedException($"Only {nameof(MySqlFetchedJob)} can be removed in a transaction of this storage.");
        }

        Add(Target.Queue, fetched.Queue, new($"DELETE FROM {T.JobQueue} WHERE `id` = @id AND `fetch_token` = @token",
            ("@id", fetched.QueueId), ("@token", fetched.FetchToken)));
        _removedFromQueue.Add(fetched);
    }

    /// <inheritdoc />
    public override void IncrementCounter(string key) => AddCounter(key, +1, null);

    /// <inheritdoc />
    public override void IncrementCounter(string key, TimeSpan expireIn) => AddCounter(key, +1, expireIn);

    /// <inheritdoc />
    public override void DecrementCounter(string key) => AddCounter(key, -1, null);

    /// <inheritdoc />
    public override void DecrementCounter(string key, TimeSpan expireIn) => AddCounter(key, -1, expireIn);

    /// <inheritdoc />
    public override void AddToSet(string key, string value) => AddToSet(key, value, 0.0);

    /// <inheritdoc />
    public override void AddToSet(string key, string value, double score)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        Add(Target.Set, key, new($"INSERT INTO {T.Set} (`key`, `value`, `score`) VALUES (@key, @value, @score) ON DUPLICATE KEY UPDATE `score` = VALUES(`score`)",
            ("@key", key), ("@value", value), ("@score", score)));
    }

    /// <inheritdoc />
    public override void AddRangeToSet(string key, IList<string> items)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(items);
        if (items.Count == 0)
        {
            return;
        }

        var ordered = items.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var values = string.Join(", ", ordered.Select((_, i) => $"(@key, @v{i}, 0)"));
        Add(Target.Set, key, new($"INSERT INTO {T.Set} (`key`, `value`, `score`) VALUES {values} ON DUPLICATE KEY UPDATE `score` = VALUES(`score`)",
            [("@key", key), .. ordered.Select((v, i) => ($"@v{i}", (object?)v))]));
    }

    /// <inheritdoc />
    public override void RemoveFromSet(string key, string value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        Add(Target.Set, key, new($"DELETE FROM {T.Set} WHERE `key` = @key AND `value` = @value", ("@key", key), ("@value", value)));
    }

    /// <inheritdoc />
    public override void RemoveSet(string key) => OnKey(Target.Set, T.Set, key, "DELETE FROM {0} WHERE `key` = @key");

    /// <inheritdoc />
    public override void ExpireSet(string key, TimeSpan expireIn) => Expire(Target.Set, T.Set, key, expireIn);

    /// <inheritdoc />
    public override void PersistSet(string key) => OnKey(Target.Set, T.Set, key, "UPDATE {0} SET `expire_at` = NULL WHERE `key` = @key");

    /// <inheritdoc />
    public override void InsertToList(string key, string value)
    {
        ArgumentNullException.ThrowIfNull(key);
        Add(Target.List, key, new($"INSERT INTO {T.List} (`key`, `value`) VALUES (@key, @value)", ("@key", key), ("@value", value)));
    }

    /// <inheritdoc />
    public override void RemoveFromList(string key, string value)
    {
        ArgumentNullException.ThrowIfNull(key);
        Add(Target.List, key, new($"DELETE FROM {T.List} WHERE `key` = @key AND `value` = @value", ("@key", key), ("@value", value)));
    }

    /// <inheritdoc />
    public override void TrimList(string key, int keepStartingFrom, int keepEndingAt)
    {
        ArgumentNullException.ThrowIfNull(key);
        // Lists read newest first; keep positions [from, to] of that order and delete the rest, in one statement
        // (the kept ids are materialised in a derived table, which is what lets MySQL delete from the table it reads).
        var from = Math.Max(keepStartingFrom, 0);
        Add(Target.List, key, keepEndingAt < keepStartingFrom || keepEndingAt < 0
            ? new($"DELETE FROM {T.List} WHERE `key` = @key", ("@key", key))
            : new($"DELETE FROM {T.List} WHERE `key` = @key AND `id` NOT IN (SELECT `id` FROM (SELECT `id` FROM {T.List} WHERE `key` = @key ORDER BY `id` DESC LIMIT @count OFFSET @from) AS `kept`)",
                ("@key", key), ("@count", keepEndingAt - from + 1), ("@from", from)));
    }

    /// <inheritdoc />
    public override void ExpireList(string key, TimeSpan expireIn) => Expire(Target.List, T.List, key, expireIn);

    /// <inheritdoc />
    public override void PersistList(string key) => OnKey(Target.List, T.List, key, "UPDATE {0} SET `expire_at` = NULL WHERE `key` = @key");

    /// <inheritdoc />
    public override void SetRangeInHash(string key, IEnumerable<KeyValuePair<string, string?>> keyValuePairs)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(keyValuePairs);
        var pairs = keyValuePairs.ToList();
        if (HashWriter.Upsert(T, key, pairs) is { } upsert)
        {
            Add(Target.Hash, key, upsert);
        }
    }

    /// <inheritdoc />
    public override void RemoveHash(string key) => OnKey(Target.Hash, T.Hash, key, "DELETE FROM {0} WHERE `key` = @key");

    /// <inheritdoc />
    public override void ExpireHash(string key, TimeSpan expireIn) => Expire(Target.Hash, T.Hash, key, expireIn);

    /// <inheritdoc />
    public override void PersistHash(string key) => OnKey(Target.Hash, T.Hash, key, "UPDATE {0} SET `expire_at` = NULL WHERE `key` = @key");

    private void AddCounter(string key, int delta, TimeSpan? expireIn)
    {
        ArgumentNullException.ThrowIfNull(key);
        // Raw counter rows are inserts only: concurrent increments of one key never wait for each other.
        AddAll(Target.Counter, key, [new CounterRow(key, delta, expireIn)]);
    }

    private void Expire(Target target, string table, string key, TimeSpan expireIn)
    {
        ArgumentNullException.ThrowIfNull(key);
        Add(target, key, new($"UPDATE {table} SET `expire_at` = UTC_TIMESTAMP(6) + INTERVAL @us MICROSECOND WHERE `key` = @key",
            ("@us", expireIn.Microseconds()), ("@key", key)));
    }

    private void OnKey(Target target, string table, string key, string sqlFormat)
    {
        ArgumentNullException.ThrowIfNull(key);
        var sql = string.Format(System.Globalization.CultureInfo.InvariantCulture, sqlFormat, table);
        Add(target, key, new(sql, ("@key", key)));
    }

    private void OnJob(string jobId, Func<long, Piece[]> pieces)
    {
        ArgumentNullException.ThrowIfNull(jobId);
        if (!MySqlStorageConnection.TryParseId(jobId, out var id))
        {
            // An id this storage never issued names no row; like an unknown numeric id, it changes nothing.
            return;
        }

        if (!_jobIds.Contains(id))
        {
            _jobIds.Add(id);
        }

        AddAll(Target.Job, id.ToString("D19", System.Globalization.CultureInfo.InvariantCulture), pieces(id));
    }

    private void Add(Target target, string key, Statement statement) => AddAll(target, key, [new Plain(statement)]);

    private void AddAll(Target target, string key, Piece[] pieces) =>
        _commands.Add((target, key, _commands.Count, pieces));

    private static (string Name, string? Reason, string Data) Describe(IState state) =>
        (state.Name, state.Reason is { Length: > 100 } r ? r[..100] : state.Reason, SerializationHelper.Serialize(state.SerializeData()));

    // What a queued command writes: a statement as it is, or a piece that the commit merges with its neighbours
    // into fewer statements (each statement costs the server a parse and an execution).
    private abstract record Piece;

    private sealed record Plain(Statement Statement) : Piece;

    /// <summary>Columns of one job row; consecutive ones for the same job become one UPDATE, a later one for the same column winning.</summary>
    private sealed record JobColumn(long JobId, string Column, string Assignment, params (string Name, object? Value)[] Parameters) : Piece;

    /// <summary>One raw counter row; a transaction's rows become one multi-row INSERT.</summary>
    private sealed record CounterRow(string Key, int Delta, TimeSpan? ExpireIn) : Piece;

    /// <summary>Turns the ordered pieces into statements, merging neighbours.</summary>
    private sealed class StatementList(Tables tables)
    {
        private readonly List<Statement> _statements = [];
        private readonly List<CounterRow> _counters = [];
        private readonly List<JobColumn> _jobColumns = [];

        public StatementList Add(Piece piece)
        {
            if (piece is not CounterRow)
            {
                FlushCounters();
            }

            if (piece is not JobColumn column || _jobColumns is [var first, ..] && first.JobId != column.JobId)
            {
                FlushJobColumns();
            }

            switch (piece)
            {
                case Plain plain:
                    _statements.Add(plain.Statement);
                    break;
                case JobColumn jobColumn:
                    _jobColumns.RemoveAll(c => c.Column == jobColumn.Column);
                    _jobColumns.Add(jobColumn);
                    break;
                case CounterRow counter:
                    _counters.Add(counter);
                    break;
            }

            return this;
        }

        public List<Statement> ToList()
        {
            FlushCounters();
            FlushJobColumns();
            return _statements;
        }

        private void FlushJobColumns()
        {
            if (_jobColumns.Count == 0)
            {
                return;
            }

            var assignments = string.Join(", ", _jobColumns.Select(c => c.Assignment));
            _statements.Add(new Statement($"UPDATE {tables.Job} SET {assignments} WHERE `id` = @id",
                [("@id", _jobColumns[0].JobId), .. _jobColumns.SelectMany(c => c.Parameters)]));
            _jobColumns.Clear();
        }

        private void FlushCounters()
        {
            if (_counters.Count == 0)
            {
                return;
            }

            var rows = string.Join(", ", _counters.Select((c, i) => c.ExpireIn is null
                ? $"(@k{i}, @v{i}, NULL)"
                : $"(@k{i}, @v{i}, UTC_TIMESTAMP(6) + INTERVAL @e{i} MICROSECOND)"));
            _statements.Add(new Statement($"INSERT INTO {tables.Counter} (`key`, `value`, `expire_at`) VALUES {rows}",
                [.. _counters.SelectMany((c, i) => new (string, object?)[] { ($"@k{i}", c.Key), ($"@v{i}", c.Delta), ($"@e{i}", c.ExpireIn?.Microseconds()) })]));
            _counters.Clear();
        }
    }
}
