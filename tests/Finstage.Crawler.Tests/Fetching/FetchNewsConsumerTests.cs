using System.Collections.Concurrent;
using Finstage.Contracts;
using Finstage.Testing;
using MassTransit;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Finstage.Crawler.Tests.Fetching;

/// <summary>
/// The crawler service in-process against the real RabbitMQ (a virtual host of its own) and a
/// local feed server, with probes that receive what it publishes.
/// </summary>
public sealed class CrawlerFixture : IAsyncLifetime
{
    public const int ConcurrencyLimit = 3;

    /// <summary>The body cap (Bus:MaxMessageBytes) of the crawler under test, far below the default.</summary>
    public const int MaxMessageBytes = 64 * 1024;

    private int _inFlight;
    private int _maxInFlight;

    public LocalFeedServer Feeds { get; private set; } = null!;

    public Uri Broker { get; private set; } = null!;

    public MessageProbe<NewsCrawled> Crawled { get; private set; } = null!;

    public MessageProbe<CrawlFailed> Failed { get; private set; } = null!;

    public WebApplicationFactory<Program> Crawler { get; private set; } = null!;

    public int MaxInFlight => Volatile.Read(ref _maxInFlight);

    /// <summary>Publishes of results the test refuses or holds back, as a broker that will not take them or is slow to confirm would.</summary>
    public PublishGates PublishGates { get; } = new();

