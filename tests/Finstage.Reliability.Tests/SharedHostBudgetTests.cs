using System.Diagnostics;
using Finstage.Contracts;
using Finstage.Testing;

namespace Finstage.Reliability.Tests;

/// <summary>
/// Several crawler processes crawl one host: together they keep to the host's one budget, measured where it
/// matters, at the feed site, and when one of them dies mid-cycle the others finish its work without a pause.
/// </summary>
[Trait("Category", "Reliability")]
public sealed class SharedHostBudgetTests
{
    private const int RequestsPerSecond = 5;
    private const int Burst = 2;

    private static void Record(string line) => TestContext.Current.TestOutputHelper?.WriteLine(line);

    [Theory(Timeout = 420_000)]
    [InlineData(2)]
    [InlineData(4)]
    public async Task Crawlers_KeepToOneBudgetPerHost_WhenSeveralInstancesCrawlOneHostAndOneIsKilled(int instances)
    {
        var ct = TestContext.Current.CancellationToken;
        // 100 feeds at 5 a second: a cycle of about twenty seconds, whatever the machine, long enough to measure
        // the rate over many one-second windows and to kill an instance in the middle. Each instance alone could
        // fetch 8 feeds of 50 ms at once, far faster than the host's budget, so only the shared budget holds them back.
        const int symbols = 100;
        await using var pipeline = await RunningPipeline.StartAsync($"budget_{instances}", symbols, TimeSpan.FromMilliseconds(50), ct,
            crawlerSettings: new Dictionary<string, string?>
            {
                [$"Sources:{RunningPipeline.Source}:RequestsPerSecond"] = RequestsPerSecond.ToString(System.Globalization.CultureInfo.InvariantCulture),
                [$"Sources:{RunningPipeline.Source}:Burst"] = Burst.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Fetch:ConcurrentFetches"] = "8",
                ["Fetch:PrefetchCount"] = "16",
            },
            crawlers: instances);
        await pipeline.ReportOnFailureAsync(async () =>
        {
            var cycleId = await pipeline.RequestCycleAsync(ct);
            Stopwatch killedAt;
            DateTime killedAtUtc;
            await using (var results = await ExchangeTap.StartAsync<NewsCrawled>(pipeline.VirtualHost, ct))
            {
                await results.WaitForCountAsync(symbols / 5, TimeSpan.FromMinutes(2), ct);
                await pipeline.Crawlers[^1].KillAsync();
                killedAt = Stopwatch.StartNew();
                killedAtUtc = DateTime.UtcNow;
                // Counted at once: the other instances go on publishing, so the count never settles before the cycle ends.
                var publishedAtKill = await results.CountAsync(ct);
                Record($"{pipeline.Crawlers[^1].Name} of {instances} killed with {publishedAtKill} of {symbols} results published");
                publishedAtKill.ShouldBeLessThan(symbols, "the crawler must die in the middle of the cycle");
            }

            // Nothing lost: the killed instance's requests go back to the queue and the others crawl them.
            await pipeline.WaitForCycleAsync(cycleId, TimeSpan.FromMinutes(3), ct);
            Record($"cycle complete {killedAt.Elapsed.TotalSeconds:0.0} s after the kill, without a restart");
            await pipeline.ShouldBeCompleteAndQuietAsync(cycleId, ct);

            var served = pipeline.Feeds.Requests.Select(request => request.ReceivedAt).Order().ToList();
            served.Count.ShouldBeGreaterThanOrEqualTo(symbols);
            var busiest = Busiest(served, TimeSpan.FromSeconds(1));
            var busiestFive = Busiest(served, TimeSpan.FromSeconds(5));
            var after = served.Where(at => at >= killedAtUtc).ToList();
            var longestPause = after.Zip(after.Skip(1), (earlier, later) => later - earlier).DefaultIfEmpty().Max();
            Record($"{served.Count} requests over {(served[^1] - served[0]).TotalSeconds:0.0} s; at most {busiest} in one second, {busiestFive} in five " +
                   $"(budget {RequestsPerSecond}/s, burst {Burst}); longest pause after the kill {longestPause.TotalSeconds:0.00} s");

            // The bucket's own bound over five seconds is a full burst plus five seconds' refill (27); instances with a
            // bucket each would send that many each. The feed server times a request when it arrives, not at the slot
            // the bucket gave it, and on this machine (2 cores, load average up to 70) a process stalls for a second or
            // more, so requests whose slots were spread out can arrive together: 28 and 29 were counted in full runs
            // with four crawlers, where the one-second figure (logged above) reached 12 against 7. The bounds allow
            // every request two seconds of lateness (the slots of a window two seconds longer), and still fail any
            // second bucket: two instances with one each would send 54 in five seconds, and finish the cycle twice as fast.
            var lateness = TimeSpan.FromSeconds(2);
            busiestFive.ShouldBeLessThanOrEqualTo(
                (int)((5 + lateness.TotalSeconds) * RequestsPerSecond) + Burst, "the host's budget is one for all instances");
            var span = served[^1] - served[0];
            served.Count.ShouldBeLessThanOrEqualTo(
                (int)((span + lateness).TotalSeconds * RequestsPerSecond) + Burst + 1, "over the whole cycle, the host's rate is one for all instances");
            // The budget is in Redis, not held by the dead instance: the others go on at once. The bound is far above
            // the 0.2 s between two tokens so that a loaded machine does not fail it, and far below what waiting for
            // a lease or lock of the dead instance to expire would take.
            longestPause.ShouldBeLessThan(TimeSpan.FromSeconds(5), "a killed instance costs at most a short pause");
        });
    }

    /// <summary>The most requests received within any <paramref name="window"/> (from each request to just under the window after it).</summary>
    private static int Busiest(List<DateTime> sorted, TimeSpan window)
    {
        var most = 0;
        var start = 0;
        for (var end = 0; end < sorted.Count; end++)
        {
            while (sorted[end] - sorted[start] >= window)
            {
                start++;
            }
            most = Math.Max(most, end - start + 1);
        }
        return most;
    }
}
