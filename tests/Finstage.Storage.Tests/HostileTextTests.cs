using Finstage.Contracts;
using Finstage.Storage.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Finstage.Storage.Tests;

/// <summary>
/// What a hostile feed can put into a crawl result within the crawler's 5 MB cap (issue 6): text
/// far beyond the columns and, together, beyond the database's packet limit. It must be stored
/// (cut to fit), not fail the batch and the innocent crawls in it.
/// </summary>
[Trait("Category", "Reliability")]
public sealed class HostileTextTests(StorageFixture storage) : IAsyncLifetime
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => await storage.ResetAsync();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    [Fact(Timeout = 120_000)]
    public async Task StoreAsync_CutsEveryFieldToItsColumn_WhenTitleAndOthersAreMegabytesLong()
    {
        var huge = new string('x', 3 * 1024 * 1024);
        var article = Crawls.Article(1) with
        {
            Title = "Long " + huge,
            Author = huge,
            Publisher = huge,
            ExternalId = huge,
            ImageUrl = "https://img.example.com/" + huge,
        };

        await storage.Writer.StoreAsync([Crawls.Crawled("AAPL", "yahoo", article)], Cancel);

        var stored = (await ReadArticlesAsync()).ShouldHaveSingleItem();
        stored.Title.Length.ShouldBe(FieldLengths.Title);
        stored.Title.ShouldStartWith("Long x");
        stored.Author!.Length.ShouldBe(FieldLengths.Name);
        stored.Publisher!.Length.ShouldBe(FieldLengths.Name);
        stored.ExternalId!.Length.ShouldBe(FieldLengths.ExternalId);
        stored.ImageUrl!.Length.ShouldBe(FieldLengths.Url);
    }

    [Fact(Timeout = 120_000)]
    public async Task StoreAsync_StoresTheWholeBatch_WhenLongSummariesTogetherExceedThePacketLimit()
    {
        // A 5 MB windows-1252 feed of "€" bytes becomes 5 M characters of 3 UTF-8 bytes each; a few
        // of them in one batch pass MariaDB's 16 MB max_allowed_packet in a single statement.
        var summary = new string('€', 4 * 1024 * 1024);
        var crawls = Enumerable.Range(1, 4)
            .Select(n => Crawls.Crawled("S" + n, "yahoo", Crawls.Article(n, summary: summary)))
            .Append(Crawls.Crawled("AAPL", "yahoo", Crawls.Article(10), Crawls.Article(11)))
            .ToList();

        await storage.Writer.StoreAsync(crawls, Cancel);

        (await storage.CountAsync("crawl_runs")).ShouldBe(5);
        (await storage.CountAsync("articles")).ShouldBe(6);
        var stored = await ReadArticlesAsync();
        stored.Where(article => article.Summary!.StartsWith('€')).ShouldAllBe(article => article.Summary!.Length <= FieldLengths.Summary);
        stored.Count(article => article.Summary!.StartsWith('€')).ShouldBe(4);
    }

    private async Task<List<Article>> ReadArticlesAsync() =>
        await storage.Services.QueryNewsDbAsync(
            (db, ct) => db.Articles.OrderBy(article => article.SortAt).ToListAsync(ct), Cancel);
}
