using System.Net;
using System.Net.Http.Headers;

namespace Finstage.FeedServer.Tests;

[Trait("Lane", "Fast")]
public sealed class ConditionalGetTests
{
    [Theory(Timeout = 30_000)]
    [InlineData("/rss/2.0/headline?s=TSLA&region=US&lang=en-US")]
    [InlineData("/rss/commodities.rss")]
    public async Task Feed_HasETagAndLastModified_WhenAnsweredInFull(string path)
    {
        var (server, http, _) = await TestFeeds.StartAsync();
        await using var _server = server;
        using var _http = http;

        using var response = await http.GetAsync(path, TestContext.Current.CancellationToken);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Headers.ETag.ShouldNotBeNull();
        response.Content.Headers.LastModified.ShouldNotBeNull();
        response.Content.Headers.LastModified.Value.ShouldBeLessThanOrEqualTo(TestFeeds.Now);
    }

    [Theory(Timeout = 30_000)]
    [InlineData("/rss/2.0/headline?s=TSLA&region=US&lang=en-US")]
    [InlineData("/rss/commodities.rss")]
    public async Task Feed_Answers304_WhenIfNoneMatchMatches(string path)
    {
        var (server, http, _) = await TestFeeds.StartAsync();
        await using var _server = server;
        using var _http = http;
        using var first = await http.GetAsync(path, TestContext.Current.CancellationToken);

        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.IfNoneMatch.Add(first.Headers.ETag!);
        using var second = await http.SendAsync(request, TestContext.Current.CancellationToken);

        second.StatusCode.ShouldBe(HttpStatusCode.NotModified);
        (await second.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken)).ShouldBeEmpty();
        second.Headers.ETag.ShouldBe(first.Headers.ETag);
    }

    [Fact(Timeout = 30_000)]
    public async Task Feed_Answers304_WhenIfModifiedSinceIsNotOlderThanLastModified()
    {
        var (server, http, _) = await TestFeeds.StartAsync();
        await using var _server = server;
        using var _http = http;
        var path = TestFeeds.YahooPath("AMZN");
        using var first = await http.GetAsync(path, TestContext.Current.CancellationToken);

        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.IfModifiedSince = first.Content.Headers.LastModified;
        using var second = await http.SendAsync(request, TestContext.Current.CancellationToken);

        second.StatusCode.ShouldBe(HttpStatusCode.NotModified);
    }

    [Fact(Timeout = 30_000)]
    public async Task Feed_Answers200WithNewValidators_WhenAnItemWasAddedSince()
    {
        var (server, http, time) = await TestFeeds.StartAsync();
        await using var _server = server;
        using var _http = http;
        var path = TestFeeds.YahooPath("AMZN");
        using var first = await http.GetAsync(path, TestContext.Current.CancellationToken);
        time.Advance(new FeedServerOptions().ItemInterval);

        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.IfNoneMatch.Add(first.Headers.ETag!);
        request.Headers.IfModifiedSince = first.Content.Headers.LastModified;
        using var second = await http.SendAsync(request, TestContext.Current.CancellationToken);

        second.StatusCode.ShouldBe(HttpStatusCode.OK);
        second.Headers.ETag.ShouldNotBe(first.Headers.ETag);
        second.Content.Headers.LastModified!.Value.ShouldBeGreaterThan(first.Content.Headers.LastModified!.Value);
    }

    [Fact(Timeout = 30_000)]
    public async Task Feed_Answers200_WhenIfNoneMatchDiffersEvenIfDateWouldMatch()
    {
        var (server, http, _) = await TestFeeds.StartAsync();
        await using var _server = server;
        using var _http = http;
        var path = "/rss/forex.rss";
        using var first = await http.GetAsync(path, TestContext.Current.CancellationToken);

        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.IfNoneMatch.Add(new EntityTagHeaderValue("\"something-else\""));
        request.Headers.IfModifiedSince = first.Content.Headers.LastModified;
        using var second = await http.SendAsync(request, TestContext.Current.CancellationToken);

        second.StatusCode.ShouldBe(HttpStatusCode.OK);
    }
}
