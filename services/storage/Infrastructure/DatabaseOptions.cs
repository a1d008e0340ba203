using System.ComponentModel.DataAnnotations;
using Microsoft.EntityFrameworkCore;
using MySqlConnector;

namespace Finstage.Storage.Infrastructure;

/// <summary>
/// Connection-pool and retry settings for the news database. The defaults mirror the Python
/// service this grew from (SQLAlchemy pool_size 20 + max_overflow 30, pool_recycle 600 s,
/// pool_pre_ping, 60 s connect/read timeouts); see docs/storage.md.
/// </summary>
public sealed class DatabaseOptions
{
    public const string SectionName = "Database";

    /// <summary>Connections kept open when idle (SQLAlchemy's pool_size).</summary>
    [Range(0, 1000)]
    public int MinPoolSize { get; set; } = 20;

    /// <summary>Connections open at most (pool_size + max_overflow).</summary>
    [Range(1, 1000)]
    public int MaxPoolSize { get; set; } = 50;

    /// <summary>A connection older than this is closed rather than reused (pool_recycle).</summary>
    [Range(0, 86_400)]
    public int ConnectionLifetimeSeconds { get; set; } = 600;

    /// <summary>An idle connection beyond the minimum is closed after this long.</summary>
    [Range(1, 86_400)]
    public int ConnectionIdleTimeoutSeconds { get; set; } = 180;

    /// <summary>
    /// Reset and thereby validate a connection when it leaves the pool (pool_pre_ping). Off by default:
    /// it is a round trip to the server on every checkout (one per API request), nothing here leaves
    /// session state behind, and <see cref="LostConnections"/> replaces a connection found dead in use.
    /// </summary>
    public bool ValidateOnCheckout { get; set; }

    /// <summary>Seconds to open a connection or wait for a free one.</summary>
    [Range(1, 600)]
    public int ConnectTimeoutSeconds { get; set; } = 60;

    /// <summary>Seconds a statement may run.</summary>
    [Range(1, 3600)]
    public int CommandTimeoutSeconds { get; set; } = 60;

    /// <summary>How often a transient failure (lost connection, deadlock, lock wait) is retried.</summary>
    [Range(0, 20)]
    public int MaxRetryCount { get; set; } = 5;

    /// <summary>The longest pause between retries.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")]
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The server the SQL is written for, e.g. <c>10.11.0-mariadb</c> or <c>8.4.0-mysql</c>; no round trip at start-up.</summary>
    [Required]
    public string ServerVersion { get; set; } = "10.11.0-mariadb";

    /// <summary>Points EF Core at the news database with this server version, retry policy and command timeout.</summary>
    public void UseFor(DbContextOptionsBuilder options, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.UseMySql(connectionString, Microsoft.EntityFrameworkCore.ServerVersion.Parse(ServerVersion), mysql => mysql
            .EnableRetryOnFailure(MaxRetryCount, MaxRetryDelay, errorNumbersToAdd: null)
            .CommandTimeout(CommandTimeoutSeconds));
    }

    /// <summary>Applies these settings to the connection string named <c>ConnectionStrings:Storage</c>.</summary>
    public string BuildConnectionString(string connectionString)
    {
        var builder = new MySqlConnectionStringBuilder(connectionString)
        {
            Pooling = true,
            MinimumPoolSize = (uint)MinPoolSize,
            MaximumPoolSize = (uint)MaxPoolSize,
            ConnectionLifeTime = (uint)ConnectionLifetimeSeconds,
            ConnectionIdleTimeout = (uint)ConnectionIdleTimeoutSeconds,
            ConnectionReset = ValidateOnCheckout,
            ConnectionTimeout = (uint)ConnectTimeoutSeconds,
            DefaultCommandTimeout = (uint)CommandTimeoutSeconds,
            CharacterSet = "utf8mb4",
            // What Pomelo adds to the connections it opens: with them the read API's plain connections
            // come from the same pool as EF Core's.
            AllowUserVariables = true,
            UseAffectedRows = false,
        };
        return builder.ConnectionString;
    }
}
