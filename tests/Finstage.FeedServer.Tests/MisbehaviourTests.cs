using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using Finstage.Contracts;
using Finstage.Crawler.Parsing;

namespace Finstage.FeedServer.Tests;

[Trait("Lane", "Fast")]
public sealed class MisbehaviourTests
{
    [Theory(Timeout = 30_000)]
    [InlineData("BROKEN", "/rss/2.0/headline?s=BROKEN&region=US&lang=en-US")]
    [InlineData("^dji", "/rss/2.0/headline?s=%5EDJI&region=US&lang=en-US")]
    [InlineData("ECONOMY", "/rss/news.rss")]
    public async Task Feed_IsTruncatedXmlTheCrawlerCallsParseError_WhenSymbolIsBroken(string configured, string path)
    {
        var (server, http, _) = await TestFeeds.StartAsync(new FeedServerOptions { BrokenSymbols = $"OTHER, {configured}" });
        await using var _server = server;
        using var _http = http;

        using var response = await http.GetAsync(path, TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Headers.ETag.ShouldBeNull();
        var text = System.Text.Encoding.UTF8.GetString(body);
        text.ShouldStartWith("<?xml");
        text.ShouldContain("<item>");
        text.ShouldNotContain("</item>");
        var parsed = new FeedParser().Parse(body, response.Content.Headers.ContentType?.ToString());
        parsed.Failure.ShouldBe(CrawlFailureReason.ParseError, parsed.ToString());
    }

    [Fact(Timeout = 30_000)]
    public async Task Feed_Answers500_WhenSymbolIsFailing()
    {
        var (server, http, _) = await TestFeeds.StartAsync(new FeedServerOptions { FailingSymbols = "NVDA,FOREX" });
        await using var _server = server;
        using var _http = http;
        var ct = TestContext.Current.CancellationToken;

        using var yahoo = await http.GetAsync(TestFeeds.YahooPath("NVDA"), ct);
        using var investing = await http.GetAsync("/rss/forex.rss", ct);
        using var other = await http.GetAsync(TestFeeds.YahooPath("AAPL"), ct);

        yahoo.StatusCode.ShouldBe(HttpStatusCode.InternalServerError);
        investing.StatusCode.ShouldBe(HttpStatusCode.InternalServerError);
        other.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Theory(Timeout = 30_000)]
    [InlineData("/rss/2.0/headline?s=META&region=US&lang=en-US")]
    [InlineData("/rss/news_304.rss")]
    public async Task Feed_IsHtmlPageTheCrawlerCallsNotAFeed_WhenSymbolIsHtml(string path)
    {
        var (server, http, _) = await TestFeeds.StartAsync(new FeedServerOptions { HtmlSymbols = "META,TECH" });
        await using var _server = server;
        using var _http = http;

        using var response = await http.GetAsync(path, TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/html");
        var parsed = new FeedParser().Parse(body, response.Content.Headers.ContentType.ToString());
        parsed.Failure.ShouldBe(CrawlFailureReason.NotAFeed, parsed.ToString());
    }

    [Fact(Timeout = 30_000)]
    public async Task Feed_Answers304EvenAfterItChanged_WhenSymbolIsNotModifiedAndClientHasValidator()
    {
        var (server, http, time) = await TestFeeds.StartAsync(new FeedServerOptions { NotModifiedSymbols = "XLE" });
        await using var _server = server;
        using var _http = http;
        var ct = TestContext.Current.CancellationToken;
        var path = TestFeeds.YahooPath("XLE");
        using var first = await http.GetAsync(path, ct);
        time.Advance(TimeSpan.FromHours(3));

        using var withETag = new HttpRequestMessage(HttpMethod.Get, path);
        withETag.Headers.IfNoneMatch.Add(first.Headers.ETag!);
        using var answerToETag = await http.SendAsync(withETag, ct);
        using var withDate = new HttpRequestMessage(HttpMethod.Get, path);
        withDate.Headers.IfModifiedSince = first.Content.Headers.LastModified;
        using var answerToDate = await http.SendAsync(withDate, ct);
        using var withoutValidator = await http.GetAsync(path, ct);

        first.StatusCode.ShouldBe(HttpStatusCode.OK);
        answerToETag.StatusCode.ShouldBe(HttpStatusCode.NotModified);
        answerToDate.StatusCode.ShouldBe(HttpStatusCode.NotModified);
        withoutValidator.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact(Timeout = 30_000)]
    public async Task Feed_Answers200_WhenAnotherSymbolIsNotModifiedAndValidatorIsStale()
    {
        var (server, http, _) = await TestFeeds.StartAsync(new FeedServerOptions { NotModifiedSymbols = "XLE" });
        await using var _server = server;
        using var _http = http;

        using var request = new HttpRequestMessage(HttpMethod.Get, TestFeeds.YahooPath("XLK"));
        request.Headers.IfNoneMatch.Add(new EntityTagHeaderValue("\"stale\""));
        using var response = await http.SendAsync(request, TestContext.Current.CancellationToken);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact(Timeout = 30_000)]
    public async Task Feed_AnswersNoSoonerThanLatency_WhenLatencyIsConfigured()
    {
        var latency = TimeSpan.FromMilliseconds(400);
        var (server, http, _) = await TestFeeds.StartAsync(new FeedServerOptions { Latency = latency });
        await using var _server = server;
        using var _http = http;

        var stopwatch = Stopwatch.StartNew();
        using var response = await http.GetAsync("/rss/news_305.rss", TestContext.Current.CancellationToken);
        stopwatch.Stop();

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        stopwatch.Elapsed.ShouldBeGreaterThanOrEqualTo(latency);
    }
}
