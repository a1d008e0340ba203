extern alias storage;

using System.Diagnostics;
using System.Globalization;
using System.Text;
using Finstage.Contracts;
using Finstage.Testing;
using MySqlConnector;
using storage::Finstage.Storage.Infrastructure;
using storage::Finstage.Storage.Writing;

namespace Finstage.Bench;

/// <summary>
/// p4: articles per second from <see cref="NewsCrawled"/> messages (20 articles each, half of them
/// already stored) to committed rows, against the slower of two raw paths for the same messages:
/// MassTransit publish+consume with a no-op consumer, and MySqlConnector multi-row upserts of the
/// same article rows.
/// </summary>
public static class IngestFigure
{
    // The service's own clause (services/storage/Writing/UpsertStatements.cs), so the raw path does the same row work.
    private static readonly string OnDuplicate =
        " ON DUPLICATE KEY UPDATE `title` = IF(`source` = VALUES(`source`), VALUES(`title`), `title`)," +
        string.Concat(new[] { "summary", "author", "publisher", "image_url", "external_id" }.Select(column =>
            $" `{column}` = IF(`source` = VALUES(`source`), COALESCE(VALUES(`{column}`), `{column}`), COALESCE(`{column}`, VALUES(`{column}`))),")) +
        " `published_at` = COALESCE(`published_at`, VALUES(`published_at`)), `last_seen_at` = GREATEST(`last_seen_at`, VALUES(`last_seen_at`))";

    public static async Task RunAsync(BenchSettings settings, Report report, CancellationToken ct)
    {
        var m = settings.IngestMessages;
        var perMessage = settings.ArticlesPerMessage;
        var seeded = Messages(m, perMessage / 2);
        var measured = Messages(m, perMessage);
        var articles = (double)m * perMessage;

        // Raw path 1: the broker alone, before the storage binds its queue to the same exchange.
        var virtualHost = await TestServers.CreateVirtualHostAsync("finstage-bench", ct);
        TimeSpan brokerOnly;
        await using (var noop = await BenchBus.StartCountingAsync<NewsCrawled>(virtualHost, "bench-noop-news", prefetch: 300))
        {
            await PublishAllAsync(noop, Messages(Math.Min(m, 200), perMessage), ct);
            await Measure.UntilAsync(() => Task.FromResult(noop.Received), Math.Min(m, 200), Stopwatch.StartNew(), TimeSpan.FromSeconds(60), "warm-up", ct);
            var clock = Stopwatch.StartNew();
            await PublishAllAsync(noop, measured, ct);
            brokerOnly = await Measure.UntilAsync(
                () => Task.FromResult(noop.Received), Math.Min(m, 200) + m, clock, TimeSpan.FromSeconds(300), "no-op consumption", ct);
        }

        // The service: warm-up rounds first (the same work on other symbols: half new articles, then all of them again)
        // until the runtime has stopped recompiling (Measure.WarmUpAsync), so the figure does not depend on what ran
        // before it in this process (run alone after one round, p4 read 0.44-0.59 where the full run read 0.99); then
        // seed half of the articles and time the rest.
        var database = await TestServers.CreateDatabaseAsync("finstage_bench_ingest", ct);
        virtualHost = await TestServers.CreateVirtualHostAsync("finstage-bench", ct);
        TimeSpan service;
        await using (var storage = await ServiceHosts.StorageAsync(database, virtualHost.ToString()))
        await using (var publisher = await BenchBus.StartAsync(virtualHost))
        {
            var runs = 0L;
            var warmUps = await Measure.WarmUpAsync(async round =>
            {
                var prefix = "W" + round.ToString(CultureInfo.InvariantCulture);
                await PublishAllAsync(publisher, Messages(m, perMessage / 2, prefix), ct);
                runs += m;
                await Measure.UntilAsync(() => Runs(database, ct), runs, Stopwatch.StartNew(), TimeSpan.FromSeconds(300), "the warm-up's seeded crawl runs", ct);
                var warm = Stopwatch.StartNew();
                await PublishAllAsync(publisher, Messages(m, perMessage, prefix), ct);
                runs += m;
                var warmUp = await Measure.UntilAsync(() => Runs(database, ct), runs, warm, TimeSpan.FromSeconds(600), "the warm-up's crawl runs", ct);
                report.Raw("p4_ingest_warm_up_articles_per_s", articles / warmUp.TotalSeconds);
            }, maxRounds: 6);
            report.Raw("p4_warm_up_rounds", warmUps);

            await PublishAllAsync(publisher, seeded, ct);
            await Measure.UntilAsync(() => Runs(database, ct), runs + m, Stopwatch.StartNew(), TimeSpan.FromSeconds(300), "the seeded crawl runs", ct);
            var clock = Stopwatch.StartNew();
            await PublishAllAsync(publisher, measured, ct);
            service = await Measure.UntilAsync(() => Runs(database, ct), runs + 2L * m, clock, TimeSpan.FromSeconds(600), "the measured crawl runs", ct);
        }
        var stored = await Measure.ScalarAsync(database, "SELECT COUNT(*) FROM `articles`", ct);

        // Raw path 2: the same rows the service commits (articles, article-symbol links, crawl runs), written straight
        // into tables of the same shape, in each of the ways the database offers; the best of them is the reference.
        // Each way warms up on the seeded half (the same statements) before the measured half is timed.
        var ways = new (string Key, Write Way)[]
        {
            ("service_shape", ServiceShapeAsync),
            ("one_transaction", OneTransactionAsync),
            ("prepared", PreparedAsync),
            ("load_data", LoadDataAsync),
        };
        var best = 0.0;
        foreach (var (key, way) in ways)
        {
            var rate = articles / (await RawUpsertAsync("finstage_bench_ingest_raw", seeded, measured, way, ct)).TotalSeconds;
            report.Raw($"p4_raw_{key}_articles_per_s", rate);
            best = Math.Max(best, rate);
        }
        var articlesOnly = await RawUpsertAsync("finstage_bench_ingest_raw_articles", seeded, measured, ArticlesOnlyAsync, ct);

        var brokerRate = articles / brokerOnly.TotalSeconds;
        var serviceRate = articles / service.TotalSeconds;
        report.Raw("p4_raw_masstransit_articles_per_s", brokerRate);
        report.Raw("p4_raw_upsert_articles_per_s", best);
        report.Raw("p4_raw_upsert_articles_only_per_s", articles / articlesOnly.TotalSeconds);
        report.Raw("p4_ingest_articles_per_s", serviceRate);
        report.Raw("p4_articles_stored", stored);
        report.Figure("p4_ingest_vs_raw", serviceRate / Math.Min(brokerRate, best));
    }

