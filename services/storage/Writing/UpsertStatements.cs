using Finstage.Contracts;
using Finstage.Storage.Infrastructure;
using System.Text;
using MySqlConnector;

namespace Finstage.Storage.Writing;

/// <summary>
/// The multi-row upserts of the write path. EF Core would send one statement per row; these
/// send one per chunk, and <c>ON DUPLICATE KEY UPDATE</c> makes a redelivered message a no-op
/// apart from refreshing <c>last_seen_at</c>. Each is a <see cref="MySqlBatchCommand"/>: the writer sends
/// the statements that do not wait on an answer together, in one round trip (<see cref="NewsWriter"/>).
/// </summary>
internal static class UpsertStatements
{
    /// <summary>Rows per statement: well under MySQL's 65,535 placeholders and max_allowed_packet.</summary>
    public const int ChunkSize = 500;

    /// <summary>
    /// Characters of text per articles statement. At most 3 UTF-8 bytes each, that is 6 MB: far
    /// under MariaDB's default max_allowed_packet (16 MB), however long the summaries of a batch
    /// are, and one row (its summary cut to <see cref="FieldLengths.Summary"/>) always fits.
    /// </summary>
    public const int MaxStatementCharacters = 2 * 1024 * 1024;

    private const string ArticleColumns =
        "`id`,`url`,`source`,`title`,`summary`,`author`,`publisher`,`image_url`,`external_id`,`published_at`,`sort_at`,`first_seen_at`,`last_seen_at`";

    // A re-seen article keeps its first source, first sighting and sort position. The source that
    // saw it first may change its title and details (a newer word wins); any other source may only
    // fill in what is missing, so no feed can rewrite another's article. The statement may hold the
    // same article twice (two sources in one batch): MariaDB applies its rows in order, and since
    // `source` itself never changes, the rows of a redelivered batch leave the row as it was.
    private static readonly string ArticleOnDuplicate =
        " ON DUPLICATE KEY UPDATE `title` = IF(`source` = VALUES(`source`), VALUES(`title`), `title`)," +
        string.Concat(new[] { "summary", "author", "publisher", "image_url", "external_id" }.Select(column =>
            $" `{column}` = IF(`source` = VALUES(`source`), COALESCE(VALUES(`{column}`), `{column}`), COALESCE(`{column}`, VALUES(`{column}`))),")) +
        " `published_at` = COALESCE(`published_at`, VALUES(`published_at`))," +
        " `last_seen_at` = GREATEST(`last_seen_at`, VALUES(`last_seen_at`))";

    /// <summary>Articles in chunks of at most <see cref="ChunkSize"/> rows and <see cref="MaxStatementCharacters"/> of text.</summary>
    public static IEnumerable<List<ArticleRow>> ArticleChunks(IReadOnlyList<ArticleRow> rows) =>
        SizeBounded.Groups(rows, TextCharacters, MaxStatementCharacters, ChunkSize);

    private static long TextCharacters(ArticleRow row) =>
        row.Url.Length + row.Title.Length + (row.Summary?.Length ?? 0) + (row.Author?.Length ?? 0)
        + (row.Publisher?.Length ?? 0) + (row.ImageUrl?.Length ?? 0) + (row.ExternalId?.Length ?? 0);

    public static MySqlBatchCommand Articles(IReadOnlyList<ArticleRow> rows)
    {
        var command = new MySqlBatchCommand();
        var sql = new StringBuilder("INSERT INTO `articles` (").Append(ArticleColumns).Append(") VALUES ");
        for (var i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            sql.Append(i == 0 ? "(" : ",(");
            AppendParameters(sql, command, i,
                row.Id, row.Url, row.Source, row.Title, row.Summary, row.Author, row.Publisher,
                row.ImageUrl, row.ExternalId, row.PublishedAt, row.SortAt, row.SeenAt, row.SeenAt);
            sql.Append(')');
        }
        command.CommandText = sql.Append(ArticleOnDuplicate).ToString();
        return command;
    }

    public static MySqlBatchCommand Links(IReadOnlyList<LinkRow> rows)
    {
        var command = new MySqlBatchCommand();
        var sql = new StringBuilder("INSERT INTO `article_symbols` (`article_id`,`symbol`,`sort_at`,`first_seen_at`) VALUES ");
        for (var i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            sql.Append(i == 0 ? "(" : ",(");
            AppendParameters(sql, command, i, row.ArticleId, row.Symbol, row.SortAt, row.FirstSeenAt);
            sql.Append(')');
        }
        // A link that exists stays as it was.
        command.CommandText = sql.Append(" ON DUPLICATE KEY UPDATE `article_id` = `article_id`").ToString();
        return command;
    }

    public static MySqlBatchCommand CrawlRuns(IReadOnlyList<CrawlRun> runs)
    {
        var command = new MySqlBatchCommand();
        var sql = new StringBuilder(
            "INSERT INTO `crawl_runs` (`crawl_id`,`cycle_id`,`source`,`symbol`,`status`,`new_articles`,`seen_articles`," +
            "`http_status`,`failure_reason`,`failure_detail`,`attempts`,`duration_ms`,`finished_at`,`recorded_at`) VALUES ");
        for (var i = 0; i < runs.Count; i++)
        {
            var run = runs[i];
            sql.Append(i == 0 ? "(" : ",(");
            AppendParameters(sql, command, i,
                run.CrawlId, run.CycleId, FieldLengths.Fit(run.Source, FieldLengths.Source), FieldLengths.Fit(run.Symbol, FieldLengths.Symbol),
                run.Status.ToString(), run.NewArticles, run.SeenArticles, run.HttpStatus, run.FailureReason,
                FieldLengths.Fit(run.FailureDetail, FieldLengths.Detail), run.Attempts, run.DurationMs, run.FinishedAt, run.RecordedAt);
            sql.Append(')');
        }
        // A crawl is recorded once: a redelivered result keeps the counts of its first recording.
        command.CommandText = sql.Append(" ON DUPLICATE KEY UPDATE `crawl_id` = `crawl_id`").ToString();
        return command;
    }

    /// <summary>
    /// The sort times of those of <paramref name="ids"/> that are stored; with <paramref name="notFirstSeenAt"/>, only of
    /// those another batch first stored (an article's <c>first_seen_at</c> is its first batch's clock, never updated).
    /// </summary>
    public static MySqlBatchCommand SelectSortTimes(IReadOnlyList<byte[]> ids, DateTime? notFirstSeenAt = null)
    {
        var command = new MySqlBatchCommand();
        var sql = new StringBuilder("SELECT `id`, `sort_at` FROM `articles` WHERE ");
        if (notFirstSeenAt is { } now)
        {
            sql.Append("`first_seen_at` <> @now AND ");
            command.Parameters.AddTyped("@now", now);
        }
        sql.Append("`id` IN (");
        for (var i = 0; i < ids.Count; i++)
        {
            var name = "@i" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            sql.Append(i == 0 ? name : "," + name);
            command.Parameters.AddTyped(name, ids[i]);
        }
        command.CommandText = sql.Append(')').ToString();
        return command;
    }

    private static void AppendParameters(StringBuilder sql, MySqlBatchCommand command, int row, params object?[] values)
    {
        for (var column = 0; column < values.Length; column++)
        {
            var name = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"@p{row}_{column}");
            if (column > 0)
            {
                sql.Append(',');
            }
            sql.Append(name);
            command.Parameters.AddTyped(name, values[column]);
        }
    }
}
