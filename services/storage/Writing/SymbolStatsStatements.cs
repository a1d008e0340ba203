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
    /// </summary>
    public static MySqlCommand AddNewLinks(IReadOnlyList<byte[]> articleIds, DateTime now)
    {
        var command = new MySqlCommand();
        var sql = new StringBuilder(
            "INSERT INTO `symbol_stats` (`symbol`, `article_count`, `newest_article_at`)" +
            " SELECT `symbol`, COUNT(*), MAX(`sort_at`) FROM `article_symbols` WHERE `first_seen_at` = @now AND `article_id` IN (");
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