    private delegate Task Write(MySqlConnection connection, IReadOnlyList<NewsCrawled> messages, CancellationToken ct);

    private static async Task InsertAsync(
        MySqlConnection connection, MySqlTransaction transaction, string insert, string onDuplicate, List<object?[]> rows, bool prepare, CancellationToken ct)
    {
        await using var command = new MySqlCommand { Connection = connection, Transaction = transaction };
        var sql = new StringBuilder(insert);
        for (var i = 0; i < rows.Count; i++)
        {
            sql.Append(i == 0 ? "(" : ",(");
            for (var c = 0; c < rows[i].Length; c++)
            {
                var name = string.Create(CultureInfo.InvariantCulture, $"@p{i}_{c}");
                sql.Append(c == 0 ? name : "," + name);
                command.Parameters.AddTyped(name, rows[i][c]);
            }
            sql.Append(')');
        }
        command.CommandText = sql.Append(onDuplicate).ToString();
        if (prepare)
        {
            // MySqlConnector keeps a session's prepared statements by their text: each shape is parsed once.
            await command.PrepareAsync(ct);
        }
        await command.ExecuteNonQueryAsync(ct);
    }

    private static Task<long> Runs(string database, CancellationToken ct) => Measure.ScalarAsync(database, "SELECT COUNT(*) FROM `crawl_runs`", ct);

    private static Task PublishAllAsync(BenchBus bus, IReadOnlyList<NewsCrawled> messages, CancellationToken ct) =>
        Task.WhenAll(messages.Select(message => bus.Bus.Publish(message, ct)));

    /// <summary>Message i of a set carries articles 0..count-1 of symbol i; a later set with more articles repeats the first ones.</summary>
    internal static List<NewsCrawled> Messages(int count, int articles, string prefix = "I")
    {
        var now = DateTimeOffset.UtcNow;
        // One scheduler cycle per set, as the fan-out would send them (the storage refuses results without a cycle).
        var cycle = Guid.NewGuid();
        return [.. Enumerable.Range(0, count).Select(i =>
        {
            var symbol = prefix + i.ToString("00000", CultureInfo.InvariantCulture);
            return new NewsCrawled(Guid.NewGuid(), cycle, "bench", symbol, now, TimeSpan.FromMilliseconds(100), 200, false,
                [.. Enumerable.Range(0, articles).Select(a => new NewsArticle(
                    string.Create(CultureInfo.InvariantCulture, $"https://news.example.com/ingest/{symbol}/{a}.html"),
                    string.Create(CultureInfo.InvariantCulture, $"{symbol} headline {a}: markets move on the day's news"),
                    string.Create(CultureInfo.InvariantCulture, $"What happened to {symbol} today, story {a}, in a sentence or two of summary."),
                    now.AddMinutes(-a), Publisher: "Bench News", ExternalId: $"{symbol}-{a}"))]);
        })];
    }

