using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Finstage.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.WebUtilities;
using MySqlConnector;

namespace Finstage.Storage.Tests;

/// <summary>
/// The storage service as users get it (the Production environment) on the test database: what
/// <see cref="HostileQueryTests"/> asks. Its own host, so the Development host of the other tests
/// is left as it is.
/// </summary>
public sealed class ProductionStorage : IAsyncDisposable
{
    private readonly WebApplicationFactory<Program> _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
    {
        web.UseEnvironment("Production");
        StorageFixture.Configure(web,
            TestServers.AsRuntimeUser(new MySqlConnectionStringBuilder(TestServers.MySqlAdmin) { Database = StorageFixture.DatabaseName }.ConnectionString),
            new UriBuilder(TestServers.RabbitMq) { Path = "/finstage-storage-tests" }.Uri);
    });

    public HttpClient CreateClient() => _factory.CreateClient();

    public ValueTask DisposeAsync() => _factory.DisposeAsync();
}

/// <summary>
/// The read API under hostile and broken parameters (issue 6): a 400 ProblemDetails naming the
/// parameter, or a 200 with the literal answer where the input is valid but odd; never a 500, and
/// nothing of the server's insides (stack, SQL, connection string, exception type) in any answer.
/// </summary>
[Trait("Category", "Reliability")]
public sealed class HostileQueryTests(StorageFixture storage, ProductionStorage production) : IAsyncLifetime, IClassFixture<ProductionStorage>
{
    private static readonly string[] Titles =
    [
        "Rates up 5% today", "snake_case ticker", @"back\slash story", "O'Neil buys", "They said \"hi\"", "a;b merger",
        "x -- y spread", "NUL-free plain story",
    ];

    private static readonly string[] Leaks =
    [
        "Exception", "   at ", ".cs:line", "MySql", "SELECT", "`articles`", "Server=", "Password", "User ID", StorageFixture.DatabaseName,
    ];

