using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Finstage.Contracts;
using Finstage.Storage.Infrastructure;
using Finstage.Storage.Reading;
using Finstage.Storage.Writing;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Finstage.Storage.Tests;

/// <summary>
/// What one read may cost, whatever the history holds: list pages show summaries cut to 500 characters, a filter no
/// index serves examines a bounded number of rows and says where to go on, the symbol counts are kept by the write
/// path, and readers have a pool of their own that answers 503 when busy while ingest and readiness go on.
/// </summary>
[Trait("Category", "Reliability")]
public sealed class ReadBoundsTests(StorageFixture storage) : IAsyncLifetime
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => await storage.ResetAsync();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    [Fact(Timeout = 10_000)]
    public void BuildConnectionString_GivesReadsASmallPoolOfTheirOwnWithShortTimeouts_WhenDefaultsAreKept()
    {
        var ingest = new DatabaseOptions().BuildConnectionString("Server=db;Database=finstage;User ID=runtime");

        var reads = new MySqlConnector.MySqlConnectionStringBuilder(new ReadOptions().BuildConnectionString(ingest));

        reads.ConnectionString.ShouldNotBe(ingest, "MySqlConnector keeps one pool per connection string");
        reads.MaximumPoolSize.ShouldBe(4u);
        reads.MinimumPoolSize.ShouldBe(0u);
        reads.ConnectionTimeout.ShouldBe(2u);
        reads.DefaultCommandTimeout.ShouldBe(10u);
        reads.Database.ShouldBe("finstage");
        reads.UserID.ShouldBe("runtime");
    }

    [Fact(Timeout = 60_000)]
    public async Task ListNews_CutsSummariesToFiveHundredCharacters_WhenTheArticleHasItWhole()
    {
        // 600 emoji: 600 characters to the database and to the reader, 1,200 UTF-16 units.
        var emoji = string.Concat(Enumerable.Repeat("\U0001F4C8", 600));
        var million = new string('m', FieldLengths.Summary);
        await storage.Writer.StoreAsync([Crawls.Crawled("AAPL", "yahoo",
            Crawls.Article(1, summary: million), Crawls.Article(2, summary: emoji), Crawls.Article(3, summary: "Short"))], Cancel);
        using var client = storage.CreateClient();

        var items = (await client.GetFromJsonAsync<JsonElement>(new Uri("/api/news", UriKind.Relative), Cancel)).GetProperty("items");
        var article = await client.GetFromJsonAsync<JsonElement>(new Uri("/api/news/" + items[0].GetProperty("id").GetString(), UriKind.Relative), Cancel);

        items[0].GetProperty("summary").GetString().ShouldBe(new string('m', ColumnLimits.SummaryPreview));
        items[0].GetProperty("summaryTruncated").GetBoolean().ShouldBeTrue();
        items[0].GetProperty("summaryLength").GetInt32().ShouldBe(FieldLengths.Summary);
        items[1].GetProperty("summary").GetString().ShouldBe(string.Concat(Enumerable.Repeat("\U0001F4C8", ColumnLimits.SummaryPreview)), "cut by characters, never inside one");
        items[1].GetProperty("summaryTruncated").GetBoolean().ShouldBeTrue();
        items[1].GetProperty("summaryLength").GetInt32().ShouldBe(600);
        items[2].GetProperty("summary").GetString().ShouldBe("Short");
        items[2].GetProperty("summaryTruncated").GetBoolean().ShouldBeFalse();
        article.GetProperty("summary").GetString().ShouldBe(million);
        article.GetProperty("summaryTruncated").GetBoolean().ShouldBeFalse();
    }

    [Fact(Timeout = 120_000)]
    public async Task ListNews_ExaminesAtMostScanRowsAndGoesOnByCursor_WhenTheTextMatchesOnlyOldArticles()
    {
        // 250 articles, one a minute; only the oldest two mention the word.
        var articles = Enumerable.Range(1, 250).Select(n => Crawls.Article(n, Crawls.Noon.AddMinutes(-n),
            summary: n >= 249 ? "Rare merger talk" : "Ordinary day")).ToArray();
        await storage.Writer.StoreAsync([Crawls.Crawled("AAPL", "yahoo", articles)], Cancel);
        await using var host = Host(new() { ["Reads:ScanRows"] = "100" });
        using var client = host.CreateClient();

        foreach (var filter in new[] { "text=merger", "text=merger&symbol=AAPL", "symbol=AAPL&source=yahoo&text=merger" })
        {
            var pages = new List<JsonElement>();
            string? cursor = null;
            do
            {
                var page = await client.GetFromJsonAsync<JsonElement>(
                    new Uri($"/api/news?{filter}&limit=10" + (cursor is null ? "" : "&cursor=" + cursor), UriKind.Relative), Cancel);
                pages.Add(page);
                cursor = page.GetProperty("nextCursor").GetString();
            }
            while (cursor is not null && pages.Count < 10);

            // 100 rows a request: the newest 200 hold no match, the last 50 both.
            pages.Select(page => page.GetProperty("items").GetArrayLength()).ShouldBe([0, 0, 2], filter);
            pages[^1].GetProperty("items").EnumerateArray().Select(item => item.GetProperty("title").GetString()).ShouldBe(["Story 249", "Story 250"]);
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task ListCrawls_ExaminesAtMostScanRowsAndGoesOnByCursor_WhenTheStatusIsRare()
    {
        await storage.Writer.RecordFailureAsync(Crawls.Failed("OLD", CrawlFailureReason.Timeout) with { FailedAt = Crawls.Noon.AddDays(-1) }, Cancel);
        for (var i = 0; i < 150; i++)
        {
            await storage.Writer.StoreAsync([Crawls.Crawled($"S{i}") with { FetchedAt = Crawls.Noon.AddSeconds(i) }], Cancel);
        }
        await using var host = Host(new() { ["Reads:ScanRows"] = "100" });
        using var client = host.CreateClient();

        var first = await client.GetFromJsonAsync<JsonElement>(new Uri("/api/crawls?status=Failed", UriKind.Relative), Cancel);
        var second = await client.GetFromJsonAsync<JsonElement>(
            new Uri("/api/crawls?status=Failed&cursor=" + first.GetProperty("nextCursor").GetString(), UriKind.Relative), Cancel);

        first.GetProperty("items").GetArrayLength().ShouldBe(0);
        second.GetProperty("items")[0].GetProperty("symbol").GetString().ShouldBe("OLD");
        second.GetProperty("nextCursor").ValueKind.ShouldBe(JsonValueKind.Null);
    }

    [Fact(Timeout = 60_000)]
    public async Task ListSymbols_CountsEachLinkOnce_WhenResultsAreRedeliveredOrArticlesSeenAgain()
    {
        var first = Crawls.Crawled("AAPL", "yahoo", Crawls.Article(1), Crawls.Article(2));
        await storage.Writer.StoreAsync([first], Cancel);
        // The same result again, the same articles under a new crawl, and one of them for a second symbol.
        await storage.Writer.StoreAsync([first], Cancel);
        await storage.Writer.StoreAsync([Crawls.Crawled("AAPL", "yahoo", Crawls.Article(2), Crawls.Article(3, Crawls.Noon.AddHours(1)))], Cancel);
        await storage.Writer.StoreAsync([Crawls.Crawled("MSFT", "investing", Crawls.Article(1))], Cancel);
        // Two batches at once that link the same new article to the same symbol.
        await Task.WhenAll(
            storage.Writer.StoreAsync([Crawls.Crawled("TSLA", "yahoo", Crawls.Article(4))], Cancel),
            storage.Writer.StoreAsync([Crawls.Crawled("TSLA", "yahoo", Crawls.Article(4))], Cancel));
        using var client = storage.CreateClient();

        var symbols = (await client.GetFromJsonAsync<JsonElement>(new Uri("/api/symbols", UriKind.Relative), Cancel))
            .EnumerateArray().ToDictionary(symbol => symbol.GetProperty("symbol").GetString()!);

        symbols["AAPL"].GetProperty("articleCount").GetInt32().ShouldBe(3);
        symbols["AAPL"].GetProperty("newestArticleAt").GetString().ShouldBe("2026-08-14T13:00:00Z");
        symbols["MSFT"].GetProperty("articleCount").GetInt32().ShouldBe(1);
        symbols["MSFT"].GetProperty("lastCrawlSource").GetString().ShouldBe("investing");
        symbols["TSLA"].GetProperty("articleCount").GetInt32().ShouldBe(1);
        foreach (var symbol in new[] { "AAPL", "MSFT", "TSLA" })
        {
            // The kept count is the links' own count.
            symbols[symbol].GetProperty("articleCount").GetInt32().ShouldBe((int)await storage.CountAsync("article_symbols", $"`symbol` = '{symbol}'"));
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task SourceHealth_FindsTheLastFailureAndSuccess_WhenTheyAreOlderThanTheWindow()
    {
        await storage.Writer.RecordFailureAsync(Crawls.Failed("OLD", CrawlFailureReason.HttpError) with { FailedAt = Crawls.Noon.AddDays(-2) }, Cancel);
        await storage.Writer.StoreAsync([Crawls.Crawled("OK") with { FetchedAt = Crawls.Noon.AddDays(-1), NotModified = true, Articles = [] }], Cancel);
        for (var i = 0; i < 5; i++)
        {
            await storage.Writer.RecordFailureAsync(Crawls.Failed($"F{i}", CrawlFailureReason.Timeout) with { FailedAt = Crawls.Noon.AddMinutes(i) }, Cancel);
        }
        using var client = storage.CreateClient();

        var yahoo = (await client.GetFromJsonAsync<JsonElement>(new Uri("/api/sources/health?runs=3", UriKind.Relative), Cancel))[0];

        yahoo.GetProperty("recentRuns").GetInt32().ShouldBe(3);
        yahoo.GetProperty("successRate").GetDouble().ShouldBe(0);
        yahoo.GetProperty("lastSuccessAt").GetString().ShouldBe("2026-08-13T12:00:00Z");
        yahoo.GetProperty("lastFailureAt").GetString().ShouldBe("2026-08-14T12:04:00Z");
        yahoo.GetProperty("lastFailureReason").GetString().ShouldBe("Timeout");
    }

    [Fact(Timeout = 90_000)]
    public async Task Reads_Answer503Quickly_WhileIngestAndReadinessGoOn_WhenTheReadPoolIsBusy()
    {
        await using var host = Host(new() { ["Reads:MaxPoolSize"] = "1", ["Reads:CheckoutTimeoutSeconds"] = "1" });
        using var client = host.CreateClient();
        var sessions = host.Services.GetRequiredService<ReadSessions>();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // A read that holds the read pool's only connection, as a slow query would.
        var holder = sessions.QueryAsync(async (_, ct) =>
        {
            held.SetResult();
            await release.Task.WaitAsync(ct);
            return true;
        }, Cancel);
        await held.Task;
        try
        {
            var clock = Stopwatch.StartNew();
            using var busy = await client.GetAsync(new Uri("/api/news", UriKind.Relative), Cancel);
            var answeredIn = clock.Elapsed;
            using var ready = await client.GetAsync(new Uri("/health/ready", UriKind.Relative), Cancel);
            await host.Services.GetRequiredService<NewsWriter>().StoreAsync([Crawls.Crawled("AAPL", "yahoo", Crawls.Article(1))], Cancel);

            busy.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable, await busy.Content.ReadAsStringAsync(Cancel));
            busy.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
            busy.Headers.RetryAfter!.Delta.ShouldBe(TimeSpan.FromSeconds(1));
            // The 1 s checkout timeout, not the minute ingest's pool waits; generous for a busy machine.
            answeredIn.ShouldBeLessThan(TimeSpan.FromSeconds(15));
            ready.StatusCode.ShouldBe(HttpStatusCode.OK, await ready.Content.ReadAsStringAsync(Cancel));
            (await storage.CountAsync("article_symbols", "`symbol` = 'AAPL'")).ShouldBe(1);
        }
        finally
        {
            release.SetResult();
            await holder;
        }
        using var freed = await client.GetAsync(new Uri("/api/news", UriKind.Relative), Cancel);
        freed.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    // A host of the test's own, with its own pools (its read settings make its read connection string, and so its pool, unique).
    private WebApplicationFactory<Program> Host(Dictionary<string, string?> settings)
    {
        var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
            StorageFixture.Configure(web, storage.RuntimeConnectionString, storage.Broker, settings));
        _ = factory.Services;
        return factory;
    }
}
