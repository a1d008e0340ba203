namespace Finstage.Testing;

/// <summary>
/// A database and a RabbitMQ virtual host of a test's own, migrated by the storage's own <c>migrate</c> step, on which
/// storage processes (<see cref="ServiceProcess"/>) run as the rows-only runtime user, as in production. Every instance
/// started from one shares its database and its queues, as scaled-out instances do.
/// </summary>
public sealed class MigratedStorage
{
    private MigratedStorage(string database, Uri virtualHost)
    {
        Database = database;
        VirtualHost = virtualHost;
    }

    /// <summary>The storage service's built dll.</summary>
    public static string Dll => Repository.ProjectOutput("services/storage", "Finstage.Storage");

    /// <summary>The database, as the migrator (the test's own queries may read and write anything).</summary>
    public string Database { get; }

    public Uri VirtualHost { get; }

    /// <summary>Creates the database and the virtual host (both emptied if they exist) and migrates the database.</summary>
    public static async Task<MigratedStorage> CreateAsync(string databaseName, string virtualHostName, CancellationToken cancellationToken)
    {
        var database = await TestServers.CreateDatabaseAsync(databaseName, cancellationToken);
        var virtualHost = await TestServers.CreateVirtualHostAsync(virtualHostName, cancellationToken);
        await ServiceProcess.RunCommandAsync("storage", Dll, ["migrate"],
            new Dictionary<string, string?> { ["ConnectionStrings:StorageMigrations"] = database }, cancellationToken);
        return new MigratedStorage(database, virtualHost);
    }

    /// <summary>
    /// Starts one storage process on this database and virtual host and waits until it is ready (its queues bound);
    /// <paramref name="settings"/> come on top of the defaults (quiet logs, no idle connections kept).
    /// </summary>
    public Task<ServiceProcess> StartAsync(
        CancellationToken cancellationToken, IReadOnlyDictionary<string, string?>? settings = null, string name = "storage")
    {
        var all = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Storage"] = TestServers.AsRuntimeUser(Database),
            ["ConnectionStrings:RabbitMq"] = VirtualHost.ToString(),
            // Connections only while in use: several instances and tests share one server's connection limit.
            ["Database:MinPoolSize"] = "0",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }
        return ServiceProcess.StartAsync(name, Dll, all, cancellationToken);
    }
}
