using System.Globalization;
using System.Text;
using System.Text.Json;
using Finstage.Storage.Apis;
using Microsoft.EntityFrameworkCore;
using MySqlConnector;

namespace Finstage.Storage.Infrastructure;

/// <summary>What GET /api/news filters on.</summary>
public sealed record NewsFilter(
    string? Symbol, string? Source, DateTime? From, DateTime? To, string? Text, int Limit, PageCursor? After);

/// <summary>What GET /api/crawls filters on.</summary>
public sealed record CrawlFilter(
    string? Source, string? Symbol, CrawlStatus? Status, Guid? CycleId, int Limit, PageCursor? After);

/// <summary>An article as the read API shows it.</summary>
public sealed record ArticleView(
    string Id, string Url, string Title, string? Summary, string Source, string? Publisher, string? Author,
    string? ImageUrl, string? ExternalId, DateTime? PublishedAt, DateTime FirstSeenAt, DateTime LastSeenAt,
    IReadOnlyList<string> Symbols);

/// <summary>A symbol as GET /api/symbols shows it.</summary>
public sealed record SymbolView(
    string Symbol, int ArticleCount, DateTime? NewestArticleAt, DateTime? LastCrawlAt, string? LastCrawlSource, string? LastCrawlStatus);

/// <summary>One source's health as GET /api/sources/health shows it.</summary>
public sealed record SourceHealthView(
    string Source, int RecentRuns, double SuccessRate, DateTime? LastSuccessAt, DateTime? LastFailureAt,
    string? LastFailureReason, string? LastFailureDetail);

/// <summary>One page of a newest-first list and the cursor of the next one (null on the last page).</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string? NextCursor);

/// <summary>
/// The read API's queries. The keyset-paged lists and the single article are SQL by hand on a plain
/// pooled connection (<see cref="NewsSessions.QueryAsync"/>): the key is binary and EF Core cannot
/// express "(time, key) after the cursor" on it, and a page is one statement that walks one index.
/// The aggregates are LINQ.
/// </summary>
public sealed class NewsReader(NewsSessions sessions)
{
    private const string ArticleColumns =
        "a.`id`, a.`url`, a.`title`, a.`summary`, a.`source`, a.`publisher`, a.`author`, a.`image_url`, a.`external_id`," +
        " a.`published_at`, a.`first_seen_at`, a.`last_seen_at`";

    // Every symbol of the article in the same statement, so a page is one round trip: one primary-key
    // range per row instead of a second statement with an IN list of the page's ids (which cost the
    // server more than the page itself). JSON, so no symbol text can break the list apart;
    // JSON_ARRAYAGG is in MariaDB 10.5+ and MySQL 8. No symbols at all gives NULL: an empty list.
    private const string SymbolsColumn =
        "(SELECT JSON_ARRAYAGG(l.`symbol`) FROM `article_symbols` l WHERE l.`article_id` = a.`id`)";

