using System.Globalization;
using System.Text;
using System.Text.Json;
using Finstage.Storage.Infrastructure;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Finstage.Storage.Reading;

/// <summary>
/// The read API's queries, SQL by hand on the read API's own pool (<see cref="ReadSessions"/>): the key is
/// binary and EF Core cannot express "(time, key) after the cursor" on it, and a page is one statement that walks one
/// index. Every query's cost is bounded whatever the history holds (docs/decisions/0012-bounded-reads.md): a list
/// walks an index newest first and, where a filter is not served by that index, examines at most
/// <see cref="ReadOptions.ScanRows"/> rows of it; the aggregates read one row per symbol or a few index steps per source.
/// </summary>
public sealed class NewsReader(ReadSessions sessions, IOptions<ReadOptions> options)
{
    private readonly int _scanRows = options.Value.ScanRows;

    // Every symbol of the article in the same statement, so a page is one round trip: one primary-key
    // range per row instead of a second statement with an IN list of the page's ids (which cost the
    // server more than the page itself). JSON, so no symbol text can break the list apart;
    // JSON_ARRAYAGG is in MariaDB 10.5+ and MySQL 8. No symbols at all gives NULL: an empty list.
    private const string SymbolsColumn =
        "(SELECT JSON_ARRAYAGG(l.`symbol`) FROM `article_symbols` l WHERE l.`article_id` = a.`id`)";

    // The columns ReadArticle reads, then SymbolsColumn. A list shows the stored preview of the summary (so it never
    // reads a summary of a million characters); one article shows it whole.
    private static string ArticleColumns(string summary) =>
        "a.`id`, a.`url`, a.`title`, " + summary + ", a.`summary_length`, a.`source`, a.`publisher`, a.`author`, a.`image_url`," +
        " a.`external_id`, a.`published_at`, a.`first_seen_at`, a.`last_seen_at`, " + SymbolsColumn;

