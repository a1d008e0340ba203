using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Finstage.Scheduler.Tests;

public sealed class CrawlsApiTests(SchedulerFixture scheduler)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact(Timeout = 60_000)]
    public async Task RequestCrawl_SendsOneRequestPerSymbolUnderOneCycleToTheManualQueue_WhenSymbolsAreGiven()
    {
        using var client = scheduler.Factory.CreateClient();

        using var response = await client.PostAsJsonAsync("/api/crawls", new { source = "yahoo", symbols = new[] { "TSLA", "^VIX", "ES=F", "TSLA" } }, Cancel);

        response.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        var accepted = await response.Content.ReadFromJsonAsync<JsonElement>(Cancel);
        var cycleId = accepted.GetProperty("cycleId").GetGuid();
        accepted.GetProperty("symbols").GetInt32().ShouldBe(3);
        var received = await scheduler.ManualRequests.WaitForAsync(3, request => request.CycleId == cycleId, TimeSpan.FromSeconds(30), Cancel);
        received.Select(r => r.Message.Symbol).ShouldBe(["TSLA", "^VIX", "ES=F"], ignoreOrder: true);
        received.Select(r => r.Message.CrawlId).Distinct().Count().ShouldBe(3);
        received.ShouldAllBe(r => r.Message.Source == "yahoo" && r.Message.NotAfter > r.Message.RequestedAt);
        // Sent by name only: a publish would also have put them into fetch-news, ahead of the next scheduled cycle.
        scheduler.Requests.Messages.ShouldNotContain(r => r.Message.CycleId == cycleId);
    }

    [Fact(Timeout = 60_000)]
    public async Task RequestCrawl_CrawlsTheSourcesWatchlist_WhenSymbolsAreOmitted()
    {
        using var client = scheduler.Factory.CreateClient();
        // The watchlist in the database, not the configuration: other tests' starts may have seeded more yahoo groups.
        var watchlist = await client.GetFromJsonAsync<JsonElement>(new Uri("/api/watchlist", UriKind.Relative), Cancel);
        var expected = watchlist.GetProperty("entries").EnumerateArray()
            .Where(entry => entry.GetProperty("source").GetString() == "yahoo" && entry.GetProperty("enabled").GetBoolean())
            .Select(entry => entry.GetProperty("symbol").GetString()).ToList();

        using var response = await client.PostAsJsonAsync("/api/crawls", new { source = "Yahoo" }, Cancel);

        response.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        var cycleId = (await response.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("cycleId").GetGuid();
        var received = await scheduler.ManualRequests.WaitForAsync(expected.Count, request => request.CycleId == cycleId, TimeSpan.FromSeconds(30), Cancel);
        received.Select(r => r.Message.Symbol).ShouldBe(expected, ignoreOrder: true);
        SchedulerFixture.TestGroupSymbols.Split(',').ShouldBeSubsetOf(received.Select(r => r.Message.Symbol));
    }

    [Fact(Timeout = 60_000)]
    public async Task RequestCrawl_CarriesTheCallersTrace_IntoThePublishedRequests()
    {
        using var client = scheduler.Factory.CreateClient();
        var traceId = ActivityTraceId.CreateRandom();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/crawls")
        {
            Content = JsonContent.Create(new { source = "investing" }),
        };
        request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01");

        using var response = await client.SendAsync(request, Cancel);

        var cycleId = (await response.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("cycleId").GetGuid();
        var received = await scheduler.ManualRequests.WaitForAsync(1, message => message.CycleId == cycleId, TimeSpan.FromSeconds(30), Cancel);
        received[0].TraceId.ShouldBe(traceId);
    }

    [Theory(Timeout = 60_000)]
    [InlineData("""{"source":"bloomberg"}""", "source")]
    [InlineData("""{"symbols":["AAPL"]}""", "source")]
    [InlineData("""{"source":"yahoo","symbols":[]}""", "symbols")]
    [InlineData("""{"source":"yahoo","symbols":["AAPL",""]}""", "symbols")]
    [InlineData("""{"source":"yahoo","symbols":["AAPLAAPLAAPLAAPLAAPLAAPLAAPLAAPLAAPLAAPLAAPLAAPLAAPLAAPLAAPLAAPLAAPLAAPLAAPLAAPLAAPLAAPLAAPLAAPLAAPLAAPLAAPLAAPLAAPLAAPLAAPLAAPLAAPLAAPLAAPL"]}""", "symbols")]
    public async Task RequestCrawl_Returns400ProblemNamingTheField_WhenRequestIsBad(string body, string field)
    {
        using var client = scheduler.Factory.CreateClient();

        using var response = await client.PostAsync(
            new Uri("/api/crawls", UriKind.Relative), new StringContent(body, System.Text.Encoding.UTF8, "application/json"), Cancel);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Cancel);
        problem.GetProperty("errors").TryGetProperty(field, out _).ShouldBeTrue();
    }

    [Fact(Timeout = 60_000)]
    [Trait("Category", "Reliability")]
    public async Task RequestCrawl_Returns400SayingHowManyItCouldTake_WhenRequestCannotBeFetchedWithinItsTimeToLive()
    {
        // The manual queue drains by the scheduler's clock: a clock of the test's makes the numbers exact.
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 8, 14, 12, 0, 0, TimeSpan.Zero));
        var factory = scheduler.Create(
            new Dictionary<string, string?>
            {
                ["Schedule:Sources:yahoo:RequestsPerSecond"] = "2",
                ["Schedule:RequestTimeToLive"] = "00:01:00",
                // Its crawl results must not be taken from the main host's queue and dated by the fake clock; and since a
                // queue of its own receives every result too, the host is disposed at the end, or it would apply each
                // result a second time to the shared watchlist (which made WatchlistApiTests see no new articles).
                ["Polling:ResultsQueue"] = "scheduler-tests-fake-clock-results",
            },
            services: services => services.AddSingleton<TimeProvider>(clock));
        try
        {
            using var client = factory.CreateClient();

            var (tooMany, tooManyBody) = await PostSymbolsAsync(client, 121);
            var (first, _) = await PostSymbolsAsync(client, 100);
            clock.Advance(TimeSpan.FromSeconds(20));
            var (behind, behindBody) = await PostSymbolsAsync(client, 61);
            var (rest, _) = await PostSymbolsAsync(client, 60);

            // 2 requests/s for 60 s; 100 booked take 50 s, of which 30 s are left after 20 s.
            tooMany.ShouldBe(HttpStatusCode.BadRequest);
            tooManyBody.GetProperty("maxSymbols").GetInt32().ShouldBe(120);
            tooManyBody.GetProperty("errors").GetProperty("symbols")[0].GetString()
                .ShouldBe("yahoo allows 2 requests/s and a request lives 1 min: at most 120 symbols now.");
            first.ShouldBe(HttpStatusCode.Accepted);
            behind.ShouldBe(HttpStatusCode.BadRequest);
            behindBody.GetProperty("maxSymbols").GetInt32().ShouldBe(60);
            behindBody.GetProperty("errors").GetProperty("symbols")[0].GetString().ShouldNotBeNull().ShouldContain("about 30 s of them still to fetch");
            rest.ShouldBe(HttpStatusCode.Accepted);
        }
        finally
        {
            await factory.DisposeAsync();
            scheduler.RestoreHangfireGlobals();
        }

        async Task<(HttpStatusCode, JsonElement)> PostSymbolsAsync(HttpClient client, int count)
        {
            var symbols = Enumerable.Range(0, count).Select(i => $"M{i:D4}").ToArray();
            using var response = await client.PostAsJsonAsync("/api/crawls", new { source = "yahoo", symbols }, Cancel);
            return (response.StatusCode, await response.Content.ReadFromJsonAsync<JsonElement>(Cancel));
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task RequestCrawl_Returns400_WhenBodyIsNotJson()
    {
        using var client = scheduler.Factory.CreateClient();

        using var response = await client.PostAsync(
            new Uri("/api/crawls", UriKind.Relative), new StringContent("source=yahoo", System.Text.Encoding.UTF8, "application/json"), Cancel);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
    }

    [Fact(Timeout = 60_000)]
    public async Task GetWatchlist_ListsTheSeededEntriesAndEachHost_WhenStarted()
    {
        using var client = scheduler.Factory.CreateClient();

        var watchlist = await client.GetFromJsonAsync<JsonElement>(new Uri("/api/watchlist", UriKind.Relative), Cancel);

        var yahoo = watchlist.GetProperty("entries").EnumerateArray().Where(entry => entry.GetProperty("group").GetString() == "yahoo").ToList();
        yahoo.Select(entry => entry.GetProperty("symbol").GetString()).ShouldBe(SchedulerFixture.TestGroupSymbols.Split(','), ignoreOrder: true);
        // The test's groups have a (yearly) cron: they are swept, as before the watchlist was data.
        yahoo.ShouldAllBe(entry => entry.GetProperty("source").GetString() == "yahoo" && entry.GetProperty("polling").GetString() == "swept");
        // Hosts list what is polled adaptively: a swept group's entries cannot fall behind their due times.
        watchlist.GetProperty("hosts").EnumerateArray().ShouldNotContain(h => h.GetProperty("host").GetString() == "yahoo"
            && h.GetProperty("entries").GetInt32() >= SchedulerFixture.TestGroupSymbols.Split(',').Length);
    }
}
