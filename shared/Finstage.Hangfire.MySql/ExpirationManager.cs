using Hangfire.Logging;
using Hangfire.Server;
using MySqlConnector;

namespace Finstage.Hangfire.MySql;

/// <summary>Deletes expired jobs, sets, hashes, lists and counters in small batches on the indexed expire_at columns.</summary>
internal sealed class ExpirationManager(Db db, TimeSpan interval, int batchSize) : IBackgroundProcess
{
    private static readonly ILog Log = LogProvider.GetLogger(typeof(ExpirationManager));

    public void Execute(BackgroundProcessContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var removed = RemoveExpired(context.StoppingToken);
        if (removed > 0)
        {
            Log.Debug($"Removed {removed} expired rows.");
        }

        context.Wait(interval);
    }

    /// <summary>Runs one pass over every table; returns how many rows went.</summary>
    internal long RemoveExpired(CancellationToken cancellationToken)
    {
        var t = db.Tables;
        long total = RemoveExpiredJobs(cancellationToken);
        foreach (var table in new[] { t.AggregatedCounter, t.Counter, t.List, t.Set, t.Hash })
        {
            total += Batches((c, tx) => c.Execute(
                $"DELETE FROM {table} WHERE `expire_at` < UTC_TIMESTAMP(6) ORDER BY `expire_at` LIMIT @batch", tx, ("@batch", batchSize)), cancellationToken);
        }

        return total;
    }

    private long RemoveExpiredJobs(CancellationToken cancellationToken)
    {
        var t = db.Tables;
        return Batches((c, tx) =>
        {
            var ids = c.Query(
                $"SELECT `id` FROM {t.Job} WHERE `expire_at` < UTC_TIMESTAMP(6) ORDER BY `expire_at` LIMIT @batch FOR UPDATE SKIP LOCKED",
                r => r.GetInt64(0).ToString(System.Globalization.CultureInfo.InvariantCulture), tx, ("@batch", batchSize));
            if (ids.Count == 0)
            {
                return 0;
            }

            // No foreign keys (their shared locks on the job row would make writers wait); children go first, by job id.
            var (inSql, parameters) = SqlExtensions.InList("j", ids);
            c.Execute($"DELETE FROM {t.JobParameter} WHERE `job_id` IN ({inSql})", tx, parameters);
            c.Execute($"DELETE FROM {t.State} WHERE `job_id` IN ({inSql})", tx, parameters);
            c.Execute($"DELETE FROM {t.JobQueue} WHERE `job_id` IN ({inSql})", tx, parameters);
            return c.Execute($"DELETE FROM {t.Job} WHERE `id` IN ({inSql})", tx, parameters);
        }, cancellationToken);
    }

    private long Batches(Func<MySqlConnection, MySqlTransaction, int> batch, CancellationToken cancellationToken)
    {
        long total = 0;
        int removed;
        do
        {
            cancellationToken.ThrowIfCancellationRequested();
            removed = db.InTransaction(batch);
            total += removed;
        }
        while (removed >= batchSize);

        return total;
    }

    public override string ToString() => "MySQL expiration manager";
}
