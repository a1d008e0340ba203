extern alias scheduler;

using System.Diagnostics;
using System.Globalization;
using Finstage.Contracts;
using Finstage.Testing;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using CrawlFanOut = scheduler::Finstage.Scheduler.Jobs.CrawlFanOut;

namespace Finstage.Bench;

/// <summary>
/// p3: the scheduler's fan-out job publishing N crawl requests, against publishing the same number
/// straight through the same bus; a queue of the bench's takes every request, as the crawler's would.
/// </summary>
public static class FanOutFigure
{
    public static async Task RunAsync(BenchSettings settings, Report report, CancellationToken ct)
    {
        var n = settings.FanOutRequests;
        var database = await TestServers.CreateDatabaseAsync("finstage_bench_fanout", ct);
        var virtualHost = await TestServers.CreateVirtualHostAsync("finstage-bench", ct);
        await using var sink = await BenchBus.StartCountingAsync<CrawlRequested>(virtualHost, "bench-crawl-requests", prefetch: 500);
        await using var scheduler = ServiceHosts.Scheduler(database, virtualHost.ToString());
        var fanOut = scheduler.Services.GetRequiredService<CrawlFanOut>();
        var bus = scheduler.Services.GetRequiredService<IBus>();
        var symbols = Enumerable.Range(0, n).Select(i => "F" + i.ToString("000000", CultureInfo.InvariantCulture)).ToArray();
        long expected = 0;

        async Task<TimeSpan> RawAsync(int count)
        {
            var now = DateTimeOffset.UtcNow;
            // One cycle per round, as the job's own publishes carry (a request without one breaks its contract).
            var cycle = Guid.NewGuid();
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(symbols.Take(count).Select(symbol =>
                bus.Publish(new CrawlRequested(Guid.NewGuid(), cycle, "bench", symbol, now, now.AddMinutes(10)), ct)));
            var elapsed = clock.Elapsed;
            await DrainAsync(sink, expected += count, ct);
            return elapsed;
        }

        async Task<TimeSpan> JobAsync(int count)
        {
            var clock = Stopwatch.StartNew();
            await fanOut.RunCycleAsync("bench", symbols[..count], Guid.NewGuid(), ct);
            var elapsed = clock.Elapsed;
            await DrainAsync(sink, expected += count, ct);
            return elapsed;
        }

        await RawAsync(Math.Min(n, 1_000));
        await JobAsync(Math.Min(n, 1_000));
        // Alternating rounds, best of each: the machine is shared and noisy.
        var raw = TimeSpan.MaxValue;
        var job = TimeSpan.MaxValue;
        for (var round = 0; round < 3; round++)
        {
            raw = Min(raw, await RawAsync(n));
            job = Min(job, await JobAsync(n));
        }
        report.Raw("p3_raw_publish_per_s", n / raw.TotalSeconds);
        report.Raw("p3_fanout_per_s", n / job.TotalSeconds);
        report.Figure("p3_fanout_vs_raw", raw / job);
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private static Task<TimeSpan> DrainAsync(BenchBus sink, long expected, CancellationToken ct) =>
        Measure.UntilAsync(() => Task.FromResult(sink.Received), expected, Stopwatch.StartNew(), TimeSpan.FromSeconds(120), "the requests to arrive", ct);
}
