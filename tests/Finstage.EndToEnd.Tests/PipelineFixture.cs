extern alias crawler;
extern alias scheduler;
extern alias storage;

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Finstage.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using MySqlConnector;

[assembly: AssemblyFixture(typeof(Finstage.EndToEnd.Tests.PipelineFixture))]
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Finstage.EndToEnd.Tests;

/// <summary>
/// Scheduler, crawler and storage running together against the real MariaDB and RabbitMQ and a
/// local feed server with Yahoo- and Investing-shaped paths; every activity they record is kept.
/// </summary>
public sealed class PipelineFixture : IAsyncLifetime
{
    /// <summary>A feed that is cut off before its first item ends.</summary>
    public const string BrokenSymbol = "BROKEN";

    /// <summary>A feed that answers 304 once the crawler holds its ETag.</summary>
    public const string UnchangedSymbol = "UNCHANGED";

    public static readonly string[] YahooSymbols =
    [
        "^IXIC", "^GSPC", "^DJI", "ES=F", "NQ=F", "YM=F", "AAPL", "AMZN", "GOOGL", "TSLA", "MSFT", "META", "NVDA", "^TNX",
        "^TYX", "^IRX", "DX-Y.NYB", "UUP", "UDN", "^VIX", "^VXN", "XLF", "XLK", "XLE", "XLV", "XLI", "LQD", "HYG",
        BrokenSymbol, UnchangedSymbol,
    ];

    public static readonly string[] InvestingSymbols =
        ["ECONOMY", "US", "MARKET", "COMMODITY", "FOREX", "TREASURY", "FED", "FINANCIAL", "TECH", "ENERGY", "EMERGING", "EUROPE", "ASIA"];

    private readonly ActivityListener _listener;
    private readonly List<IAsyncDisposable> _running = [];

