using MySqlConnector;

namespace Finstage.Hangfire.MySql;

/// <summary>Reading counters: raw rows not yet aggregated plus the aggregated row.</summary>
internal static class Counters
{
    public static long Get(MySqlConnection c, Tables t, string key) =>
        c.Scalar<long?>(
            $"SELECT SUM(`v`) FROM (SELECT SUM(`value`) AS `v` FROM {t.Counter} WHERE `key` = @key UNION ALL SELECT `value` FROM {t.AggregatedCounter} WHERE `key` = @key) AS x",
            null, ("@key", key)) ?? 0;
}