    private static async Task<TimeSpan> RawUpsertAsync(
        string name, IReadOnlyList<NewsCrawled> seeded, IReadOnlyList<NewsCrawled> measured, Write write, CancellationToken ct)
    {
        var raw = await TestServers.CreateDatabaseAsync(name, ct);
        // LOAD DATA LOCAL INFILE is off in the driver unless asked for; prepared statements are honoured by default.
        var connectionString = new MySqlConnectionStringBuilder(raw) { AllowLoadLocalInfile = true, IgnorePrepare = false }.ConnectionString;
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync(ct);
        foreach (var table in new[] { "articles", "article_symbols", "crawl_runs" })
        {
            await using var create = new MySqlCommand($"CREATE TABLE `{table}` LIKE `finstage_bench_ingest`.`{table}`", connection);
            await create.ExecuteNonQueryAsync(ct);
        }
        await write(connection, seeded, ct);
        var clock = Stopwatch.StartNew();
        await write(connection, measured, ct);
        return clock.Elapsed;
    }

    private const string ArticleColumns =
        "`id`,`url`,`source`,`title`,`summary`,`author`,`publisher`,`image_url`,`external_id`,`published_at`,`sort_at`,`first_seen_at`,`last_seen_at`";
    private const string LinkColumns = "`article_id`,`symbol`,`sort_at`,`first_seen_at`";
    private const string RunColumns =
        "`crawl_id`,`cycle_id`,`source`,`symbol`,`status`,`new_articles`,`seen_articles`,`http_status`,`duration_ms`,`finished_at`,`recorded_at`";

    private static List<object?[]> ArticleRows(IEnumerable<NewsCrawled> messages, DateTime now) =>
        [.. messages.SelectMany(message => message.Articles).OrderBy(a => a.Url, StringComparer.Ordinal).Select(a => new object?[]
        {
            ArticleId.FromUrl(a.Url), a.Url, "bench", a.Title, a.Summary, a.Author, a.Publisher, a.ImageUrl, a.ExternalId,
            a.PublishedAt?.UtcDateTime, a.PublishedAt?.UtcDateTime ?? now, now, now,
        })];

    private static List<object?[]> LinkRows(IEnumerable<NewsCrawled> messages, DateTime now) =>
        [.. messages.SelectMany(message => message.Articles.Select(a => new object?[]
            { ArticleId.FromUrl(a.Url), message.Symbol, a.PublishedAt?.UtcDateTime ?? now, now }))];

    private static List<object?[]> RunRows(IEnumerable<NewsCrawled> messages, DateTime now) =>
        [.. messages.Select(m => new object?[] { m.CrawlId, m.CycleId, m.Source, m.Symbol, "Succeeded", 10, 10, 200, 100, now, now })];

    // As the service writes: 500 rows a statement, one transaction per 100 messages (Ingest:BatchSize).
    private static Task ServiceShapeAsync(MySqlConnection connection, IReadOnlyList<NewsCrawled> messages, CancellationToken ct) =>
        StatementsAsync(connection, messages, messagesPerTransaction: 100, rowsPerStatement: 500, prepare: false, withLinksAndRuns: true, ct);

    private static Task ArticlesOnlyAsync(MySqlConnection connection, IReadOnlyList<NewsCrawled> messages, CancellationToken ct) =>
        StatementsAsync(connection, messages, messagesPerTransaction: 100, rowsPerStatement: 500, prepare: false, withLinksAndRuns: false, ct);

    // One transaction for every table and message, in statements four times larger (2,000 rows, 26,000 parameters).
    private static Task OneTransactionAsync(MySqlConnection connection, IReadOnlyList<NewsCrawled> messages, CancellationToken ct) =>
        StatementsAsync(connection, messages, messagesPerTransaction: int.MaxValue, rowsPerStatement: 2_000, prepare: false, withLinksAndRuns: true, ct);

    // The service's shape as server-side prepared statements (binary protocol, parsed once per shape and session).
    private static Task PreparedAsync(MySqlConnection connection, IReadOnlyList<NewsCrawled> messages, CancellationToken ct) =>
        StatementsAsync(connection, messages, messagesPerTransaction: 100, rowsPerStatement: 500, prepare: true, withLinksAndRuns: true, ct);

