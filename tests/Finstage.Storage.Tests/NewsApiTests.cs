using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Finstage.Contracts;
using Finstage.Storage.Infrastructure;
using Finstage.Storage.Writing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Finstage.Storage.Tests;

public sealed class NewsApiTests(StorageFixture storage) : IAsyncLifetime
{
    private readonly HttpClient _client = storage.CreateClient();

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => await storage.ResetAsync();

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }

    [Fact(Timeout = 60_000)]
    public async Task ListNews_ReturnsNewestFirstWithSymbols_WhenUnfiltered()
    {
        await storage.Writer.StoreAsync(
            [Crawls.Crawled("AAPL", "yahoo", Crawls.Article(1), Crawls.Article(2)), Crawls.Crawled("MSFT", "yahoo", Crawls.Article(1))], Cancel);

        var page = await GetPageAsync("/api/news");

        Titles(page).ShouldBe(["Story 1", "Story 2"]);
        page.GetProperty("items")[0].GetProperty("symbols").EnumerateArray().Select(s => s.GetString()).ShouldBe(["AAPL", "MSFT"]);
        page.GetProperty("items")[0].GetProperty("publishedAt").GetString().ShouldBe("2026-08-14T11:59:00Z");
        page.GetProperty("nextCursor").ValueKind.ShouldBe(JsonValueKind.Null);
    }

    [Fact(Timeout = 60_000)]
    [Trait("Category", "Reliability")]
    [Trait("Category", "Security")]
    public async Task ListNews_OrdersAFarFutureArticleByItsFirstSighting_WhenItsFeedDatesItYearsAhead()
    {
        // A feed that dates its story 2099 must not pin it above everything published since.
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 8, 14, 9, 0, 0, TimeSpan.Zero));
        var writer = new NewsWriter(storage.Services.GetRequiredService<WriteSessions>(), clock, storage.Services.GetRequiredService<StorageMetrics>());
        await writer.StoreAsync(
            [Crawls.Crawled("AAPL", "yahoo", Crawls.Article(1, publishedAt: new DateTimeOffset(2099, 1, 1, 0, 0, 0, TimeSpan.Zero)))], Cancel);
        clock.Advance(TimeSpan.FromHours(2));
        await writer.StoreAsync([Crawls.Crawled("AAPL", "yahoo", Crawls.Article(2, publishedAt: clock.GetUtcNow().AddHours(-1)))], Cancel);

        var page = await GetPageAsync("/api/news");
        var symbolPage = await GetPageAsync("/api/news?symbol=AAPL");

        Titles(page).ShouldBe(["Story 2", "Story 1"]);
        Titles(symbolPage).ShouldBe(["Story 2", "Story 1"]);
        page.GetProperty("items")[1].GetProperty("publishedAt").GetString().ShouldBe("2099-01-01T00:00:00Z");
    }

    [Fact(Timeout = 60_000)]
    public async Task ListNews_ReturnsEverySymbolExactlyInOrdinalOrder_WhenSymbolsHoldJsonSpecialCharacters()
    {
        // The page reads each article's symbols as one JSON array from the database.
        string[] symbols = ["^GSPC", "A\"B\\C", "DX-Y.NYB", "ÉTF/ü", "AAPL"];
        await storage.Writer.StoreAsync([.. symbols.Select(symbol => Crawls.Crawled(symbol, "yahoo", Crawls.Article(1)))], Cancel);
        string[] expected = ["A\"B\\C", "AAPL", "DX-Y.NYB", "^GSPC", "ÉTF/ü"];

        var listed = (await GetPageAsync("/api/news?symbol=%5EGSPC")).GetProperty("items")[0];
        using var one = await _client.GetAsync(new Uri("/api/news/" + listed.GetProperty("id").GetString(), UriKind.Relative), Cancel);
        var article = await one.Content.ReadFromJsonAsync<JsonElement>(Cancel);

        listed.GetProperty("symbols").EnumerateArray().Select(s => s.GetString()).ShouldBe(expected);
        article.GetProperty("symbols").EnumerateArray().Select(s => s.GetString()).ShouldBe(expected);
    }

    [Fact(Timeout = 60_000)]
    public async Task ListNews_FiltersBySymbolAndSource_WhenBothAreGiven()
    {
        await storage.Writer.StoreAsync(
        [
            Crawls.Crawled("AAPL", "yahoo", Crawls.Article(1), Crawls.Article(2)),
            Crawls.Crawled("MSFT", "yahoo", Crawls.Article(3)),
            Crawls.Crawled("ECONOMY", "investing", Crawls.Article(4)),
        ], Cancel);

        Titles(await GetPageAsync("/api/news?symbol=AAPL")).ShouldBe(["Story 1", "Story 2"]);
        Titles(await GetPageAsync("/api/news?source=investing")).ShouldBe(["Story 4"]);
        Titles(await GetPageAsync("/api/news?symbol=AAPL&source=investing")).ShouldBeEmpty();
        Titles(await GetPageAsync("/api/news?symbol=NVDA")).ShouldBeEmpty();
    }

    [Fact(Timeout = 60_000)]
    public async Task ListNews_KeepsOnlyTheTimeRange_WhenFromAndToAreGiven()
    {
        var articles = Enumerable.Range(1, 5).Select(n => Crawls.Article(n, Crawls.Noon.AddHours(-n))).ToArray();
        await storage.Writer.StoreAsync([Crawls.Crawled("AAPL", "yahoo", articles)], Cancel);

        Titles(await GetPageAsync("/api/news?from=2026-08-14T09:00:00Z&to=2026-08-14T11:00:00Z")).ShouldBe(["Story 1", "Story 2", "Story 3"]);
        Titles(await GetPageAsync("/api/news?symbol=AAPL&from=2026-08-14T10:00:00Z")).ShouldBe(["Story 1", "Story 2"]);
        Titles(await GetPageAsync("/api/news?to=2026-08-14T08:00:00%2B01:00")).ShouldBe(["Story 5"]);
    }

    [Fact(Timeout = 60_000)]
    public async Task ListNews_MatchesTitleOrSummaryLiterally_WhenTextIsGiven()
    {
        await storage.Writer.StoreAsync([Crawls.Crawled("AAPL", "yahoo",
            Crawls.Article(1) with { Title = "Fed holds rates" },
            Crawls.Article(2) with { Summary = "Rates rose 5% after the FED spoke" },
            Crawls.Article(3) with { Title = "Oil rallies", Summary = "Crude up 50 cents" })], Cancel);

        Titles(await GetPageAsync("/api/news?text=fed")).ShouldBe(["Fed holds rates", "Story 2"]);
        Titles(await GetPageAsync("/api/news?text=5%25")).ShouldBe(["Story 2"]);
        Titles(await GetPageAsync("/api/news?text=_")).ShouldBeEmpty();
    }

    [Fact(Timeout = 90_000)]
    public async Task ListNews_WalksEveryArticleOnce_WhenFollowingCursors()
    {
        // 23 articles, several sharing one publication time, so the key breaks ties.
        var articles = Enumerable.Range(1, 23).Select(n => Crawls.Article(n, Crawls.Noon.AddMinutes(-(n / 4)))).ToArray();
        await storage.Writer.StoreAsync([Crawls.Crawled("AAPL", "yahoo", articles)], Cancel);

        foreach (var filter in new[] { "", "&symbol=AAPL", "&source=yahoo" })
        {
            var seen = new List<string>();
            string? cursor = null;
            var pages = 0;
            do
            {
                var page = await GetPageAsync($"/api/news?limit=5{filter}" + (cursor is null ? "" : "&cursor=" + cursor));
                seen.AddRange(page.GetProperty("items").EnumerateArray().Select(item => item.GetProperty("id").GetString()!));
                cursor = page.GetProperty("nextCursor").GetString();
                pages++;
            }
            while (cursor is not null);

            pages.ShouldBe(5);
            seen.Count.ShouldBe(23);
            seen.Distinct().Count().ShouldBe(23);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task ListNews_ReturnsNoNextCursor_WhenPageIsExactlyFull()
    {
        await storage.Writer.StoreAsync([Crawls.Crawled("AAPL", "yahoo", Crawls.Article(1), Crawls.Article(2))], Cancel);

        var page = await GetPageAsync("/api/news?limit=2");

        Titles(page).Count.ShouldBe(2);
        page.GetProperty("nextCursor").ValueKind.ShouldBe(JsonValueKind.Null);
    }

    [Theory(Timeout = 60_000)]
    [InlineData("/api/news?limit=0", "limit")]
    [InlineData("/api/news?limit=201", "limit")]
    [InlineData("/api/news?limit=ten", "limit")]
    [InlineData("/api/news?from=yesterday", "from")]
    [InlineData("/api/news?from=2026-08-15&to=2026-08-14", "from")]
    [InlineData("/api/news?cursor=not-a-cursor", "cursor")]
    [InlineData("/api/news?cursor=MTIzfHh5eg", "cursor")]
    [InlineData("/api/news?symbol=", "symbol")]
    [InlineData("/api/news/xyz", "id")]
    [InlineData("/api/crawls?status=Exploded", "status")]
    [InlineData("/api/crawls?cycleId=12", "cycleId")]
    [InlineData("/api/crawls?limit=-1", "limit")]
    [InlineData("/api/sources/health?runs=0", "runs")]
    public async Task Api_Returns400ProblemNamingTheParameter_WhenInputIsBad(string url, string parameter)
    {
        using var response = await _client.GetAsync(new Uri(url, UriKind.Relative), Cancel);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Cancel);
        problem.GetProperty("errors").TryGetProperty(parameter, out _).ShouldBeTrue();
    }

    [Fact(Timeout = 60_000)]
    public async Task GetArticle_ReturnsArticleWithSymbols_WhenIdIsKnown()
    {
        await storage.Writer.StoreAsync([Crawls.Crawled("AAPL", "yahoo", Crawls.Article(1)), Crawls.Crawled("TSLA", "yahoo", Crawls.Article(1))], Cancel);
        var id = (await GetPageAsync("/api/news")).GetProperty("items")[0].GetProperty("id").GetString();

        var article = await _client.GetFromJsonAsync<JsonElement>(new Uri($"/api/news/{id}", UriKind.Relative), Cancel);

        article.GetProperty("title").GetString().ShouldBe("Story 1");
        article.GetProperty("url").GetString().ShouldBe("https://news.example.com/markets/story-1");
        article.GetProperty("symbols").EnumerateArray().Select(s => s.GetString()).ShouldBe(["AAPL", "TSLA"]);
    }

    [Fact(Timeout = 60_000)]
    public async Task GetArticle_Returns404Problem_WhenIdIsUnknown()
    {
        using var response = await _client.GetAsync(new Uri("/api/news/00000000000000000000000000000000", UriKind.Relative), Cancel);

        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
    }

    [Fact(Timeout = 60_000)]
    public async Task ListSymbols_CountsArticlesAndShowsLastCrawl_WhenSymbolsWereCrawled()
    {
        await storage.Writer.StoreAsync([Crawls.Crawled("AAPL", "yahoo", Crawls.Article(1), Crawls.Article(2))], Cancel);
        await storage.Writer.RecordFailureAsync(Crawls.Failed("TSLA", CrawlFailureReason.Timeout) with { FailedAt = Crawls.Noon.AddMinutes(5) }, Cancel);

        var symbols = await _client.GetFromJsonAsync<JsonElement>(new Uri("/api/symbols", UriKind.Relative), Cancel);

        symbols.GetArrayLength().ShouldBe(2);
        var aapl = symbols[0];
        aapl.GetProperty("symbol").GetString().ShouldBe("AAPL");
        aapl.GetProperty("articleCount").GetInt32().ShouldBe(2);
        aapl.GetProperty("newestArticleAt").GetString().ShouldBe("2026-08-14T11:59:00Z");
        aapl.GetProperty("lastCrawlStatus").GetString().ShouldBe("Succeeded");
        var tsla = symbols[1];
        tsla.GetProperty("articleCount").GetInt32().ShouldBe(0);
        tsla.GetProperty("lastCrawlStatus").GetString().ShouldBe("Failed");
    }

    [Fact(Timeout = 60_000)]
    public async Task ListCrawls_FiltersAndPages_WhenRunsOfBothOutcomesExist()
    {
        var cycle = Guid.NewGuid();
        for (var i = 0; i < 7; i++)
        {
            await storage.Writer.StoreAsync([Crawls.Crawled($"S{i}") with { CycleId = cycle, FetchedAt = Crawls.Noon.AddSeconds(i % 3) }], Cancel);
        }
        await storage.Writer.RecordFailureAsync(Crawls.Failed("BROKEN", CrawlFailureReason.ParseError, "investing"), Cancel);

        var failed = await GetPageAsync("/api/crawls?status=failed");
        failed.GetProperty("items").GetArrayLength().ShouldBe(1);
        failed.GetProperty("items")[0].GetProperty("failureReason").GetString().ShouldBe("ParseError");
        failed.GetProperty("items")[0].GetProperty("status").GetString().ShouldBe("Failed");
        (await GetPageAsync("/api/crawls?source=investing")).GetProperty("items").GetArrayLength().ShouldBe(1);
        (await GetPageAsync("/api/crawls?symbol=S3")).GetProperty("items").GetArrayLength().ShouldBe(1);

        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var page = await GetPageAsync($"/api/crawls?cycleId={cycle}&limit=3" + (cursor is null ? "" : "&cursor=" + cursor));
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(item => item.GetProperty("crawlId").GetString()!));
            cursor = page.GetProperty("nextCursor").GetString();
        }
        while (cursor is not null);
        seen.Count.ShouldBe(7);
        seen.Distinct().Count().ShouldBe(7);
    }

    [Fact(Timeout = 60_000)]
    public async Task SourceHealth_ReportsRateAndLastFailure_WhenSourceHasMixedRuns()
    {
        for (var i = 0; i < 3; i++)
        {
            await storage.Writer.StoreAsync([Crawls.Crawled("AAPL") with { FetchedAt = Crawls.Noon.AddMinutes(i) }], Cancel);
        }
        await storage.Writer.RecordFailureAsync(Crawls.Failed("TSLA", CrawlFailureReason.RateLimited) with { FailedAt = Crawls.Noon.AddMinutes(10) }, Cancel);

        var health = await _client.GetFromJsonAsync<JsonElement>(new Uri("/api/sources/health", UriKind.Relative), Cancel);

        health.GetArrayLength().ShouldBe(1);
        var yahoo = health[0];
        yahoo.GetProperty("source").GetString().ShouldBe("yahoo");
        yahoo.GetProperty("recentRuns").GetInt32().ShouldBe(4);
        yahoo.GetProperty("successRate").GetDouble().ShouldBe(0.75);
        yahoo.GetProperty("lastSuccessAt").GetString().ShouldBe("2026-08-14T12:02:00Z");
        yahoo.GetProperty("lastFailureAt").GetString().ShouldBe("2026-08-14T12:10:00Z");
        yahoo.GetProperty("lastFailureReason").GetString().ShouldBe("RateLimited");
    }

    [Fact(Timeout = 60_000)]
    [Trait("Category", "Reliability")]
    public async Task ListCrawls_ShowsEveryFailureReasonByName_WhenARunFailedForEachReason()
    {
        // Every reason the crawler can send, BlockedAddress included, fits the column and reads back by name.
        var reasons = Enum.GetValues<CrawlFailureReason>();
        for (var i = 0; i < reasons.Length; i++)
        {
            await storage.Writer.RecordFailureAsync(
                Crawls.Failed($"S{i}", reasons[i], "feed") with { FailedAt = Crawls.Noon.AddMinutes(i) }, Cancel);
        }

        var failed = await GetPageAsync("/api/crawls?source=feed&status=Failed&limit=200");
        var health = await _client.GetFromJsonAsync<JsonElement>(new Uri("/api/sources/health", UriKind.Relative), Cancel);

        failed.GetProperty("items").EnumerateArray().Select(item => item.GetProperty("failureReason").GetString())
            .ShouldBe(reasons.Select(reason => reason.ToString()), ignoreOrder: true);
        health.GetArrayLength().ShouldBe(1);
        health[0].GetProperty("lastFailureReason").GetString().ShouldBe(reasons[^1].ToString());
    }

    [Fact(Timeout = 60_000)]
    public async Task OpenApi_DescribesEveryEndpoint_WhenRequested()
    {
        var document = await _client.GetFromJsonAsync<JsonElement>(new Uri("/openapi/v1.json", UriKind.Relative), Cancel);
        using var scalar = await _client.GetAsync(new Uri("/scalar/v1", UriKind.Relative), Cancel);

        var paths = document.GetProperty("paths").EnumerateObject().Select(path => path.Name).ToList();
        paths.ShouldBe(["/api/news", "/api/news/{id}", "/api/news/stream", "/api/symbols", "/api/crawls", "/api/sources/health"], ignoreOrder: true);
        scalar.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact(Timeout = 60_000)]
    public async Task Health_ReportsReady_WhenDatabaseAndBrokerAnswer()
    {
        using var ready = await _client.GetAsync(new Uri("/health/ready", UriKind.Relative), Cancel);
        using var live = await _client.GetAsync(new Uri("/health/live", UriKind.Relative), Cancel);

        ready.StatusCode.ShouldBe(HttpStatusCode.OK, await ready.Content.ReadAsStringAsync(Cancel));
        live.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    private async Task<JsonElement> GetPageAsync(string url)
    {
        using var response = await _client.GetAsync(new Uri(url, UriKind.Relative), Cancel);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Cancel));
        return await response.Content.ReadFromJsonAsync<JsonElement>(Cancel);
    }

    private static List<string> Titles(JsonElement page) =>
        [.. page.GetProperty("items").EnumerateArray().Select(item => item.GetProperty("title").GetString()!)];
}
