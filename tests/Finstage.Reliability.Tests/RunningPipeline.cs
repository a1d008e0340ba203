using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using Finstage.Testing;
using Microsoft.AspNetCore.Http;
using MySqlConnector;

namespace Finstage.Reliability.Tests;

/// <summary>
/// Storage, crawler and scheduler each as a process of its own, against a database and a virtual
/// host of this test's, and a local feed site for a watchlist of <c>R0000…</c> symbols: each
/// symbol's feed has three stories of its own and one story every symbol shares.
/// </summary>
public sealed class RunningPipeline : IAsyncDisposable
{
    public const string Source = "rel";

    /// <summary>Stories of a symbol's own in each feed, besides the one every feed shares.</summary>
    public const int OwnStoriesPerFeed = 3;

    private RunningPipeline(string name, string database, Uri virtualHost, LocalFeedServer feeds, IReadOnlyList<string> symbols)
    {
        Name = name;
        Database = database;
        VirtualHost = virtualHost;
        Feeds = feeds;
        Symbols = symbols;
    }

    public string Name { get; }

    /// <summary>The connection string of this pipeline's database (storage's tables and Hangfire's), as the migrator, for checks.</summary>
    public string Database { get; }

    public Uri VirtualHost { get; }

    public LocalFeedServer Feeds { get; }

    public IReadOnlyList<string> Symbols { get; }

    /// <summary>The first storage instance.</summary>
    public ServiceProcess Storage => Storages[0];

    /// <summary>Every storage instance; more than one compete for the crawl results.</summary>
    public IReadOnlyList<ServiceProcess> Storages { get; private set; } = [];

    /// <summary>The first crawler instance.</summary>
    public ServiceProcess Crawler => Crawlers[0];

    /// <summary>Every crawler instance; more than one share each host's budget through Redis.</summary>
    public IReadOnlyList<ServiceProcess> Crawlers { get; private set; } = [];

    /// <summary>The first scheduler instance.</summary>
    public ServiceProcess Scheduler => Schedulers[0];

    /// <summary>Every scheduler instance; more than one share the database's Hangfire tables and watchlist.</summary>
    public IReadOnlyList<ServiceProcess> Schedulers { get; private set; } = [];

    /// <summary>Every process of the pipeline, producers first.</summary>
    public IEnumerable<ServiceProcess> Services => Schedulers.Concat(Crawlers).Concat(Storages);

    /// <summary>Every article the cycle must store: each symbol's own stories and the shared one.</summary>
    public long ExpectedArticles => (Symbols.Count * OwnStoriesPerFeed) + 1;

    /// <summary>Every article-symbol link the cycle must store.</summary>
    public long ExpectedLinks => Symbols.Count * (OwnStoriesPerFeed + 1);