    private static async Task StatementsAsync(
        MySqlConnection connection, IReadOnlyList<NewsCrawled> messages, int messagesPerTransaction, int rowsPerStatement, bool prepare,
        bool withLinksAndRuns, CancellationToken ct)
    {
        var now = DateTime.UtcNow;
        foreach (var batch in messages.Chunk(Math.Min(messagesPerTransaction, messages.Count)))
        {
            await using var transaction = await connection.BeginTransactionAsync(ct);
            foreach (var chunk in ArticleRows(batch, now).Chunk(rowsPerStatement))
            {
                await InsertAsync(connection, transaction, $"INSERT INTO `articles` ({ArticleColumns}) VALUES ", OnDuplicate, [.. chunk], prepare, ct);
            }
            if (withLinksAndRuns)
            {
                foreach (var chunk in LinkRows(batch, now).Chunk(rowsPerStatement))
                {
                    await InsertAsync(connection, transaction, $"INSERT INTO `article_symbols` ({LinkColumns}) VALUES ",
                        " ON DUPLICATE KEY UPDATE `article_id` = `article_id`", [.. chunk], prepare, ct);
                }
                foreach (var chunk in RunRows(batch, now).Chunk(rowsPerStatement))
                {
                    await InsertAsync(connection, transaction, $"INSERT INTO `crawl_runs` ({RunColumns}) VALUES ",
                        " ON DUPLICATE KEY UPDATE `crawl_id` = `crawl_id`", [.. chunk], prepare, ct);
                }
            }
            await transaction.CommitAsync(ct);
        }
    }

    // LOAD DATA LOCAL INFILE (MySqlBulkCopy) of every row into session-local staging tables, then one INSERT … SELECT per
    // table with the service's ON DUPLICATE KEY clause (LOAD DATA alone can only replace or ignore a duplicate), all in
    // one transaction.
    private static async Task LoadDataAsync(MySqlConnection connection, IReadOnlyList<NewsCrawled> messages, CancellationToken ct)
    {
        var now = DateTime.UtcNow;
        var tables = new (string Table, string Columns, List<object?[]> Rows, string OnDuplicate)[]
        {
            ("articles", ArticleColumns, ArticleRows(messages, now), OnDuplicate),
            ("article_symbols", LinkColumns, LinkRows(messages, now), " ON DUPLICATE KEY UPDATE `article_id` = `article_id`"),
            ("crawl_runs", RunColumns, RunRows(messages, now), " ON DUPLICATE KEY UPDATE `crawl_id` = `crawl_id`"),
        };
        await using var transaction = await connection.BeginTransactionAsync(ct);
        foreach (var (table, columns, rows, onDuplicate) in tables)
        {
            await using (var stage = new MySqlCommand(
                $"DROP TEMPORARY TABLE IF EXISTS `stage_{table}`; CREATE TEMPORARY TABLE `stage_{table}` LIKE `{table}`", connection, transaction))
            {
                await stage.ExecuteNonQueryAsync(ct);
            }
            using var data = new System.Data.DataTable();
            await using (var columnsOf = new MySqlCommand($"SELECT {columns} FROM `{table}` LIMIT 0", connection, transaction))
            await using (var reader = await columnsOf.ExecuteReaderAsync(ct))
            {
                foreach (var column in reader.GetColumnSchema())
                {
                    data.Columns.Add(column.ColumnName, Nullable.GetUnderlyingType(column.DataType!) ?? column.DataType!);
                }
            }
            foreach (var row in rows)
            {
                data.Rows.Add([.. row.Select(value => value ?? DBNull.Value)]);
            }
            var copy = new MySqlBulkCopy(connection, transaction) { DestinationTableName = $"stage_{table}" };
            // The staging table has every column of the real one; the rows fill these, in this order.
            copy.ColumnMappings.AddRange(columns.Split(',').Select((column, i) => new MySqlBulkCopyColumnMapping(i, column.Trim('`'))));
            await copy.WriteToServerAsync(data, ct);
            await using var merge = new MySqlCommand(
                $"INSERT INTO `{table}` ({columns}) SELECT {columns} FROM `stage_{table}`{Qualified(onDuplicate, table)}",
                connection, transaction);
            await merge.ExecuteNonQueryAsync(ct);
        }
        await transaction.CommitAsync(ct);
    }

    // In INSERT … SELECT the staging table has the same column names: the clause names the target's columns by table.
    private static string Qualified(string onDuplicate, string table) =>
        System.Text.RegularExpressions.Regex.Replace(onDuplicate, @"(?<!VALUES\()`(\w+)`", $"`{table}`.`$1`");
}
