using System.Globalization;
using System.Text.Json;
using Finstage.Contracts;
using Finstage.Testing;
using MySqlConnector;

namespace Finstage.Reliability.Tests;

/// <summary>
/// Issue 15: two storage processes on one database, competing for one queue, while the same articles arrive in
/// different crawl results at the same time. Every article is still one row, stored as new once and announced in
/// one event; every link, crawl run and symbol count is exact; deadlocks between the two stay few and are retried.
/// </summary>
[Trait("Category", "Reliability")]
public sealed class TwoStoragesTests
{
    private const string Queue = "store-news-crawled";

    private const int Results = 400;

    private const int Articles = 600;

    private const int ArticlesPerResult = 40;

    /// <summary>Result i starts its window of articles this far after result i-1's: neighbours share 35 of their 40.</summary>
    private const int Step = 5;

    private const int Symbols = 16;

    /// <summary>
    /// Deadlocks the server may report over the whole run (MariaDB's <c>Innodb_deadlocks</c>; each costs one
    /// transaction one retry by EF Core's execution strategy). Batches lock articles, links and symbol counts in key
    /// order, so two of them wait for each other rather than deadlock; measured here: 0 in each run (and 40–50 row
    /// lock waits), see the test's output. The bound is a tenth of the transactions the run commits (at least 40
    /// batches of at most 10 results), well above what was measured and far below a storm, in which most batches
    /// would deadlock at least once.
    /// </summary>
    private const int MaxDeadlocks = Results / 10 / 10;

    [Fact(Timeout = 1_200_000)]
    public async Task TwoStorages_StoreAndAnnounceEachArticleOnceWithExactCounts_WhenTheSameArticlesArriveInConcurrentResults()
    {
        var ct = TestContext.Current.CancellationToken;
        var output = TestContext.Current.TestOutputHelper;
        var home = await MigratedStorage.CreateAsync("finstage_rel_two_storages", "finstage-rel-two-storages", ct);
        await using var first = await home.StartAsync(ct, name: "storage1");
        await using var second = await home.StartAsync(ct, name: "storage2");
        // The management API's figures lag the broker by its statistics interval.
        await Eventually.WaitForAsync(() => ConsumersAsync(home.VirtualHost, ct), consumers => consumers == 2,
            TimeSpan.FromSeconds(60), "both instances to consume the one queue", ct);

        var cycle = Guid.NewGuid();
        var results = Enumerable.Range(0, Results).Select(i => Result(cycle, i)).ToList();
        var deadlocksBefore = await StatusAsync("Innodb_deadlocks", ct);
        var lockWaitsBefore = await StatusAsync("Innodb_row_lock_waits", ct);
        await using (var bus = await TestBus.StartAsync(home.VirtualHost, ct))
        {
            // All at once: neighbouring results, which share most of their articles, land in batches of both instances.
            await Task.WhenAll(results.Select(result => bus.PublishAsync(result, ct)));
        }
        await Eventually.WaitForAsync(() => CountAsync(home.Database, "SELECT COUNT(*) FROM crawl_runs", ct),
            count => count >= Results || first.HasExited || second.HasExited, TimeSpan.FromMinutes(10), $"a crawl run for each of the {Results} results", ct);
        var vhost = BrokerQueues.VirtualHostName(home.VirtualHost);
        await Eventually.WaitForAsync(() => TestServers.GetQueuesAsync(vhost, ct),
            queues => queues.Any(q => q.Name == Queue) && queues.All(q => q.Ready == 0 && q.Unacknowledged == 0),
            TimeSpan.FromSeconds(60), "every queue, the error and skipped queues included, to be empty and acknowledged", ct);
        var deadlocks = await StatusAsync("Innodb_deadlocks", ct) - deadlocksBefore;
        var lockWaits = await StatusAsync("Innodb_row_lock_waits", ct) - lockWaitsBefore;
        output?.WriteLine($"{Results} results over two storages: {deadlocks} deadlocks (bound {MaxDeadlocks}), {lockWaits} row lock waits");
        first.HasExited.ShouldBeFalse(first.OutputTail);
        second.HasExited.ShouldBeFalse(second.OutputTail);
        (await TestServers.GetQueuesAsync(vhost, ct)).Where(q => q.Name.EndsWith("_error", StringComparison.Ordinal) || q.Name.EndsWith("_skipped", StringComparison.Ordinal))
            .ShouldBeEmpty("no message failed or went unconsumed");

        // One row per article, linked exactly to the symbols whose results carried it.
        (await CountAsync(home.Database, "SELECT COUNT(*) FROM articles", ct)).ShouldBe(Articles);
        (await CountAsync(home.Database, "SELECT COUNT(DISTINCT url) FROM articles", ct)).ShouldBe(Articles);
        var expectedLinks = results.SelectMany(r => r.Articles!.Select(a => (a.Url, r.Symbol))).Distinct().OrderBy(l => l).ToList();
        var links = await RowsAsync(home.Database,
            "SELECT a.url, s.symbol FROM article_symbols s JOIN articles a ON a.id = s.article_id", r => (r.GetString(0), r.GetString(1)), ct);
        links.OrderBy(l => l).ShouldBe(expectedLinks);
        var counted = await RowsAsync(home.Database, "SELECT symbol, article_count FROM symbol_stats", r => (r.GetString(0), r.GetInt64(1)), ct);
        counted.OrderBy(c => c).ShouldBe(expectedLinks.GroupBy(l => l.Symbol).Select(g => (g.Key, (long)g.Count())).OrderBy(c => c));

        // Every crawl recorded once; each article counted new by exactly one of them.
        (await CountAsync(home.Database, "SELECT COUNT(DISTINCT crawl_id) FROM crawl_runs", ct)).ShouldBe(Results);
        (await CountAsync(home.Database, "SELECT SUM(new_articles + seen_articles) FROM crawl_runs", ct)).ShouldBe(Results * ArticlesPerResult);
        (await CountAsync(home.Database, "SELECT SUM(new_articles) FROM crawl_runs", ct)).ShouldBe(Articles);

        // One event per crawl that stored new articles, carrying exactly those: no article announced twice.
        var runs = await RowsAsync(home.Database, "SELECT crawl_id, new_articles FROM crawl_runs WHERE new_articles > 0",
            r => (r.GetGuid(0), r.GetInt32(1)), ct);
        var events = await RowsAsync(home.Database, "SELECT crawl_id, articles FROM article_events",
            r => (r.GetGuid(0), JsonDocument.Parse(r.GetString(1)).RootElement.EnumerateArray().Select(a => a.GetProperty("url").GetString()!).ToList()), ct);
        events.Select(e => (e.Item1, e.Item2.Count)).OrderBy(e => e).ShouldBe(runs.OrderBy(r => r));
        var announced = events.SelectMany(e => e.Item2).ToList();
        announced.Count.ShouldBe(Articles, "each article in one event");
        announced.Distinct().Count().ShouldBe(Articles);

        deadlocks.ShouldBeLessThanOrEqualTo(MaxDeadlocks);
    }