    public PipelineFixture()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = _ => true,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = Activities.Add,
        };
    }

    public ConcurrentBag<Activity> Activities { get; } = [];

    /// <summary>The test database as the migrator, for checks.</summary>
    public string Database { get; private set; } = "";

    public LocalFeedServer Feeds { get; private set; } = null!;

    public WebApplicationFactory<scheduler::Program> Scheduler { get; private set; } = null!;

    public WebApplicationFactory<storage::Program> Storage { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        ActivitySource.AddActivityListener(_listener);
        Database = await TestServers.CreateDatabaseAsync("finstage_e2e_tests");
        // The migrate steps as the migrator; the services then run as the rows-only runtime user.
        await storage::Finstage.Storage.Infrastructure.NewsDatabaseMigrations.ApplyAsync(Database, new storage::Finstage.Storage.Infrastructure.DatabaseOptions());
        scheduler::Finstage.Scheduler.Infrastructure.JobStorageMigrations.Apply(Database);
        var runtime = TestServers.AsRuntimeUser(Database);
        var broker = (await TestServers.CreateVirtualHostAsync("finstage-e2e-tests")).ToString();
        Feeds = await LocalFeedServer.StartAsync(ServeFeedAsync);
        _running.Add(Feeds);

        // Consumers first: a message published before its queue is bound would be lost.
        Storage = Start(new WebApplicationFactory<storage::Program>(), new()
        {
            ["ConnectionStrings:Storage"] = runtime,
            ["ConnectionStrings:RabbitMq"] = broker,
            ["Database:MinPoolSize"] = "0",
            ["Ingest:BatchTimeLimit"] = "00:00:00.050",
        });
        Start(new WebApplicationFactory<crawler::Program>(), new()
        {
            ["ConnectionStrings:RabbitMq"] = broker,
            ["Sources:yahoo:UrlTemplate"] = new Uri(Feeds.BaseAddress, "rss/2.0/headline?s={symbol}&region=US&lang=en-US").ToString(),
            ["Sources:yahoo:RequestsPerSecond"] = "500",
            ["Sources:yahoo:Burst"] = "100",
            ["Sources:investing:BaseUrl"] = Feeds.BaseAddress.ToString(),
            ["Sources:investing:RequestsPerSecond"] = "500",
            ["Sources:investing:Burst"] = "100",
            ["Fetch:RetryDelay"] = "00:00:00.050",
        });
        var schedule = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Hangfire"] = runtime,
            ["ConnectionStrings:RabbitMq"] = broker,
            ["Hangfire:QueuePollInterval"] = "00:00:00.050",
            ["Schedule:Groups:yahoo:Source"] = "yahoo",
            ["Schedule:Groups:yahoo:Cron"] = "0 0 1 1 *",
            ["Schedule:Groups:investing:Source"] = "investing",
            ["Schedule:Groups:investing:Cron"] = "0 0 1 1 *",
        };
        AddSymbols(schedule, "yahoo", YahooSymbols);
        AddSymbols(schedule, "investing", InvestingSymbols);
        Scheduler = Start(new WebApplicationFactory<scheduler::Program>(), schedule, withoutAppSettings: true);
    }

    public async Task<long> CountAsync(string sql) => Convert.ToInt64(await ScalarAsync(sql), CultureInfo.InvariantCulture);

    public async Task<string> ScalarAsync(string sql)
    {
        await using var connection = new MySqlConnection(Database);
        await connection.OpenAsync();
        await using var command = new MySqlCommand(sql, connection);
        return Convert.ToString(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture)!;
    }

    public async ValueTask DisposeAsync()
    {
        // Producers first, then consumers, then the feeds they read.
        for (var i = _running.Count - 1; i >= 0; i--)
        {
            await _running[i].DisposeAsync();
        }
        _listener.Dispose();
    }

    private WebApplicationFactory<T> Start<T>(WebApplicationFactory<T> factory, Dictionary<string, string?> settings, bool withoutAppSettings = false)
        where T : class
    {
        var configured = factory.WithWebHostBuilder(web =>
        {
            if (withoutAppSettings)
            {
                web.WithoutAppSettingsFiles();
            }
            foreach (var (key, value) in settings)
            {
                web.UseSetting(key, value);
            }
        });
        _ = configured.Services;
        _running.Add(configured);
        return configured;
    }

    private static void AddSymbols(Dictionary<string, string?> settings, string group, string[] symbols)
    {
        for (var i = 0; i < symbols.Length; i++)
        {
            settings[$"Schedule:Groups:{group}:Symbols:{i}"] = symbols[i];
        }
    }

    private static async Task ServeFeedAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "";
        string? symbol = path == "/rss/2.0/headline" ? context.Request.Query["s"].ToString() : null;
        if (symbol == BrokenSymbol)
        {
            context.Response.ContentType = "application/rss+xml";
            await context.Response.WriteAsync("""<?xml version="1.0"?><rss version="2.0"><channel><title>Cut off</title><item><title>Half a head""");
            return;
        }
        if (symbol == UnchangedSymbol)
        {
            if (context.Request.Headers.IfNoneMatch == "\"unchanged-1\"")
            {
                context.Response.StatusCode = StatusCodes.Status304NotModified;
                return;
            }
            context.Response.Headers.ETag = "\"unchanged-1\"";
        }
        context.Response.ContentType = "application/rss+xml; charset=utf-8";
        await context.Response.WriteAsync(symbol is null ? InvestingFeed(path) : YahooFeed(symbol));
    }

    // Yahoo's shape: children in alphabetical order, the channel title after the items, tracking parameters on links.
    private static string YahooFeed(string symbol)
    {
        var feed = new StringBuilder("""<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>""");
        for (var i = 1; i <= 3; i++)
        {
            feed.Append(CultureInfo.InvariantCulture,
                $"<item><description>{symbol} item {i}</description><guid isPermaLink=\"false\">{symbol}-{i}</guid><link>https://finance.example.com/news/{Uri.EscapeDataString(symbol)}-{i}.html?.tsrc=rss</link><pubDate>Fri, 14 Aug 2026 0{i}:30:00 +0000</pubDate><title>{symbol} headline {i}</title></item>");
        }
        feed.Append("<item><description>The market wrap</description><guid isPermaLink=\"false\">wrap</guid><link>https://finance.example.com/news/market-wrap.html?.tsrc=rss&amp;utm_source=yahoo</link><pubDate>Fri, 14 Aug 2026 09:00:00 +0000</pubDate><title>Stocks close mixed</title></item>");
        return feed.Append(CultureInfo.InvariantCulture, $"<title>Yahoo! Finance: {symbol} News</title></channel></rss>").ToString();
    }

    // Investing's shape: zone-less dates, no guid, no description.
    private static string InvestingFeed(string path)
    {
        var name = path.Trim('/').Replace('/', '-');
        var feed = new StringBuilder("""<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Investing.com News</title>""");
        for (var i = 1; i <= 2; i++)
        {
            feed.Append(CultureInfo.InvariantCulture,
                $"<item><title>{name} story {i}</title><pubDate>2026-08-14 0{i}:54:20</pubDate><author>Investing.com</author><link>https://markets.example.com/{name}/{i}</link></item>");
        }
        return feed.Append("</channel></rss>").ToString();
    }
}
