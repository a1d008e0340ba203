using System.Globalization;
using System.Text;
using MySqlConnector;

namespace Finstage.Storage.Writing;

/// <summary>
/// Keeps <c>symbol_stats</c> (<see cref="SymbolStats"/>) in step with <c>article_symbols</c>, inside the batch's own
/// transaction, so GET /api/symbols reads one row per symbol instead of counting every link ever stored.
/// </summary>
internal static class SymbolStatsStatements
{
    /// <summary>
    /// Adds to each symbol's count the links this batch inserted, and raises its newest article time. A link this
    /// batch inserted is one whose <c>first_seen_at</c> is the batch's own <paramref name="now"/>: the links upsert
    /// keeps an existing link's time, so a link seen before (by an earlier batch, a redelivery, or a concurrent batch
    /// that committed it first: the upsert waits for its lock) is not counted again. Run after the links upsert.
    /// The primary key is named: the batch's links are found by their article ids, however large the table. Left to
    /// itself, MariaDB 10.11 at times walked the whole (symbol, sort_at) index instead, to save the GROUP BY a sort: in
    /// the ingest benchmark it read 20,000-33,000 rows for a batch of 200 links and took 80 ms (docs/performance.md, p4).
    /// </summary>
    public static MySqlBatchCommand AddNewLinks(IReadOnlyList<byte[]> articleIds, DateTime now)
    {
        var command = new MySqlBatchCommand();
        var sql = new StringBuilder(
            "INSERT INTO `symbol_stats` (`symbol`, `article_count`, `newest_article_at`)" +
            " SELECT `symbol`, COUNT(*), MAX(`sort_at`) FROM `article_symbols` FORCE INDEX (PRIMARY) WHERE `first_seen_at` = @now AND `article_id` IN (");
        command.Parameters.AddTyped("@now", now);
        for (var i = 0; i < articleIds.Count; i++)
        {
            var name = "@a" + i.ToString(CultureInfo.InvariantCulture);
            sql.Append(i == 0 ? name : "," + name);
            command.Parameters.AddTyped(name, articleIds[i]);
        }
        command.CommandText = sql.Append(") GROUP BY `symbol`")
            .Append(" ON DUPLICATE KEY UPDATE `article_count` = `article_count` + VALUES(`article_count`),")
            .Append(" `newest_article_at` = GREATEST(COALESCE(`newest_article_at`, VALUES(`newest_article_at`)), VALUES(`newest_article_at`))")
            .ToString();
        return command;
    }
}
