using Finstage.Contracts;
using Finstage.Storage.Infrastructure;
using Finstage.Storage.Writing;
using Finstage.Testing;
using MassTransit;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using MySqlConnector;

[assembly: AssemblyFixture(typeof(Finstage.Storage.Tests.StorageFixture))]
// One database and one broker virtual host for the whole assembly: tests take turns.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Finstage.Storage.Tests;

/// <summary>
/// The storage service running in-process against the real MariaDB (its own database) and the
/// real RabbitMQ (its own virtual host), both created afresh for this test run. As in production,
/// the migrate step runs first as the migrator, and the service runs as the rows-only runtime user.
/// </summary>
public sealed class StorageFixture : IAsyncLifetime
{
    public const string DatabaseName = "finstage_storage_tests";

    /// <summary>The body cap (Bus:MaxMessageBytes) of the test hosts, far below the default so a poison test need not send megabytes.</summary>
    public const int MaxMessageBytes = 64 * 1024;

    private WebApplicationFactory<Program>? _factory;

    /// <summary>The test database as the migrator, for set-up and checks (TRUNCATE needs more than the service has).</summary>
    public string ConnectionString { get; private set; } = "";

    /// <summary>The test database as the runtime user, the one the service runs as.</summary>
    public string RuntimeConnectionString => TestServers.AsRuntimeUser(ConnectionString);

    public Uri Broker { get; private set; } = null!;

    public WebApplicationFactory<Program> Factory => _factory ?? throw TestLane.NotStarted(nameof(StorageFixture));

    public IServiceProvider Services => Factory.Services;

    public HttpClient CreateClient() => Factory.CreateClient();

    public NewsWriter Writer => Services.GetRequiredService<NewsWriter>();

    public async ValueTask InitializeAsync()
    {
        if (TestLane.IsFast)
        {
            return;
        }
        ConnectionString = await TestServers.CreateDatabaseAsync(DatabaseName);
        Broker = await TestServers.CreateVirtualHostAsync("finstage-storage-tests");
        await NewsDatabaseMigrations.ApplyAsync(ConnectionString, new DatabaseOptions());
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(web => Configure(web, RuntimeConnectionString, Broker));
        // Starting the host checks the schema and connects the bus.
        _ = _factory.Services;
    }

    /// <summary>Points a storage host at the test database and broker, with small pools and quick batches.</summary>
    public static void Configure(IWebHostBuilder web, string connectionString, Uri broker, IDictionary<string, string?>? more = null)
    {
        web.UseSetting("ConnectionStrings:Storage", connectionString);
        web.UseSetting("ConnectionStrings:RabbitMq", broker.ToString());
        web.UseSetting("Database:MinPoolSize", "0");
        web.UseSetting("Database:MaxPoolSize", "20");
        web.UseSetting("Ingest:BatchTimeLimit", "00:00:00.050");
        web.UseSetting("Ingest:RetryInterval", "00:00:00.050");
        web.UseSetting("Bus:MaxMessageBytes", MaxMessageBytes.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var (key, value) in more ?? new Dictionary<string, string?>())
        {
            web.UseSetting(key, value);
        }
    }

    /// <summary>Empties every table, so each test starts from nothing.</summary>
    public async Task ResetAsync()
    {
        await using var connection = new MySqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new MySqlCommand(
            "SET FOREIGN_KEY_CHECKS = 0; TRUNCATE TABLE `article_symbols`; TRUNCATE TABLE `articles`; TRUNCATE TABLE `crawl_runs`; TRUNCATE TABLE `symbol_stats`; TRUNCATE TABLE `article_events`; SET FOREIGN_KEY_CHECKS = 1;",
            connection);
        await command.ExecuteNonQueryAsync();
    }

    public async Task<long> CountAsync(string table, string where = "1 = 1")
    {
        await using var connection = new MySqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new MySqlCommand($"SELECT COUNT(*) FROM `{table}` WHERE {where}", connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public async Task PublishAsync<T>(T message)
        where T : class
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await Services.GetRequiredService<IBus>().Publish(message, deadline.Token);
    }

    public async ValueTask DisposeAsync()
    {
        if (_factory is not null)
        {
            await _factory.DisposeAsync();
        }
    }
}

/// <summary>Builds crawl results the way the crawler sends them.</summary>
internal static class Crawls
{
    public static readonly DateTimeOffset Noon = new(2026, 8, 14, 12, 0, 0, TimeSpan.Zero);

    public static NewsArticle Article(int n, DateTimeOffset? publishedAt = null, string? summary = null) => new(
        Url: $"https://news.example.com/markets/story-{n}",
        Title: $"Story {n}",
        Summary: summary ?? $"Summary of story {n}",
        PublishedAt: publishedAt ?? Noon.AddMinutes(-n),
        Author: "Reporter",
        Publisher: "Example News",
        ImageUrl: null,
        ExternalId: $"story-{n}");

    public static NewsCrawled Crawled(string symbol, string source = "yahoo", params NewsArticle[] articles) => new(
        CrawlId: Guid.NewGuid(),
        CycleId: Guid.NewGuid(),
        Source: source,
        Symbol: symbol,
        FetchedAt: Noon,
        Duration: TimeSpan.FromMilliseconds(120),
        HttpStatus: 200,
        NotModified: false,
        Articles: articles);

    public static CrawlFailed Failed(string symbol, CrawlFailureReason reason, string source = "yahoo") => new(
        CrawlId: Guid.NewGuid(),
        CycleId: Guid.NewGuid(),
        Source: source,
        Symbol: symbol,
        Reason: reason,
        Detail: $"{reason} while fetching {symbol}",
        Attempts: 3,
        FailedAt: Noon,
        HttpStatus: reason == CrawlFailureReason.HttpError ? 502 : null,
        Duration: TimeSpan.FromSeconds(2));
}