    private readonly HttpClient _client = production.CreateClient();

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        await storage.ResetAsync();
        var articles = Titles.Select((title, i) => Crawls.Article(i + 1) with { Title = title, Summary = "Plain summary" }).ToArray();
        await storage.Writer.StoreAsync([Crawls.Crawled("AAPL", "yahoo", articles)], Cancel);
    }

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }

    public static TheoryData<string, string> BadParameters => new()
    {
        { "/api/news?limit=-5", "limit" },
        { "/api/news?limit=99999999999999999999", "limit" },
        { "/api/news?limit=2147483648", "limit" },
        { "/api/news?limit=1e3", "limit" },
        { "/api/news?limit=%2B5", "limit" },
        { "/api/news?limit=5%00", "limit" },
        { "/api/news?limit=5&limit=6", "limit" },
        { "/api/news?from=2026-13-45", "from" },
        { "/api/news?from=0000-01-01", "from" },
        { "/api/news?from=10000-01-01", "from" },
        { "/api/news?from=9999-12-31T23:59:59-14:00", "from" },
        { "/api/news?to=0001-01-01T00:00:00%2B14:00", "to" },
        { "/api/news?to=yesterday'--", "to" },
        { "/api/news?to=%00", "to" },
        { "/api/news?text=" + new string('x', 10_000), "text" },
        { "/api/news?symbol=" + new string('x', 10_000), "symbol" },
        { "/api/news?source=" + new string('x', 10_000), "source" },
        { "/api/news?text=%20%20%20", "text" },
        { "/api/news?cursor=a", "cursor" },
        { "/api/news?cursor=%00", "cursor" },
        { "/api/news?cursor=' OR 1=1 --", "cursor" },
        { "/api/news?cursor=" + Cursor("99999999999999999999|00112233445566778899aabbccddeeff"), "cursor" },
        { "/api/news?cursor=" + Cursor("-1|00112233445566778899aabbccddeeff"), "cursor" },
        { "/api/news?cursor=" + Cursor("638900000000000000|' OR 1=1 --"), "cursor" },
        { "/api/news?cursor=" + Cursor("638900000000000000|" + new string('a', 10_000)), "cursor" },
        { "/api/news?cursor=" + Cursor("638900000000000000|00112233445566778899aabbccddeeff|x"), "cursor" },
        { "/api/news/' OR 1=1 --", "id" },
        { "/api/news?symbol=AAPL%00", "symbol" },
        { "/api/news?source=yahoo%01", "source" },
        { "/api/news?text=%00", "text" },
        { "/api/news?from=2026-08-14%00", "from" },
        { "/api/crawls?cycleId=7d1f2b4e-8a3c-4d5e-9f60-1a2b3c4d5e6f%00", "cycleId" },
        { "/api/news/" + new string('a', 10_000), "id" },
        { "/api/crawls?status=Succeeded,NotModified", "status" },
        { "/api/crawls?status=1", "status" },
        { "/api/crawls?status=%00", "status" },
        { "/api/crawls?cycleId=' OR ''='", "cycleId" },
        { "/api/crawls?cursor=" + Cursor("638900000000000000|not-a-guid"), "cursor" },
        { "/api/crawls?limit=0", "limit" },
        { "/api/crawls?symbol=" + new string('x', 10_000), "symbol" },
        { "/api/sources/health?runs=-1", "runs" },
        { "/api/sources/health?runs=1000000", "runs" },
    };

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(BadParameters))]
    public async Task Api_Returns400ProblemNamingTheParameterAndNothingElse_WhenParameterIsHostile(string url, string parameter)
    {
        using var response = await _client.GetAsync(new Uri(url, UriKind.Relative), Cancel);

        var body = await response.Content.ReadAsStringAsync(Cancel);
        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest, body);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        var errors = JsonDocument.Parse(body).RootElement.GetProperty("errors");
        errors.EnumerateObject().Select(error => error.Name).ShouldBe([parameter]);
        ShouldNotLeak(body);
    }

    [Theory(Timeout = 60_000)]
    [InlineData("%25", "Rates up 5% today")]
    [InlineData("_", "snake_case ticker")]
    [InlineData(@"\", @"back\slash story")]
    [InlineData("'", "O'Neil buys")]
    [InlineData("\"", "They said \"hi\"")]
    [InlineData(";", "a;b merger")]
    [InlineData("--", "x -- y spread")]
    [InlineData("' OR '1'='1", null)]
    [InlineData("%5C%25", null)]
    public async Task ListNews_MatchesTheTextLiterally_WhenItHoldsSqlMetaCharacters(string text, string? title)
    {
        var page = await GetOkAsync("/api/news?text=" + text.Replace("'", "%27", StringComparison.Ordinal).Replace(";", "%3B", StringComparison.Ordinal)
            .Replace("\"", "%22", StringComparison.Ordinal).Replace(@"\", "%5C", StringComparison.Ordinal));

        TitlesOf(page).ShouldBe(title is null ? [] : [title]);
    }

    [Theory(Timeout = 60_000)]
    [InlineData("/api/news?symbol=NOSUCH")]
    [InlineData("/api/news?symbol=' OR 1=1 --")]
    [InlineData("/api/news?symbol=%F0%9F%93%88")]
    [InlineData("/api/news?source=bloomberg")]
    [InlineData("/api/news?source=yahoo' --")]
    [InlineData("/api/news?from=9999-12-31T23:59:59Z")]
    [InlineData("/api/news?to=0001-01-01")]
    [InlineData("/api/crawls?source=' OR 1=1 --")]
    [InlineData("/api/crawls?symbol=%25")]
    public async Task Api_ReturnsAnEmptyPage_WhenFilterIsValidButMatchesNothing(string url)
    {
        var page = await GetOkAsync(url);

        page.GetProperty("items").GetArrayLength().ShouldBe(0);
        page.GetProperty("nextCursor").ValueKind.ShouldBe(JsonValueKind.Null);
    }

    [Theory(Timeout = 60_000)]
    [InlineData("/api/news?from=0001-01-01&to=9999-12-31T23:59:59.9999999Z&limit=200")]
    [InlineData("/api/news?symbol=aapl&source=YAHOO")]
    [InlineData("/api/news?limit=200&unknown=1&q=%25")]
    public async Task ListNews_ReturnsEverything_WhenBoundsAreTheWidestThereAre(string url)
    {
        TitlesOf(await GetOkAsync(url)).Count.ShouldBe(Titles.Length);
    }

    [Theory(Timeout = 60_000)]
    [InlineData("0|00112233445566778899aabbccddeeff", 0)]
    [InlineData("3155378975999999999|ffffffffffffffffffffffffffffffff", 8)]
    public async Task ListNews_PagesFromTheCursorsPosition_WhenCursorIsWellFormedButNeverHandedOut(string cursor, int expected)
    {
        TitlesOf(await GetOkAsync("/api/news?cursor=" + Cursor(cursor))).Count.ShouldBe(expected);
    }

    private async Task<JsonElement> GetOkAsync(string url)
    {
        using var response = await _client.GetAsync(new Uri(url, UriKind.Relative), Cancel);
        var body = await response.Content.ReadAsStringAsync(Cancel);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, body);
        ShouldNotLeak(body);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static List<string> TitlesOf(JsonElement page) =>
        [.. page.GetProperty("items").EnumerateArray().Select(item => item.GetProperty("title").GetString()!)];

    private static void ShouldNotLeak(string body)
    {
        foreach (var leak in Leaks)
        {
            body.ShouldNotContain(leak, Case.Insensitive);
        }
    }

    private static string Cursor(string plain) => WebEncoders.Base64UrlEncode(Encoding.UTF8.GetBytes(plain));
}
