using System.Net;
using System.Net.Sockets;
using Finstage.Contracts;
using Finstage.Crawler.Fetching;
using Finstage.Testing;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Finstage.Crawler.Tests.Fetching;

/// <summary>
/// A feed that sends the crawler to internal addresses (issue 12, item 4): refused at connect time
/// as BlockedAddress, before any connection, whatever the host's spelling; a configured source's own
/// host and port, and everything under Fetch:AllowPrivateNetworks, still fetched.
/// </summary>
[Trait("Category", "Reliability")]
[Trait("Category", "Security")]
[Trait("Lane", "Fast")]
public sealed class PrivateNetworkTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Theory(Timeout = 60_000)]
    [InlineData("127.0.0.1", "http://127.0.0.1:{port}/admin")]
    [InlineData("127.0.0.1", "http://localhost:{port}/")]
    [InlineData("127.0.0.2", "http://2130706434:{port}/")]
    [InlineData("127.0.0.2", "http://0x7f000002:{port}/")]
    [InlineData("::1", "http://[::1]:{port}/")]
    [InlineData("127.0.0.1", "http://[::ffff:127.0.0.1]:{port}/")]
    [InlineData("127.0.0.1", "http://admin:hunter2@127.0.0.1:{port}/status?token=s3cr3t-value")]
    public async Task CrawlAsync_FailsBlockedAddressWithoutConnecting_WhenTheFeedRedirectsToThisHost(string listenOn, string target)
    {
        using var listener = ConnectionCounter.Start(IPAddress.Parse(listenOn));
        var location = target.Replace("{port}", listener.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        await using var feed = await RedirectingFeedAsync(location);
        using var host = new FetchHost(feed.BaseAddress);

        var failed = (await host.Crawler.CrawlAsync(Request("GO"), repeated: false, Cancel)).ShouldBeOfType<CrawlOutcome.Failed>().Message;

        failed.Reason.ShouldBe(CrawlFailureReason.BlockedAddress);
        failed.Attempts.ShouldBe(1, "a blocked address is not retried");
        listener.Connections.ShouldBe(0);
        // The detail names the configured feed and says what happened, but nothing of where the feed pointed.
        var feedUrl = FetchHost.FeedUrl(feed.BaseAddress, "GO").ToString();
        failed.Detail.ShouldStartWith(feedUrl + ": A redirect's target");
        var told = failed.Detail[feedUrl.Length..];
        foreach (var secret in new[] { listener.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "localhost", "2130706434", "::", "admin", "hunter2", "s3cr3t", "status" })
        {
            told.ShouldNotContain(secret);
        }
    }

    [Theory(Timeout = 60_000)]
    [InlineData("http://169.254.169.254/latest/meta-data/iam/security-credentials/")]
    [InlineData("http://10.0.0.1:8080/")]
    [InlineData("http://192.168.1.1/")]
    [InlineData("http://172.16.5.4:15672/api/users")]
    [InlineData("http://[fd00::1]/")]
    [InlineData("http://[fe80::1]/")]
    [InlineData("http://224.0.0.1/")]
    [InlineData("http://0.0.0.0:5080/")]
    public async Task CrawlAsync_FailsBlockedAddressAtOnce_WhenTheFeedRedirectsToAPrivateNetwork(string location)
    {
        await using var feed = await RedirectingFeedAsync(location);
        using var host = new FetchHost(feed.BaseAddress);

        var failed = (await host.Crawler.CrawlAsync(Request("GO"), repeated: false, Cancel)).ShouldBeOfType<CrawlOutcome.Failed>().Message;

        // Unguarded, these would wait out a connect timeout, or reach whatever answers there.
        failed.Reason.ShouldBe(CrawlFailureReason.BlockedAddress);
        failed.Attempts.ShouldBe(1);
        failed.Detail.ShouldNotContain(new Uri(location).Host.Trim('[', ']'));
    }

    [Fact(Timeout = 60_000)]
    public async Task CrawlAsync_FailsBlockedAddress_WhenTheSameHostIsNamedOnAnotherPort()
    {
        // The feed server itself, on a port of this host that is no configured source: the exception is host AND port.
        await using var other = await LocalFeedServer.StartAsync(context => context.Response.WriteAsync(SampleFeeds.Rss("OTHER")), Cancel);
        await using var feed = await RedirectingFeedAsync(new Uri(other.BaseAddress, "feeds/OTHER").ToString());
        using var host = new FetchHost(feed.BaseAddress);

        var failed = (await host.Crawler.CrawlAsync(Request("GO"), repeated: false, Cancel)).ShouldBeOfType<CrawlOutcome.Failed>().Message;

        failed.Reason.ShouldBe(CrawlFailureReason.BlockedAddress);
        other.Requests.ShouldBeEmpty();
    }

    [Fact(Timeout = 60_000)]
    public async Task CrawlAsync_PublishesTheFeed_WhenARedirectStaysWithinConfiguredSources()
    {
        await using var other = await LocalFeedServer.StartAsync(context => context.Response.WriteAsync(SampleFeeds.Rss("MOVED")), Cancel);
        LocalFeedServer? feed = null;
        feed = await LocalFeedServer.StartAsync(async context =>
        {
            switch (context.Request.Path.Value)
            {
                case "/feeds/SAME":
                    // To the source's own host and port, spelled as a decimal address: the same endpoint.
                    context.Response.Redirect($"http://2130706433:{feed!.BaseAddress.Port}/moved/SAME");
                    return;
                case "/feeds/OTHER":
                    context.Response.Redirect(new Uri(other.BaseAddress, "feeds/MOVED").ToString());
                    return;
                default:
                    await context.Response.WriteAsync(SampleFeeds.Rss("SAME"));
                    return;
            }
        }, Cancel);
        await using var _ = feed;
        using var host = new FetchHost(feed.BaseAddress, new Dictionary<string, string?>
        {
            // Another configured source on this host: a redirect may lead there.
            ["Sources:other:UrlTemplate"] = new Uri(other.BaseAddress, "feeds/{symbol}").ToString(),
        });

        var same = (await host.Crawler.CrawlAsync(Request("SAME"), repeated: false, Cancel)).ShouldBeOfType<CrawlOutcome.Crawled>().Message;
        var moved = (await host.Crawler.CrawlAsync(Request("OTHER"), repeated: false, Cancel)).ShouldBeOfType<CrawlOutcome.Crawled>().Message;

        same.Articles.Count.ShouldBe(2);
        moved.Articles.Select(article => article.Url).ShouldBe(["https://example.com/MOVED/1", "https://example.com/MOVED/2"]);
    }

    [Fact(Timeout = 60_000)]
    public async Task CrawlAsync_ConnectsToPrivateAddresses_WhenAllowPrivateNetworksIsSet()
    {
        await using var other = await LocalFeedServer.StartAsync(context => context.Response.WriteAsync(SampleFeeds.Rss("LAN")), Cancel);
        using var listener = ConnectionCounter.Start(IPAddress.Loopback);
        await using var feed = await LocalFeedServer.StartAsync(context =>
        {
            context.Response.Redirect(context.Request.Path.Value!.EndsWith("/LAN", StringComparison.Ordinal)
                ? new Uri(other.BaseAddress, "feeds/LAN").ToString()
                : $"http://localhost:{listener.Port}/");
            return Task.CompletedTask;
        }, Cancel);
        using var host = new FetchHost(feed.BaseAddress, new Dictionary<string, string?>
        {
            ["Fetch:AllowPrivateNetworks"] = "true",
            ["Fetch:MaxRetryAttempts"] = "0",
        });

        var lan = (await host.Crawler.CrawlAsync(Request("LAN"), repeated: false, Cancel)).ShouldBeOfType<CrawlOutcome.Crawled>().Message;
        var counted = await host.Crawler.CrawlAsync(Request("COUNTED"), repeated: false, Cancel);

        lan.Articles.Count.ShouldBe(2);
        // The listener that shows 0 in the refusals above does count a connection that is made.
        counted.ShouldBeOfType<CrawlOutcome.Failed>().Message.Reason.ShouldBe(CrawlFailureReason.HttpError);
        listener.Connections.ShouldBeGreaterThan(0);
    }

    [Fact(Timeout = 60_000)]
    public async Task CrawlAsync_ShowsNoBodyReasonPhraseCredentialsOrKeys_WhenTheFeedFails()
    {
        await using var feed = await LocalFeedServer.StartAsync(async context =>
        {
            context.Response.StatusCode = StatusCodes.Status500InternalServerError;
            context.Features.Get<IHttpResponseFeature>()!.ReasonPhrase = "Connection to 10.1.2.3:6379 refused";
            await context.Response.WriteAsync("redis: NOAUTH; internal stack trace");
        }, Cancel);
        var template = $"http://reader:hunter2@127.0.0.1:{feed.BaseAddress.Port}/feeds/{{symbol}}?region=US&apikey=k3y-for-feeds";
        using var host = new FetchHost(feed.BaseAddress, new Dictionary<string, string?>
        {
            ["Sources:local:UrlTemplate"] = template,
            ["Fetch:MaxRetryAttempts"] = "0",
        });

        var failed = (await host.Crawler.CrawlAsync(Request("AAPL"), repeated: false, Cancel)).ShouldBeOfType<CrawlOutcome.Failed>().Message;

        failed.Reason.ShouldBe(CrawlFailureReason.HttpError);
        failed.Detail.ShouldBe($"http://127.0.0.1:{feed.BaseAddress.Port}/feeds/AAPL?region=US&apikey=REDACTED: HTTP 500 Internal Server Error");
    }

    [Fact(Timeout = 60_000)]
    public async Task CrawlAsync_LogsNoCredentialsOrKeys_WhenAFeedWithThemInItsUrlIsRetriedAndFails()
    {
        await using var feed = await LocalFeedServer.StartAsync(context =>
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return Task.CompletedTask;
        }, Cancel);
        var logs = new CapturedLogs();
        using var host = new FetchHost(feed.BaseAddress, new Dictionary<string, string?>
        {
            ["Sources:local:UrlTemplate"] = $"http://reader:hunter2@127.0.0.1:{feed.BaseAddress.Port}/feeds/{{symbol}}?token=k3y-for-feeds",
            ["Fetch:MaxRetryAttempts"] = "2",
        }, logs);

        var failed = (await host.Crawler.CrawlAsync(Request("AAPL"), repeated: false, Cancel)).ShouldBeOfType<CrawlOutcome.Failed>().Message;

        failed.Attempts.ShouldBe(3);
        // The HTTP client's and the resilience pipeline's own logs (retries, per-host pipeline names) included.
        logs.Lines.ShouldNotBeEmpty();
        logs.Lines.ShouldAllBe(line => !line.Contains("hunter2") && !line.Contains("k3y-for-feeds"));
    }

    [Fact(Timeout = 60_000)]
    public async Task FetchAsync_DescribesWithoutEchoing_WhenARedirectIsNotFollowed()
    {
        await using var feed = await RedirectingFeedAsync("ftp://admin:hunter2@files.internal.example/export?key=abc");
        using var host = new FetchHost(feed.BaseAddress);

        var outcome = await host.Fetcher.FetchAsync(FetchHost.FeedUrl(feed.BaseAddress, "GO"), Cancel);

        outcome.Failure.ShouldBe(CrawlFailureReason.HttpError);
        outcome.Detail.ShouldBe("HTTP 302 Found (a redirect to a ftp URL that is not followed: only http(s), never https to http, at most 5 hops)");
    }

    private static Task<LocalFeedServer> RedirectingFeedAsync(string location) =>
        LocalFeedServer.StartAsync(context =>
        {
            context.Response.StatusCode = StatusCodes.Status302Found;
            context.Response.Headers.Location = location;
            return Task.CompletedTask;
        }, Cancel);

    private static CrawlRequested Request(string symbol) =>
        new(Guid.NewGuid(), Guid.NewGuid(), "local", symbol, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddMinutes(5));

    /// <summary>A TCP listener that accepts, counts and hangs up: proof of whether anything connected to it.</summary>
    private sealed class ConnectionCounter : IDisposable
    {
        private readonly TcpListener _listener;
        private int _connections;

        private ConnectionCounter(IPAddress address)
        {
            _listener = new TcpListener(address, 0);
            _listener.Start();
            _ = AcceptAsync();
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public int Connections => Volatile.Read(ref _connections);

        public static ConnectionCounter Start(IPAddress address) => new(address);

        public void Dispose() => _listener.Dispose();

        private async Task AcceptAsync()
        {
            try
            {
                while (true)
                {
                    using var client = await _listener.AcceptTcpClientAsync();
                    Interlocked.Increment(ref _connections);
                }
            }
            catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
            {
                // Stopped.
            }
        }
    }
}
