using System.Diagnostics;
using System.Net;
using Finstage.Contracts;
using Finstage.Scheduler.Infrastructure;
using Finstage.Testing;
using Hangfire;
using Hangfire.AspNetCore;
using Microsoft.Extensions.Logging;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using MySqlConnector;

[assembly: AssemblyFixture(typeof(Finstage.Scheduler.Tests.SchedulerFixture))]
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Finstage.Scheduler.Tests;

/// <summary>
/// The scheduler running in-process on the real MariaDB (Hangfire's tables in a database of its
/// own) and the real RabbitMQ (a virtual host of its own), with a probe that receives every
/// crawl request it publishes. As in production, the migrate step creates Hangfire's tables as the
/// migrator, and the scheduler runs as the rows-only runtime user.
/// </summary>
public sealed class SchedulerFixture : IAsyncLifetime
{
    public const string TestGroupSymbols = "AAPL,MSFT,NVDA";

    // Samples every activity, so traces are recorded as they would be with an exporter attached.
    private readonly ActivityListener _listener = new()
    {
        ShouldListenTo = _ => true,
        Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
    };

    private readonly List<WebApplicationFactory<Program>> _created = [];
    private WebApplicationFactory<Program>? _factory;

    /// <summary>The test database as the migrator, for set-up and checks.</summary>
    public string ConnectionString { get; private set; } = "";

    /// <summary>The test database as the runtime user, the one the scheduler runs as.</summary>
    public string RuntimeConnectionString => TestServers.AsRuntimeUser(ConnectionString);

    public Uri Broker { get; private set; } = null!;

    /// <summary>Crawl requests published: the scheduled cycles'.</summary>
    public MessageProbe<CrawlRequested> Requests { get; private set; } = null!;

    /// <summary>Crawl requests sent to the crawler's queue for crawls asked for by hand.</summary>
    public MessageProbe<CrawlRequested> ManualRequests { get; private set; } = null!;

    public WebApplicationFactory<Program> Factory => _factory ?? throw TestLane.NotStarted(nameof(SchedulerFixture));

    /// <summary>
    /// Points Hangfire's process-wide log provider and current storage back at the main host. A
    /// host that fails to start disposes its logger factory, which Hangfire would otherwise keep
    /// using for every job client created afterwards.
    /// </summary>
    public void RestoreHangfireGlobals()
    {
        GlobalConfiguration.Configuration.UseLogProvider(new AspNetCoreLogProvider(Factory.Services.GetRequiredService<ILoggerFactory>()));
        JobStorage.Current = Factory.Services.GetRequiredService<JobStorage>();
    }

    public async ValueTask InitializeAsync()
    {
        if (TestLane.IsFast)
        {
            return;
        }
        ActivitySource.AddActivityListener(_listener);
        ConnectionString = await TestServers.CreateDatabaseAsync("finstage_scheduler_tests");
        JobStorageMigrations.Apply(ConnectionString);
        Broker = await TestServers.CreateVirtualHostAsync("finstage-scheduler-tests");
        Requests = await MessageProbe<CrawlRequested>.StartAsync(Broker, "scheduler-tests-crawl-requested");
        ManualRequests = await MessageProbe<CrawlRequested>.StartOnServiceQueueAsync(Broker, Queues.ManualCrawls);
        _factory = Create();
        _ = _factory.Services;
    }

    /// <summary>
    /// A scheduler on the test database and broker, with small yearly groups and optional extra
    /// settings. It lives until the end of the run: Hangfire keeps process-wide state (its log
    /// provider, current storage) that points at the newest host, so no host may be disposed early.
    /// </summary>
    public WebApplicationFactory<Program> Create(
        IDictionary<string, string?>? more = null, IPAddress? remoteAddress = null, Action<IServiceCollection>? services = null)
    {
        var factory = Build(more, remoteAddress, services);
        _created.Add(factory);
        return factory;
    }

    private WebApplicationFactory<Program> Build(
        IDictionary<string, string?>? more, IPAddress? remoteAddress, Action<IServiceCollection>? services) =>
        new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
        {
            web.UseSetting("ConnectionStrings:Hangfire", RuntimeConnectionString);
            web.UseSetting("ConnectionStrings:RabbitMq", Broker.ToString());
            web.UseSetting("Hangfire:QueuePollInterval", "00:00:00.050");
            // Only the test's own groups, whose cron never fires during a test.
            web.WithoutAppSettingsFiles();
            web.UseSetting("Schedule:Groups:yahoo:Source", "yahoo");
            web.UseSetting("Schedule:Groups:yahoo:Cron", "0 0 1 1 *");
            var symbols = TestGroupSymbols.Split(',');
            for (var i = 0; i < symbols.Length; i++)
            {
                web.UseSetting($"Schedule:Groups:yahoo:Symbols:{i}", symbols[i]);
            }
            web.UseSetting("Schedule:Groups:investing:Source", "investing");
            web.UseSetting("Schedule:Groups:investing:Cron", "0 0 1 1 *");
            web.UseSetting("Schedule:Groups:investing:Symbols:0", "ECONOMY");
            // A source for feeds by URL, as shipped: the watchlist accepts entries of the sources the scheduler knows.
            web.UseSetting("Schedule:Sources:feed:RequestsPerSecond", "1");
            foreach (var (key, value) in more ?? new Dictionary<string, string?>())
            {
                web.UseSetting(key, value);
            }
            if (remoteAddress is not null)
            {
                web.ConfigureServices(collection => collection.AddSingleton<IStartupFilter>(new RemoteAddressFilter(remoteAddress)));
            }
            if (services is not null)
            {
                web.ConfigureTestServices(services);
            }
        });

    public async Task<long> CountAsync(string sql)
    {
        await using var connection = new MySqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new MySqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public async ValueTask DisposeAsync()
    {
        if (TestLane.IsFast)
        {
            _listener.Dispose();
            return;
        }
        foreach (var factory in _created)
        {
            await factory.DisposeAsync();
        }
        await Requests.DisposeAsync();
        await ManualRequests.DisposeAsync();
        _listener.Dispose();
    }

    /// <summary>Makes every request look as if it came from another host (the test server has no network).</summary>
    private sealed class RemoteAddressFilter(IPAddress address) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextMiddleware) =>
            {
                context.Connection.RemoteIpAddress = address;
                return nextMiddleware(context);
            });
            next(app);
        };
    }
}