    /// <summary>
    /// Starts the feed site and the three services (consumers first, so no request is published
    /// before its queue is bound). <paramref name="feedLatency"/> keeps a cycle in flight long
    /// enough for a fault to land in the middle of it. <paramref name="feed"/>, where given, serves the feeds instead
    /// of the fixed ones described above (and the counts of <see cref="ShouldBeCompleteAndQuietAsync"/> no longer apply).
    /// </summary>
    public static async Task<RunningPipeline> StartAsync(
        string name, int symbolCount, TimeSpan feedLatency, CancellationToken cancellationToken,
        IReadOnlyDictionary<string, string?>? storageSettings = null,
        IReadOnlyDictionary<string, string?>? crawlerSettings = null,
        IReadOnlyDictionary<string, string?>? schedulerSettings = null,
        RequestDelegate? feed = null,
        int crawlers = 1,
        int storages = 1,
        int schedulers = 1)
    {
        var database = await TestServers.CreateDatabaseAsync("finstage_rel_" + name, cancellationToken);
        var virtualHost = await TestServers.CreateVirtualHostAsync("finstage-rel-" + name.Replace('_', '-'), cancellationToken);
        var symbols = Enumerable.Range(0, symbolCount).Select(i => "R" + i.ToString("0000", CultureInfo.InvariantCulture)).ToList();
        var feeds = await LocalFeedServer.StartAsync(feed ?? (context => ServeFeedAsync(context, feedLatency)), cancellationToken);
        var pipeline = new RunningPipeline(name, database, virtualHost, feeds, symbols);
        var storageDll = Repository.ProjectOutput("services/storage", "Finstage.Storage");
        var schedulerDll = Repository.ProjectOutput("services/scheduler", "Finstage.Scheduler");
        // As in production: each schema by its service's migrate step, as the migrator; the services
        // themselves then run as the rows-only runtime user.
        await ServiceProcess.RunCommandAsync("storage", storageDll, ["migrate"],
            new Dictionary<string, string?> { ["ConnectionStrings:StorageMigrations"] = database }, cancellationToken);
        await ServiceProcess.RunCommandAsync("scheduler", schedulerDll, ["migrate"],
            new Dictionary<string, string?> { ["ConnectionStrings:HangfireMigrations"] = database }, cancellationToken);
        var runtime = TestServers.AsRuntimeUser(database);
        try
        {
            var storage = Merge(new()
            {
                ["ConnectionStrings:Storage"] = runtime,
                ["ConnectionStrings:RabbitMq"] = virtualHost.ToString(),
                ["Database:MinPoolSize"] = "0",
                ["Ingest:BatchTimeLimit"] = "00:00:00.050",
            }, storageSettings);
            var startedStorages = new List<ServiceProcess>();
            pipeline.Storages = startedStorages;
            for (var i = 0; i < storages; i++)
            {
                startedStorages.Add(await ServiceProcess.StartAsync(storages == 1 ? "storage" : $"storage{i + 1}", storageDll, storage, cancellationToken));
            }
            var crawler = Merge(new()
            {
                ["ConnectionStrings:RabbitMq"] = virtualHost.ToString(),
                [$"Sources:{Source}:UrlTemplate"] = new Uri(feeds.BaseAddress, "feed?s={symbol}").ToString(),
                [$"Sources:{Source}:RequestsPerSecond"] = "500",
                [$"Sources:{Source}:Burst"] = "100",
                ["Fetch:RetryDelay"] = "00:00:00.050",
            }, crawlerSettings);
            // Cycles asked for through the API are crawls by hand, from their own queue: at the concurrency the
            // test set for fetching, unless it sets the manual queue's own.
            if (crawler.TryGetValue("Fetch:ConcurrentFetches", out var limit) && !crawler.ContainsKey("Fetch:ManualConcurrentFetches"))
            {
                crawler["Fetch:ManualConcurrentFetches"] = limit;
            }
            if (crawlers > 1)
            {
                // Several instances keep to one budget per host through Redis, under keys of this pipeline's own.
                crawler.TryAdd("ConnectionStrings:Redis", TestServers.Redis);
                crawler.TryAdd("HostBudget:KeyPrefix", "finstage-rel-" + name + "-" + Guid.NewGuid().ToString("N"));
            }
            var started = new List<ServiceProcess>();
            pipeline.Crawlers = started;
            for (var i = 0; i < crawlers; i++)
            {
                started.Add(await ServiceProcess.StartAsync(
                    crawlers == 1 ? "crawler" : $"crawler{i + 1}", Repository.ProjectOutput("services/crawler", "Finstage.Crawler"), crawler, cancellationToken));
            }
            var schedule = new Dictionary<string, string?>
            {
                ["ConnectionStrings:Hangfire"] = runtime,
                ["ConnectionStrings:RabbitMq"] = virtualHost.ToString(),
                ["Hangfire:QueuePollInterval"] = "00:00:00.100",
                [$"Schedule:Groups:{Source}:Source"] = Source,
                // Never on its own during a test: each cycle is asked for through the API.
                [$"Schedule:Groups:{Source}:Cron"] = "0 0 1 1 *",
                // The crawler's rate for the source, which bounds what one request may ask for.
                [$"Schedule:Sources:{Source}:RequestsPerSecond"] = "500",
            };
            for (var i = 0; i < symbols.Count; i++)
            {
                schedule[$"Schedule:Groups:{Source}:Symbols:{i}"] = symbols[i];
            }
            Merge(schedule, schedulerSettings);
            var startedSchedulers = new List<ServiceProcess>();
            pipeline.Schedulers = startedSchedulers;
            for (var i = 0; i < schedulers; i++)
            {
                startedSchedulers.Add(await ServiceProcess.StartAsync(schedulers == 1 ? "scheduler" : $"scheduler{i + 1}", schedulerDll, schedule, cancellationToken));
            }
            return pipeline;
        }
        catch
        {
            await pipeline.DisposeAsync();
            throw;
        }
    }

