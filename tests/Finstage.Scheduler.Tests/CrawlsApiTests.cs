using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Finstage.Scheduler.Tests;

public sealed class CrawlsApiTests(SchedulerFixture scheduler)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact(Timeout = 60_000)]
    public async Task RequestCrawl_PublishesOneRequestPerSymbolUnderOneCycle_WhenSymbolsAreGiven()
    {
        using var client = scheduler.Factory.CreateClient();

        using var response = await client.PostAsJsonAsync("/api/crawls", new { source = "yahoo", symbols = new[] { "TSLA", "^VIX", "ES=F", "TSLA" } }, Cancel);

        response.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        var accepted = await response.Content.ReadFromJsonAsync<JsonElement>(Cancel);
        var cycleId = accepted.GetProperty("cycleId").GetGuid();
        accepted.GetProperty("symbols").GetInt32().ShouldBe(3);
        var received = await scheduler.Requests.WaitForAsync(3, request => request.CycleId == cycleId, TimeSpan.FromSeconds(30), Cancel);
        received.Select(r => r.Message.Symbol).ShouldBe(["TSLA", "^VIX", "ES=F"], ignoreOrder: true);
        received.Select(r => r.Message.CrawlId).Distinct().Count().ShouldBe(3);
        received.ShouldAllBe(r => r.Message.Source == "yahoo" && r.Message.NotAfter > r.Message.RequestedAt);
    }

    [Fact(Timeout = 60_000)]
    public async Task RequestCrawl_CrawlsTheSourcesWatchlist_WhenSymbolsAreOmitted()
    {
        using var client = scheduler.Factory.CreateClient();

        using var response = await client.PostAsJsonAsync("/api/crawls", new { source = "Yahoo" }, Cancel);

        response.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        var cycleId = (await response.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("cycleId").GetGuid();
        var received = await scheduler.Requests.WaitForAsync(3, request => request.CycleId == cycleId, TimeSpan.FromSeconds(30), Cancel);
        received.Select(r => r.Message.Symbol).ShouldBe(SchedulerFixture.TestGroupSymbols.Split(','), ignoreOrder: true);
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
        var received = await scheduler.Requests.WaitForAsync(1, message => message.CycleId == cycleId, TimeSpan.FromSeconds(30), Cancel);
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
    public async Task RequestCrawl_Returns400_WhenBodyIsNotJson()
    {
        using var client = scheduler.Factory.CreateClient();

        using var response = await client.PostAsync(
            new Uri("/api/crawls", UriKind.Relative), new StringContent("source=yahoo", System.Text.Encoding.UTF8, "application/json"), Cancel);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
    }

    [Fact(Timeout = 60_000)]
    public async Task GetWatchlist_ListsGroupsWithNextRun_WhenStarted()
    {
        using var client = scheduler.Factory.CreateClient();

        var groups = await client.GetFromJsonAsync<JsonElement>(new Uri("/api/watchlist", UriKind.Relative), Cancel);

        groups.GetArrayLength().ShouldBe(2);
        var yahoo = groups.EnumerateArray().Single(group => group.GetProperty("name").GetString() == "yahoo");
        yahoo.GetProperty("source").GetString().ShouldBe("yahoo");
        yahoo.GetProperty("cron").GetString().ShouldBe("0 0 1 1 *");
        yahoo.GetProperty("symbols").EnumerateArray().Select(s => s.GetString()).ShouldBe(SchedulerFixture.TestGroupSymbols.Split(','));
        yahoo.GetProperty("nextRunAt").GetDateTime().Month.ShouldBe(1);
    }
}
