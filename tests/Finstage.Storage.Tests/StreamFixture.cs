using System.Globalization;
using Finstage.Contracts;
using Finstage.Testing;

namespace Finstage.Storage.Tests;

/// <summary>
/// The storage service as a process of its own (Kestrel, as in production: the stream is read over real sockets),
/// on a database and a RabbitMQ virtual host of its own, and a test bus on that virtual host that publishes
/// <see cref="ArticlesStored"/> as storage's outbox relay does.
/// </summary>
public sealed class StreamFixture : IAsyncLifetime
{
    private readonly List<ServiceProcess> _started = [];
    private long _sequence;

    public string Database { get; private set; } = "";

    public Uri VirtualHost { get; private set; } = null!;

    public TestBus Bus { get; private set; } = null!;

    /// <summary>The shared instance: heartbeats every second, a minute for a cut-off client's farewell, the other bounds as shipped.</summary>
    public ServiceProcess Storage { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        if (TestLane.IsFast)
        {
            return;
        }
        var ct = TestContext.Current.CancellationToken;
        Database = await TestServers.CreateDatabaseAsync("finstage_storage_stream", ct);
        VirtualHost = await TestServers.CreateVirtualHostAsync("finstage-storage-stream", ct);
        await ServiceProcess.RunCommandAsync("storage", StorageDll, ["migrate"],
            new Dictionary<string, string?> { ["ConnectionStrings:StorageMigrations"] = Database }, ct);
        Bus = await TestBus.StartAsync(VirtualHost, ct);
        Storage = await StartStorageAsync(new Dictionary<string, string?>
        {
            ["Stream:HeartbeatInterval"] = "00:00:01",
            // Time for a stalled client (a test) to start reading again and see why it was cut off.
            ["Stream:StallTimeout"] = "00:01:00",
        }, ct);
    }

    public static string StorageDll => Repository.ProjectOutput("services/storage", "Finstage.Storage");

    /// <summary>Another storage instance on the same database and virtual host, with <paramref name="settings"/> added.</summary>
    public async Task<ServiceProcess> StartStorageAsync(IReadOnlyDictionary<string, string?> settings, CancellationToken cancellationToken)
    {
        var all = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Storage"] = TestServers.AsRuntimeUser(Database),
            ["ConnectionStrings:RabbitMq"] = VirtualHost.ToString(),
            ["Database:MinPoolSize"] = "0",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in settings)
        {
            all[key] = value;
        }
        var storage = await ServiceProcess.StartAsync("storage", StorageDll, all, cancellationToken);
        _started.Add(storage);
        return storage;
    }

    /// <summary>Stops an instance this fixture started (SIGTERM, as an orchestrator would).</summary>
    public async Task StopStorageAsync(ServiceProcess storage)
    {
        _started.Remove(storage);
        await storage.DisposeAsync();
    }

    /// <summary>A new event, its sequence above every earlier one, with <paramref name="articles"/> articles whose titles are <paramref name="titleLength"/> long.</summary>
    public ArticlesStored Stored(string symbol, int articles = 1, string source = "yahoo", int titleLength = 0)
    {
        var sequence = Interlocked.Increment(ref _sequence);
        return new ArticlesStored(Guid.NewGuid(), sequence, Guid.NewGuid(), Guid.NewGuid(), source, symbol, DateTimeOffset.UtcNow,
            [.. Enumerable.Range(0, articles).Select(i =>
            {
                var title = string.Create(CultureInfo.InvariantCulture, $"{symbol} story {sequence}.{i}");
                return new StoredArticle(
                    Guid.NewGuid().ToString("N"),
                    string.Create(CultureInfo.InvariantCulture, $"https://news.example.com/{symbol}/{sequence}/{i}"),
                    titleLength > title.Length ? title.PadRight(titleLength, '~') : title,
                    DateTimeOffset.UtcNow.AddMinutes(-i),
                    "Example News");
            })]);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var storage in _started)
        {
            await storage.DisposeAsync();
        }
        if (Bus is not null)
        {
            await Bus.DisposeAsync();
        }
    }
}
