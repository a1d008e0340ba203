using System.Globalization;
using MySqlConnector;

namespace Finstage.Hangfire.MySql;

/// <summary>Takes the next job from the queues without a global lock: one row at a time with FOR UPDATE SKIP LOCKED.</summary>
internal static class JobQueue
{
    public static MySqlFetchedJob? TryFetch(Db db, IReadOnlyList<string> queues, TimeSpan invisibilityTimeout)
    {
        var t = db.Tables;
        var (inSql, inParameters) = SqlExtensions.InList("q", queues);
        (string, object?) invisibility = ("@us", invisibilityTimeout.Microseconds());

        // A plain read first: an idle worker costs one index probe per poll and takes no lock at all.
        var anything = db.Use(c => c.Scalar<long?>(
            $"SELECT 1 FROM {t.JobQueue} WHERE `queue` IN ({inSql}) AND (`fetched_at` IS NULL OR `fetched_at` < UTC_TIMESTAMP(6) - INTERVAL @us MICROSECOND) LIMIT 1",
            null, [.. inParameters, invisibility]));
        if (anything != 1)
        {
            return null;
        }

        var token = Guid.NewGuid().ToString("N");
        var taken = db.InTransaction((c, tx) =>
        {
            // One queue at a time and in the caller's order (its priority); each probe walks the
            // (queue, fetched_at, id) index and locks one row, skipping rows another worker is taking.
            foreach (var queue in queues)
            {
                var row = Probe(c, tx, $"SELECT `id`, `job_id` FROM {t.JobQueue} WHERE `queue` = @queue AND `fetched_at` IS NULL ORDER BY `id` LIMIT 1 FOR UPDATE SKIP LOCKED", queue, invisibility)
                    ?? Probe(c, tx, $"SELECT `id`, `job_id` FROM {t.JobQueue} WHERE `queue` = @queue AND `fetched_at` < UTC_TIMESTAMP(6) - INTERVAL @us MICROSECOND ORDER BY `fetched_at`, `id` LIMIT 1 FOR UPDATE SKIP LOCKED", queue, invisibility);
                if (row is { } found)
                {
                    c.Execute($"UPDATE {t.JobQueue} SET `fetched_at` = UTC_TIMESTAMP(6), `fetch_token` = @token WHERE `id` = @id",
                        tx, ("@token", token), ("@id", found.Id));
                    return (found.Id, found.JobId, Queue: queue);
                }
            }

            return ((long Id, long JobId, string Queue)?)null;
        });

        // The transaction is committed and its connection back in the pool before the job is handed out.
        return taken is { } job
            ? new MySqlFetchedJob(db, job.Id, job.JobId.ToString(CultureInfo.InvariantCulture), job.Queue, token, invisibilityTimeout)
            : null;
    }

    private static (long Id, long JobId)? Probe(MySqlConnection c, MySqlTransaction tx, string sql, string queue, (string, object?) invisibility)
    {
        var rows = c.Query(sql, r => (r.GetInt64(0), r.GetInt64(1)), tx, ("@queue", queue), invisibility);
        return rows.Count == 0 ? null : rows[0];
    }
}
