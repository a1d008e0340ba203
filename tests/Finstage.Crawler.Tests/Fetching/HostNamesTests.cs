using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Finstage.Crawler.Tests.Fetching;

/// <summary>
/// DNS rebinding (issue 12, item 2): the crawler serves only its health endpoints, but those too are
/// answered for the loopback names alone unless <c>AllowedHosts</c> names more; any other Host is a 400.
/// </summary>
[Collection(nameof(SharedCrawler))]
[Trait("Category", "Reliability")]
[Trait("Category", "Security")]
public sealed class HostNamesTests(CrawlerFixture crawler)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Theory(Timeout = 60_000)]
    [InlineData("http://rebind.evil.example:5081")]
    [InlineData("http://localhost.evil.example")]
    [InlineData("http://crawler:5081")]
    public async Task Request_IsRefusedWith400_WhenHostIsNotALoopbackName(string origin)
    {
        using var client = crawler.Crawler.CreateClient(new WebApplicationFactoryClientOptions { BaseAddress = new Uri(origin) });

        using var response = await client.GetAsync(new Uri("/health/ready", UriKind.Relative), Cancel);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
    }

    [Theory(Timeout = 60_000)]
    [InlineData("http://localhost")]
    [InlineData("http://127.0.0.1:5081")]
    [InlineData("http://[::1]:5081")]
    public async Task Request_IsAnswered_WhenHostIsALoopbackName(string origin)
    {
        using var client = crawler.Crawler.CreateClient(new WebApplicationFactoryClientOptions { BaseAddress = new Uri(origin) });

        using var response = await client.GetAsync(new Uri("/health/ready", UriKind.Relative), Cancel);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact(Timeout = 60_000)]
    public async Task Request_IsAnswered_WhenHostIsConfiguredInAllowedHosts()
    {
        await using var factory = crawler.Crawler.WithWebHostBuilder(web => web.UseSetting("AllowedHosts", "localhost;127.0.0.1;[::1];crawler"));
        using var named = factory.CreateClient(new WebApplicationFactoryClientOptions { BaseAddress = new Uri("http://crawler:5081") });
        using var foreign = factory.CreateClient(new WebApplicationFactoryClientOptions { BaseAddress = new Uri("http://rebind.evil.example") });

        using var fromName = await named.GetAsync(new Uri("/health/live", UriKind.Relative), Cancel);
        using var fromForeign = await foreign.GetAsync(new Uri("/health/live", UriKind.Relative), Cancel);

        fromName.StatusCode.ShouldBe(HttpStatusCode.OK);
        fromForeign.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
    }
}
