using Finstage.Testing;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Finstage.Reliability.Tests;

/// <summary>
/// A cycle of a few hundred symbols in flight while one part of the system fails; afterwards
/// every symbol has its crawl run, no row is stored twice and no message is left behind, with
/// nothing restarted by hand but the process that was killed.
/// </summary>
[Trait("Category", "Reliability")]
public sealed class FaultTests
{
    private const int Symbols = 240;

    [Fact(Timeout = 300_000)]
    public async Task Cycle_RecordsEveryCrawlOnce_WhenCrawlerIsKilledMidCycleAndRestarted()
    {
        var ct = TestContext.Current.CancellationToken;
        // 8 fetches at a time of 150 ms each: the cycle takes several seconds, the kill lands inside it.
        await using var pipeline = await RunningPipeline.StartAsync("crawler_kill", Symbols, TimeSpan.FromMilliseconds(150), ct,
            crawlerSettings: new Dictionary<string, string?> { ["Fetch:ConcurrentMessageLimit"] = "8", ["Fetch:PrefetchCount"] = "16" });

        var cycleId = await pipeline.RequestCycleAsync(ct);
        await Eventually.WaitForAsync(() => pipeline.CountCrawlRunsAsync(cycleId, ct), count => count >= Symbols / 5,
            TimeSpan.FromMinutes(2), "a fifth of the cycle to be recorded", ct);
        await pipeline.Crawler.KillAsync();
        var recordedAtKill = await pipeline.CountCrawlRunsAsync(cycleId, ct);
        recordedAtKill.ShouldBeLessThan(Symbols, "the crawler must die in the middle of the cycle");

        await pipeline.Crawler.RestartAsync(ct);
        await pipeline.WaitForCycleAsync(cycleId, TimeSpan.FromMinutes(3), ct);
        await pipeline.ShouldBeCompleteAndQuietAsync(cycleId, ct);
    }
}
