using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Finstage.Scheduler.Tests;

/// <summary>
/// POST /api/crawls under hostile and broken bodies (issue 6), on a scheduler in the Production
/// environment as users get it: a 400 ProblemDetails naming the field (or the body, when it cannot
/// be read at all), never a 500, and nothing of the server's insides in the answer.
/// </summary>
[Trait("Category", "Reliability")]
public sealed class HostileRequestTests(SchedulerFixture scheduler)
{
    private static readonly string[] Leaks =
    [
        "Exception", "   at ", ".cs:line", "MySql", "Hangfire.", "Server=", "Password", "User ID", "System.Text.Json", "Microsoft.",
    ];

    private static WebApplicationFactory<Program>? _production;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public static TheoryData<string, string> BadBodies => new()
    {
        { """{"source":"yahoo","symbols":[null]}""", "symbols" },
        { """{"source":"yahoo","symbols":["AAPL\u0000"]}""", "symbols" },
        { """{"source":"yahoo","symbols":["AA\nPL"]}""", "symbols" },
        { """{"source":"yahoo\u0000"}""", "source" },
        { """{"source":"' OR 1=1 --"}""", "source" },
        { """{"source":"yahoo; DROP TABLE hangfire_job; --"}""", "source" },
        { """{"source":""}""", "source" },
        { """{"source":null}""", "source" },
        { "{}", "source" },
        { """{"source":"yahoo","symbols":[""" + string.Join(",", Enumerable.Range(0, 10_001).Select(i => $"\"S{i}\"")) + "]}", "symbols" },
        { "{\"source\":\"yahoo\",\"symbols\":[\"" + new string('A', 10_000) + "\"]}", "symbols" },
        { "{\"source\":\"" + new string('y', 10_000) + "\"}", "source" },
    };

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(BadBodies))]
    public async Task RequestCrawl_Returns400ProblemNamingTheFieldAndNothingElse_WhenBodyIsHostile(string body, string field)
    {
        var problem = await PostBadAsync(body, "application/json");

        problem.GetProperty("errors").EnumerateObject().Select(error => error.Name).ShouldBe([field]);
    }

    [Theory(Timeout = 60_000)]
    [InlineData("source=yahoo")]
    [InlineData("""{"source":"yahoo",""")]
    [InlineData("""{"source":5}""")]
    [InlineData("""{"source":"yahoo","symbols":"AAPL"}""")]
    [InlineData("""{"source":"yahoo","symbols":[1,2]}""")]
    [InlineData("null")]
    [InlineData("\"yahoo\"")]
    [InlineData("[]")]
    [InlineData("{\"source\":\"ya\\uD800hoo\"}")]
    public async Task RequestCrawl_Returns400Problem_WhenBodyIsNotTheJsonOfARequest(string body)
    {
        var problem = await PostBadAsync(body, "application/json");

        problem.GetProperty("status").GetInt32().ShouldBe(400);
    }

    [Fact(Timeout = 60_000)]
    public async Task RequestCrawl_Returns400Problem_WhenJsonIsNestedThousandsDeep()
    {
        var body = "{\"source\":\"yahoo\",\"x\":" + new string('[', 5_000) + new string(']', 5_000) + "}";

        var problem = await PostBadAsync(body, "application/json");

        problem.GetProperty("status").GetInt32().ShouldBe(400);
    }

    [Fact(Timeout = 120_000)]
    public async Task RequestCrawl_Returns400Problem_WhenBodyIsTwentyMegabytes()
    {
        // One 20 MB symbol: read (Kestrel's 30 MB body limit is not reached), then refused by length.
        var body = "{\"source\":\"yahoo\",\"symbols\":[\"" + new string('A', 20 * 1024 * 1024) + "\"]}";

        var problem = await PostBadAsync(body, "application/json");

        problem.GetProperty("errors").TryGetProperty("symbols", out _).ShouldBeTrue();
    }

    [Fact(Timeout = 60_000)]
    public async Task RequestCrawl_Returns415_WhenBodyIsNotJsonAtAll()
    {
        using var client = Production().CreateClient();

        using var response = await client.PostAsync(new Uri("/api/crawls", UriKind.Relative), new StringContent("source=yahoo", Encoding.UTF8, "text/plain"), Cancel);

        response.StatusCode.ShouldBe(HttpStatusCode.UnsupportedMediaType);
        ShouldNotLeak(await response.Content.ReadAsStringAsync(Cancel));
    }

    [Fact(Timeout = 60_000)]
    public async Task RequestCrawl_Accepts_WhenSymbolsAreUnknownButWellFormed()
    {
        // The scheduler cannot know which tickers a source has: an unknown one is crawled and comes
        // back as the crawler's CrawlFailed (HttpError from the site, or NotConfigured).
        using var client = Production().CreateClient();

        using var response = await client.PostAsJsonAsync("/api/crawls", new { source = "YAHOO", symbols = new[] { "NOSUCH", "BRK.B", "O'NEIL", "100%" } }, Cancel);

        response.StatusCode.ShouldBe(HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync(Cancel));
        var cycleId = (await response.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("cycleId").GetGuid();
        var received = await scheduler.ManualRequests.WaitForAsync(4, request => request.CycleId == cycleId, TimeSpan.FromSeconds(30), Cancel);
        received.Select(r => r.Message.Symbol).ShouldBe(["NOSUCH", "BRK.B", "O'NEIL", "100%"], ignoreOrder: true);
        received.ShouldAllBe(r => r.Message.Source == "yahoo");
    }

    private async Task<JsonElement> PostBadAsync(string body, string contentType)
    {
        using var client = Production().CreateClient();

        using var response = await client.PostAsync(new Uri("/api/crawls", UriKind.Relative), new StringContent(body, Encoding.UTF8, contentType), Cancel);

        var text = await response.Content.ReadAsStringAsync(Cancel);
        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest, text.Length > 500 ? text[..500] : text);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        ShouldNotLeak(text);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private WebApplicationFactory<Program> Production()
    {
        _production ??= scheduler.Create(new Dictionary<string, string?> { ["environment"] = "Production" });
        _production.Services.GetRequiredService<IHostEnvironment>().EnvironmentName.ShouldBe(Environments.Production);
        return _production;
    }

    private static void ShouldNotLeak(string body)
    {
        foreach (var leak in Leaks)
        {
            body.ShouldNotContain(leak, Case.Insensitive);
        }
    }
}
