using System.Diagnostics;
using System.Net;
using Finstage.Contracts;
using Finstage.Testing;
using Microsoft.AspNetCore.Http;

namespace Finstage.Crawler.Tests.Fetching;

[Trait("Lane", "Fast")]
public sealed class FeedFetcherTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact(Timeout = 30_000)]
    public async Task FetchAsync_ReturnsNotModified_WhenServerAnswers304ToRememberedETag()
    {
        await using var server = await LocalFeedServer.StartAsync(async context =>
        {
            if (context.Request.Headers.IfNoneMatch == "\"v1\"")
            {
                context.Response.StatusCode = StatusCodes.Status304NotModified;
                return;
            }
            context.Response.Headers.ETag = "\"v1\"";
            context.Response.Headers.LastModified = "Fri, 14 Aug 2026 07:00:00 GMT";
            await context.Response.WriteAsync(SampleFeeds.Rss("AAPL"));
        }, Cancel);
        using var host = new FetchHost(server.BaseAddress);
        var url = FetchHost.FeedUrl(server.BaseAddress, "AAPL");

        var first = await host.Fetcher.FetchAsync(url, Cancel);
        // What the consumer does once the first answer's result is published.
        host.Validators.Remember(url, first.Validators);
        var second = await host.Fetcher.FetchAsync(url, Cancel);

        first.HttpStatus.ShouldBe(200);
        first.Body.ShouldNotBeNull();
        second.NotModified.ShouldBeTrue();
        second.HttpStatus.ShouldBe(304);
        var requests = server.Requests.ToArray();
        requests[1].IfNoneMatch.ShouldBe("\"v1\"");
        requests[1].IfModifiedSince.ShouldBe("Fri, 14 Aug 2026 07:00:00 GMT");
        requests[0].UserAgent!.ShouldStartWith("Finstage/");
    }

    [Fact(Timeout = 30_000)]
    public async Task FetchAsync_FetchesInFull_WhenAskedNotToBeConditionalDespiteRememberedETag()
    {
        await using var server = await LocalFeedServer.StartAsync(async context =>
        {
            if (context.Request.Headers.IfNoneMatch == "\"v1\"")
            {
                context.Response.StatusCode = StatusCodes.Status304NotModified;
                return;
            }
            context.Response.Headers.ETag = "\"v1\"";
            await context.Response.WriteAsync(SampleFeeds.Rss("AAPL"));
        }, Cancel);
        using var host = new FetchHost(server.BaseAddress);
        var url = FetchHost.FeedUrl(server.BaseAddress, "AAPL");

        host.Validators.Remember(url, (await host.Fetcher.FetchAsync(url, Cancel)).Validators);
        // A repeated crawl: the first one's articles may never have been stored.
        var repeated = await host.Fetcher.FetchAsync(url, conditional: false, Cancel);

        repeated.HttpStatus.ShouldBe(200);
        repeated.Body.ShouldNotBeNull();
        server.Requests.ToArray()[1].IfNoneMatch.ShouldBeNull();
    }

    [Theory(Timeout = 30_000)]
    [InlineData(StatusCodes.Status429TooManyRequests)]
    [InlineData(StatusCodes.Status503ServiceUnavailable)]
    public async Task FetchAsync_WaitsAsToldThenSucceeds_WhenServerAnswersWithRetryAfter(int status)
    {
        var calls = 0;
        await using var server = await LocalFeedServer.StartAsync(async context =>
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                context.Response.StatusCode = status;
                context.Response.Headers.RetryAfter = "1";
                return;
            }
            await context.Response.WriteAsync(SampleFeeds.Rss("AAPL"));
        }, Cancel);
        using var host = new FetchHost(server.BaseAddress);

        var outcome = await host.Fetcher.FetchAsync(FetchHost.FeedUrl(server.BaseAddress, "AAPL"), Cancel);

        outcome.Failed.ShouldBeFalse(outcome.Detail);
        outcome.Attempts.ShouldBe(2);
        var requests = server.Requests.ToArray();
        (requests[1].ReceivedAt - requests[0].ReceivedAt).ShouldBeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(950));
    }

    [Fact(Timeout = 30_000)]
    public async Task FetchAsync_FailsRateLimitedAtOnce_WhenRetryAfterIsLongerThanWeWait()
    {
        await using var server = await LocalFeedServer.StartAsync(context =>
        {
            context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
            context.Response.Headers.RetryAfter = "3600";
            return Task.CompletedTask;
        }, Cancel);
        using var host = new FetchHost(server.BaseAddress);

        var outcome = await host.Fetcher.FetchAsync(FetchHost.FeedUrl(server.BaseAddress, "AAPL"), Cancel);

        outcome.Failure.ShouldBe(CrawlFailureReason.RateLimited);
        outcome.HttpStatus.ShouldBe(429);
        outcome.Detail!.ShouldContain("Retry-After");
        server.Requests.Count.ShouldBe(1);
    }

    [Fact(Timeout = 30_000)]
    public async Task FetchAsync_Retries_WhenServerFailsOnceWith500()
    {
        var calls = 0;
        await using var server = await LocalFeedServer.StartAsync(async context =>
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                context.Response.StatusCode = StatusCodes.Status500InternalServerError;
                return;
            }
            await context.Response.WriteAsync(SampleFeeds.Rss("AAPL"));
        }, Cancel);
        using var host = new FetchHost(server.BaseAddress);

        var outcome = await host.Fetcher.FetchAsync(FetchHost.FeedUrl(server.BaseAddress, "AAPL"), Cancel);

        outcome.Failed.ShouldBeFalse(outcome.Detail);
        outcome.Attempts.ShouldBe(2);
    }

    [Fact(Timeout = 30_000)]
    public async Task FetchAsync_GivesUpAfterBoundedRetries_WhenServerKeepsFailing()
    {
        await using var server = await LocalFeedServer.StartAsync(context =>
        {
            context.Response.StatusCode = StatusCodes.Status502BadGateway;
            return Task.CompletedTask;
        }, Cancel);
        using var host = new FetchHost(server.BaseAddress, new Dictionary<string, string?> { ["Fetch:MaxRetryAttempts"] = "2" });

        var outcome = await host.Fetcher.FetchAsync(FetchHost.FeedUrl(server.BaseAddress, "AAPL"), Cancel);

        outcome.Failure.ShouldBe(CrawlFailureReason.HttpError);
        outcome.HttpStatus.ShouldBe(502);
        outcome.Attempts.ShouldBe(3);
        server.Requests.Count.ShouldBe(3);
    }

    [Fact(Timeout = 30_000)]
    public async Task FetchAsync_StopsAskingTheHost_WhenItsCircuitOpens()
    {
        await using var server = await LocalFeedServer.StartAsync(context =>
        {
            context.Response.StatusCode = StatusCodes.Status500InternalServerError;
            return Task.CompletedTask;
        }, Cancel);
        using var host = new FetchHost(server.BaseAddress, new Dictionary<string, string?>
        {
            ["Fetch:MaxRetryAttempts"] = "0",
            ["Fetch:BreakerMinimumThroughput"] = "4",
            ["Fetch:BreakerFailureRatio"] = "0.5",
            ["Fetch:BreakerBreakDuration"] = "00:01:00",
        });

        var outcomes = new List<Finstage.Crawler.Fetching.FetchOutcome>();
        for (var i = 0; i < 8; i++)
        {
            outcomes.Add(await host.Fetcher.FetchAsync(FetchHost.FeedUrl(server.BaseAddress, $"S{i}"), Cancel));
        }

        outcomes.ShouldAllBe(outcome => outcome.Failure == CrawlFailureReason.HttpError);
        outcomes[^1].Detail!.ShouldContain("circuit is open");
        // Once open, the circuit answers for the host: the server saw only the requests that opened it.
        server.Requests.Count.ShouldBe(4);
    }

    [Fact(Timeout = 30_000)]
    public async Task FetchAsync_FailsWithNotFound_WithoutRetrying()
    {
        await using var server = await LocalFeedServer.StartAsync(context =>
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }, Cancel);
        using var host = new FetchHost(server.BaseAddress);

        var outcome = await host.Fetcher.FetchAsync(FetchHost.FeedUrl(server.BaseAddress, "AAPL"), Cancel);

        outcome.Failure.ShouldBe(CrawlFailureReason.HttpError);
        outcome.Detail!.ShouldContain("404");
        server.Requests.Count.ShouldBe(1);
    }

    [Fact(Timeout = 30_000)]
    public async Task FetchAsync_TimesOut_WhenServerDripsTheBody()
    {
        await using var server = await LocalFeedServer.StartAsync(async context =>
        {
            context.Response.ContentType = "application/rss+xml";
            await context.Response.StartAsync(context.RequestAborted);
            for (var i = 0; i < 200 && !context.RequestAborted.IsCancellationRequested; i++)
            {
                await context.Response.WriteAsync(" ", context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
                await Task.Delay(100, context.RequestAborted);
            }
        }, Cancel);
        using var host = new FetchHost(server.BaseAddress, new Dictionary<string, string?> { ["Fetch:TotalTimeout"] = "00:00:01.500" });
        var clock = Stopwatch.StartNew();

        var outcome = await host.Fetcher.FetchAsync(FetchHost.FeedUrl(server.BaseAddress, "AAPL"), Cancel);

        outcome.Failure.ShouldBe(CrawlFailureReason.Timeout);
        // Far below the 20 s the drip would take: the budget covers the body, not just the headers.
        clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(15));
    }

    [Fact(Timeout = 30_000)]
    public async Task FetchAsync_RefusesAsTooLarge_WhenServerAnnouncesAnOversizedBody()
    {
        await using var server = await LocalFeedServer.StartAsync(async context =>
        {
            context.Response.ContentLength = 6 * 1024 * 1024;
            await context.Response.Body.WriteAsync(new byte[6 * 1024 * 1024], context.RequestAborted);
        }, Cancel);
        using var host = new FetchHost(server.BaseAddress);

        var outcome = await host.Fetcher.FetchAsync(FetchHost.FeedUrl(server.BaseAddress, "AAPL"), Cancel);

        outcome.Failure.ShouldBe(CrawlFailureReason.TooLarge);
    }

    [Fact(Timeout = 30_000)]
    public async Task FetchAsync_RefusesAsTooLarge_WhenAnUnannouncedBodyOutgrowsTheCap()
    {
        await using var server = await LocalFeedServer.StartAsync(async context =>
        {
            var chunk = new byte[64 * 1024];
            for (var i = 0; i < 40 && !context.RequestAborted.IsCancellationRequested; i++)
            {
                await context.Response.Body.WriteAsync(chunk, context.RequestAborted);
            }
        }, Cancel);
        using var host = new FetchHost(server.BaseAddress, new Dictionary<string, string?> { ["Fetch:MaxResponseBytes"] = "1048576" });

        var outcome = await host.Fetcher.FetchAsync(FetchHost.FeedUrl(server.BaseAddress, "AAPL"), Cancel);

        outcome.Failure.ShouldBe(CrawlFailureReason.TooLarge);
    }

    [Fact(Timeout = 30_000)]
    public async Task FetchAsync_FailsWithoutFollowing_WhenRedirectedOutOfHttp()
    {
        await using var server = await LocalFeedServer.StartAsync(context =>
        {
            context.Response.StatusCode = StatusCodes.Status302Found;
            context.Response.Headers.Location = "file:///etc/passwd";
            return Task.CompletedTask;
        }, Cancel);
        using var host = new FetchHost(server.BaseAddress);

        var outcome = await host.Fetcher.FetchAsync(FetchHost.FeedUrl(server.BaseAddress, "AAPL"), Cancel);

        outcome.Failure.ShouldBe(CrawlFailureReason.HttpError);
        outcome.HttpStatus.ShouldBe(302);
    }

    [Fact(Timeout = 30_000)]
    [Trait("Category", "Reliability")]
    public async Task FetchAsync_RemembersNoValidators_WhenTheAnswerIsOnlyFetched()
    {
        await using var server = await LocalFeedServer.StartAsync(async context =>
        {
            context.Response.Headers.ETag = "\"v1\"";
            await context.Response.WriteAsync(SampleFeeds.Rss("AAPL"));
        }, Cancel);
        using var host = new FetchHost(server.BaseAddress);
        var url = FetchHost.FeedUrl(server.BaseAddress, "AAPL");

        var first = await host.Fetcher.FetchAsync(url, Cancel);
        await host.Fetcher.FetchAsync(url, Cancel);

        // The answer's ETag travels with it, to be kept once its result is published, and not before.
        first.Validators.ShouldNotBeNull().ETag.ShouldBe("\"v1\"");
        host.Validators.Get(url).ShouldBeNull();
        server.Requests.ShouldAllBe(request => request.IfNoneMatch == null);
    }
}
