using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Finstage.Contracts;
using MySqlConnector;

namespace Finstage.Storage.Events;

/// <summary>
/// Writes a batch's <see cref="ArticlesStored"/> events into the outbox, inside the batch's own transaction: they
/// commit with the articles or not at all. The relay publishes them afterwards (<see cref="ArticleEventRelay"/>).
/// </summary>
internal static class ArticleEventOutbox
{
    // Seven parameters an event: far under MySQL's 65,535 placeholders in one command, however large the batch (1,000 at most).
    private const int EventsPerStatement = 500;

    /// <summary>
    /// The statements that add one event per crawl that stored articles for the first time; none when no crawl did.
    /// Sent last in the batch: the sequence numbers are taken by locking the <c>stored</c> cursor row until the commit,
    /// so a batch that takes numbers after another also commits after it, and a reader of <c>sequence &gt; n</c> never
    /// finds a gap filled later (auto-increment values are handed out in insert order, not commit order). The lock
    /// serialises the commits of every batch with new articles on every instance, so it is held as briefly as a round
    /// trip allows: the cursor update and the events' inserts (which read their numbers from <c>LAST_INSERT_ID()</c>)
    /// end the batch's last round trip, and the commit follows it.
    /// </summary>
    public static IReadOnlyList<MySqlBatchCommand> Add(IReadOnlyList<NewArticles> newArticles, DateTime storedAt)
    {
        if (newArticles.Count == 0)
        {
            return [];
        }
        var take = new MySqlBatchCommand(
            "UPDATE `article_event_cursors` SET `position` = LAST_INSERT_ID(`position` + @count) WHERE `name` = @name");
        take.Parameters.AddWithValue("@count", newArticles.Count);
        take.Parameters.AddWithValue("@name", ArticleEventCursor.Stored);
        // The events table has no auto-increment column, so LAST_INSERT_ID() keeps the cursor's new position throughout.
        return [take, .. newArticles.Select((crawl, index) => (crawl.Crawl, crawl.Articles, Offset: index + 1))
            .Chunk(EventsPerStatement).Select(chunk => Insert(chunk, newArticles.Count, storedAt))];
    }

    /// <summary>
    /// The event id of a crawl's event: a function of the crawl id (a version-8 UUID from its SHA-256), so the same
    /// crawl result can never make two events with different ids, however often or concurrently it is processed.
    /// </summary>
    public static Guid EventIdOf(Guid crawlId)
    {
        Span<byte> input = stackalloc byte[32];
        var prefix = "ArticlesStored:"u8;
        prefix.CopyTo(input);
        crawlId.TryWriteBytes(input[prefix.Length..], bigEndian: true, out var written);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(input[..(prefix.Length + written)], hash);
        hash[6] = (byte)((hash[6] & 0x0F) | 0x80);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash[..16], bigEndian: true);
    }

    /// <summary>
    /// One insert of <paramref name="events"/>, the crawl at offset k (1-based) taking sequence
    /// <c>LAST_INSERT_ID() - count + k</c>: the k-th of the <paramref name="count"/> numbers the cursor update just took.
    /// </summary>
    private static MySqlBatchCommand Insert(
        IEnumerable<(NewsCrawled Crawl, IReadOnlyList<StoredArticle> Articles, int Offset)> events, int count, DateTime storedAt)
    {
        var command = new MySqlBatchCommand();
        var sql = new StringBuilder(
            "INSERT INTO `article_events` (`sequence`,`event_id`,`crawl_id`,`cycle_id`,`source`,`symbol`,`stored_at`,`articles`) VALUES ");
        command.Parameters.AddWithValue("@count", count);
        var first = true;
        foreach (var (crawl, articles, offset) in events)
        {
            var p = "@e" + offset.ToString(CultureInfo.InvariantCulture) + "_";
            sql.Append(first ? "(" : ",(")
                .Append(CultureInfo.InvariantCulture, $"LAST_INSERT_ID() - @count + {offset},{p}1,{p}2,{p}3,{p}4,{p}5,{p}6,{p}7)");
            command.Parameters.AddWithValue(p + "1", EventIdOf(crawl.CrawlId));
            command.Parameters.AddWithValue(p + "2", crawl.CrawlId);
            command.Parameters.AddWithValue(p + "3", crawl.CycleId);
            command.Parameters.AddWithValue(p + "4", FieldLengths.Fit(crawl.Source, FieldLengths.Source));
            command.Parameters.AddWithValue(p + "5", FieldLengths.Fit(crawl.Symbol, FieldLengths.Symbol));
            command.Parameters.AddWithValue(p + "6", storedAt);
            command.Parameters.AddWithValue(p + "7", ArticleEventJson.Write([.. articles]));
            first = false;
        }
        // The same crawl's event already stored (only if one crawl were written by two batches at once): keep the first;
        // the sequence number taken for this one stays unused, a gap readers skip.
        command.CommandText = sql.Append(" ON DUPLICATE KEY UPDATE `event_id` = `event_id`").ToString();
        return command;
    }
}

/// <summary>One crawl result's articles that its batch stored for the first time: one <see cref="ArticlesStored"/> event.</summary>
internal sealed record NewArticles(NewsCrawled Crawl, IReadOnlyList<StoredArticle> Articles);
