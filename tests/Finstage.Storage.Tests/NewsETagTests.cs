using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Finstage.Storage.Infrastructure;
using Finstage.Storage.Writing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Finstage.Storage.Tests;

/// <summary>
/// Clients that poll <c>/api/news</c> and <c>/api/news/{id}</c> get an <c>ETag</c> and, while nothing they would see has
/// changed, <c>304 Not Modified</c> without a body.
/// </summary>
[Trait("Category", "Reliability")]
public sealed class NewsETagTests(StorageFixture storage) : IAsyncLifetime
{
    private readonly HttpClient _client = storage.CreateClient();

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => await storage.ResetAsync();

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }

    [Theory(Timeout = 60_000)]
    [InlineData("/api/news")]
    [InlineData("/api/news?symbol=AAPL")]
    [InlineData("/api/news?source=yahoo&limit=1")]
    public async Task ListNews_Answers304WithoutBody_WhenIfNoneMatchNamesTheCurrentETag(string url)
    {
        await storage.Writer.StoreAsync([Crawls.Crawled("AAPL", "yahoo", Crawls.Article(1), Crawls.Article(2))], Cancel);
        using var first = await _client.GetAsync(new Uri(url, UriKind.Relative), Cancel);
        first.StatusCode.ShouldBe(HttpStatusCode.OK);
        var tag = first.Headers.ETag.ShouldNotBeNull();
        tag.IsWeak.ShouldBeFalse();
        first.Headers.CacheControl!.NoCache.ShouldBeTrue();

        using var again = await GetAsync(url, tag.Tag);

        again.StatusCode.ShouldBe(HttpStatusCode.NotModified);
        again.Headers.ETag.ShouldBe(tag);
        (await again.Content.ReadAsByteArrayAsync(Cancel)).ShouldBeEmpty();
    }

    [Fact(Timeout = 60_000)]
    public async Task ListNews_AnswersTheNewPageWithANewETag_WhenAnArticleIsStoredSince()
    {
        await storage.Writer.StoreAsync([Crawls.Crawled("AAPL", "yahoo", Crawls.Article(1))], Cancel);
        using var first = await _client.GetAsync(new Uri("/api/news?symbol=AAPL", UriKind.Relative), Cancel);
        var tag = first.Headers.ETag!.Tag;

        await storage.Writer.StoreAsync([Crawls.Crawled("AAPL", "yahoo", Crawls.Article(2))], Cancel);
        using var changed = await GetAsync("/api/news?symbol=AAPL", tag);

        changed.StatusCode.ShouldBe(HttpStatusCode.OK);
        changed.Headers.ETag!.Tag.ShouldNotBe(tag);
        var page = JsonDocument.Parse(await changed.Content.ReadAsStringAsync(Cancel)).RootElement;
        page.GetProperty("items").GetArrayLength().ShouldBe(2);
        // Another symbol's news did not change: its tag still holds.
        using var other = await _client.GetAsync(new Uri("/api/news?symbol=MSFT", UriKind.Relative), Cancel);
        using var otherAgain = await GetAsync("/api/news?symbol=MSFT", other.Headers.ETag!.Tag);
        otherAgain.StatusCode.ShouldBe(HttpStatusCode.NotModified);
    }

    [Fact(Timeout = 60_000)]
    public async Task GetArticle_Answers304UntilTheArticleChanges_WhenPolledWithItsETag()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 8, 14, 9, 0, 0, TimeSpan.Zero));
        var writer = new NewsWriter(storage.Services.GetRequiredService<WriteSessions>(), clock, storage.Services.GetRequiredService<StorageMetrics>());
        var article = Crawls.Article(1);
        await writer.StoreAsync([Crawls.Crawled("AAPL", "yahoo", article)], Cancel);
        var url = "/api/news/" + ArticleId.ToHex(ArticleId.FromUrl(article.Url));
        using var first = await _client.GetAsync(new Uri(url, UriKind.Relative), Cancel);
        first.StatusCode.ShouldBe(HttpStatusCode.OK);
        var tag = first.Headers.ETag!.Tag;

        using (var unchanged = await GetAsync(url, tag))
        {
            unchanged.StatusCode.ShouldBe(HttpStatusCode.NotModified);
        }
        // The weak form and "*" match too (If-None-Match compares weakly); a list with other tags in it as well.
        using (var weak = await GetAsync(url, "W/" + tag))
        {
            weak.StatusCode.ShouldBe(HttpStatusCode.NotModified);
        }
        using (var any = await GetAsync(url, "*"))
        {
            any.StatusCode.ShouldBe(HttpStatusCode.NotModified);
        }
        using (var listed = await GetAsync(url, "\"stale\", " + tag))
        {
            listed.StatusCode.ShouldBe(HttpStatusCode.NotModified);
        }

        // Seen again for another symbol, later: its symbols and lastSeenAt change, and so does its tag.
        clock.Advance(TimeSpan.FromMinutes(5));
        await writer.StoreAsync([Crawls.Crawled("MSFT", "yahoo", article)], Cancel);
        using var changed = await GetAsync(url, tag);
        changed.StatusCode.ShouldBe(HttpStatusCode.OK);
        changed.Headers.ETag!.Tag.ShouldNotBe(tag);
        var body = JsonDocument.Parse(await changed.Content.ReadAsStringAsync(Cancel)).RootElement;
        body.GetProperty("symbols").EnumerateArray().Select(s => s.GetString()).ShouldBe(["AAPL", "MSFT"]);
    }

    [Fact(Timeout = 60_000)]
    public async Task GetArticle_AnswersNotFoundWithoutETag_WhenTheArticleDoesNotExist()
    {
        using var missing = await GetAsync("/api/news/" + new string('0', 32), "*");

        missing.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        missing.Headers.ETag.ShouldBeNull();
    }

    private async Task<HttpResponseMessage> GetAsync(string url, string ifNoneMatch)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(url, UriKind.Relative));
        request.Headers.TryAddWithoutValidation("If-None-Match", ifNoneMatch);
        return await _client.SendAsync(request, Cancel);
    }
}
