using System.Globalization;
using Finstage.Contracts;
using Finstage.Storage.Events;
using Finstage.Storage.Infrastructure;
using Finstage.Storage.Writing;
using Finstage.Testing;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using MySqlConnector;

namespace Finstage.Storage.Tests;

/// <summary>
/// <see cref="ArticlesStored"/> events: written in the batch's transaction, relayed to the broker afterwards, once per
/// crawl result that stored something new, in commit order, pruned after their retention.
/// </summary>
[Trait("Category", "Reliability")]
public sealed class ArticleEventsTests(StorageFixture storage) : IAsyncLifetime
{
    // Generous: the relay is woken by the commit and takes milliseconds, but the machine is shared by many builds.
    private static readonly TimeSpan s_arrival = TimeSpan.FromSeconds(60);

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => await storage.ResetAsync();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    [Fact(Timeout = 120_000)]
    public async Task StoreAsync_PublishesOneEventPerCrawlWithNewArticles_WhenABatchCommits()
    {
        await using var tap = await ArticleEventsTap.StartAsync(storage.Broker, Cancel);
        var earlier = Crawls.Crawled("AAPL", "yahoo", Crawls.Article(1));
        await storage.Writer.StoreAsync([earlier], Cancel);
        await tap.WaitForCountAsync(1, s_arrival, Cancel);

        var fresh = Crawls.Crawled("AAPL", "yahoo", Crawls.Article(1), Crawls.Article(2), Crawls.Article(3) with { TitleDerived = true });
        var nothingNew = Crawls.Crawled("MSFT", "yahoo", Crawls.Article(1));
        var notModified = Crawls.Crawled("TSLA", "yahoo") with { NotModified = true, HttpStatus = 304 };
        // Article 2 is new to the database, but the batch stores it for the crawl that saw it first.
        var sameBatchLater = Crawls.Crawled("MSFT", "nasdaq", Crawls.Article(2));
        await storage.Writer.StoreAsync([fresh, nothingNew, notModified, sameBatchLater], Cancel);
        await tap.WaitForCountAsync(2, s_arrival, Cancel);

        var events = await tap.SettledAsync(Cancel);
        events.Select(e => e.CrawlId).ShouldBe([earlier.CrawlId, fresh.CrawlId]);
        var stored = events[1];
        stored.EventId.ShouldBe(await EventIdInOutboxAsync(fresh.CrawlId));
        stored.Sequence.ShouldBeGreaterThan(events[0].Sequence);
        (stored.CycleId, stored.Source, stored.Symbol).ShouldBe((fresh.CycleId, "yahoo", "AAPL"));
        stored.Articles.Select(a => a.Url).ShouldBe([Crawls.Article(2).Url, Crawls.Article(3).Url]);
        stored.Articles.Select(a => a.Id).ShouldBe(
            [ArticleId.ToHex(ArticleId.FromUrl(Crawls.Article(2).Url)), ArticleId.ToHex(ArticleId.FromUrl(Crawls.Article(3).Url))]);
        stored.Articles[0].ShouldBe(new StoredArticle(
            ArticleId.ToHex(ArticleId.FromUrl(Crawls.Article(2).Url)), Crawls.Article(2).Url, "Story 2", Crawls.Article(2).PublishedAt, "Example News"));
        stored.Articles[1].TitleDerived.ShouldBeTrue();
        // Every event is marked as relayed.
        (await storage.CountAsync("article_events", "`published_at` IS NULL")).ShouldBe(0);
    }

    [Fact(Timeout = 120_000)]
    public async Task StoreAsync_PublishesNothing_WhenTheCrawlResultIsARedelivery()
    {
        await using var tap = await ArticleEventsTap.StartAsync(storage.Broker, Cancel);
        var crawl = Crawls.Crawled("AAPL", "yahoo", Crawls.Article(1), Crawls.Article(2));
        await storage.Writer.StoreAsync([crawl], Cancel);
        await tap.WaitForCountAsync(1, s_arrival, Cancel);

        await storage.Writer.StoreAsync([crawl], Cancel);
        await storage.Writer.StoreAsync([crawl, crawl], Cancel);

        (await tap.SettledAsync(Cancel)).Count.ShouldBe(1);
        (await storage.CountAsync("article_events")).ShouldBe(1);
    }

    [Fact(Timeout = 180_000)]
    public async Task Relay_PublishesInSequenceOrderWithConsecutiveSequences_WhenBatchesCommitConcurrently()
    {
        const int Batches = 60;
        await using var tap = await ArticleEventsTap.StartAsync(storage.Broker, Cancel);
        var crawls = Enumerable.Range(0, Batches)
            .Select(i => Crawls.Crawled(i % 3 == 0 ? "MSFT" : "AAPL", "yahoo", Crawls.Article(1000 + i)))
            .ToList();
        // Up to the host's pool, batches run at once: their sequence numbers must still follow their commits.
        await Parallel.ForEachAsync(crawls, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = Cancel },
            async (crawl, ct) => await storage.Writer.StoreAsync([crawl], ct));
        await tap.WaitForCountAsync(Batches, s_arrival, Cancel);

