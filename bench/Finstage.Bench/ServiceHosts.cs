extern alias crawler;
extern alias scheduler;
extern alias storage;

using Finstage.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Json;

namespace Finstage.Bench;

/// <summary>
/// The three services started in this process, as tests/Finstage.EndToEnd.Tests does, with the
/// bench's settings on top of their own: the migrate step first, as the migrator whose connection
/// string the caller passes, then the service as the rows-only runtime user, as in production.
/// </summary>
public static class ServiceHosts
{
    // Per-crawl Information logs would measure the console, not the pipeline.
    private static readonly Dictionary<string, string?> Quiet = new()
    {
        ["Logging:LogLevel:Default"] = "Warning",
        ["Logging:LogLevel:MassTransit"] = "Warning",
        ["Logging:LogLevel:Hangfire"] = "Warning",
        ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
        ["Logging:LogLevel:Microsoft.EntityFrameworkCore"] = "Warning",
    };

    /// <summary>The storage service; with <paramref name="start"/> false the caller chooses the server (say, Kestrel) and starts it.</summary>
    public static async Task<WebApplicationFactory<storage::Program>> StorageAsync(
        string database, string broker, Dictionary<string, string?>? extra = null, bool start = true)
    {
        await storage::Finstage.Storage.Infrastructure.NewsDatabaseMigrations.ApplyAsync(database, new storage::Finstage.Storage.Infrastructure.DatabaseOptions());
        return Start(new WebApplicationFactory<storage::Program>(), With(extra, new()
        {
            ["ConnectionStrings:Storage"] = TestServers.AsRuntimeUser(database),
            ["ConnectionStrings:RabbitMq"] = broker,
        }), start: start);
    }

    public static WebApplicationFactory<crawler::Program> Crawler(string broker, FeedSite feeds, double rate, int burst, int concurrency) =>
        Crawler(broker, feeds.UrlTemplate, rate, burst, concurrency);

    /// <summary>The crawler with one source, <c>bench</c>, at <paramref name="urlTemplate"/> and that host's rate.</summary>
    public static WebApplicationFactory<crawler::Program> Crawler(string broker, string urlTemplate, double rate, int burst, int concurrency) =>
        Start(new WebApplicationFactory<crawler::Program>(), new()
        {
            ["ConnectionStrings:RabbitMq"] = broker,
            ["Sources:bench:UrlTemplate"] = urlTemplate,
            ["Sources:bench:RequestsPerSecond"] = rate.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Sources:bench:Burst"] = burst.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Fetch:ConcurrentFetches"] = concurrency.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Fetch:PrefetchCount"] = (2 * concurrency).ToString(System.Globalization.CultureInfo.InvariantCulture),
        });

    /// <summary>The scheduler without its appsettings watchlist (which would crawl the real Yahoo every 3 minutes).</summary>
    public static WebApplicationFactory<scheduler::Program> Scheduler(string database, string broker, Dictionary<string, string?>? extra = null)
    {
        scheduler::Finstage.Scheduler.Infrastructure.JobStorageMigrations.Apply(database);
        return Start(new WebApplicationFactory<scheduler::Program>(), With(extra, new()
        {
            ["ConnectionStrings:Hangfire"] = TestServers.AsRuntimeUser(database),
            ["ConnectionStrings:RabbitMq"] = broker,
            // The product's values from services/scheduler/appsettings.json, which is removed below.
            ["Hangfire:TablesPrefix"] = "hangfire_",
            ["Hangfire:QueuePollInterval"] = "00:00:00.200",
            ["Jobs:WorkerCount"] = "4",
            // One group that fires once a year, so the recurring-job registration has work to do and nothing else.
            ["Schedule:Groups:bench:Source"] = "bench",
            ["Schedule:Groups:bench:Cron"] = "0 0 1 1 *",
            ["Schedule:Groups:bench:Symbols:0"] = "BENCH",
        }), withoutAppSettings: true);
    }

    private static Dictionary<string, string?> With(Dictionary<string, string?>? extra, Dictionary<string, string?> settings)
    {
        foreach (var (key, value) in extra ?? [])
        {
            settings[key] = value;
        }
        return settings;
    }

    private static WebApplicationFactory<T> Start<T>(WebApplicationFactory<T> factory, Dictionary<string, string?> settings, bool withoutAppSettings = false, bool start = true)
        where T : class
    {
        var configured = factory.WithWebHostBuilder(web =>
        {
            web.UseEnvironment("Production");
            if (withoutAppSettings)
            {
                web.ConfigureAppConfiguration((_, configuration) =>
                {
                    foreach (var json in configuration.Sources.OfType<JsonConfigurationSource>().ToList())
                    {
                        configuration.Sources.Remove(json);
                    }
                });
            }
            foreach (var (key, value) in Quiet.Concat(settings))
            {
                web.UseSetting(key, value);
            }
        });
        if (start)
        {
            _ = configured.Services;
        }
        return configured;
    }
}
