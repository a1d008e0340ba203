using MySqlConnector;

namespace Finstage.Scheduler.Watchlist;

/// <summary>
/// The watchlist's tables, beside Hangfire's in the scheduler's database. Created by the migrate step
/// (<see cref="Infrastructure.JobStorageMigrations"/>), as the migrator; the running scheduler only reads and writes rows.
/// </summary>
public static class WatchlistSchema
{
    /// <summary>The tables this build needs.</summary>
    public static readonly string[] Tables = ["watchlist_entries", "watchlist_seeds"];

    // Every statement is idempotent, so the migrate step may run any number of times. Names are compared
    // byte for byte (utf8mb4_bin): 'BRK.b' and 'BRK.B' are different symbols to a feed.
    private const string Ddl = """
        CREATE TABLE IF NOT EXISTS watchlist_entries (
          id BIGINT NOT NULL AUTO_INCREMENT,
          source VARCHAR(32) NOT NULL,
          symbol VARCHAR(128) NOT NULL,
          feed_url VARCHAR(2048) NULL,
          host VARCHAR(255) NOT NULL,
          group_name VARCHAR(64) NULL,
          enabled TINYINT(1) NOT NULL DEFAULT 1,
          priority INT NOT NULL DEFAULT 0,
          min_interval_s INT NULL,
          max_interval_s INT NULL,
          interval_ms BIGINT NOT NULL,
          next_due_at DATETIME(6) NOT NULL,
          pending_until DATETIME(6) NULL,
          last_requested_at DATETIME(6) NULL,
          last_crawled_at DATETIME(6) NULL,
          last_result VARCHAR(32) NULL,
          last_detail VARCHAR(500) NULL,
          last_new_articles INT NULL,
          last_new_at DATETIME(6) NULL,
          failures INT NOT NULL DEFAULT 0,
          seen_urls VARBINARY(2048) NULL,
          created_at DATETIME(6) NOT NULL,
          updated_at DATETIME(6) NOT NULL,
          PRIMARY KEY (id),
          UNIQUE KEY ux_watchlist_entries_source_symbol (source, symbol),
          KEY ix_watchlist_entries_due (enabled, next_due_at)
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
        CREATE TABLE IF NOT EXISTS watchlist_seeds (
          group_name VARCHAR(64) NOT NULL,
          seeded_at DATETIME(6) NOT NULL,
          PRIMARY KEY (group_name)
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
        """;

    /// <summary>Creates the tables where missing; the connection string names a user that may create tables.</summary>
    public static void Install(string connectionString)
    {
        using var connection = new MySqlConnection(connectionString);
        connection.Open();
        using var command = new MySqlCommand(Ddl, connection);
        command.ExecuteNonQuery();
    }

    /// <summary>The tables of <see cref="Tables"/> that the database lacks.</summary>
    public static IReadOnlyList<string> Missing(string connectionString)
    {
        using var connection = new MySqlConnection(connectionString);
        connection.Open();
        using var command = new MySqlCommand(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name IN ('watchlist_entries', 'watchlist_seeds')",
            connection);
        var present = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                present.Add(reader.GetString(0));
            }
        }
        return [.. Tables.Where(table => !present.Contains(table))];
    }
}
