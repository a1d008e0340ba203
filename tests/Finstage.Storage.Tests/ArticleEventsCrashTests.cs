using Finstage.Contracts;
using Finstage.Storage.Infrastructure;
using Finstage.Testing;
using MassTransit;

namespace Finstage.Storage.Tests;

/// <summary>
/// The storage process is killed (SIGKILL) with events committed but not yet published, and with events published but
/// not yet marked so: after a restart every event arrives, and an event that arrives twice has one id.
/// A database and a virtual host of its own: the fixture's in-process relay must not relay in the restart's place.
/// </summary>
[Trait("Category", "Reliability")]
public sealed class ArticleEventsCrashTests
{
    private const int FirstWave = 4;
    private const int SecondWave = 4;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private static void Record(string line) => TestContext.Current.TestOutputHelper?.WriteLine(line);

    [Fact(Timeout = 420_000)]
    public async Task Relay_DeliversEveryEventUnderOneIdPerCrawl_WhenStorageIsKilledBetweenCommitAndPublish()
    {
        var database = await TestServers.CreateDatabaseAsync("finstage_storage_events_crash", Cancel);
        var virtualHost = await TestServers.CreateVirtualHostAsync("finstage-storage-events-crash", Cancel);
        await NewsDatabaseMigrations.ApplyAsync(database, new DatabaseOptions(), Cancel);
        var dll = Repository.ProjectOutput("services/storage", "Finstage.Storage");
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Storage"] = TestServers.AsRuntimeUser(database),
            ["ConnectionStrings:RabbitMq"] = virtualHost.ToString(),
            ["Database:MinPoolSize"] = "0",
            ["Ingest:BatchTimeLimit"] = "00:00:00.050",
            ["ArticleEvents:PollInterval"] = "00:00:00.200",
        };
        await using var tap = await ArticleEventsTap.StartAsync(virtualHost, Cancel);

        // The test hook: after publishing, the relay waits (holding the relay) before it marks the events published.
        var held = await ServiceProcess.StartAsync("storage", dll,
            new Dictionary<string, string?>(settings) { ["ArticleEvents:HoldBeforeMarking"] = "01:00:00" }, Cancel);
        var crawls = Enumerable.Range(0, FirstWave + SecondWave)
            .Select(i => Crawls.Crawled(i % 2 == 0 ? "AAPL" : "MSFT", "yahoo", Crawls.Article(3000 + i), Crawls.Article(4000 + i)))
            .ToList();
        var publishedBeforeKill = 0;
        try
        {
            await SendAsync(virtualHost, crawls[..FirstWave]);
            // The relay's first pass publishes what has committed by then, and holds; the rest stays unpublished.
            await tap.WaitForCountAsync(1, TimeSpan.FromSeconds(90), Cancel);
            await SendAsync(virtualHost, crawls[FirstWave..]);
            await Eventually.WaitForAsync(() => CountAsync(database, "article_events"), n => n == crawls.Count,
                TimeSpan.FromSeconds(90), "every crawl's event to be committed", Cancel);
            publishedBeforeKill = (await tap.SettledAsync(Cancel)).Count;
            Record($"{publishedBeforeKill} of {crawls.Count} events published (none marked) when the storage is killed");
            publishedBeforeKill.ShouldBeLessThan(crawls.Count, "some events must be committed and not yet published at the kill");
            (await CountAsync(database, "article_events", "`published_at` IS NOT NULL")).ShouldBe(0);
            await held.KillAsync();
        }
        finally
        {
            await held.DisposeAsync();
        }

        await using var restarted = await ServiceProcess.StartAsync("storage", dll, settings, Cancel);
        await Eventually.WaitForAsync(() => CountAsync(database, "article_events", "`published_at` IS NULL"), n => n == 0,
            TimeSpan.FromSeconds(90), "every event to be marked published after the restart", Cancel);

        var events = await tap.SettledAsync(Cancel);
        Record($"{events.Count} deliveries for {crawls.Count} crawls");
        events.Select(e => e.CrawlId).Distinct().ShouldBe(crawls.Select(c => c.CrawlId), ignoreOrder: true);
        foreach (var crawl in events.GroupBy(e => e.CrawlId))
        {
            crawl.Select(e => e.EventId).Distinct().Count().ShouldBe(1, $"crawl {crawl.Key} arrived under more than one event id");
            crawl.Select(e => e.Sequence).Distinct().Count().ShouldBe(1);
            crawl.First().Articles.Count.ShouldBe(2);
        }
        // The events published before the kill went again (at least once), the rest once.
        events.Count.ShouldBe(publishedBeforeKill + crawls.Count);
        // Per symbol, the second round came in sequence order.
        foreach (var symbol in events.Skip(events.Count - crawls.Count).GroupBy(e => e.Symbol))
        {
            symbol.Select(e => e.Sequence).ShouldBeInOrder(SortDirection.Ascending);
        }
    }

    // Straight into the service's queue, as the crawler's results reach it.
    private static Task SendAsync(Uri virtualHost, IEnumerable<NewsCrawled> crawls) =>
        BrokerQueues.SendRawAsync(virtualHost, "store-news-crawled",
            [.. crawls.Select(crawl => new RawMessage(BrokerQueues.Envelope(crawl, NewId.NextGuid().ToString()), NewId.NextGuid().ToString()))], Cancel);

    private static async Task<long> CountAsync(string database, string table, string where = "1 = 1")
    {
        await using var connection = new MySqlConnector.MySqlConnection(database);
        await connection.OpenAsync(Cancel);
        await using var command = new MySqlConnector.MySqlCommand($"SELECT COUNT(*) FROM `{table}` WHERE {where}", connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(Cancel), System.Globalization.CultureInfo.InvariantCulture);
    }
}
