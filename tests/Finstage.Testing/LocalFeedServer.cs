using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Finstage.Testing;

/// <summary>One request as the local feed server saw it.</summary>
public sealed record ServedRequest(DateTime ReceivedAt, string PathAndQuery, string? IfNoneMatch, string? IfModifiedSince, string? UserAgent);

/// <summary>
/// A real HTTP server on 127.0.0.1 (Kestrel, a free port) whose answers a test writes, and which
/// records every request it receives: what a feed site looks like to the crawler.
/// </summary>
public sealed class LocalFeedServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private LocalFeedServer(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public ConcurrentQueue<ServedRequest> Requests { get; } = new();

    public static async Task<LocalFeedServer> StartAsync(RequestDelegate handler, CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(System.Net.IPAddress.Loopback, 0));
        var app = builder.Build();
        LocalFeedServer? server = null;
        app.Run(async context =>
        {
            var headers = context.Request.Headers;
            server!.Requests.Enqueue(new ServedRequest(
                DateTime.UtcNow, context.Request.Path + context.Request.QueryString, headers.IfNoneMatch.FirstOrDefault(),
                headers.IfModifiedSince.FirstOrDefault(), headers.UserAgent.FirstOrDefault()));
            await handler(context);
        });
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server = new LocalFeedServer(app, new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal)));
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
