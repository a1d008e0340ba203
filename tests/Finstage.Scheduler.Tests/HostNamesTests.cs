using System.Net;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Finstage.Scheduler.Tests;

/// <summary>
/// DNS rebinding (issue 12, item 2): a page of another domain that resolves to 127.0.0.1 reaches the
/// scheduler with its own name as the Host. Only the loopback names are answered unless
/// <c>AllowedHosts</c> names more; everything else is a 400 before any endpoint runs.
/// </summary>
[Trait("Category", "Reliability")]
[Trait("Category", "Security")]
public sealed class HostNamesTests(SchedulerFixture scheduler)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Theory(Timeout = 60_000)]
    [InlineData("http://rebind.evil.example", "/api/watchlist")]
    [InlineData("http://rebind.evil.example:5080", "/hangfire")]
    [InlineData("http://localhost.evil.example", "/api/watchlist")]
    [InlineData("http://127.0.0.1.nip.io:5080", "/api/watchlist")]
    [InlineData("http://scheduler:5080", "/api/watchlist")]
    public async Task Request_IsRefusedWith400_WhenHostIsNotALoopbackName(string origin, string path)
    {
        using var client = scheduler.Factory.CreateClient(new WebApplicationFactoryClientOptions { BaseAddress = new Uri(origin) });

        using var response = await client.GetAsync(new Uri(path, UriKind.Relative), Cancel);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
    }

    [Theory(Timeout = 60_000)]
    [InlineData("http://localhost")]
    [InlineData("http://127.0.0.1:5080")]
    [InlineData("http://[::1]:5080")]
    [InlineData("http://LOCALHOST:5080")]
    public async Task Request_IsAnswered_WhenHostIsALoopbackName(string origin)
    {
        using var client = scheduler.Factory.CreateClient(new WebApplicationFactoryClientOptions { BaseAddress = new Uri(origin) });

        using var watchlist = await client.GetAsync(new Uri("/api/watchlist", UriKind.Relative), Cancel);
        using var dashboard = await client.GetAsync(new Uri("/hangfire", UriKind.Relative), Cancel);

        watchlist.StatusCode.ShouldBe(HttpStatusCode.OK);
        dashboard.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    // As docker-compose.yml does: the loopback names and the name other containers use.
    [Fact(Timeout = 60_000)]
    public async Task Request_IsAnswered_WhenHostIsConfiguredInAllowedHosts()
    {
        var factory = scheduler.Create(new Dictionary<string, string?> { ["AllowedHosts"] = "localhost;127.0.0.1;[::1];scheduler" });
        using var named = factory.CreateClient(new WebApplicationFactoryClientOptions { BaseAddress = new Uri("http://scheduler:5080") });
        using var loopback = factory.CreateClient(new WebApplicationFactoryClientOptions { BaseAddress = new Uri("http://127.0.0.1:5080") });
        using var foreign = factory.CreateClient(new WebApplicationFactoryClientOptions { BaseAddress = new Uri("http://rebind.evil.example") });

        using var fromName = await named.GetAsync(new Uri("/api/watchlist", UriKind.Relative), Cancel);
        using var fromLoopback = await loopback.GetAsync(new Uri("/api/watchlist", UriKind.Relative), Cancel);
        using var fromForeign = await foreign.GetAsync(new Uri("/api/watchlist", UriKind.Relative), Cancel);

        fromName.StatusCode.ShouldBe(HttpStatusCode.OK);
        fromLoopback.StatusCode.ShouldBe(HttpStatusCode.OK);
        fromForeign.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
    }
}
