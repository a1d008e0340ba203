using System.Globalization;
using Hangfire.Storage;

namespace Finstage.Hangfire.MySql;

/// <summary>Takes the next job from the queues without a global lock: one row at a time with FOR UPDATE SKIP LOCKED.</summary>
internal static class JobQueue
{
    /// <summary>
    /// Takes a job in one round trip per queue tried: the claim and its read. With
    /// <paramref name="lookFirst"/> (an idle worker's poll) a plain read comes first, so a poll of empty queues
    /// takes no lock and opens no transaction.
    /// </summary>
    public static MySqlFetchedJob? TryFetch(MySqlStorage storage, IReadOnlyList<string> queues, bool lookFirst) =>
        TryFetch(storage, queues, lookFirst, out _);

    /// <summary>
    /// As <see cref="TryFetch(MySqlStorage, IReadOnlyList{string}, bool)"/>; with <see cref="MySqlStorageOptions.FetchTakesJobLock"/>
    /// the same round trip also takes the fetched job's state lock (its row lock, <see cref="JobRowLock"/>) and reads the job
    /// under it, handed back in <paramref name="jobLock"/> for the connection to give to the worker's state change.
    /// </summary>
    public static MySqlFetchedJob? TryFetch(MySqlStorage storage, IReadOnlyList<string> queues, bool lookFirst, out (JobRowLock Lock, JobData? Job)? jobLock)
    {
        jobLock = null;
        var db = storage.Db;
        var t = db.Tables;
        var notificationsBefore = storage.Signal.Notifications;
        (string, object?) invisibility = ("@us", storage.Options.InvisibilityTimeout.Microseconds());
        // Visible entries: never fetched, or fetched by a worker that stopped heartbeating. On the (queue, fetched_at, id)
        // index that is one range, and in index order the never-fetched ones (NULL) come first, oldest id first.
        const string Visible = "(`fetched_at` IS NULL OR `fetched_at` < UTC_TIMESTAMP(6) - INTERVAL @us MICROSECOND)";

        if (lookFirst)
        {
            var (inSql, inParameters) = SqlExtensions.InList("q", queues);
            var anything = db.Use(c => c.Scalar<long?>(
                $"SELECT 1 FROM {t.JobQueue} WHERE `queue` IN ({inSql}) AND {Visible} LIMIT 1", null, [.. inParameters, invisibility]));
            if (anything != 1)
            {
                storage.Signal.Probed(queues, found: false, notificationsBefore);
                return null;
            }
        }

        var token = Guid.NewGuid().ToString("N");
        // One round trip per queue, in the caller's order (its priority): the claim and the read of what it claimed, as
        // two autocommitted statements. The claim is an UPDATE joined to the first visible entry in index order, taken
        // FOR UPDATE SKIP LOCKED in a derived table (materialised: one index row read, then the row by its key), so
        // workers skip each other's rows as before. (A plain UPDATE … ORDER BY … LIMIT 1 cannot walk the index whose
        // column it changes: it sorted, and locked, the whole queue.) The claimed entry comes back through
        // LAST_INSERT_ID(expr), set to its job id by the same UPDATE on this session, and the fresh token proves the
        // row is this claim's (the session's LAST_INSERT_ID may be older when nothing was claimed).
        (long Id, long JobId, string Queue)? taken = null;
        if (storage.Options.FetchTakesJobLock && storage.Options.JobLockIsJobRow && !storage.Options.FetchInOneRoundTrip)
        {
            (taken, jobLock) = WithJobLock(db, queues, Visible, invisibility, token);
        }
        else if (!storage.Options.FetchInOneRoundTrip)
        {
            taken = TwoRoundTrips(db, queues, Visible, invisibility, token);
        }

        foreach (var queue in storage.Options.FetchInOneRoundTrip ? queues : [])
        {
            var rows = db.UseRetrying(c => c.Query(
                $"UPDATE {t.JobQueue} AS `q` JOIN (SELECT `id` FROM {t.JobQueue} WHERE `queue` = @queue AND {Visible} " +
                "ORDER BY `fetched_at`, `id` LIMIT 1 FOR UPDATE SKIP LOCKED) AS `next` ON `q`.`id` = `next`.`id` " +
                "SET `q`.`fetched_at` = UTC_TIMESTAMP(6), `q`.`fetch_token` = @token, `q`.`job_id` = LAST_INSERT_ID(`q`.`job_id`); " +
                $"SELECT `id`, `job_id` FROM {t.JobQueue} WHERE `job_id` = LAST_INSERT_ID() AND `fetch_token` = @token",
                r => (Id: r.GetInt64(0), JobId: r.GetInt64(1)), null, ("@queue", queue), ("@token", token), invisibility));
            if (rows.Count == 1)
            {
                taken = (rows[0].Id, rows[0].JobId, queue);
                break;
            }
        }

        storage.Signal.Probed(queues, found: taken is not null, notificationsBefore);
        // The transaction is committed and its connection back in the pool before the job is handed out.
        return taken is { } job
            ? new MySqlFetchedJob(storage, job.Id, job.JobId.ToString(CultureInfo.InvariantCulture), job.Queue, token)
            : null;
    }