    public async ValueTask InitializeAsync()
    {
        Feeds = await LocalFeedServer.StartAsync(ServeAsync);
        Broker = await TestServers.CreateVirtualHostAsync("finstage-crawler-tests");
        Crawled = await MessageProbe<NewsCrawled>.StartAsync(Broker, "crawler-tests-news-crawled");
        Failed = await MessageProbe<CrawlFailed>.StartAsync(Broker, "crawler-tests-crawl-failed");
        Crawler = new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
        {
            web.UseSetting("ConnectionStrings:RabbitMq", Broker.ToString());
            web.UseSetting("Bus:MaxMessageBytes", MaxMessageBytes.ToString(System.Globalization.CultureInfo.InvariantCulture));
            web.UseSetting("Sources:local:UrlTemplate", new Uri(Feeds.BaseAddress, "feeds/{symbol}").ToString());
            web.UseSetting("Sources:local:RequestsPerSecond", "1000");
            web.UseSetting("Sources:local:Burst", "1000");
            // The same feed site under another host name, so under a token bucket of its own: a slow one.
            web.UseSetting("Sources:paced:UrlTemplate", new UriBuilder(new Uri(Feeds.BaseAddress, "feeds/{symbol}")) { Host = "localhost" }.Uri.ToString()
                .Replace("%7Bsymbol%7D", "{symbol}", StringComparison.Ordinal));
            web.UseSetting("Sources:paced:RequestsPerSecond", PacedRate.ToString(System.Globalization.CultureInfo.InvariantCulture));
            web.UseSetting("Sources:paced:Burst", "1");
            web.UseSetting("Fetch:ConcurrentFetches", ConcurrencyLimit.ToString(System.Globalization.CultureInfo.InvariantCulture));
            web.UseSetting("Fetch:PrefetchCount", ConcurrencyLimit.ToString(System.Globalization.CultureInfo.InvariantCulture));
            // Fewer than the scheduled consumers, as shipped (4 to 8).
            web.UseSetting("Fetch:ManualConcurrentFetches", "2");
            web.UseSetting("Fetch:RetryDelay", "00:00:00.050");
            // Longer than any test waits, so a publish held back (PublishGates.Hold) is not given up and retried meanwhile.
            web.UseSetting("Bus:PublishTimeout", "00:01:00");
            web.ConfigureTestServices(services => services.AddSingleton<IConfigureReceiveEndpoint>(PublishGates));
        });
        _ = Crawler.Services;
    }

    /// <summary>Requests a second of the <c>paced</c> source.</summary>
    public const int PacedRate = 20;

    /// <summary>Sends the requests by name to the queue of crawls asked for by hand, as the scheduler does.</summary>
    public async Task SendManualAsync(IEnumerable<CrawlRequested> requests)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var queue = await Crawler.Services.GetRequiredService<IBus>().GetSendEndpoint(new Uri("queue:" + Queues.ManualCrawls));
        foreach (var request in requests)
        {
            await queue.Send(request, deadline.Token);
        }
    }

    public async Task PublishAsync(CrawlRequested request, Guid? messageId = null)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await Crawler.Services.GetRequiredService<IBus>().Publish(request, context => context.MessageId = messageId ?? context.MessageId, deadline.Token);
    }

    private async Task ServeAsync(HttpContext context)
    {
        var symbol = context.Request.Path.Value!.Split('/')[^1];
        if (symbol.StartsWith("SLOW", StringComparison.Ordinal))
        {
            var now = Interlocked.Increment(ref _inFlight);
            int seen;
            while ((seen = Volatile.Read(ref _maxInFlight)) < now && Interlocked.CompareExchange(ref _maxInFlight, now, seen) != seen)
            {
            }
            try
            {
                await Task.Delay(150, context.RequestAborted);
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        }
        if (symbol.StartsWith("ETAG", StringComparison.Ordinal))
        {
            // One unchanging version, with an ETag that a conditional request turns into a 304.
            var etag = $"\"{symbol}-v1\"";
            if (context.Request.Headers.IfNoneMatch == etag)
            {
                context.Response.StatusCode = StatusCodes.Status304NotModified;
                return;
            }
            context.Response.Headers.ETag = etag;
        }
        switch (symbol)
        {
            case "MISSING":
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            case "TRUNCATED":
                context.Response.ContentType = "application/rss+xml";
                await context.Response.WriteAsync("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Cut off</title><item><title>Half a head");
                return;
            case "HINTED":
                // The channel's ttl (30 min) and the answer's max-age (15 min): the result carries the larger.
                context.Response.Headers.CacheControl = "max-age=900";
                context.Response.ContentType = "application/rss+xml";
                await context.Response.WriteAsync(CrawlHintsTests.FeedWithTtl(symbol, 30));
                return;
            case "BUSY":
                // Longer than Fetch:MaxRetryAfter, so the crawl ends at once as RateLimited.
                context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                context.Response.Headers.RetryAfter = "3600";
                return;
            case "HTML":
                context.Response.ContentType = "text/html";
                await context.Response.WriteAsync("<!DOCTYPE html><html><head><title>Markets</title></head><body><p>Not a feed</p></body></html>");
                return;
            default:
                context.Response.ContentType = "application/rss+xml; charset=utf-8";
                await context.Response.WriteAsync(SampleFeeds.Rss(symbol));
                return;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Crawler.DisposeAsync();
        await Crawled.DisposeAsync();
        await Failed.DisposeAsync();
        await Feeds.DisposeAsync();
    }
}

/// <summary>
/// Stands, on every receive endpoint, in the way of the publish of a NewsCrawled whose symbol the test named: a broker
/// that will not take the result (<see cref="Fail"/>), for as long as the test says, or one that takes its time to
/// confirm it (<see cref="Hold"/>), until the test lets the symbol go.
/// </summary>
public sealed class PublishGates : IConfigureReceiveEndpoint, IFilter<PublishContext>
{
    private readonly ConcurrentDictionary<string, byte> _failing = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _held = new(StringComparer.Ordinal);
    private int _waiting;

    /// <summary>Publishes held at a gate now.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    public void Fail(string symbol, bool fail)
    {
        if (fail)
        {
            _failing[symbol] = 0;
        }
        else
        {
            _failing.TryRemove(symbol, out _);
        }
    }

    public void Hold(string symbol) => _held[symbol] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Release(string symbol)
    {
        if (_held.TryRemove(symbol, out var gate))
        {
            gate.TrySetResult();
        }
    }

    public void Configure(string name, IReceiveEndpointConfigurator configurator) =>
        configurator.ConfigurePublish(publish => publish.UseFilter(this));

    public async Task Send(PublishContext context, IPipe<PublishContext> next)
    {
        if (context is PublishContext<NewsCrawled> crawled)
        {
            var symbol = crawled.Message.Symbol;
            if (_failing.ContainsKey(symbol))
            {
                throw new InvalidOperationException($"The test refuses the publish of {symbol}'s result.");
            }
            if (_held.TryGetValue(symbol, out var gate))
            {
                Interlocked.Increment(ref _waiting);
                try
                {
                    await gate.Task.WaitAsync(context.CancellationToken);
                }
                finally
                {
                    Interlocked.Decrement(ref _waiting);
                }
            }
        }
        await next.Send(context);
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("publish-gates");
}

/// <summary>
/// The test classes that share one crawler and its virtual host: the fixture re-creates the virtual
/// host, so two instances of it at once would pull it from under each other.
/// </summary>
[CollectionDefinition(nameof(SharedCrawler))]
public sealed class SharedCrawler : ICollectionFixture<CrawlerFixture>;

[Collection(nameof(SharedCrawler))]
public sealed class FetchNewsConsumerTests(CrawlerFixture crawler)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact(Timeout = 90_000)]
    public async Task Consume_PublishesExactlyOneResultWithItsReason_ForEveryRequest()
    {
        var cycle = Guid.NewGuid();
        CrawlRequested Request(string source, string symbol, DateTimeOffset? notAfter = null) =>
            new(Guid.NewGuid(), cycle, source, symbol, DateTimeOffset.UtcNow, notAfter ?? DateTimeOffset.UtcNow.AddMinutes(5));
        var good = Request("local", "AAPL");
        var requests = new[]
        {
            good,
            Request("local", "MISSING"),
            Request("local", "HTML"),
            Request("nosuch", "AAPL"),
            Request("local", "TSLA", DateTimeOffset.UtcNow.AddMinutes(-1)),
            Request("local", "TRUNCATED"),
        };
        var reasons = new Dictionary<Guid, CrawlFailureReason>
        {
            [requests[1].CrawlId] = CrawlFailureReason.HttpError,
            [requests[2].CrawlId] = CrawlFailureReason.NotAFeed,
            [requests[3].CrawlId] = CrawlFailureReason.NotConfigured,
            [requests[4].CrawlId] = CrawlFailureReason.Cancelled,
            [requests[5].CrawlId] = CrawlFailureReason.ParseError,
        };

        foreach (var request in requests)
        {
            await crawler.PublishAsync(request);
        }

        var crawled = await crawler.Crawled.WaitForAsync(1, message => message.CycleId == cycle, TimeSpan.FromSeconds(60), Cancel);
        var failed = await crawler.Failed.WaitForAsync(5, message => message.CycleId == cycle, TimeSpan.FromSeconds(60), Cancel);
        crawled.Single().Message.CrawlId.ShouldBe(good.CrawlId);
        crawled.Single().Message.Articles.Select(article => article.Url).ShouldBe(["https://example.com/AAPL/1", "https://example.com/AAPL/2"]);
        crawled.Single().Message.HttpStatus.ShouldBe(200);
        failed.Count.ShouldBe(5);
        failed.ToDictionary(received => received.Message.CrawlId, received => received.Message.Reason).ShouldBe(reasons, ignoreOrder: true);
        failed.ShouldAllBe(received => received.Message.Detail.Length > 0);
    }

    [Fact(Timeout = 90_000)]
    public async Task Consume_NeverFetchesMoreAtOnceThanTheLimit_WhenManyRequestsAreQueued()
    {
        var cycle = Guid.NewGuid();
        var requests = Enumerable.Range(0, 12)
            .Select(i => new CrawlRequested(Guid.NewGuid(), cycle, "local", $"SLOW{i}", DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddMinutes(5)))
            .ToList();

        foreach (var request in requests)
        {
            await crawler.PublishAsync(request);
        }

        var crawled = await crawler.Crawled.WaitForAsync(12, message => message.CycleId == cycle, TimeSpan.FromSeconds(60), Cancel);
        crawled.Select(received => received.Message.CrawlId).ShouldBe(requests.Select(request => request.CrawlId), ignoreOrder: true);
        crawler.MaxInFlight.ShouldBeLessThanOrEqualTo(CrawlerFixture.ConcurrencyLimit);
        crawler.MaxInFlight.ShouldBeGreaterThan(0);
    }

    [Fact(Timeout = 90_000)]
    public async Task Consume_FetchesOtherFeeds_WhileEveryPlacesResultWaitsForTheBroker()
    {
        var cycle = Guid.NewGuid();
        CrawlRequested Request(string symbol) => new(Guid.NewGuid(), cycle, "local", symbol, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddMinutes(5));
        string[] Symbols(string prefix) =>
            [.. Enumerable.Range(0, CrawlerFixture.ConcurrencyLimit).Select(i => $"{prefix}{i}{Guid.NewGuid():N}"[..16].ToUpperInvariant())];
        var held = Symbols("HELD");
        var others = Symbols("NEXT");
        foreach (var symbol in held)
        {
            crawler.PublishGates.Hold(symbol);
        }
        try
        {
            foreach (var symbol in held)
            {
                await crawler.PublishAsync(Request(symbol));
            }
            // As many crawls as there are fetch places have fetched their feeds and wait for the broker.
            await Eventually.WaitForAsync(() => Task.FromResult(crawler.PublishGates.Waiting), waiting => waiting == CrawlerFixture.ConcurrencyLimit,
                TimeSpan.FromSeconds(30), "every held result waiting at its gate", Cancel);
            foreach (var symbol in others)
            {
                await crawler.PublishAsync(Request(symbol));
            }

            var next = await crawler.Crawled.WaitForAsync(others.Length, message => others.Contains(message.Symbol), TimeSpan.FromSeconds(30), Cancel);

            next.Select(received => received.Message.Symbol).ShouldBe(others, ignoreOrder: true);
            crawler.PublishGates.Waiting.ShouldBe(CrawlerFixture.ConcurrencyLimit, "the held results were still waiting when the others were published");
        }
        finally
        {
            foreach (var symbol in held)
            {
                crawler.PublishGates.Release(symbol);
            }
        }
        var released = await crawler.Crawled.WaitForAsync(held.Length, message => held.Contains(message.Symbol), TimeSpan.FromSeconds(30), Cancel);
        released.Select(received => received.Message.Symbol).ShouldBe(held, ignoreOrder: true);
    }

    [Fact(Timeout = 120_000)]
    [Trait("Category", "Reliability")]
    public async Task Consume_FetchesInFullAndPublishesEveryArticle_WhenTheLastFetchOfTheFeedWasNeverPublished()
    {
        var symbol = $"ETAG{Guid.NewGuid():N}"[..16].ToUpperInvariant();
        CrawlRequested Request() => new(Guid.NewGuid(), Guid.NewGuid(), "local", symbol, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddMinutes(5));
        var lost = Request();
        var lostMessageId = NewId.NextGuid();
        crawler.PublishGates.Fail(symbol, fail: true);

        await crawler.PublishAsync(lost, lostMessageId);
        // Every attempt fetched the feed (and saw its ETag), none could publish: the request is parked.
        await BrokerQueues.WaitForAsync(crawler.Broker, "fetch-news_error", lostMessageId.ToString(), TimeSpan.FromSeconds(60), Cancel);
        crawler.PublishGates.Fail(symbol, fail: false);
        var fresh = Request();
        await crawler.PublishAsync(fresh);

        var crawled = (await crawler.Crawled.WaitForAsync(1, message => message.CrawlId == fresh.CrawlId, TimeSpan.FromSeconds(60), Cancel)).Single().Message;
        crawled.NotModified.ShouldBeFalse();
        crawled.Articles.Select(article => article.Url).ShouldBe([$"https://example.com/{symbol}/1", $"https://example.com/{symbol}/2"]);
        var fetches = crawler.Feeds.Requests.Where(request => request.PathAndQuery == $"/feeds/{symbol}").ToList();
        fetches.Count.ShouldBeGreaterThan(1);
        fetches[^1].IfNoneMatch.ShouldBeNull("the ETag of a version never published must not be sent");
        crawler.Crawled.Messages.ShouldNotContain(received => received.Message.CrawlId == lost.CrawlId);
    }
}
