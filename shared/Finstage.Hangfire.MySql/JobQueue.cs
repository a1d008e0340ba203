using System.Globalization;

namespace Finstage.Hangfire.MySql;

/// <summary>Takes the next job from the queues without a global lock: one row at a time with FOR UPDATE SKIP LOCKED.</summary>
internal static class JobQueue
{
    /// <summary>
    /// Takes a job in two round trips: begin plus a locking probe, then the claim plus COMMIT. With
    /// <paramref name="lookFirst"/> (an idle worker's poll) a plain read comes first, so a poll of empty queues
    /// takes no lock and opens no transaction.
    /// </summary>
    public static MySqlFetchedJob? TryFetch(MySqlStorage storage, IReadOnlyList<string> queues, bool lookFirst)
    {
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
        var taken = db.InLeanTransaction(tx =>
        {
            // One queue at a time and in the caller's order (its priority); each probe locks one row and skips rows
            // another worker is taking.
            foreach (var queue in queues)
            {
                var rows = tx.Query(
                    new Statement($"SELECT `id`, `job_id` FROM {t.JobQueue} WHERE `queue` = @queue AND {Visible} ORDER BY `fetched_at`, `id` LIMIT 1 FOR UPDATE SKIP LOCKED",
                        ("@queue", queue), invisibility),
                    r => (Id: r.GetInt64(0), JobId: r.GetInt64(1)));
                if (rows.Count == 1)
                {
                    tx.Commit([new Statement($"UPDATE {t.JobQueue} SET `fetched_at` = UTC_TIMESTAMP(6), `fetch_token` = @token WHERE `id` = @id",
                        ("@token", token), ("@id", rows[0].Id))]);
                    return (rows[0].Id, rows[0].JobId, Queue: queue);
                }
            }

            tx.Commit([]);
            return ((long Id, long JobId, string Queue)?)null;
        });

        storage.Signal.Probed(queues, found: taken is not null, notificationsBefore);
        // The transaction is committed and its connection back in the pool before the job is handed out.
        return taken is { } job
            ? new MySqlFetchedJob(storage, job.Id, job.JobId.ToString(CultureInfo.InvariantCulture), job.Queue, token)
            : null;
    }
}
