using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Finstage.Testing;
using Microsoft.AspNetCore.Http;
using MySqlConnector;

namespace Finstage.Reliability.Tests;

/// <summary>
/// Readers must not stall the writers: a cycle ingests as fast with 80 clients hammering the storage's most expensive
/// reads as without them, and the storage stays ready throughout. The three services run as processes of their own
/// over a database that already holds a history for the reads to chew on.
/// </summary>
/// <remarks>
/// The cycle's pace is set by the crawler (8 feeds at a time from a feed site that answers after 150 ms), not by the
/// machine: when nothing stalls ingest, a cycle lasts about as long with readers as without them. Each cycle's feeds
/// hold new stories (a new generation per cycle, no ETags), so every cycle writes the same number of articles.
/// </remarks>
[Trait("Category", "Reliability")]
public sealed class ReadLoadTests
{
    private const int Symbols = 480;
    private const int StoriesPerFeed = 4;
    private const int Readers = 80;

    // The history the reads run over: enough that a scan of all of it, or a page of whole summaries, costs the
    // database real time (about 30 MB of article text and 40,000 crawl runs).
    private const int HistoryArticles = 20_000;
    private const int LongSummaries = 200;
    private const int LongSummaryCharacters = 50_000;
    private const int HistoryRuns = 40_000;
    private const int HistorySymbols = 500;

    private static readonly TimeSpan FeedLatency = TimeSpan.FromMilliseconds(150);

    // What the loaded cycle may take beyond 1.5 times the quiet one. The completion is polled every 250 ms at most; the
    // readers' own statements (4 at a time, the read pool) take CPU the crawler and ingest also need on a 2-core machine;
    // and where other builds share it (not in CI, which runs alone) their load comes and goes over the minutes the
    // cycles take: two quiet cycles here varied from 15 to 27 s. Before the fix the loaded cycle did not end in 2 minutes.
    private static readonly TimeSpan Slack = TimeSpan.FromSeconds(5);

    private static void Record(string line) => TestContext.Current.TestOutputHelper?.WriteLine(line);

    [Fact(Timeout = 600_000)]
    public async Task Cycle_IngestsWithinOneAndAHalfTimesItsQuietTimeAndStaysReady_WhenEightyExpensiveReadsHammerTheApi()
    {
        var ct = TestContext.Current.CancellationToken;
        var generation = 0;
        await using var pipeline = await RunningPipeline.StartAsync("read_load", Symbols, FeedLatency, ct,
            crawlerSettings: new Dictionary<string, string?> { ["Fetch:ConcurrentFetches"] = "8", ["Fetch:PrefetchCount"] = "16" },
            feed: context => ServeNewStoriesAsync(context, Volatile.Read(ref generation)));
        await pipeline.ReportOnFailureAsync(async () =>
        {
            await SeedHistoryAsync(pipeline.Database, ct);

            // The first cycle warms every path up (JIT, pools); then quiet, loaded, quiet again, and the loaded one is
            // compared with the mean of the two around it, so a machine that slowly gets busier or quieter evens out.
            Interlocked.Increment(ref generation);
            var warmUp = await RunCycleAsync(pipeline, TimeSpan.FromMinutes(3), ct);
            Interlocked.Increment(ref generation);
            var quietBefore = await RunCycleAsync(pipeline, TimeSpan.FromMinutes(3), ct);
            Record($"warm-up cycle {warmUp.TotalSeconds:0.0} s, quiet cycle {quietBefore.TotalSeconds:0.0} s");

            TimeSpan loaded;
            using var load = new ReadLoad(pipeline.Storage.BaseAddress);
            using (var stop = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                var readers = Enumerable.Range(0, Readers).Select(reader => load.RunAsync(reader, stop.Token)).ToList();
                var readiness = ProbeReadinessAsync(pipeline.Storage, stop.Token);
                // The reads are in full flow before the cycle starts: every reader has had an answer at least once.
                await Eventually.WaitForAsync(() => Task.FromResult(load.Answered), answered => answered >= Readers,
                    TimeSpan.FromMinutes(2), "every reader to have been answered once", ct);
                Interlocked.Increment(ref generation);
                var bound = (quietBefore * 1.5) + Slack;
                try
                {
                    loaded = await RunCycleAsync(pipeline, (bound * 2) + TimeSpan.FromSeconds(30), ct);
                }
                finally
                {
                    await stop.CancelAsync();
                }
                await Task.WhenAll(readers);
                var (probes, notReady) = await readiness;
                Record($"loaded cycle {loaded.TotalSeconds:0.0} s; {load.Describe()}; /health/ready probed {probes} times, not ready {notReady} times");
                notReady.ShouldBe(0, "the storage must stay ready while readers hammer it");
                probes.ShouldBeGreaterThan(0);
            }

            Interlocked.Increment(ref generation);
            var quietAfter = await RunCycleAsync(pipeline, TimeSpan.FromMinutes(3), ct);
            var quiet = (quietBefore + quietAfter) / 2;
            Record($"quiet cycle after {quietAfter.TotalSeconds:0.0} s; loaded/quiet = {loaded / quiet:0.00}");

            loaded.ShouldBeLessThanOrEqualTo((quiet * 1.5) + Slack,
                $"the cycle under read load took {loaded.TotalSeconds:0.0} s against {quiet.TotalSeconds:0.0} s quiet");
            load.Failures.ShouldBe(0, "every read is answered 200, or 503 when the read pool is busy: " + load.Describe());
            load.Ok.ShouldBeGreaterThanOrEqualTo(Readers, "the readers were served, not only turned away: " + load.Describe());
            (await pipeline.CountAsync("SELECT COUNT(*) FROM articles WHERE url LIKE 'https://news.example.com/%'", ct))
                .ShouldBe(4L * Symbols * StoriesPerFeed, "every cycle stored every story of its feeds");
        });
    }