    public Task<Page<ArticleView>> ListNewsAsync(NewsFilter filter, CancellationToken cancellationToken) =>
        sessions.QueryAsync(async (connection, ct) =>
        {
            await using var command = new MySqlCommand { Connection = connection };
            var where = new List<string>();
            string sortAt, key;
            var sql = new StringBuilder("SELECT ").Append(ArticleColumns).Append(", ").Append(SymbolsColumn);
            if (filter.Symbol is not null)
            {
                // A symbol's page comes from the link table's (symbol, sort_at, article_id) index.
                sortAt = "s.`sort_at`";
                key = "s.`article_id`";
                sql.Append(", s.`sort_at` FROM `article_symbols` s JOIN `articles` a ON a.`id` = s.`article_id`");
                where.Add("s.`symbol` = @symbol");
                command.Parameters.AddWithValue("@symbol", filter.Symbol);
            }
            else
            {
                sortAt = "a.`sort_at`";
                key = "a.`id`";
                sql.Append(", a.`sort_at` FROM `articles` a");
            }
            if (filter.Source is not null)
            {
                where.Add("a.`source` = @source");
                command.Parameters.AddWithValue("@source", filter.Source);
            }
            if (filter.From is not null)
            {
                where.Add(sortAt + " >= @from");
                command.Parameters.AddWithValue("@from", filter.From);
            }
            if (filter.To is not null)
            {
                where.Add(sortAt + " <= @to");
                command.Parameters.AddWithValue("@to", filter.To);
            }
            if (filter.Text is not null)
            {
                where.Add("(a.`title` LIKE @text OR a.`summary` LIKE @text)");
                command.Parameters.AddWithValue("@text", "%" + EscapeLike(filter.Text) + "%");
            }
            if (filter.After is not null)
            {
                where.Add($"({sortAt} < @afterAt OR ({sortAt} = @afterAt AND {key} < @afterKey))");
                command.Parameters.AddWithValue("@afterAt", filter.After.At);
                command.Parameters.AddWithValue("@afterKey", Convert.FromHexString(filter.After.Key));
            }
            AppendWhere(sql, where);
            sql.Append(CultureInfo.InvariantCulture, $" ORDER BY {sortAt} DESC, {key} DESC LIMIT @limit");
            command.Parameters.AddWithValue("@limit", filter.Limit + 1);
            command.CommandText = sql.ToString();

            var items = new List<ArticleView>(filter.Limit);
            var lastSortAt = default(DateTime);
            var more = false;
            await using (var reader = await command.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    if (items.Count == filter.Limit)
                    {
                        // The row after the page only says that there is a next page.
                        more = true;
                        break;
                    }
                    items.Add(ReadArticle(reader));
                    lastSortAt = Utc(reader.GetDateTime(13));
                }
            }
            var next = more ? new PageCursor(lastSortAt, items[^1].Id).Encode() : null;
            return new Page<ArticleView>(items, next);
        }, cancellationToken);
    public Task<ArticleView?> FindArticleAsync(byte[] id, CancellationToken cancellationToken) =>
        sessions.QueryAsync(async (connection, ct) =>
        {
            await using var command = new MySqlCommand(
                "SELECT " + ArticleColumns + ", " + SymbolsColumn + " FROM `articles` a WHERE a.`id` = @id", connection);
            command.Parameters.AddWithValue("@id", id);
            await using var reader = await command.ExecuteReaderAsync(ct);
            return await reader.ReadAsync(ct) ? ReadArticle(reader) : null;
        }, cancellationToken);

    public Task<Page<CrawlRun>> ListCrawlsAsync(CrawlFilter filter, CancellationToken cancellationToken) =>
        sessions.QueryAsync(async (connection, ct) =>
        {
            await using var command = new MySqlCommand { Connection = connection };
            var where = new List<string>();
            void Equal(string column, string name, object? value)
            {
                if (value is not null)
                {
                    where.Add($"`{column}` = {name}");
                    command.Parameters.AddWithValue(name, value);
                }
            }
            Equal("source", "@source", filter.Source);
            Equal("symbol", "@symbol", filter.Symbol);
            Equal("status", "@status", filter.Status?.ToString());
            Equal("cycle_id", "@cycle", filter.CycleId?.ToString());
            if (filter.After is not null)
            {
                // crawl_id is char(36): the tie-break compares it as text.
                where.Add("(`finished_at` < @afterAt OR (`finished_at` = @afterAt AND `crawl_id` < @afterKey))");
                command.Parameters.AddWithValue("@afterAt", filter.After.At);
                command.Parameters.AddWithValue("@afterKey", filter.After.Key.ToLowerInvariant());
            }
            var sql = new StringBuilder(
                "SELECT `crawl_id`, `cycle_id`, `source`, `symbol`, `status`, `new_articles`, `seen_articles`, `http_status`," +
                " `failure_reason`, `failure_detail`, `attempts`, `duration_ms`, `finished_at`, `recorded_at` FROM `crawl_runs`");
            AppendWhere(sql, where);
            sql.Append(" ORDER BY `finished_at` DESC, `crawl_id` DESC LIMIT @limit");
            command.Parameters.AddWithValue("@limit", filter.Limit + 1);
            command.CommandText = sql.ToString();

            var rows = new List<CrawlRun>();
            await using (var reader = await command.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    rows.Add(new CrawlRun
                    {
                        CrawlId = reader.GetGuid(0),
                        CycleId = reader.GetGuid(1),
                        Source = reader.GetString(2),
                        Symbol = reader.GetString(3),
                        Status = Enum.Parse<CrawlStatus>(reader.GetString(4)),
                        NewArticles = reader.GetInt32(5),
                        SeenArticles = reader.GetInt32(6),
                        HttpStatus = reader.IsDBNull(7) ? null : reader.GetInt32(7),
                        FailureReason = NullableString(reader, 8),
                        FailureDetail = NullableString(reader, 9),
                        Attempts = reader.IsDBNull(10) ? null : reader.GetInt32(10),
                        DurationMs = reader.IsDBNull(11) ? null : reader.GetInt32(11),
                        FinishedAt = Utc(reader.GetDateTime(12)),
                        RecordedAt = Utc(reader.GetDateTime(13)),
                    });
                }
            }
            var page = rows.Take(filter.Limit).ToList();
            var next = rows.Count > filter.Limit ? new PageCursor(page[^1].FinishedAt, page[^1].CrawlId.ToString()).Encode() : null;
            return new Page<CrawlRun>(page, next);
        }, cancellationToken);

    public Task<IReadOnlyList<SymbolView>> ListSymbolsAsync(CancellationToken cancellationToken) =>
        sessions.ReadAsync<IReadOnlyList<SymbolView>>(async (db, ct) =>
        {
            var articles = await db.ArticleSymbols
                .GroupBy(link => link.Symbol)
                .Select(group => new { Symbol = group.Key, Count = group.Count(), Newest = group.Max(link => link.SortAt) })
                .ToDictionaryAsync(row => row.Symbol, StringComparer.OrdinalIgnoreCase, ct);
            var lastCrawls = await (
                from run in db.CrawlRuns
                join last in db.CrawlRuns.GroupBy(run => run.Symbol).Select(runs => new { Symbol = runs.Key, At = runs.Max(run => run.FinishedAt) })
                    on new { run.Symbol, At = run.FinishedAt } equals new { last.Symbol, last.At }
                select new { run.Symbol, run.Source, run.Status, run.FinishedAt })
                .ToListAsync(ct);
            var crawlBySymbol = lastCrawls.GroupBy(run => run.Symbol, StringComparer.OrdinalIgnoreCase)
                .ToDictionary(group => group.Key, group => group.First(), StringComparer.OrdinalIgnoreCase);

            return [.. articles.Keys.Union(crawlBySymbol.Keys, StringComparer.OrdinalIgnoreCase)
                .Order(StringComparer.Ordinal)
                .Select(symbol =>
                {
                    var counted = articles.GetValueOrDefault(symbol);
                    var crawl = crawlBySymbol.GetValueOrDefault(symbol);
                    return new SymbolView(
                        symbol, counted?.Count ?? 0, counted?.Newest, crawl?.FinishedAt, crawl?.Source, crawl?.Status.ToString());
                })];
        }, cancellationToken);

    /// <summary>Per source, over its <paramref name="window"/> most recent runs; a few indexed queries per source.</summary>
    public Task<IReadOnlyList<SourceHealthView>> GetSourceHealthAsync(int window, CancellationToken cancellationToken) =>
        sessions.ReadAsync<IReadOnlyList<SourceHealthView>>(async (db, ct) =>
        {
            var sources = await db.CrawlRuns.Select(run => run.Source).Distinct().OrderBy(source => source).ToListAsync(ct);
            var result = new List<SourceHealthView>(sources.Count);
            foreach (var source in sources)
            {
                var ofSource = db.CrawlRuns.Where(run => run.Source == source).OrderByDescending(run => run.FinishedAt);
                var recent = await ofSource.Take(window).Select(run => run.Status).ToListAsync(ct);
                var lastSuccess = await ofSource.Where(run => run.Status != CrawlStatus.Failed)
                    .Select(run => (DateTime?)run.FinishedAt).FirstOrDefaultAsync(ct);
                var lastFailure = await ofSource.Where(run => run.Status == CrawlStatus.Failed)
                    .Select(run => new { run.FinishedAt, run.FailureReason, run.FailureDetail }).FirstOrDefaultAsync(ct);
                result.Add(new SourceHealthView(
                    source,
                    recent.Count,
                    Math.Round(recent.Count(status => status != CrawlStatus.Failed) / (double)recent.Count, 4),
                    lastSuccess,
                    lastFailure?.FinishedAt,
                    lastFailure?.FailureReason,
                    lastFailure?.FailureDetail));
            }
            return result;
        }, cancellationToken);

    // The columns of ArticleColumns, then SymbolsColumn.
    private static ArticleView ReadArticle(MySqlDataReader reader) => new(
        ArticleId.ToHex((byte[])reader[0]),
        reader.GetString(1),
        reader.GetString(2),
        NullableString(reader, 3),
        reader.GetString(4),
        NullableString(reader, 5),
        NullableString(reader, 6),
        NullableString(reader, 7),
        NullableString(reader, 8),
        reader.IsDBNull(9) ? null : Utc(reader.GetDateTime(9)),
        Utc(reader.GetDateTime(10)),
        Utc(reader.GetDateTime(11)),
        reader.IsDBNull(12) ? [] : ParseSymbols(reader.GetString(12)));

    // The JSON array of SymbolsColumn, in ordinal order: the server's aggregate promises no order, and
    // MySQL 8 cannot be asked for one inside JSON_ARRAYAGG.
    private static string[] ParseSymbols(string json)
    {
        var symbols = new List<string>(2);
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json));
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.String)
            {
                symbols.Add(reader.GetString()!);
            }
        }
        var sorted = symbols.ToArray();
        Array.Sort(sorted, StringComparer.Ordinal);
        return sorted;
    }

    private static string? NullableString(MySqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    private static DateTime Utc(DateTime value) => DateTime.SpecifyKind(value, DateTimeKind.Utc);

    private static void AppendWhere(StringBuilder sql, List<string> conditions)
    {
        if (conditions.Count > 0)
        {
            sql.Append(" WHERE ").AppendJoin(" AND ", conditions);
        }
    }

    // LIKE treats % and _ as wildcards; a user searching for "5%" means the text "5%".
    private static string EscapeLike(string text) =>
        text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);
}
