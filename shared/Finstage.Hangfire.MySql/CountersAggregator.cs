using Hangfire.Server;

namespace Finstage.Hangfire.MySql;

/// <summary>
/// Folds raw counter rows into one row per key. Increments only ever insert, so concurrent workers never wait
/// on a hot counter row; this component pays for that by summing them later in small batches.
/// </summary>
internal sealed class CountersAggregator(Db db, TimeSpan interval, int batchSize) : IBackgroundProcess
{
    public void Execute(BackgroundProcessContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        Aggregate(context.StoppingToken);
        context.Wait(interval);
    }

    /// <summary>Aggregates until fewer than a batch of raw rows is left; returns how many raw rows were folded.</summary>
    internal long Aggregate(CancellationToken cancellationToken)
    {
        var t = db.Tables;
        long total = 0;
        int folded;
        do
        {
            cancellationToken.ThrowIfCancellationRequested();
            folded = db.InTransaction((c, tx) =>
            {
                var rows = c.Query(
                    $"SELECT `id`, `key`, `value`, `expire_at` FROM {t.Counter} ORDER BY `id` LIMIT @batch FOR UPDATE SKIP LOCKED",
                    r => (Id: r.GetInt64(0), Key: r.GetString(1), Value: (long)r.GetInt32(2), ExpireAt: r.NullableUtc(3)), tx, ("@batch", batchSize));
                if (rows.Count == 0)
                {
                    return 0;
                }

                // Keys in a fixed order, so two aggregators (one per server) lock aggregated rows alike.
                foreach (var group in rows.GroupBy(r => r.Key, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
                {
                    c.Execute(
                        $"""
                        INSERT INTO {t.AggregatedCounter} (`key`, `value`, `expire_at`) VALUES (@key, @value, @expire)
                        ON DUPLICATE KEY UPDATE `value` = `value` + VALUES(`value`),
                          `expire_at` = CASE WHEN VALUES(`expire_at`) IS NULL THEN `expire_at`
                                             WHEN `expire_at` IS NULL THEN VALUES(`expire_at`)
                                             ELSE GREATEST(`expire_at`, VALUES(`expire_at`)) END
                        """,
                        tx, ("@key", group.Key), ("@value", group.Sum(r => r.Value)), ("@expire", group.Max(r => r.ExpireAt)));
                }

                var (inSql, parameters) = SqlExtensions.InList("i", rows.Select(r => r.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList());
                c.Execute($"DELETE FROM {t.Counter} WHERE `id` IN ({inSql})", tx, parameters);
                return rows.Count;
            });
            total += folded;
        }
        while (folded >= batchSize);

        return total;
    }

    public override string ToString() => "MySQL counters aggregator";
}
