using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Finstage.Storage.Tests;

/// <summary>
/// DNS rebinding (issue 12, item 2): a page of another domain that resolves to 127.0.0.1 reaches the
/// storage's read API with its own name as the Host. Only the loopback names are answered unless
/// <c>AllowedHosts</c> names more; everything else is a 400 before any endpoint runs.
/// </summary>
[Trait("Category", "Reliability")]
[Trait("Category", "Security")]
public sealed class HostNamesTests(StorageFixture storage)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Theory(Timeout = 60_000)]
    [InlineData("http://rebind.evil.example:5082")]
    [InlineData("http://localhost.evil.example")]
    [InlineData("http://storage:5082")]
    public async Task Request_IsRefusedWith400_WhenHostIsNotALoopbackName(string origin)
    {
        using var client = storage.Factory.CreateClient(new WebApplicationFactoryClientOptions { BaseAddress = new Uri(origin) });

        using var response = await client.GetAsync(new Uri("/api/news", UriKind.Relative), Cancel);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
    }

    [Theory(Timeout = 60_000)]
    [InlineData("http://localhost")]
    [InlineData("http://127.0.0.1:5082")]
    [InlineData("http://[::1]:5082")]
    public async Task Request_IsAnswered_WhenHostIsALoopbackName(string origin)
    {
        using var client = storage.Factory.CreateClient(new WebApplicationFactoryClientOptions { BaseAddress = new Uri(origin) });

        using var response = await client.GetAsync(new Uri("/api/news", UriKind.Relative), Cancel);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact(Timeout = 60_000)]
    public async Task Request_IsAnswered_WhenHostIsConfiguredInAllowedHosts()
    {
        await using var factory = storage.Factory.WithWebHostBuilder(web => web.UseSetting("AllowedHosts", "localhost;127.0.0.1;[::1];storage"));
        using var named = factory.CreateClient(new WebApplicationFactoryClientOptions { BaseAddress = new Uri("http://storage:5082") });
        using var foreign = factory.CreateClient(new WebApplicationFactoryClientOptions { BaseAddress = new Uri("http://rebind.evil.example") });

        using var fromName = await named.GetAsync(new Uri("/api/news", UriKind.Relative), Cancel);
        using var fromForeign = await foreign.GetAsync(new Uri("/api/news", UriKind.Relative), Cancel);

        fromName.StatusCode.ShouldBe(HttpStatusCode.OK);
        fromForeign.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
    }
}
