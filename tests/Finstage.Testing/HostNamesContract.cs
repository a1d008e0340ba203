using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Finstage.Testing;

/// <summary>
/// DNS rebinding (issue 12, item 2), the same for every service: a page of another domain that resolves to
/// 127.0.0.1 reaches the service with its own name as the Host. Only the loopback names are answered unless
/// <c>AllowedHosts</c> names more; everything else is a 400 before any endpoint runs. Each service's tests
/// derive from this with its name, port and endpoints (and carry the Reliability and Security traits). In the origins, <c>{port}</c> is the service's port
/// and <c>{name}</c> the name other containers give it (docker-compose.yml).
/// </summary>
/// <typeparam name="TEntryPoint">The service's <c>Program</c>.</typeparam>
public abstract class HostNamesContract<TEntryPoint>
    where TEntryPoint : class
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    /// <summary>The service on the test servers, with the shipped <c>AllowedHosts</c>.</summary>
    protected abstract WebApplicationFactory<TEntryPoint> Factory { get; }

    /// <summary>The name other containers reach the service by, as docker-compose.yml names it.</summary>
    protected abstract string ServiceName { get; }

    /// <summary>The service's port.</summary>
    protected abstract int Port { get; }

    /// <summary>Endpoints a client on a loopback name gets 200 from.</summary>
    protected abstract IReadOnlyList<string> Paths { get; }

    /// <summary>An endpoint a newly started host answers 200 at once (its readiness may still wait for the bus).</summary>
    protected virtual string AllowedHostsPath => Paths[0];

    /// <summary>The service with <c>AllowedHosts</c> set to <paramref name="allowedHosts"/>.</summary>
    protected virtual WebApplicationFactory<TEntryPoint> WithAllowedHosts(string allowedHosts) =>
        Factory.WithWebHostBuilder(web => web.UseSetting("AllowedHosts", allowedHosts));

    /// <summary>Ends a host of <see cref="WithAllowedHosts"/>; a service whose fixture keeps its hosts to the end overrides it.</summary>
    protected virtual ValueTask ReleaseAsync(WebApplicationFactory<TEntryPoint> factory) => factory.DisposeAsync();

    [Theory(Timeout = 60_000)]
    [InlineData("http://rebind.evil.example:{port}")]
    [InlineData("http://localhost.evil.example")]
    [InlineData("http://127.0.0.1.nip.io:{port}")]
    [InlineData("http://{name}:{port}")]
    public async Task Request_IsRefusedWith400_WhenHostIsNotALoopbackName(string origin)
    {
        using var client = Factory.CreateClient(Options(origin));

        foreach (var path in Paths)
        {
            using var response = await client.GetAsync(new Uri(path, UriKind.Relative), Cancel);

            response.StatusCode.ShouldBe(HttpStatusCode.BadRequest, path);
        }
    }

    [Theory(Timeout = 60_000)]
    [InlineData("http://localhost")]
    [InlineData("http://127.0.0.1:{port}")]
    [InlineData("http://[::1]:{port}")]
    [InlineData("http://LOCALHOST:{port}")]
    public async Task Request_IsAnswered_WhenHostIsALoopbackName(string origin)
    {
        using var client = Factory.CreateClient(Options(origin));

        foreach (var path in Paths)
        {
            using var response = await client.GetAsync(new Uri(path, UriKind.Relative), Cancel);

            response.StatusCode.ShouldBe(HttpStatusCode.OK, path);
        }
    }

    // As docker-compose.yml does: the loopback names and the name other containers use.
    [Fact(Timeout = 60_000)]
    public async Task Request_IsAnswered_WhenHostIsConfiguredInAllowedHosts()
    {
        var factory = WithAllowedHosts("localhost;127.0.0.1;[::1];" + ServiceName);
        try
        {
            using var named = factory.CreateClient(Options("http://{name}:{port}"));
            using var loopback = factory.CreateClient(Options("http://127.0.0.1:{port}"));
            using var foreign = factory.CreateClient(Options("http://rebind.evil.example"));

            using var fromName = await named.GetAsync(new Uri(AllowedHostsPath, UriKind.Relative), Cancel);
            using var fromLoopback = await loopback.GetAsync(new Uri(AllowedHostsPath, UriKind.Relative), Cancel);
            using var fromForeign = await foreign.GetAsync(new Uri(AllowedHostsPath, UriKind.Relative), Cancel);

            fromName.StatusCode.ShouldBe(HttpStatusCode.OK);
            fromLoopback.StatusCode.ShouldBe(HttpStatusCode.OK);
            fromForeign.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        }
        finally
        {
            await ReleaseAsync(factory);
        }
    }

    private WebApplicationFactoryClientOptions Options(string origin) => new()
    {
        BaseAddress = new Uri(origin
            .Replace("{port}", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("{name}", ServiceName, StringComparison.Ordinal)),
    };
}