    /// <summary>Result i: articles i×5 … i×5+39 of the pool (wrapping), for symbol i mod 16.</summary>
    private static NewsCrawled Result(Guid cycle, int index)
    {
        var fetchedAt = DateTimeOffset.UtcNow;
        var symbol = "TWO" + (index % Symbols).ToString("00", CultureInfo.InvariantCulture);
        return new NewsCrawled(Guid.NewGuid(), cycle, "two", symbol, fetchedAt, TimeSpan.FromMilliseconds(100), 200, false,
            [.. Enumerable.Range(0, ArticlesPerResult).Select(a => (index * Step + a) % Articles).Select(n => new NewsArticle(
                string.Create(CultureInfo.InvariantCulture, $"https://two.example.com/story/{n}.html"),
                string.Create(CultureInfo.InvariantCulture, $"Story {n}: what moved the market"),
                "A sentence of summary.",
                // Half without a publication time: their sort time is the batch's clock, which two batches see differently.
                n % 2 == 0 ? fetchedAt.AddMinutes(-n) : null))]);
    }

    private static async Task<int> ConsumersAsync(Uri virtualHost, CancellationToken ct)
    {
        using var http = TestServers.CreateManagementClient();
        var path = $"api/queues/{Uri.EscapeDataString(BrokerQueues.VirtualHostName(virtualHost))}/{Queue}";
        using var json = JsonDocument.Parse(await http.GetStringAsync(new Uri(path, UriKind.Relative), ct));
        // A queue the broker has not yet gathered statistics for has no "consumers" yet.
        return json.RootElement.TryGetProperty("consumers", out var consumers) ? consumers.GetInt32() : 0;
    }

    private static async Task<long> StatusAsync(string variable, CancellationToken ct)
    {
        await using var connection = new MySqlConnection(TestServers.MySqlAdmin);
        await connection.OpenAsync(ct);
        await using var command = new MySqlCommand($"SHOW GLOBAL STATUS LIKE '{variable}'", connection);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? long.Parse(reader.GetString(1), CultureInfo.InvariantCulture) : 0;
    }

    private static async Task<long> CountAsync(string database, string sql, CancellationToken ct) =>
        (await RowsAsync(database, sql, r => r.IsDBNull(0) ? 0 : Convert.ToInt64(r.GetValue(0), CultureInfo.InvariantCulture), ct)).Single();

    private static async Task<List<T>> RowsAsync<T>(string database, string sql, Func<MySqlDataReader, T> read, CancellationToken ct)
    {
        await using var connection = new MySqlConnection(database);
        await connection.OpenAsync(ct);
        await using var command = new MySqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var rows = new List<T>();
        while (await reader.ReadAsync(ct))
        {
            rows.Add(read(reader));
        }
        return rows;
    }
}
