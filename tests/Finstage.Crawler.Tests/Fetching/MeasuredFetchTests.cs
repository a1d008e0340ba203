using System.IO.Compression;
using Finstage.Contracts;
using Finstage.Testing;
using Microsoft.AspNetCore.Http;

namespace Finstage.Crawler.Tests.Fetching;

/// <summary>
/// Runs alone: arrival times at the server and the process's allocations are only meaningful
/// when no other test competes for the two cores and the heap.
/// </summary>
[CollectionDefinition(nameof(Measured), DisableParallelization = true)]
public sealed class Measured;

[Collection(nameof(Measured))]
public sealed class MeasuredFetchTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact(Timeout = 60_000)]
    public async Task FetchAsync_NeverExceedsTheHostsRate_WhenManyFetchesRunAtOnce()
    {
        const double rate = 2;
        const int burst = 1;
        await using var server = await LocalFeedServer.StartAsync(context => context.Response.WriteAsync(SampleFeeds.Rss("AAPL")), Cancel);
        using var host = new FetchHost(server.BaseAddress, new Dictionary<string, string?>
        {
            ["Sources:local:RequestsPerSecond"] = rate.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Sources:local:Burst"] = burst.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 8)
            .Select(i => host.Fetcher.FetchAsync(FetchHost.FeedUrl(server.BaseAddress, $"S{i}"), Cancel)));

        outcomes.ShouldAllBe(outcome => !outcome.Failed);
        var times = server.Requests.Select(r => r.ReceivedAt).Order().ToArray();
        times.Length.ShouldBe(8);
        // In any window of w seconds a token bucket lets through at most burst + rate × w requests;
        // the slack of 1 allows for a refill on the window's edge, or a request delivered late
        // that arrived closer to the next one than it was sent.
        for (var i = 0; i < times.Length; i++)
        {
            for (var j = i; j < times.Length; j++)
            {
                var window = (times[j] - times[i]).TotalSeconds;
                (j - i + 1).ShouldBeLessThanOrEqualTo((int)Math.Floor(burst + (rate * window)) + 1, $"requests {i}..{j} within {window:0.000} s");
            }
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task FetchAsync_RefusesAsTooLarge_WhenAGzipBombExpandsPastTheCap()
    {
        // 200 MB of zeros, about 200 KB on the wire.
        byte[] bomb;
        using (var compressed = new MemoryStream())
        {
            using (var gzip = new GZipStream(compressed, CompressionLevel.SmallestSize, leaveOpen: true))
            {
                var zeros = new byte[1024 * 1024];
                for (var i = 0; i < 200; i++)
                {
                    gzip.Write(zeros);
                }
            }
            bomb = compressed.ToArray();
        }
        await using var server = await LocalFeedServer.StartAsync(async context =>
        {
            context.Response.Headers.ContentEncoding = "gzip";
            context.Response.ContentType = "application/rss+xml";
            context.Response.ContentLength = bomb.Length;
            await context.Response.Body.WriteAsync(bomb, context.RequestAborted);
        }, Cancel);
        using var host = new FetchHost(server.BaseAddress);
        var before = GC.GetTotalAllocatedBytes();

        var outcome = await host.Fetcher.FetchAsync(FetchHost.FeedUrl(server.BaseAddress, "AAPL"), Cancel);

        outcome.Failure.ShouldBe(CrawlFailureReason.TooLarge);
        outcome.Detail!.ShouldContain("after decompression");
        // Reading stopped at the cap: nowhere near the 200 MB the bomb would expand to was allocated.
        (GC.GetTotalAllocatedBytes() - before).ShouldBeLessThan(64L * 1024 * 1024);
    }
}
