using System.Globalization;
using System.Net;
using Finstage.Contracts;
using Finstage.Testing;
using MySqlConnector;

namespace Finstage.Reliability.Tests;

/// <summary>
/// Two scheduler processes on one database and one broker, as <c>--scale scheduler=2</c> runs them: Hangfire's
/// recurring polling round runs on either, each due watchlist entry is requested once per due time, never by both,
/// and either instance's dashboard shows both servers.
/// </summary>
[Trait("Category", "Reliability")]
public sealed class SchedulerScaleOutTests
{
    // Every entry is due 20 s after its last request (its bounds pin the interval), and a round looks every 5 s.
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(20);
    private const int Entries = 12;
    private const int RequestsEach = 4;

    private static void Record(string line) => TestContext.Current.TestOutputHelper?.WriteLine(line);

    [Fact(Timeout = 480_000)]
    public async Task PollingRounds_RequestEachDueEntryOncePerDueTime_AndEitherDashboardShowsBothServers_WhenTwoSchedulersShareTheDatabase()
    {
        var ct = TestContext.Current.CancellationToken;
        var polled = new Dictionary<string, string?>
        {
            ["Polling:Round"] = "00:00:05",
            // An adaptively polled group beside the pipeline's swept one (which never fires during the test).
            ["Schedule:Groups:poll:Source"] = RunningPipeline.Source,
            ["Schedule:Groups:poll:MinInterval"] = "00:00:20",
            ["Schedule:Groups:poll:MaxInterval"] = "00:00:20",
        };
        for (var i = 0; i < Entries; i++)
        {
            polled[$"Schedule:Groups:poll:Symbols:{i}"] = "P" + i.ToString("0000", CultureInfo.InvariantCulture);
        }
        await using var pipeline = await RunningPipeline.StartAsync("two_schedulers", 1, TimeSpan.FromMilliseconds(50), ct,
            schedulerSettings: polled, schedulers: 2);
        await pipeline.ReportOnFailureAsync(async () =>
        {
            await using var requests = await ExchangeTap.StartAsync<CrawlRequested>(pipeline.VirtualHost, ct);
            // A few due times of every entry: at least RequestsEach requests each, about RequestsEach x 20 s; minutes on a loaded machine.
            var sent = new List<(string Symbol, Guid CrawlId, DateTimeOffset RequestedAt, int ProcessId)>();
            await Eventually.WaitForAsync(async () =>
            {
                foreach (var envelope in await requests.DrainEnvelopesAsync(ct))
                {
                    var message = envelope.GetProperty("message");
                    sent.Add((message.GetProperty("symbol").GetString()!, message.GetProperty("crawlId").GetGuid(),
                        message.GetProperty("requestedAt").GetDateTimeOffset(), envelope.GetProperty("host").GetProperty("processId").GetInt32()));
                }
                return (Entries: sent.GroupBy(request => request.Symbol).Count(symbol => symbol.Count() >= RequestsEach),
                    Senders: sent.Select(request => request.ProcessId).Distinct().Count());
            }, seen => seen.Entries == Entries && seen.Senders == 2, TimeSpan.FromMinutes(5),
                $"{RequestsEach} requests of each of the {Entries} entries, and rounds run by both instances (whichever fetches the job)", ct);

            var bySender = sent.GroupBy(request => request.ProcessId).ToDictionary(sender => sender.Key, sender => sender.Count());
            Record($"{sent.Count} requests: " + string.Join(", ", pipeline.Schedulers.Select(scheduler => $"{scheduler.Name} sent {bySender.GetValueOrDefault(scheduler.Id)}")));
            bySender.Keys.ShouldBeSubsetOf(pipeline.Schedulers.Select(scheduler => scheduler.Id));
            sent.Select(request => request.CrawlId).Distinct().Count().ShouldBe(sent.Count, "no request twice");
            // A second request within one due time would come in the same round or the next: seconds after the first,
            // where the next due time is at least an interval later. Half an interval keeps the clocks' slop out of it.
            foreach (var symbol in sent.GroupBy(request => request.Symbol))
            {
                var times = symbol.Select(request => request.RequestedAt).Order().ToList();
                var shortest = times.Zip(times.Skip(1), (earlier, later) => later - earlier).Min();
                shortest.ShouldBeGreaterThan(Interval / 2, $"{symbol.Key} was requested twice for one due time ({string.Join(", ", times.Select(t => t.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture)))})");
            }
            // Every request was crawled and recorded once, whichever instance sent it.
            var ids = sent.Select(request => request.CrawlId).ToList();
            await Eventually.WaitForAsync(() => CountRecordedAsync(pipeline, ids, ct), recorded => recorded == ids.Count, TimeSpan.FromMinutes(2),
                "a crawl run for every request", ct);

            // Both servers are alive in the shared tables, and the dashboard of either instance lists both.
            var servers = await ServerIdsAsync(pipeline, ct);
            servers.Count.ShouldBe(2, "one Hangfire server per scheduler instance");
            foreach (var scheduler in pipeline.Schedulers)
            {
                using var http = new HttpClient { BaseAddress = scheduler.BaseAddress };
                using var page = await http.GetAsync(new Uri("/hangfire/servers", UriKind.Relative), ct);
                page.StatusCode.ShouldBe(HttpStatusCode.OK, $"{scheduler.Name}'s dashboard");
                var html = await page.Content.ReadAsStringAsync(ct);
                foreach (var server in servers)
                {
                    html.ShouldContain(WebUtility.HtmlEncode(server), Case.Insensitive, $"{scheduler.Name}'s dashboard lists server {server}");
                }
                using var recurring = await http.GetAsync(new Uri("/hangfire/recurring", UriKind.Relative), ct);
                recurring.StatusCode.ShouldBe(HttpStatusCode.OK);
                (await recurring.Content.ReadAsStringAsync(ct)).ShouldContain("poll-watchlist");
            }
        });
    }

    // A crawl run per crawl id at most (its key), so the count reaches the requests' once each is recorded.
    private static Task<long> CountRecordedAsync(RunningPipeline pipeline, IReadOnlyList<Guid> crawlIds, CancellationToken cancellationToken) =>
        pipeline.CountAsync($"SELECT COUNT(*) FROM crawl_runs WHERE crawl_id IN ({string.Join(",", crawlIds.Select(id => $"'{id}'"))})", cancellationToken);

    private static async Task<IReadOnlyList<string>> ServerIdsAsync(RunningPipeline pipeline, CancellationToken cancellationToken)
    {
        await using var connection = new MySqlConnection(pipeline.Database);
        await connection.OpenAsync(cancellationToken);
        await using var command = new MySqlCommand("SELECT id FROM hangfire_server ORDER BY id", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var ids = new List<string>();
        while (await reader.ReadAsync(cancellationToken))
        {
            ids.Add(reader.GetString(0));
        }
        return ids;
    }
}
