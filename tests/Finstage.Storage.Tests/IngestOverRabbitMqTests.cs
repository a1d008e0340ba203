using Finstage.Contracts;
using Finstage.Testing;

namespace Finstage.Storage.Tests;

public sealed class IngestOverRabbitMqTests(StorageFixture storage) : IAsyncLifetime
{
    public async ValueTask InitializeAsync() => await storage.ResetAsync();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    [Fact(Timeout = 90_000)]
    public async Task StoreNewsCrawled_StoresRows_WhenResultsArePublishedOverRabbitMq()
    {
        var crawls = Enumerable.Range(0, 30)
            .Select(i => Crawls.Crawled($"SYM{i % 10}", "yahoo", Crawls.Article(i), Crawls.Article(i + 100)))
            .ToList();

        foreach (var crawl in crawls)
        {
            await storage.PublishAsync(crawl);
        }
        // The same messages again, as a redelivery would bring them.
        foreach (var crawl in crawls.Take(10))
        {
            await storage.PublishAsync(crawl);
        }

        await Eventually.WaitForAsync(() => storage.CountAsync("crawl_runs"), count => count == 30, TimeSpan.FromSeconds(60), "30 crawl runs", TestContext.Current.CancellationToken);
        await Eventually.WaitForAsync(() => storage.CountAsync("article_symbols"), count => count == 60, TimeSpan.FromSeconds(30), "60 links", TestContext.Current.CancellationToken);
        (await storage.CountAsync("articles")).ShouldBe(60);
    }

    [Fact(Timeout = 90_000)]
    public async Task RecordCrawlFailed_RecordsRunWithReason_WhenFailureIsPublishedOverRabbitMq()
    {
        var failure = Crawls.Failed("^VIX", CrawlFailureReason.TooLarge);

        await storage.PublishAsync(failure);

        await Eventually.WaitForAsync(
            () => storage.CountAsync("crawl_runs", "`symbol` = '^VIX' AND `failure_reason` = 'TooLarge'"), count => count == 1,
            TimeSpan.FromSeconds(60), "the failed crawl run", TestContext.Current.CancellationToken);
    }
}
