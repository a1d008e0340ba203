using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Finstage.Contracts;
using Finstage.Testing;
using MySqlConnector;

namespace Finstage.Reliability.Tests;

/// <summary>
/// A large crawl asked for by hand while the schedule runs (issue 12, item 9): the scheduled cycles keep
/// their cadence, the manual crawls are all done later, none expired, and a request that could not be
/// fetched within its time to live is refused with the number it could take.
/// </summary>
/// <remarks>
/// The feed host takes <see cref="Rate"/> requests a second, in the crawler and in what the scheduler knows:
/// the manual request needs at least <see cref="Manual"/> / <see cref="Rate"/> seconds however fast the
/// machine is, and the bounds below are set against that floor, not against the clock.
/// </remarks>
[Trait("Category", "Reliability")]
public sealed class ManualCrawlTests
{
    private const int Rate = 20;
    private const int GroupSymbols = 20;
    private const int Manual = 1200;
    private const int TimeToLiveSeconds = 180; // Schedule:RequestTimeToLive below

    private static void Record(string line) => TestContext.Current.TestOutputHelper?.WriteLine(line);

    [Fact(Timeout = 300_000)]
    public async Task ScheduledCycles_CompleteInTheirOwnTime_WhenALargeManualRequestIsQueuedAheadOfThem()
    {
        var ct = TestContext.Current.CancellationToken;
        var rate = Rate.ToString(CultureInfo.InvariantCulture);
        await using var pipeline = await RunningPipeline.StartAsync("manual_backlog", GroupSymbols, TimeSpan.FromMilliseconds(10), ct,
            crawlerSettings: new Dictionary<string, string?>
            {
                [$"Sources:{RunningPipeline.Source}:RequestsPerSecond"] = rate,
                [$"Sources:{RunningPipeline.Source}:Burst"] = "1",
                // The shipped concurrencies.
                ["Fetch:ConcurrentFetches"] = "8",
                ["Fetch:ManualConcurrentFetches"] = "4",
            },
            schedulerSettings: new Dictionary<string, string?>
            {
                [$"Schedule:Sources:{RunningPipeline.Source}:RequestsPerSecond"] = rate,
                ["Schedule:RequestTimeToLive"] = "00:03:00",
                // The group every 10 s: 20 of the host's 200 requests in that time. The manual request needs at least
                // 60 s of the host, and must be fetched within the time to live: at 18 a second it fits 3,240.
                [$"Schedule:Groups:{RunningPipeline.Source}:Cron"] = "*/10 * * * * *",
            });
        await pipeline.ReportOnFailureAsync(async () =>
        {
            // Scheduled requests are published; the tap keeps a copy of each, with its cycle and when it was requested.
            await using var scheduled = await ExchangeTap.StartAsync<CrawlRequested>(pipeline.VirtualHost, ct);
            using var http = new HttpClient { BaseAddress = pipeline.Scheduler.BaseAddress };
            var askedAt = DateTimeOffset.UtcNow;
            var between = System.Diagnostics.Stopwatch.StartNew();
            using var accepted = await http.PostAsJsonAsync("/api/crawls", new { source = RunningPipeline.Source, symbols = Symbols("M", Manual) }, ct);
            accepted.StatusCode.ShouldBe(HttpStatusCode.Accepted, await accepted.Content.ReadAsStringAsync(ct));
            var manualCycle = (await accepted.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("cycleId").GetGuid();

            // While the first request is queued, a second as large again no longer fits its time to live.
            using var refused = await http.PostAsJsonAsync("/api/crawls", new { source = RunningPipeline.Source, symbols = Symbols("N", 4 * Manual) }, ct);
            var problem = await refused.Content.ReadFromJsonAsync<JsonElement>(ct);
            var secondsBetween = between.Elapsed.TotalSeconds;
            Record($"second request: {(int)refused.StatusCode} {problem}");
            refused.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
            var maxSymbols = problem.GetProperty("maxSymbols").GetInt32();
            // (20 - 2 for the schedule) requests a second for the time to live, less what the first request still needs.
            maxSymbols.ShouldBeInRange(1, (18 * TimeToLiveSeconds) - Manual + (int)Math.Ceiling(18 * secondsBetween));
            problem.GetProperty("errors").GetProperty("symbols")[0].GetString().ShouldNotBeNull()
                .ShouldContain($"{RunningPipeline.Source} allows {Rate} requests/s (2/s of them for its schedule) and a request lives 3 min: at most {maxSymbols} symbols now");

            await pipeline.WaitForCountAsync($"SELECT COUNT(*) FROM crawl_runs WHERE cycle_id = '{manualCycle}'", Manual, TimeSpan.FromMinutes(3), ct);
            var manualDoneAt = await TimeAsync(pipeline, $"SELECT MAX(finished_at) FROM crawl_runs WHERE cycle_id = '{manualCycle}'", ct);
            var manualTook = manualDoneAt - askedAt;
            Record($"{Manual} manual crawls done {manualTook.TotalSeconds:0.0} s after they were asked for (at least {Manual / Rate} s at {Rate}/s)");
            (await pipeline.CountAsync($"SELECT COUNT(*) FROM crawl_runs WHERE cycle_id = '{manualCycle}' AND status = 'Failed'", ct))
                .ShouldBe(0, "none of the manual crawls may expire or fail: the request was within its limit");

            // Every scheduled cycle requested while manual crawls were still waiting.
            var cycles = (await scheduled.DrainAsync(ct))
                .Select(message => (Cycle: message.GetProperty("cycleId").GetGuid(), At: message.GetProperty("requestedAt").GetDateTimeOffset()))
                .Where(request => request.Cycle != manualCycle && request.At >= askedAt && request.At < manualDoneAt)
                .GroupBy(request => request.Cycle, request => request.At)
                .Select(cycle => (Cycle: cycle.Key, RequestedAt: cycle.Min()))
                .ToList();
            cycles.Count.ShouldBeGreaterThanOrEqualTo(2, "the schedule fires every 10 s during the manual backlog");
            // Alone, a cycle takes 20 / 20 = 1 s of the host; beside the manual queue it keeps at least 8 of 12 places in
            // the host's limiter (1.5 s). A third of the manual backlog's floor (20 s) leaves room for a slow machine,
            // and is far below what a cycle waiting behind the backlog took (up to 60 s).
            var bound = TimeSpan.FromSeconds(Manual / Rate / 3.0);
            foreach (var (cycle, requestedAt) in cycles)
            {
                await pipeline.WaitForCountAsync($"SELECT COUNT(*) FROM crawl_runs WHERE cycle_id = '{cycle}'", GroupSymbols, TimeSpan.FromMinutes(2), ct);
                var took = await TimeAsync(pipeline, $"SELECT MAX(finished_at) FROM crawl_runs WHERE cycle_id = '{cycle}'", ct) - requestedAt;
                Record($"scheduled cycle requested {(requestedAt - askedAt).TotalSeconds:0.0} s into the manual backlog: done in {took.TotalSeconds:0.00} s");
                took.ShouldBeLessThan(bound, $"cycle {cycle} must not wait behind the manual crawls");
            }
        });
    }

    private static string[] Symbols(string prefix, int count) =>
        [.. Enumerable.Range(0, count).Select(i => prefix + i.ToString("0000", CultureInfo.InvariantCulture))];

    private static async Task<DateTimeOffset> TimeAsync(RunningPipeline pipeline, string sql, CancellationToken ct)
    {
        await using var connection = new MySqlConnection(pipeline.Database);
        await connection.OpenAsync(ct);
        await using var command = new MySqlCommand(sql, connection);
        var utc = (DateTime)(await command.ExecuteScalarAsync(ct))!;
        return new DateTimeOffset(DateTime.SpecifyKind(utc, DateTimeKind.Utc));
    }
}