    // One round trip per queue tried, whose statements are, in order: the locking probe (it leaves the entry's id in
    // LAST_INSERT_ID, reset first so that an empty probe leaves 0 and the rest match nothing); the claim by that id and
    // COMMIT, so the claim is as durable as in the two-round-trip fetch and the entry is free again; the claimed entry's
    // job id into LAST_INSERT_ID (a plain read of the committed claim, so no lock on the entry); then a new transaction
    // that locks the job's row FOR UPDATE SKIP LOCKED and reads the job and its parameters: the worker's state lock,
    // taken before it asks. SKIP LOCKED: a row another holder has (a state change of that job in progress) is not waited
    // for; then no lock is held, and the worker takes it as before. The open transaction holds the job row only.
    private static ((long Id, long JobId, string Queue)? Taken, (JobRowLock Lock, JobData? Job)? JobLock) WithJobLock(
        Db db, IReadOnlyList<string> queues, string visible, (string, object?) invisibility, string token)
    {
        var t = db.Tables;
        var connection = db.Open();
        var transaction = new LeanTransaction(connection);
        try
        {
            foreach (var queue in queues)
            {
                var (claimed, job) = transaction.Read(
                [
                    new("DO LAST_INSERT_ID(0)"),
                    new($"SELECT `id`, `job_id`, LAST_INSERT_ID(`id`) FROM {t.JobQueue} WHERE `queue` = @queue AND {visible} ORDER BY `fetched_at`, `id` LIMIT 1 FOR UPDATE SKIP LOCKED",
                        ("@queue", queue), invisibility),
                    new($"UPDATE {t.JobQueue} SET `fetched_at` = UTC_TIMESTAMP(6), `fetch_token` = @token WHERE `id` = LAST_INSERT_ID()", ("@token", token)),
                    new("COMMIT"),
                    new($"DO LAST_INSERT_ID((SELECT `job_id` FROM {t.JobQueue} WHERE `id` = LAST_INSERT_ID() AND `fetch_token` = @token))", ("@token", token)),
                    new("SET TRANSACTION ISOLATION LEVEL READ COMMITTED"),
                    new("START TRANSACTION"),
                    .. JobDataReader.SkippingStatements(t),
                ],
                reader =>
                {
                    (long Id, long JobId)? entry = reader.Read() ? (reader.GetInt64(0), reader.GetInt64(1)) : null;
                    reader.NextResult();
                    return (entry, JobDataReader.Read(reader));
                });
                if (claimed is { } entry)
                {
                    if (job is not null)
                    {
                        var held = JobRowLock.Held(db, entry.JobId, connection, transaction);
                        return ((entry.Id, entry.JobId, queue), (held, job));
                    }

                    // The job's row was held by another state change (or is gone): its worker takes the lock as before.
                    transaction.Dispose();
                    connection.Dispose();
                    return ((entry.Id, entry.JobId, queue), null);
                }
            }

            transaction.Dispose();
            connection.Dispose();
            return (null, null);
        }
        catch
        {
            transaction.Dispose();
            connection.Dispose();
            throw;
        }
    }

    // The fetch before issue 18, kept for the benchmark's comparison: a locking probe inside a transaction, then the
    // claim with COMMIT.
    private static (long Id, long JobId, string Queue)? TwoRoundTrips(
        Db db, IReadOnlyList<string> queues, string visible, (string, object?) invisibility, string token) =>
        db.InLeanTransaction(tx =>
        {
            foreach (var queue in queues)
            {
                var rows = tx.Query(
                    new Statement($"SELECT `id`, `job_id` FROM {db.Tables.JobQueue} WHERE `queue` = @queue AND {visible} ORDER BY `fetched_at`, `id` LIMIT 1 FOR UPDATE SKIP LOCKED",
                        ("@queue", queue), invisibility),
                    r => (Id: r.GetInt64(0), JobId: r.GetInt64(1)));
                if (rows.Count == 1)
                {
                    tx.Commit([new Statement($"UPDATE {db.Tables.JobQueue} SET `fetched_at` = UTC_TIMESTAMP(6), `fetch_token` = @token WHERE `id` = @id",
                        ("@token", token), ("@id", rows[0].Id))]);
                    return (rows[0].Id, rows[0].JobId, Queue: queue);
                }
            }

            tx.Commit([]);
            return ((long Id, long JobId, string Queue)?)null;
        });
}