    public Task<Page<ArticleView>> ListNewsAsync(NewsFilter filter, CancellationToken cancellationToken) =>
        sessions.QueryAsync(async (connection, ct) =>
        {
            // What the walked index serves, and what must be checked row by row (and so is bounded by the scan).
            var walk = new Conditions();
            var rest = new Conditions();
            string sortAt, key, walked, joined;
            if (filter.Symbol is not null)
            {
                // A symbol's page comes from the link table's (symbol, sort_at, article_id) index.
                (sortAt, key, walked) = ("s.`sort_at`", "s.`article_id`", "`article_symbols` s");
                joined = "`article_symbols` s JOIN `articles` a ON a.`id` = s.`article_id`";
                walk.Add("s.`symbol` = @symbol", "@symbol", filter.Symbol);
                rest.AddIf(filter.Source, "a.`source` = @source", "@source");
            }
            else
            {
                // Newest first from (sort_at, id), or from (source, sort_at, id) for one source.
                (sortAt, key, walked, joined) = ("a.`sort_at`", "a.`id`", "`articles` a", "`articles` a");
                walk.AddIf(filter.Source, "a.`source` = @source", "@source");
            }
            walk.AddIf(filter.From, sortAt + " >= @from", "@from");
            walk.AddIf(filter.To, sortAt + " <= @to", "@to");
            if (filter.After is not null)
            {
                walk.Add($"({sortAt} < @afterAt OR ({sortAt} = @afterAt AND {key} < @afterKey))", "@afterAt", filter.After.At);
                walk.Parameter("@afterKey", Convert.FromHexString(filter.After.Key));
            }
            if (filter.Text is not null)
            {
                // A substring anywhere in title or summary: no index serves that, so the scan bound does.
                rest.Add("(a.`title` LIKE @text OR a.`summary` LIKE @text)", "@text", "%" + EscapeLike(filter.Text) + "%");
            }

            var edge = rest.Count == 0 ? null : await FindScanEdgeAsync(connection, walked, walk, sortAt, key, ct);
            var window = new Conditions();
            if (edge is not null)
            {
                window.Add($"({sortAt} > @edgeAt OR ({sortAt} = @edgeAt AND {key} >= @edgeKey))", "@edgeAt", edge.Value.At);
                window.Parameter("@edgeKey", edge.Value.Key);
            }

            await using var command = new MySqlCommand { Connection = connection };
            var sql = new StringBuilder("SELECT ").Append(ArticleColumns("a.`summary_preview`")).Append(", ").Append(sortAt)
                .Append(" FROM ").Append(joined);
            Conditions.AppendWhere(sql, command, walk, rest, window);
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
                    lastSortAt = Utc(reader.GetDateTime(14));
                }
            }
            // A page that ran out of scan before it was full goes on after the last row examined.
            var next = more ? new PageCursor(lastSortAt, items[^1].Id).Encode()
                : edge is { } scanned ? new PageCursor(scanned.At, ArticleId.ToHex((byte[])scanned.Key)).Encode()
                : null;
            return new Page<ArticleView>(items, next);
        }, cancellationToken);

    public Task<ArticleView?> FindArticleAsync(byte[] id, CancellationToken cancellationToken) =>
        sessions.QueryAsync(async (connection, ct) =>
        {
            await using var command = new MySqlCommand(
                "SELECT " + ArticleColumns("a.`summary`") + " FROM `articles` a WHERE a.`id` = @id", connection);
            command.Parameters.AddWithValue("@id", id);
            await using var reader = await command.ExecuteReaderAsync(ct);
            return await reader.ReadAsync(ct) ? ReadArticle(reader) : null;
        }, cancellationToken);

    public Task<Page<CrawlRun>> ListCrawlsAsync(CrawlFilter filter, CancellationToken cancellationToken) =>
        sessions.QueryAsync(async (connection, ct) =>
        {
            var walk = new Conditions();
            var rest = new Conditions();
            var status = filter.Status?.ToString();
            var cycle = filter.CycleId?.ToString();
            if (cycle is not null)
            {
                // A cycle's runs are as many as its symbols, whatever the history: the other filters need no bound.
                walk.Add("`cycle_id` = @cycle", "@cycle", cycle);
                walk.AddIf(filter.Source, "`source` = @source", "@source");
                walk.AddIf(filter.Symbol, "`symbol` = @symbol", "@symbol");
                walk.AddIf(status, "`status` = @status", "@status");
            }
            else if (filter.Symbol is not null)
            {
                walk.Add("`symbol` = @symbol", "@symbol", filter.Symbol);
                rest.AddIf(filter.Source, "`source` = @source", "@source");
                rest.AddIf(status, "`status` = @status", "@status");
            }
            else
            {
                // (source, finished_at), (source, status, finished_at) or (finished_at, crawl_id).
                walk.AddIf(filter.Source, "`source` = @source", "@source");
                (filter.Source is null ? rest : walk).AddIf(status, "`status` = @status", "@status");
            }
            if (filter.After is not null)
            {
                // crawl_id is char(36): the tie-break compares it as text.
                walk.Add("(`finished_at` < @afterAt OR (`finished_at` = @afterAt AND `crawl_id` < @afterKey))", "@afterAt", filter.After.At);
                walk.Parameter("@afterKey", filter.After.Key.ToLowerInvariant());
            }

            var edge = rest.Count == 0 ? null : await FindScanEdgeAsync(connection, "`crawl_runs`", walk, "`finished_at`", "`crawl_id`", ct);
            var window = new Conditions();
            if (edge is not null)
            {
                window.Add("(`finished_at` > @edgeAt OR (`finished_at` = @edgeAt AND `crawl_id` >= @edgeKey))", "@edgeAt", edge.Value.At);
                window.Parameter("@edgeKey", edge.Value.Key);
            }

            await using var command = new MySqlCommand { Connection = connection };
            var sql = new StringBuilder(
                "SELECT `crawl_id`, `cycle_id`, `source`, `symbol`, `status`, `new_articles`, `seen_articles`, `http_status`," +
                " `failure_reason`, `failure_detail`, `attempts`, `duration_ms`, `finished_at`, `recorded_at` FROM `crawl_runs`");
            Conditions.AppendWhere(sql, command, walk, rest, window);
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
            var next = rows.Count > filter.Limit ? new PageCursor(page[^1].FinishedAt, page[^1].CrawlId.ToString()).Encode()
                : edge is { } scanned ? new PageCursor(scanned.At, (string)scanned.Key).Encode()
                : null;
            return new Page<CrawlRun>(page, next);
        }, cancellationToken);

    /// <summary>
    /// Every symbol with its article count and newest article (kept per symbol by the write path in
    /// <c>symbol_stats</c>) and its last crawl (one step of the (symbol, finished_at) index per symbol): the cost grows
    /// with the number of symbols, not with the articles and runs stored.
    /// </summary>
    public Task<IReadOnlyList<SymbolView>> ListSymbolsAsync(CancellationToken cancellationToken) =>
        sessions.QueryAsync<IReadOnlyList<SymbolView>>(async (connection, ct) =>
        {
            var articles = new Dictionary<string, (int Count, DateTime? Newest)>(StringComparer.OrdinalIgnoreCase);
            var crawls = new Dictionary<string, (DateTime At, string Source, string Status)>(StringComparer.OrdinalIgnoreCase);
            await using var command = new MySqlCommand(
                "SELECT `symbol`, `article_count`, `newest_article_at` FROM `symbol_stats`;" +
                // MAX per group from the (symbol, finished_at) index is a loose index scan: one step per symbol.
                " SELECT r.`symbol`, r.`finished_at`, r.`source`, r.`status`" +
                " FROM (SELECT `symbol`, MAX(`finished_at`) AS `at` FROM `crawl_runs` GROUP BY `symbol`) latest" +
                " JOIN `crawl_runs` r ON r.`symbol` = latest.`symbol` AND r.`finished_at` = latest.`at`",
                connection);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                articles[reader.GetString(0)] = (reader.GetInt32(1), reader.IsDBNull(2) ? null : Utc(reader.GetDateTime(2)));
            }
            await reader.NextResultAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                // Two runs of a symbol that finished at the same instant: either is its last.
                crawls.TryAdd(reader.GetString(0), (Utc(reader.GetDateTime(1)), reader.GetString(2), reader.GetString(3)));
            }

            return [.. articles.Keys.Union(crawls.Keys, StringComparer.OrdinalIgnoreCase)
                .Order(StringComparer.Ordinal)
                .Select(symbol =>
                {
                    var counted = articles.TryGetValue(symbol, out var found) ? found : ((int Count, DateTime? Newest)?)null;
                    var crawl = crawls.TryGetValue(symbol, out var last) ? last : ((DateTime At, string Source, string Status)?)null;
                    return new SymbolView(symbol, counted?.Count ?? 0, counted?.Newest, crawl?.At, crawl?.Source, crawl?.Status);
                })];
        }, cancellationToken);

    /// <summary>
    /// Per source, over its <paramref name="window"/> most recent runs, with its last success and last failure: a few
    /// index steps per source (the (source, status, finished_at) index finds the last of each status however old).
    /// </summary>
    public Task<IReadOnlyList<SourceHealthView>> GetSourceHealthAsync(int window, CancellationToken cancellationToken) =>
        sessions.QueryAsync<IReadOnlyList<SourceHealthView>>(async (connection, ct) =>
        {
            var sources = new List<string>();
            await using (var distinct = new MySqlCommand("SELECT DISTINCT `source` FROM `crawl_runs` ORDER BY `source`", connection))
            await using (var reader = await distinct.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    sources.Add(reader.GetString(0));
                }
            }

            var result = new List<SourceHealthView>(sources.Count);
            foreach (var source in sources)
            {
                await using var command = new MySqlCommand(
                    "SELECT `status` FROM `crawl_runs` WHERE `source` = @source ORDER BY `finished_at` DESC LIMIT @window;" +
                    " SELECT MAX(`finished_at`) FROM `crawl_runs` WHERE `source` = @source AND `status` = 'Succeeded';" +
                    " SELECT MAX(`finished_at`) FROM `crawl_runs` WHERE `source` = @source AND `status` = 'NotModified';" +
                    " SELECT `finished_at`, `failure_reason`, `failure_detail` FROM `crawl_runs`" +
                    " WHERE `source` = @source AND `status` = 'Failed' ORDER BY `finished_at` DESC LIMIT 1",
                    connection);
                command.Parameters.AddWithValue("@source", source);
                command.Parameters.AddWithValue("@window", window);
                await using var reader = await command.ExecuteReaderAsync(ct);
                int runs = 0, succeeded = 0;
                while (await reader.ReadAsync(ct))
                {
                    runs++;
                    succeeded += reader.GetString(0) == nameof(CrawlStatus.Failed) ? 0 : 1;
                }
                DateTime? lastSuccess = null;
                for (var i = 0; i < 2; i++)
                {
                    await reader.NextResultAsync(ct);
                    if (await reader.ReadAsync(ct) && !reader.IsDBNull(0) && Utc(reader.GetDateTime(0)) is var at && (lastSuccess is null || at > lastSuccess))
                    {
                        lastSuccess = at;
                    }
                }
                await reader.NextResultAsync(ct);
                var failed = await reader.ReadAsync(ct);
                result.Add(new SourceHealthView(
                    source,
                    runs,
                    Math.Round(succeeded / (double)runs, 4),
                    lastSuccess,
                    failed ? Utc(reader.GetDateTime(0)) : null,
                    failed ? NullableString(reader, 1) : null,
                    failed ? NullableString(reader, 2) : null));
            }
            return result;
        }, cancellationToken);

    /// <summary>
    /// The far end of the rows one request may examine: the <see cref="ReadOptions.ScanRows"/>-th row of the walked
    /// index under its own conditions (a walk of that many index entries, nothing else read), or null when fewer remain.
    /// </summary>
    private async Task<(DateTime At, object Key)?> FindScanEdgeAsync(
        MySqlConnection connection, string walked, Conditions walk, string sortAt, string key, CancellationToken ct)
    {
        await using var command = new MySqlCommand { Connection = connection };
        var sql = new StringBuilder("SELECT ").Append(sortAt).Append(", ").Append(key).Append(" FROM ").Append(walked);
        Conditions.AppendWhere(sql, command, walk);
        sql.Append(CultureInfo.InvariantCulture, $" ORDER BY {sortAt} DESC, {key} DESC LIMIT 1 OFFSET @skip");
        command.Parameters.AddWithValue("@skip", _scanRows - 1);
        command.CommandText = sql.ToString();
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? (Utc(reader.GetDateTime(0)), reader.GetValue(1) is Guid id ? id.ToString() : reader.GetValue(1)) : null;
    }

    // The columns of ArticleColumns, then SymbolsColumn.
    private static ArticleView ReadArticle(MySqlDataReader reader)
    {
        var summary = NullableString(reader, 3);
        int? length = reader.IsDBNull(4) ? null : reader.GetInt32(4);
        return new(
            ArticleId.ToHex((byte[])reader[0]),
            reader.GetString(1),
            reader.GetString(2),
            summary,
            length > ColumnLimits.SummaryPreview && summary is not null && length > CodePoints(summary),
            length,
            reader.GetString(5),
            NullableString(reader, 6),
            NullableString(reader, 7),
            NullableString(reader, 8),
            NullableString(reader, 9),
            reader.IsDBNull(10) ? null : Utc(reader.GetDateTime(10)),
            Utc(reader.GetDateTime(11)),
            Utc(reader.GetDateTime(12)),
            reader.IsDBNull(13) ? [] : ParseSymbols(reader.GetString(13)));
    }

    // What the database's CHAR_LENGTH counts: a character outside the BMP is one, not a surrogate pair.
    private static int CodePoints(string text)
    {
        var count = 0;
        foreach (var _ in text.EnumerateRunes())
        {
            count++;
        }
        return count;
    }

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

    // LIKE treats % and _ as wildcards; a user searching for "5%" means the text "5%".
    private static string EscapeLike(string text) =>
        text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);

    /// <summary>SQL conditions joined by AND, with the parameters they name.</summary>
    private sealed class Conditions
    {
        private readonly List<string> _sql = [];
        private readonly List<(string Name, object? Value)> _parameters = [];

        public int Count => _sql.Count;

        public void Add(string condition, string name, object? value)
        {
            _sql.Add(condition);
            Parameter(name, value);
        }

        public void AddIf(object? value, string condition, string name)
        {
            if (value is not null)
            {
                Add(condition, name, value);
            }
        }

        public void Parameter(string name, object? value) => _parameters.Add((name, value));

        public static void AppendWhere(StringBuilder sql, MySqlCommand command, params Conditions[] all)
        {
            var first = true;
            foreach (var conditions in all)
            {
                foreach (var condition in conditions._sql)
                {
                    sql.Append(first ? " WHERE " : " AND ").Append(condition);
                    first = false;
                }
                foreach (var (name, value) in conditions._parameters)
                {
                    command.Parameters.AddWithValue(name, value);
                }
            }
        }
    }
}
