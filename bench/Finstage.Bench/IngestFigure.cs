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

        // The service: seed half of the articles through it (a warm-up as well), then time the rest.
        var database = await TestServers.CreateDatabaseAsync("finstage_bench_ingest", ct);
        virtualHost = await TestServers.CreateVirtualHostAsync("finstage-bench", ct);
        TimeSpan service;
        await using (var storage = await ServiceHosts.StorageAsync(database, virtualHost.ToString()))
        await using (var publisher = await BenchBus.StartAsync(virtualHost))
        {
            await PublishAllAsync(publisher, seeded, ct);
            await Measure.UntilAsync(() => Runs(database, ct), m, Stopwatch.StartNew(), TimeSpan.FromSeconds(300), "the seeded crawl runs", ct);
            var clock = Stopwatch.StartNew();
            await PublishAllAsync(publisher, measured, ct);
            service = await Measure.UntilAsync(() => Runs(database, ct), 2L * m, clock, TimeSpan.FromSeconds(600), "the measured crawl runs", ct);
        }
        var stored = await Measure.ScalarAsync(database, "SELECT COUNT(*) FROM `articles`", ct);

        // Raw path 2: the same rows the service commits (articles, article-symbol links, crawl runs),
        // upserted in the service's chunks into tables of the same shape; and the articles alone.
        var upsert = await RawUpsertAsync("finstage_bench_ingest_raw", seeded, measured, withLinksAndRuns: true, ct);
        var articlesOnly = await RawUpsertAsync("finstage_bench_ingest_raw_articles", seeded, measured, withLinksAndRuns: false, ct);

        var brokerRate = articles / brokerOnly.TotalSeconds;
        var upsertRate = articles / upsert.TotalSeconds;
        var serviceRate = articles / service.TotalSeconds;
        report.Raw("p4_raw_masstransit_articles_per_s", brokerRate);
        report.Raw("p4_raw_upsert_articles_per_s", upsertRate);
        report.Raw("p4_raw_upsert_articles_only_per_s", articles / articlesOnly.TotalSeconds);
        report.Raw("p4_ingest_articles_per_s", serviceRate);
        report.Raw("p4_articles_stored", stored);
        report.Figure("p4_ingest_vs_raw", serviceRate / Math.Min(brokerRate, upsertRate));
    }

    private static async Task InsertAsync(
        MySqlConnection connection, MySqlTransaction transaction, string insert, string onDuplicate, List<object?[]> rows, CancellationToken ct)
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
        await command.ExecuteNonQueryAsync(ct);
    }

    private static Task<long> Runs(string database, CancellationToken ct) => Measure.ScalarAsync(database, "SELECT COUNT(*) FROM `crawl_runs`", ct);

    private static Task PublishAllAsync(BenchBus bus, IReadOnlyList<NewsCrawled> messages, CancellationToken ct) =>
        Task.WhenAll(messages.Select(message => bus.Bus.Publish(message, ct)));

    /// <summary>Message i of a set carries articles 0..count-1 of symbol i; a later set with more articles repeats the first ones.</summary>
    private static List<NewsCrawled> Messages(int count, int articles)
    {
        var now = DateTimeOffset.UtcNow;
        // One scheduler cycle per set, as the fan-out would send them (the storage refuses results without a cycle).
        var cycle = Guid.NewGuid();
        return [.. Enumerable.Range(0, count).Select(i =>
        {
            var symbol = "I" + i.ToString("00000", CultureInfo.InvariantCulture);
            return new NewsCrawled(Guid.NewGuid(), cycle, "bench", symbol, now, TimeSpan.FromMilliseconds(100), 200, false,
                [.. Enumerable.Range(0, articles).Select(a => new NewsArticle(
                    string.Create(CultureInfo.InvariantCulture, $"https://news.example.com/ingest/{symbol}/{a}.html"),
                    string.Create(CultureInfo.InvariantCulture, $"{symbol} headline {a}: markets move on the day's news"),
                    string.Create(CultureInfo.InvariantCulture, $"What happened to {symbol} today, story {a}, in a sentence or two of summary."),
                    now.AddMinutes(-a), Publisher: "Bench News", ExternalId: $"{symbol}-{a}"))]);
        })];
    }

    private static async Task<TimeSpan> RawUpsertAsync(
        string name, IReadOnlyList<NewsCrawled> seeded, IReadOnlyList<NewsCrawled> measured, bool withLinksAndRuns, CancellationToken ct)
    {
        var raw = await TestServers.CreateDatabaseAsync(name, ct);
        await using var connection = new MySqlConnection(raw);
        await connection.OpenAsync(ct);
        foreach (var table in new[] { "articles", "article_symbols", "crawl_runs" })
        {
            await using var create = new MySqlCommand($"CREATE TABLE `{table}` LIKE `finstage_bench_ingest`.`{table}`", connection);
            await create.ExecuteNonQueryAsync(ct);
        }
        await UpsertAsync(connection, seeded, withLinksAndRuns, ct);
        var clock = Stopwatch.StartNew();
        await UpsertAsync(connection, measured, withLinksAndRuns, ct);
        return clock.Elapsed;
    }

    // As the service writes: 500 rows a statement, one transaction per 100 messages (Ingest:BatchSize).
    private static async Task UpsertAsync(MySqlConnection connection, IReadOnlyList<NewsCrawled> messages, bool withLinksAndRuns, CancellationToken ct)
    {
        var now = DateTime.UtcNow;
        foreach (var batch in messages.Chunk(100))
        {
            await using var transaction = await connection.BeginTransactionAsync(ct);
            var rows = batch.SelectMany(message => message.Articles).OrderBy(a => a.Url, StringComparer.Ordinal).ToList();
            foreach (var chunk in rows.Chunk(500))
            {
                await using var command = new MySqlCommand { Connection = connection, Transaction = transaction };
                var sql = new StringBuilder(
                    "INSERT INTO `articles` (`id`,`url`,`source`,`title`,`summary`,`author`,`publisher`,`image_url`,`external_id`," +
                    "`published_at`,`sort_at`,`first_seen_at`,`last_seen_at`) VALUES ");
                for (var i = 0; i < chunk.Length; i++)
                {
                    var a = chunk[i];
                    object?[] values =
                    [
                        ArticleId.FromUrl(a.Url), a.Url, "bench", a.Title, a.Summary, a.Author, a.Publisher, a.ImageUrl, a.ExternalId,
                        a.PublishedAt?.UtcDateTime, a.PublishedAt?.UtcDateTime ?? now, now, now,
                    ];
                    sql.Append(i == 0 ? "(" : ",(");
                    for (var c = 0; c < values.Length; c++)
                    {
                        var name = string.Create(CultureInfo.InvariantCulture, $"@p{i}_{c}");
                        sql.Append(c == 0 ? name : "," + name);
                        command.Parameters.AddTyped(name, values[c]);
                    }
                    sql.Append(')');
                }
                command.CommandText = sql.Append(OnDuplicate).ToString();
                await command.ExecuteNonQueryAsync(ct);
            }
            if (withLinksAndRuns)
            {
                var links = batch.SelectMany(message => message.Articles.Select(a => (Message: message, Article: a))).ToList();
                foreach (var chunk in links.Chunk(500))
                {
                    await InsertAsync(connection, transaction,
                        "INSERT INTO `article_symbols` (`article_id`,`symbol`,`sort_at`,`first_seen_at`) VALUES ",
                        " ON DUPLICATE KEY UPDATE `article_id` = `article_id`",
                        chunk.Select(link => new object?[] { ArticleId.FromUrl(link.Article.Url), link.Message.Symbol, link.Article.PublishedAt?.UtcDateTime ?? now, now }).ToList(), ct);
                }
                await InsertAsync(connection, transaction,
                    "INSERT INTO `crawl_runs` (`crawl_id`,`cycle_id`,`source`,`symbol`,`status`,`new_articles`,`seen_articles`,`http_status`,`duration_ms`,`finished_at`,`recorded_at`) VALUES ",
                    " ON DUPLICATE KEY UPDATE `crawl_id` = `crawl_id`",
                    batch.Select(m => new object?[] { m.CrawlId, m.CycleId, m.Source, m.Symbol, "Succeeded", 10, 10, 200, 100, now, now }).ToList(), ct);
            }
            await transaction.CommitAsync(ct);
        }
    }
}
