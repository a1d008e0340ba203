using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Finstage.Contracts;
using Finstage.Scheduler.Jobs;
using Finstage.Testing;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Finstage.Scheduler.Tests;

/// <summary>/api/watchlist on the real database and broker: the watchlist as data, and what the polling rounds do with it.</summary>
[Trait("Category", "Reliability")]
public sealed class WatchlistApiTests(SchedulerFixture scheduler)
{
    private static readonly IPAddress ElsewhereAddress = IPAddress.Parse("203.0.113.9");

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Theory(Timeout = 60_000)]
    [InlineData("bloomberg", "AAPL", """{}""", "source")]
    [InlineData("yahoo", "AAPLAAPLAAPLAAPLAAPLAAPLAAPLAAPLAAPLAAPLAAPLAAPLAAPLAAPLAAPLAAPLAAPLAAPLAAPLAAPLAAPLAAPLAAPLAAPLAAPLAAPLAAPLAAPLAAPLAAPLAAPLAAPLAAPL", """{}""", "symbol")]
    [InlineData("yahoo", "A%01B", """{}""", "symbol")]
    [InlineData("feed", "news", """{"feedUrl":"ftp://feeds.example.com/rss"}""", "feedUrl")]
    [InlineData("feed", "news", """{"feedUrl":"https://user:secret@feeds.example.com/rss"}""", "feedUrl")]
    [InlineData("yahoo", "NOTADDED", """{"priority":101}""", "priority")]
    [InlineData("yahoo", "NOTADDED", """{"minIntervalSeconds":1}""", "minIntervalSeconds")]
    [InlineData("yahoo", "NOTADDED", """{"minIntervalSeconds":600,"maxIntervalSeconds":60}""", "maxIntervalSeconds")]
    public async Task Put_Returns400ProblemNamingTheField_WhenTheEntryIsBad(string source, string symbol, string body, string field)
    {
        using var client = scheduler.Factory.CreateClient();

        using var response = await client.PutAsync(
            new Uri($"/api/watchlist/{source}/{symbol}", UriKind.Relative), new StringContent(body, Encoding.UTF8, "application/json"), Cancel);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Cancel);
        problem.GetProperty("errors").TryGetProperty(field, out _).ShouldBeTrue(problem.ToString());
        (await GetAsync(client, source, Uri.UnescapeDataString(symbol))).ShouldBe(HttpStatusCode.NotFound);
    }

    [Fact(Timeout = 60_000)]
    public async Task Put_CreatesThenReplaces_AndDeleteAnswers204Twice_WhenRepeated()
    {
        using var client = scheduler.Factory.CreateClient();
        const string path = "/api/watchlist/yahoo/%5EIDEMPOTENT";
        try
        {
            using var created = await client.PutAsJsonAsync(path, new { priority = 5, enabled = false }, Cancel);
            using var again = await client.PutAsJsonAsync(path, new { priority = 5, enabled = false }, Cancel);
            using var changed = await client.PutAsJsonAsync(path, new { priority = 7, enabled = false, minIntervalSeconds = 120, maxIntervalSeconds = 600 }, Cancel);

            created.StatusCode.ShouldBe(HttpStatusCode.Created);
            again.StatusCode.ShouldBe(HttpStatusCode.OK);
            changed.StatusCode.ShouldBe(HttpStatusCode.OK);
            var entry = await client.GetFromJsonAsync<JsonElement>(new Uri(path, UriKind.Relative), Cancel);
            entry.GetProperty("symbol").GetString().ShouldBe("^IDEMPOTENT");
            entry.GetProperty("priority").GetInt32().ShouldBe(7);
            entry.GetProperty("enabled").GetBoolean().ShouldBeFalse();
            entry.GetProperty("minIntervalSeconds").GetInt32().ShouldBe(120);
            // A new entry starts at Polling:InitialInterval (3 min), within its own bounds.
            entry.GetProperty("intervalSeconds").GetDouble().ShouldBe(180);
            entry.GetProperty("polling").GetString().ShouldBe("adaptive");
            var list = await client.GetFromJsonAsync<JsonElement>(new Uri("/api/watchlist", UriKind.Relative), Cancel);
            list.GetProperty("entries").EnumerateArray().Count(e => e.GetProperty("symbol").GetString() == "^IDEMPOTENT").ShouldBe(1);
        }
        finally
        {
            using var deleted = await client.DeleteAsync(new Uri(path, UriKind.Relative), Cancel);
            using var deletedAgain = await client.DeleteAsync(new Uri(path, UriKind.Relative), Cancel);
            deleted.StatusCode.ShouldBe(HttpStatusCode.NoContent);
            deletedAgain.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        }
        (await GetAsync(client, "yahoo", "^IDEMPOTENT")).ShouldBe(HttpStatusCode.NotFound);
    }

    [Fact(Timeout = 90_000)]
    [Trait("Category", "Security")]
    public async Task Api_AsksForCredentials_WhenCalledFromAnotherHost()
    {
        var factory = scheduler.Create(
            new Dictionary<string, string?> { ["Dashboard:Username"] = "ops", ["Dashboard:Password"] = "s3cret" }, ElsewhereAddress);
        try
        {
            using var client = factory.CreateClient();

            using var list = await client.GetAsync(new Uri("/api/watchlist", UriKind.Relative), Cancel);
            using var put = await client.PutAsJsonAsync("/api/watchlist/yahoo/INTRUDER", new { }, Cancel);
            using var crawl = await client.PostAsJsonAsync("/api/crawls", new { source = "yahoo", symbols = new[] { "AAPL" } }, Cancel);
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("ops:s3cret")));
            using var signedIn = await client.GetAsync(new Uri("/api/watchlist", UriKind.Relative), Cancel);

            list.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
            put.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
            crawl.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
            signedIn.StatusCode.ShouldBe(HttpStatusCode.OK);
            using var local = scheduler.Factory.CreateClient();
            (await GetAsync(local, "yahoo", "INTRUDER")).ShouldBe(HttpStatusCode.NotFound);
        }
        finally
        {
            scheduler.RestoreHangfireGlobals();
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task Watchlist_SurvivesARestart_AndAGroupIsSeededOnlyOnce_WhenEntriesWereChangedThroughTheApi()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Schedule:Groups:restart:Source"] = "investing",
            ["Schedule:Groups:restart:Symbols:0"] = "RESTART1",
            ["Schedule:Groups:restart:Symbols:1"] = "RESTART2",
        };
        try
        {
            var first = scheduler.Create(settings);
            using (var client = first.CreateClient())
            {
                (await GetAsync(client, "investing", "RESTART1")).ShouldBe(HttpStatusCode.OK);
                using var removed = await client.DeleteAsync(new Uri("/api/watchlist/investing/RESTART1", UriKind.Relative), Cancel);
                using var changed = await client.PutAsJsonAsync("/api/watchlist/investing/RESTART2", new { priority = 9, enabled = false }, Cancel);
                using var added = await client.PutAsJsonAsync("/api/watchlist/investing/RESTART3", new { enabled = false }, Cancel);
                added.StatusCode.ShouldBe(HttpStatusCode.Created);
            }

            // A second start with the same configuration: the database, not the configuration, is the watchlist now.
            var second = scheduler.Create(settings);
            using var restarted = second.CreateClient();
            (await GetAsync(restarted, "investing", "RESTART1")).ShouldBe(HttpStatusCode.NotFound, "a removed seed entry is not seeded again");
            var kept = await restarted.GetFromJsonAsync<JsonElement>(new Uri("/api/watchlist/investing/RESTART2", UriKind.Relative), Cancel);
            kept.GetProperty("priority").GetInt32().ShouldBe(9);
            kept.GetProperty("enabled").GetBoolean().ShouldBeFalse();
            kept.GetProperty("group").GetString().ShouldBe("restart");
            (await GetAsync(restarted, "investing", "RESTART3")).ShouldBe(HttpStatusCode.OK);
        }
        finally
        {
            scheduler.RestoreHangfireGlobals();
            using var client = scheduler.Factory.CreateClient();
            foreach (var symbol in new[] { "RESTART1", "RESTART2", "RESTART3" })
            {
                using var _ = await client.DeleteAsync(new Uri($"/api/watchlist/investing/{symbol}", UriKind.Relative), Cancel);
            }
        }
    }

    [Fact(Timeout = 180_000)]
    public async Task Put_GetsTheSymbolCrawledWithinRounds_AndDeleteStopsItsCrawls_WhenItIsPolledAdaptively()
    {
        using var client = scheduler.Factory.CreateClient();
        var bus = scheduler.Factory.Services.GetRequiredService<IBus>();
        const string symbol = "ADDED1";
        try
        {
            // Its bounds pin the interval to 10 s, so it would be due again two rounds after each result.
            using var added = await client.PutAsJsonAsync($"/api/watchlist/yahoo/{symbol}", new { minIntervalSeconds = 10, maxIntervalSeconds = 10 }, Cancel);
            added.StatusCode.ShouldBe(HttpStatusCode.Created);

            // The polling round runs every 10 s; a minute leaves room for a loaded machine.
            var first = (await scheduler.Requests.WaitForAsync(1, request => request.Symbol == symbol, TimeSpan.FromSeconds(60), Cancel))[0].Message;
            first.NotAfter.ShouldNotBeNull().ShouldBeGreaterThan(first.RequestedAt);
            var watchlist = await client.GetFromJsonAsync<JsonElement>(new Uri("/api/watchlist", UriKind.Relative), Cancel);
            var host = watchlist.GetProperty("hosts").EnumerateArray().Single(h => h.GetProperty("host").GetString() == "yahoo");
            host.GetProperty("requestsPerSecond").GetDouble().ShouldBe(1);
            host.GetProperty("demandPerSecond").GetDouble().ShouldBeGreaterThanOrEqualTo(0.1, "ADDED1 asks for a request every 10 s");
            var shown = watchlist.GetProperty("entries").EnumerateArray().Single(e => e.GetProperty("symbol").GetString() == symbol);
            shown.GetProperty("requestOut").GetBoolean().ShouldBeTrue();
            // The crawler's answer: the entry's request is no longer out, and it is due 10 s later.
            await bus.Publish(Crawled(first), Cancel);
            await scheduler.Requests.WaitForAsync(2, request => request.Symbol == symbol, TimeSpan.FromSeconds(60), Cancel);

            using var removed = await client.DeleteAsync(new Uri($"/api/watchlist/yahoo/{symbol}", UriKind.Relative), Cancel);
            var second = scheduler.Requests.Messages.Last(received => received.Message.Symbol == symbol).Message;
            await bus.Publish(Crawled(second), Cancel);
            var seen = scheduler.Requests.Messages.Count(received => received.Message.Symbol == symbol);
            // Four rounds and two polls of our own: each would have requested it again had it stayed.
            var fanOut = scheduler.Factory.Services.GetRequiredService<CrawlFanOut>();
            for (var i = 0; i < 2; i++)
            {
                await Task.Delay(TimeSpan.FromSeconds(20), Cancel);
                await fanOut.RunDueAsync(null, Cancel);
            }
            scheduler.Requests.Messages.Count(received => received.Message.Symbol == symbol).ShouldBe(seen);
        }
        finally
        {
            using var _ = await client.DeleteAsync(new Uri($"/api/watchlist/yahoo/{symbol}", UriKind.Relative), Cancel);
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task CrawlResults_MoveTheEntrysIntervalAndNextRun_AndHonourTheFeedsHints()
    {
        using var client = scheduler.Factory.CreateClient();
        var bus = scheduler.Factory.Services.GetRequiredService<IBus>();
        const string symbol = "HINTED1";
        try
        {
            // Paused, so no round requests it: the results below are the only ones it gets.
            using var added = await client.PutAsJsonAsync($"/api/watchlist/yahoo/{symbol}", new { enabled = false }, Cancel);
            added.StatusCode.ShouldBe(HttpStatusCode.Created);
            var request = new CrawlRequested(Guid.NewGuid(), Guid.NewGuid(), "yahoo", symbol, DateTimeOffset.UtcNow);

            // Two articles published a minute ago: new at its first crawl. The feed's <ttl> says two hours.
            var fetchedAt = DateTimeOffset.UtcNow;
            await bus.Publish(Crawled(request, TimeSpan.FromHours(2), "a", "b"), Cancel);
            var crawled = await WaitForEntryAsync(client, symbol, entry => entry.GetProperty("lastResult").GetString() == "Crawled");
            crawled.GetProperty("lastNewArticles").GetInt32().ShouldBe(2);
            // 180 s x 0.7 x 0.7
            crawled.GetProperty("intervalSeconds").GetDouble().ShouldBe(88.2);
            crawled.GetProperty("nextDueAt").GetDateTimeOffset().ShouldBeGreaterThanOrEqualTo(fetchedAt + TimeSpan.FromHours(2) - TimeSpan.FromSeconds(1));

            // The same articles again: nothing new, the interval grows.
            await bus.Publish(Crawled(request, null, "a", "b"), Cancel);
            var unchanged = await WaitForEntryAsync(client, symbol, entry => entry.GetProperty("lastNewArticles").GetInt32() == 0);
            unchanged.GetProperty("intervalSeconds").GetDouble().ShouldBe(123.48);

            // Rate limited with Retry-After: an hour at least, and a failure counted.
            var failedAt = DateTimeOffset.UtcNow;
            await bus.Publish(new CrawlFailed(request.CrawlId, request.CycleId, "yahoo", symbol, CrawlFailureReason.RateLimited, "429 Too Many Requests",
                1, DateTimeOffset.UtcNow, 429, TimeSpan.FromMilliseconds(5), TimeSpan.FromHours(1)), Cancel);
            var failed = await WaitForEntryAsync(client, symbol, entry => entry.GetProperty("lastResult").GetString() == "RateLimited");
            failed.GetProperty("failures").GetInt32().ShouldBe(1);
            failed.GetProperty("lastDetail").GetString().ShouldBe("429 Too Many Requests");
            failed.GetProperty("nextDueAt").GetDateTimeOffset().ShouldBeGreaterThanOrEqualTo(failedAt + TimeSpan.FromHours(1) - TimeSpan.FromSeconds(1));
            failed.GetProperty("intervalSeconds").GetDouble().ShouldBe(123.48);
        }
        finally
        {
            using var _ = await client.DeleteAsync(new Uri($"/api/watchlist/yahoo/{symbol}", UriKind.Relative), Cancel);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task OpenApi_DescribesEveryWatchlistOperation_WhenTheDocumentIsFetched()
    {
        using var client = scheduler.Factory.CreateClient();

        var document = await client.GetFromJsonAsync<JsonElement>(new Uri("/openapi/v1.json", UriKind.Relative), Cancel);

        var paths = document.GetProperty("paths");
        paths.GetProperty("/api/watchlist").TryGetProperty("get", out _).ShouldBeTrue();
        var entry = paths.GetProperty("/api/watchlist/{source}/{symbol}");
        foreach (var operation in new[] { "get", "put", "delete" })
        {
            entry.TryGetProperty(operation, out _).ShouldBeTrue(operation);
        }
        paths.GetProperty("/api/watchlist/{source}/{symbol}/pause").TryGetProperty("post", out _).ShouldBeTrue();
        paths.GetProperty("/api/watchlist/{source}/{symbol}/resume").TryGetProperty("post", out _).ShouldBeTrue();
    }

    internal static NewsCrawled Crawled(CrawlRequested request, TimeSpan? refreshAfter = null, params string[] articles) =>
        new(request.CrawlId, request.CycleId, request.Source, request.Symbol, DateTimeOffset.UtcNow, TimeSpan.FromMilliseconds(5), 200, false,
            [.. articles.Select(name => new NewsArticle($"https://news.example.com/{request.Symbol}/{name}", name, PublishedAt: DateTimeOffset.UtcNow - TimeSpan.FromMinutes(1)))],
            refreshAfter);

    private static async Task<HttpStatusCode> GetAsync(HttpClient client, string source, string symbol)
    {
        using var response = await client.GetAsync(new Uri($"/api/watchlist/{source}/{Uri.EscapeDataString(symbol)}", UriKind.Relative), Cancel);
        return response.StatusCode;
    }

    private static Task<JsonElement> WaitForEntryAsync(HttpClient client, string symbol, Func<JsonElement, bool> condition) =>
        Eventually.WaitForAsync(
            () => client.GetFromJsonAsync<JsonElement>(new Uri($"/api/watchlist/yahoo/{symbol}", UriKind.Relative), Cancel),
            entry => entry.TryGetProperty("lastResult", out var result) && result.ValueKind != JsonValueKind.Null && condition(entry),
            TimeSpan.FromSeconds(60), $"the result for {symbol}", Cancel);
}