        var events = await tap.SettledAsync(Cancel);
        events.Count.ShouldBe(Batches);
        events.Select(e => e.CrawlId).ShouldBe(crawls.Select(c => c.CrawlId), ignoreOrder: true);
        // One relay at a time, in order: the broker took them in sequence order, which has no gaps.
        var sequences = events.Select(e => e.Sequence).ToList();
        sequences.ShouldBe(Enumerable.Range(0, Batches).Select(i => sequences[0] + i));
    }

    [Fact(Timeout = 180_000)]
    public async Task Relay_PublishesEachEventOnce_WhenTwoStorageInstancesRelay()
    {
        const int Batches = 80;
        await using var tap = await ArticleEventsTap.StartAsync(storage.Broker, Cancel);
        // A second instance on the same database and broker, polling hard so the two relays contend all the time.
        await using var second = new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
            StorageFixture.Configure(web, storage.RuntimeConnectionString, storage.Broker, new Dictionary<string, string?>
            {
                ["ArticleEvents:PollInterval"] = "00:00:00.050",
            }));
        var secondWriter = second.Services.GetRequiredService<NewsWriter>();

        await Parallel.ForEachAsync(Enumerable.Range(0, Batches), new ParallelOptions { MaxDegreeOfParallelism = 6, CancellationToken = Cancel },
            async (i, ct) => await (i % 2 == 0 ? storage.Writer : secondWriter).StoreAsync(
                [Crawls.Crawled(i % 4 < 2 ? "AAPL" : "MSFT", "yahoo", Crawls.Article(2000 + i))], ct));
        await tap.WaitForCountAsync(Batches, s_arrival, Cancel);

        var events = await tap.SettledAsync(Cancel);
        events.Count.ShouldBe(Batches);
        events.Select(e => e.EventId).Distinct().Count().ShouldBe(Batches);
        events.Select(e => e.Sequence).ShouldBeInOrder(SortDirection.Ascending);
    }

    [Fact(Timeout = 180_000)]
    public async Task Relay_DeletesPublishedEventsPastTheRetention_WhenItPrunes()
    {
        await using var tap = await ArticleEventsTap.StartAsync(storage.Broker, Cancel);
        var now = DateTime.UtcNow;
        var oldPublished = Guid.NewGuid();
        var oldUnpublished = Guid.NewGuid();
        var recentPublished = Guid.NewGuid();
        await InsertEventAsync(900_001, oldPublished, now.AddDays(-2), publishedAt: now.AddDays(-2));
        await InsertEventAsync(900_002, recentPublished, now.AddHours(-1), publishedAt: now.AddHours(-1));
        await InsertEventAsync(900_003, oldUnpublished, now.AddDays(-2), publishedAt: null);

        // A new instance prunes at its first pass (the fixture's prunes at most once a minute).
        await using var pruner = new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
            StorageFixture.Configure(web, storage.RuntimeConnectionString, storage.Broker));
        _ = pruner.Services;

        await Eventually.WaitForAsync(() => storage.CountAsync("article_events", $"`event_id` = '{oldPublished}'"), n => n == 0,
            s_arrival, "the published event past the retention to be deleted", Cancel);
        // The unpublished one, however old, is published first, never lost.
        await tap.WaitForCountAsync(1, s_arrival, Cancel);
        (await tap.SettledAsync(Cancel)).Select(e => e.EventId).ShouldBe([oldUnpublished]);
        (await storage.CountAsync("article_events", $"`event_id` = '{recentPublished}'")).ShouldBe(1);
    }

    private async Task<Guid> EventIdInOutboxAsync(Guid crawlId)
    {
        await using var connection = new MySqlConnection(storage.ConnectionString);
        await connection.OpenAsync(Cancel);
        await using var command = new MySqlCommand("SELECT `event_id` FROM `article_events` WHERE `crawl_id` = @crawl", connection);
        command.Parameters.AddWithValue("@crawl", crawlId);
        return (Guid)(await command.ExecuteScalarAsync(Cancel))!;
    }

    private async Task InsertEventAsync(long sequence, Guid eventId, DateTime storedAt, DateTime? publishedAt)
    {
        await using var connection = new MySqlConnection(storage.ConnectionString);
        await connection.OpenAsync(Cancel);
        await using var command = new MySqlCommand(
            "INSERT INTO `article_events` (`sequence`,`event_id`,`crawl_id`,`cycle_id`,`source`,`symbol`,`stored_at`,`articles`,`published_at`)" +
            " VALUES (@sequence, @event, @crawl, @cycle, 'yahoo', 'AAPL', @stored, '[]', @published)", connection);
        command.Parameters.AddWithValue("@sequence", sequence);
        command.Parameters.AddWithValue("@event", eventId);
        command.Parameters.AddWithValue("@crawl", Guid.NewGuid());
        command.Parameters.AddWithValue("@cycle", Guid.NewGuid());
        command.Parameters.AddWithValue("@stored", storedAt);
        command.Parameters.AddWithValue("@published", publishedAt);
        await command.ExecuteNonQueryAsync(Cancel);
    }
}