    /// <summary>Asks the scheduler for a cycle of the whole watchlist; answers its cycle id.</summary>
    public async Task<Guid> RequestCycleAsync(CancellationToken cancellationToken) =>
        (await RequestCycleJobAsync(cancellationToken)).CycleId;

    /// <summary>Asks the scheduler for a cycle of the whole watchlist; answers its cycle id and the Hangfire job that fans it out.</summary>
    public async Task<CycleAccepted> RequestCycleJobAsync(CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = Scheduler.BaseAddress };
        using var response = await http.PostAsJsonAsync("/api/crawls", new { source = Source }, cancellationToken);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<CycleAccepted>(cancellationToken))!;
    }

    /// <summary>How often Hangfire has scheduled a retry of a job after it failed (AutomaticRetry's state, read from its tables).</summary>
    public Task<long> CountJobRetriesAsync(string jobId, CancellationToken cancellationToken) =>
        CountAsync(
            $"SELECT COUNT(*) FROM hangfire_state WHERE job_id = {long.Parse(jobId, CultureInfo.InvariantCulture)} AND name = 'Scheduled' AND reason LIKE 'Retry attempt%'",
            cancellationToken);

    /// <summary>The crawl ids recorded for the cycle.</summary>
    public async Task<IReadOnlySet<Guid>> CrawlIdsAsync(Guid cycleId, CancellationToken cancellationToken)
    {
        await using var connection = new MySqlConnection(Database);
        await connection.OpenAsync(cancellationToken);
        await using var command = new MySqlCommand($"SELECT crawl_id FROM crawl_runs WHERE cycle_id = '{cycleId}'", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var ids = new HashSet<Guid>();
        while (await reader.ReadAsync(cancellationToken))
        {
            ids.Add(reader.GetGuid(0));
        }
        return ids;
    }

    /// <summary>How many symbols of the cycle have a crawl run recorded.</summary>
    public Task<long> CountCrawlRunsAsync(Guid cycleId, CancellationToken cancellationToken) =>
        CountAsync($"SELECT COUNT(*) FROM crawl_runs WHERE cycle_id = '{cycleId}'", cancellationToken);

    /// <summary>Waits until the count <paramref name="sql"/> answers reaches <paramref name="count"/>.</summary>
    public Task<long> WaitForCountAsync(string sql, long count, TimeSpan timeout, CancellationToken cancellationToken) =>
        Eventually.WaitForAsync(() => CountAsync(sql, cancellationToken), found => found >= count, timeout, $"{count} from {sql}", cancellationToken);

    /// <summary>Waits until every symbol of the cycle has its crawl run.</summary>
    public Task WaitForCycleAsync(Guid cycleId, TimeSpan timeout, CancellationToken cancellationToken) =>
        Eventually.WaitForAsync(() => CountCrawlRunsAsync(cycleId, cancellationToken), count => count >= Symbols.Count, timeout,
            $"a crawl run for each of the {Symbols.Count} symbols of cycle {cycleId}", cancellationToken);

    /// <summary>
    /// What must hold after any fault: every symbol has exactly one crawl run, answered (in full or "not modified"), the
    /// articles and links are exactly those the feeds hold (no row twice, none missing), and no
    /// queue of the virtual host holds a message, delivered or not, including the error queues.
    /// </summary>
    public async Task ShouldBeCompleteAndQuietAsync(Guid cycleId, CancellationToken cancellationToken)
    {
        (await CountAsync($"SELECT COUNT(DISTINCT symbol) FROM crawl_runs WHERE cycle_id = '{cycleId}'", cancellationToken)).ShouldBe(Symbols.Count);
        (await CountAsync($"SELECT COUNT(*) FROM crawl_runs WHERE cycle_id = '{cycleId}'", cancellationToken))
            .ShouldBe(Symbols.Count, "one crawl run per symbol, however often a request was delivered");
        (await CountAsync($"SELECT COUNT(*) FROM crawl_runs WHERE cycle_id = '{cycleId}' AND status NOT IN ('Succeeded', 'NotModified')", cancellationToken))
            .ShouldBe(0, "every feed answered");
        (await CountAsync("SELECT COUNT(*) FROM articles", cancellationToken)).ShouldBe(ExpectedArticles);
        (await CountAsync("SELECT COUNT(DISTINCT url) FROM articles", cancellationToken)).ShouldBe(ExpectedArticles);
        (await CountAsync("SELECT COUNT(*) FROM article_symbols", cancellationToken)).ShouldBe(ExpectedLinks);

        // The management API's figures trail the broker by its statistics interval (5 s).
        var vhost = VirtualHost.AbsolutePath.TrimStart('/');
        var queues = await Eventually.WaitForAsync(
            () => TestServers.GetQueuesAsync(Uri.UnescapeDataString(vhost), cancellationToken),
            queues => queues.Count > 0 && queues.All(queue => queue.Ready == 0 && queue.Unacknowledged == 0),
            TimeSpan.FromSeconds(60), "every queue to be empty and acknowledged", cancellationToken);
        queues.ShouldContain(queue => queue.Name == "fetch-news");
    }

    /// <summary>
    /// The outbox after the cycles: one event per crawl that stored articles, never two, each stored article in exactly one
    /// event, and every event relayed to the broker (the relay's cursor catches up within a few of its polls).
    /// </summary>
    public async Task ShouldHaveEachArticleAnnouncedOnceAsync(CancellationToken cancellationToken)
    {
        (await CountAsync("SELECT COUNT(*) - COUNT(DISTINCT crawl_id) FROM article_events", cancellationToken)).ShouldBe(0, "no crawl's event twice");
        (await CountAsync("SELECT COALESCE(SUM(JSON_LENGTH(articles)), 0) FROM article_events", cancellationToken))
            .ShouldBe(ExpectedArticles, "each stored article in one event");
        await Eventually.WaitForAsync(() => CountAsync("SELECT COUNT(*) FROM article_events WHERE published_at IS NULL", cancellationToken),
            unpublished => unpublished == 0, TimeSpan.FromMinutes(1), "every outbox event to be relayed", cancellationToken);
    }

    public async Task<long> CountAsync(string sql, CancellationToken cancellationToken)
    {
        await using var connection = new MySqlConnection(Database);
        await connection.OpenAsync(cancellationToken);
        await using var command = new MySqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }

    /// <summary>Runs a test's body; if it fails, what each service wrote last goes into the test's output.</summary>
    public async Task ReportOnFailureAsync(Func<Task> body)
    {
        try
        {
            await body();
        }
        catch
        {
            TestContext.Current.TestOutputHelper?.WriteLine(OutputTails);
            throw;
        }
    }

    /// <summary>What each service wrote last, for a failure message.</summary>
    public string OutputTails =>
        string.Join(Environment.NewLine, Services
            .Select(service => $"--- {service.Name}:{Environment.NewLine}{service.OutputTail}"));

    public async ValueTask DisposeAsync()
    {
        // Producers first, then consumers, then the feeds they read.
        foreach (var service in Services)
        {
            await service.DisposeAsync();
        }
        await Feeds.DisposeAsync();
    }

    private static Dictionary<string, string?> Merge(Dictionary<string, string?> settings, IReadOnlyDictionary<string, string?>? overrides)
    {
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }
        return settings;
    }

    private static async Task ServeFeedAsync(HttpContext context, TimeSpan latency)
    {
        var symbol = context.Request.Query["s"].ToString();
        await Task.Delay(latency, context.RequestAborted);
        // Feeds never change here, and say so as real ones do: a crawler that asks again with the
        // ETag it remembers gets a 304 and no articles.
        var etag = $"\"{symbol}-1\"";
        if (context.Request.Headers.IfNoneMatch == etag)
        {
            context.Response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }
        context.Response.Headers.ETag = etag;
        var feed = new StringBuilder("""<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Reliability feed</title>""");
        for (var i = 1; i <= OwnStoriesPerFeed; i++)
        {
            feed.Append(CultureInfo.InvariantCulture,
                $"<item><title>{symbol} story {i}</title><link>https://news.example.com/{symbol}/{i}</link><pubDate>Fri, 14 Aug 2026 0{i}:30:00 +0000</pubDate></item>");
        }
        feed.Append("<item><title>Markets wrap</title><link>https://news.example.com/wrap</link><pubDate>Fri, 14 Aug 2026 09:00:00 +0000</pubDate></item>");
        context.Response.ContentType = "application/rss+xml; charset=utf-8";
        await context.Response.WriteAsync(feed.Append("</channel></rss>").ToString(), context.RequestAborted);
    }

    /// <summary>What the scheduler answers to a cycle asked for by hand.</summary>
    public sealed record CycleAccepted(Guid CycleId, string JobId);
}
