using System.ComponentModel.DataAnnotations;
using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace Finstage.FeedServer;

/// <summary>Starts the feed server inside another process (tests, benchmarks) on 127.0.0.1.</summary>
public static class FeedServerApp
{
    /// <summary>Starts on a free port with the system clock.</summary>
    public static Task<RunningFeedServer> StartAsync(FeedServerOptions options, CancellationToken cancellationToken) =>
        StartAsync(options, TimeProvider.System, port: 0, cancellationToken);

    /// <param name="time">The clock the news is generated from; a fake one makes the feeds' content controllable.</param>
    /// <param name="port">0 for a free port.</param>
    public static async Task<RunningFeedServer> StartAsync(FeedServerOptions options, TimeProvider time, int port, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        Validator.ValidateObject(options, new ValidationContext(options), validateAllProperties: true);
        var builder = WebApplication.CreateSlimBuilder();
        // The host process's settings (a test's appsettings.json, ASPNETCORE_URLS) are not the feed server's.
        builder.Configuration.Sources.Clear();
        builder.AddFeedServer([]);
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(time);
        builder.Services.AddSingleton(Options.Create(options));
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        app.MapFeedServer();
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new RunningFeedServer(app, new Uri(address.EndsWith('/') ? address : address + "/"));
    }
}

/// <summary>A feed server started in-process; disposing it stops it.</summary>
public sealed class RunningFeedServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    internal RunningFeedServer(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    /// <summary>Where the server listens, ending in a slash: <c>http://127.0.0.1:PORT/</c>.</summary>
    public Uri BaseAddress { get; }

    /// <summary>The crawler's <c>Sources:yahoo:UrlTemplate</c> for this server.</summary>
    public string YahooUrlTemplate => $"{BaseAddress}rss/2.0/headline?s={{symbol}}&region=US&lang=en-US";

    /// <summary>The crawler's <c>Sources:investing:BaseUrl</c> for this server (no trailing slash, as the paths start with one).</summary>
    public string InvestingBaseUrl => BaseAddress.AbsoluteUri.TrimEnd('/');

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