    /// <summary>Asks for a cycle of the whole watchlist and answers how long until every symbol's run was recorded.</summary>
    private static async Task<TimeSpan> RunCycleAsync(RunningPipeline pipeline, TimeSpan timeout, CancellationToken ct)
    {
        var started = Stopwatch.StartNew();
        var cycleId = await pipeline.RequestCycleAsync(ct);
        await pipeline.WaitForCycleAsync(cycleId, timeout, ct);
        var took = started.Elapsed;
        (await pipeline.CountAsync($"SELECT COUNT(*) FROM crawl_runs WHERE cycle_id = '{cycleId}' AND status = 'Succeeded'", ct))
            .ShouldBe(Symbols, "every feed of the cycle was fetched in full");
        return took;
    }

    /// <summary>Asks <c>/health/ready</c> every 250 ms until stopped, as an orchestrator would, with its usual 5 s timeout.</summary>
    private static async Task<(int Probes, int NotReady)> ProbeReadinessAsync(ServiceProcess storage, CancellationToken stop)
    {
        using var http = new HttpClient { BaseAddress = storage.BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        int probes = 0, notReady = 0;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                using var ready = await http.GetAsync(new Uri("/health/ready", UriKind.Relative), CancellationToken.None);
                notReady += ready.StatusCode == HttpStatusCode.OK ? 0 : 1;
                probes++;
            }
            catch (Exception error) when (error is HttpRequestException or TaskCanceledException)
            {
                notReady++;
                probes++;
            }
            try
            {
                await Task.Delay(250, stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        return (probes, notReady);
    }

    /// <summary>Each symbol's feed: four stories of this generation (new URLs every cycle), a 1,000-character summary each, no ETag.</summary>
    private static async Task ServeNewStoriesAsync(HttpContext context, int generation)
    {
        var symbol = context.Request.Query["s"].ToString();
        await Task.Delay(FeedLatency, context.RequestAborted);
        var summary = string.Concat(Enumerable.Repeat("Shares moved as traders weighed the outlook. ", 23))[..1000];
        var feed = new StringBuilder("""<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Read load feed</title>""");
        for (var i = 1; i <= StoriesPerFeed; i++)
        {
            // Older than the history, so the newest page is the history's long summaries.
            feed.Append(CultureInfo.InvariantCulture,
                $"<item><title>{symbol} generation {generation} story {i}</title><link>https://news.example.com/{generation}/{symbol}/{i}</link>" +
                $"<description>{summary}</description><pubDate>Fri, 14 Aug 2020 0{i}:30:00 +0000</pubDate></item>");
        }
        context.Response.ContentType = "application/rss+xml; charset=utf-8";
        await context.Response.WriteAsync(feed.Append("</channel></rss>").ToString(), context.RequestAborted);
    }

    /// <summary>
    /// A history of articles (the newest with 50,000-character summaries), their symbol links and crawl runs that all
    /// succeeded (so looking for the last failure, or for failed runs, finds nothing however far it looks).
    /// </summary>
    private static async Task SeedHistoryAsync(string database, CancellationToken ct)
    {
        var started = Stopwatch.StartNew();
        await using var connection = new MySqlConnection(database);
        await connection.OpenAsync(ct);
        var newest = new DateTime(2026, 8, 1, 0, 0, 0, DateTimeKind.Utc);
        var shortSummary = string.Concat(Enumerable.Repeat("Markets drifted while investors waited for fresh guidance on rates. ", 6));
        var longSummary = string.Concat(Enumerable.Repeat("A very long wire story about markets, rates and earnings. ", (LongSummaryCharacters / 57) + 1))[..LongSummaryCharacters];

        await InsertRowsAsync(connection, HistoryArticles, 200,
            "INSERT INTO `articles` (`id`,`url`,`source`,`title`,`summary`,`sort_at`,`first_seen_at`,`last_seen_at`) VALUES ",
            (n, command, p) =>
            {
                var url = $"https://history.example.com/{n}";
                var at = newest.AddMinutes(-n);
                command.Parameters.AddWithValue(p + "a", ArticleKey(url));
                command.Parameters.AddWithValue(p + "b", url);
                command.Parameters.AddWithValue(p + "c", "hist");
                command.Parameters.AddWithValue(p + "d", $"Old story {n} on the markets");
                command.Parameters.AddWithValue(p + "e", n < LongSummaries ? longSummary : shortSummary);
                command.Parameters.AddWithValue(p + "f", at);
                command.Parameters.AddWithValue(p + "g", at);
                command.Parameters.AddWithValue(p + "h", at);
                return $"({p}a,{p}b,{p}c,{p}d,{p}e,{p}f,{p}g,{p}h)";
            }, ct);
        await InsertRowsAsync(connection, HistoryArticles, 1000,
            "INSERT INTO `article_symbols` (`article_id`,`symbol`,`sort_at`,`first_seen_at`) VALUES ",
            (n, command, p) =>
            {
                var at = newest.AddMinutes(-n);
                command.Parameters.AddWithValue(p + "a", ArticleKey($"https://history.example.com/{n}"));
                command.Parameters.AddWithValue(p + "b", HistorySymbol(n));
                command.Parameters.AddWithValue(p + "c", at);
                command.Parameters.AddWithValue(p + "d", at);
                return $"({p}a,{p}b,{p}c,{p}d)";
            }, ct);
        await InsertRowsAsync(connection, HistoryRuns, 1000,
            "INSERT INTO `crawl_runs` (`crawl_id`,`cycle_id`,`source`,`symbol`,`status`,`new_articles`,`seen_articles`,`finished_at`,`recorded_at`) VALUES ",
            (n, command, p) =>
            {
                var at = newest.AddMinutes(-n);
                command.Parameters.AddWithValue(p + "a", Guid.NewGuid().ToString());
                command.Parameters.AddWithValue(p + "b", Guid.NewGuid().ToString());
                command.Parameters.AddWithValue(p + "c", "hist");
                command.Parameters.AddWithValue(p + "d", HistorySymbol(n));
                command.Parameters.AddWithValue(p + "e", "Succeeded");
                command.Parameters.AddWithValue(p + "f", at);
                return $"({p}a,{p}b,{p}c,{p}d,{p}e,1,0,{p}f,{p}f)";
            }, ct);
        // Where the schema keeps per-symbol counts, they are the links' (as the migration that adds them fills them).
        await using (var counts = new MySqlCommand(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'symbol_stats'", connection))
        {
            if (Convert.ToInt64(await counts.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture) > 0)
            {
                await using var fill = new MySqlCommand(
                    "INSERT INTO `symbol_stats` (`symbol`,`article_count`,`newest_article_at`) SELECT `symbol`, COUNT(*), MAX(`sort_at`) FROM `article_symbols` GROUP BY `symbol`",
                    connection);
                await fill.ExecuteNonQueryAsync(ct);
            }
        }
        Record($"history seeded in {started.Elapsed.TotalSeconds:0.0} s");
    }

    private static async Task InsertRowsAsync(
        MySqlConnection connection, int count, int perStatement, string insert, Func<int, MySqlCommand, string, string> row, CancellationToken ct)
    {
        for (var first = 0; first < count; first += perStatement)
        {
            await using var command = new MySqlCommand { Connection = connection };
            var sql = new StringBuilder(insert);
            for (var n = first; n < Math.Min(count, first + perStatement); n++)
            {
                sql.Append(n == first ? "" : ",").Append(row(n, command, "@r" + (n - first).ToString(CultureInfo.InvariantCulture)));
            }
            command.CommandText = sql.ToString();
            await command.ExecuteNonQueryAsync(ct);
        }
    }

    private static string HistorySymbol(int n) => "H" + (n % HistorySymbols).ToString("000", CultureInfo.InvariantCulture);

    private static byte[] ArticleKey(string url) => SHA256.HashData(Encoding.UTF8.GetBytes(url))[..16];

    /// <summary>
    /// Readers, each asking in turn for the storage's most expensive answers, back to back, until stopped: a text that
    /// matches nothing (a scan of every article on the old code), the newest 200 articles (whole 50,000-character
    /// summaries on the old code), every symbol, every source's health and failed crawl runs (none: a scan of every run).
    /// </summary>
    private sealed class ReadLoad(Uri storage) : IDisposable
    {
        private static readonly string[] Paths =
        [
            "/api/news?text=no%20such%20words&limit=200",
            "/api/news?limit=200",
            "/api/symbols",
            "/api/sources/health?runs=200",
            "/api/crawls?status=Failed&limit=200",
        ];

        private readonly HttpClient _http = new() { BaseAddress = storage, Timeout = Timeout.InfiniteTimeSpan };
        private int _ok;
        private int _busy;
        private int _failures;
        private string? _firstFailure;

        public int Ok => Volatile.Read(ref _ok);

        public int Failures => Volatile.Read(ref _failures);

        public int Answered => Ok + Volatile.Read(ref _busy) + Failures;

        public string Describe() =>
            $"reads answered 200 {Ok} times, 503 {Volatile.Read(ref _busy)} times, otherwise {Failures} times{(_firstFailure is null ? "" : " (first: " + _firstFailure + ")")}";

        public async Task RunAsync(int reader, CancellationToken stop)
        {
            for (var i = reader; !stop.IsCancellationRequested; i++)
            {
                try
                {
                    using var response = await _http.GetAsync(new Uri(Paths[i % Paths.Length], UriKind.Relative), stop);
                    // The whole answer, as a client would take it.
                    await response.Content.CopyToAsync(Stream.Null, stop);
                    switch (response.StatusCode)
                    {
                        case HttpStatusCode.OK:
                            Interlocked.Increment(ref _ok);
                            break;
                        case HttpStatusCode.ServiceUnavailable:
                            Interlocked.Increment(ref _busy);
                            break;
                        default:
                            Fail($"{(int)response.StatusCode} from {Paths[i % Paths.Length]}");
                            break;
                    }
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }
                catch (HttpRequestException error)
                {
                    Fail(error.Message);
                }
            }
        }

        public void Dispose() => _http.Dispose();

        private void Fail(string what)
        {
            Interlocked.CompareExchange(ref _firstFailure, what, null);
            Interlocked.Increment(ref _failures);
        }
    }
}
