using System.Globalization;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Hangfire.Redis.StackExchange;
using Npgsql;
using StackExchange.Redis;

namespace Finstage.Bench;

/// <summary>
/// The storages p5 compares Finstage.Hangfire.MySql with: Hangfire.Redis.StackExchange and Hangfire.PostgreSql, on
/// the Redis and PostgreSQL that <c>scripts/servers.sh start peers</c> runs on loopback (./bench.sh starts and stops
/// them; their settings come from <c>scripts/servers.sh env peers</c>). Each run starts from empty storage.
/// </summary>
public sealed class HangfirePeers : IAsyncDisposable
{
    private const string PostgreSqlSchema = "hangfire_bench";

    private readonly ConnectionMultiplexer _redisAdmin;
    private readonly int? _redisPid;
    private readonly int? _postmasterPid;

    private HangfirePeers(ConnectionMultiplexer redisAdmin, int? redisPid, RedisStorage redis, int? postmasterPid, PostgreSqlStorage postgreSql)
    {
        _redisAdmin = redisAdmin;
        _redisPid = redisPid;
        Redis = redis;
        _postmasterPid = postmasterPid;
        PostgreSql = postgreSql;
    }

    public RedisStorage Redis { get; }

    public PostgreSqlStorage PostgreSql { get; }

    /// <summary>Commands the Redis server has processed since it started (INFO stats), its own INFO calls included.</summary>
    public async Task<long> RedisCommandsAsync()
    {
        var server = _redisAdmin.GetServer(_redisAdmin.GetEndPoints()[0]);
        return (await server.InfoAsync("stats")).SelectMany(group => group)
            .Where(pair => pair.Key == "total_commands_processed").Select(pair => long.Parse(pair.Value, CultureInfo.InvariantCulture)).FirstOrDefault();
    }

    /// <summary>The Redis server's process, when it runs on this machine.</summary>
    public IReadOnlyCollection<int> RedisPids() => _redisPid is { } pid && File.Exists($"/proc/{pid}/stat") ? [pid] : [];

    /// <summary>The PostgreSQL postmaster and its backends, when they run on this machine.</summary>
    public IReadOnlyCollection<int> PostgreSqlPids() => _postmasterPid is { } pid && File.Exists($"/proc/{pid}/stat") ? CpuMeter.WithChildren(pid) : [];

    public static async Task<HangfirePeers> StartAsync(CancellationToken ct)
    {
        var redisAddress = Environment.GetEnvironmentVariable("FINSTAGE_REDIS")
            ?? throw new InvalidOperationException("FINSTAGE_REDIS is not set: start the peers with `eval \"$(scripts/servers.sh start peers)\"` (./bench.sh does)");
        var postgres = Environment.GetEnvironmentVariable("FINSTAGE_POSTGRES")
            ?? throw new InvalidOperationException("FINSTAGE_POSTGRES is not set: start the peers with `eval \"$(scripts/servers.sh start peers)\"` (./bench.sh does)");

        // Empty storages: what an earlier run left must not be fetched, expired or counted in this one.
        var redisAdmin = await ConnectionMultiplexer.ConnectAsync(redisAddress + ",allowAdmin=true");
        var redisServer = redisAdmin.GetServer(redisAdmin.GetEndPoints()[0]);
        await redisServer.FlushDatabaseAsync();
        var redisPid = (await redisServer.InfoAsync("server")).SelectMany(group => group)
            .Where(pair => pair.Key == "process_id").Select(pair => (int?)int.Parse(pair.Value, CultureInfo.InvariantCulture)).FirstOrDefault();
        int? postmasterPid;
        await using (var connection = new NpgsqlConnection(postgres))
        {
            await connection.OpenAsync(ct);
            await using (var drop = new NpgsqlCommand($"DROP SCHEMA IF EXISTS {PostgreSqlSchema} CASCADE", connection))
            {
                await drop.ExecuteNonQueryAsync(ct);
            }
            await using var backend = new NpgsqlCommand("SELECT pg_backend_pid()", connection);
            postmasterPid = ParentOf((int)(await backend.ExecuteScalarAsync(ct))!);
        }

        // Both with their defaults except what ours is given too: the scheduler's 200 ms queue poll interval
        // (Redis is woken by a publish instead and has no such setting).
        // Generous timeouts: on the shared machine (load average 30-100) the first connect and single commands have taken
        // longer than the client's 5 s defaults, and the storage's first AnnounceServer failed the whole figure.
        var redis = new RedisStorage(redisAddress + ",connectTimeout=30000,syncTimeout=30000,asyncTimeout=30000", new RedisStorageOptions { Prefix = "{finstage-bench}:" });
        var postgresOptions = new PostgreSqlStorageOptions
        {
            SchemaName = PostgreSqlSchema,
            PrepareSchemaIfNecessary = true,
            QueuePollInterval = TimeSpan.FromMilliseconds(200),
        };
        var postgreSql = new PostgreSqlStorage(new NpgsqlConnectionFactory(postgres, postgresOptions), postgresOptions);
        return new HangfirePeers(redisAdmin, redisPid, redis, postmasterPid, postgreSql);
    }

    // The parent of a process (field 4 of /proc/PID/stat), when it runs here.
    private static int? ParentOf(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return null;
        }
    }

    // RedisStorage keeps its connection for the process's life (it is not disposable); the admin one goes.
    public ValueTask DisposeAsync() => _redisAdmin.DisposeAsync();
}
