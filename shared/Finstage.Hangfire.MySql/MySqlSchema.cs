using MySqlConnector;

namespace Finstage.Hangfire.MySql;

/// <summary>Creates and upgrades the storage's tables; every step is idempotent and recorded in the schema version table.</summary>
internal static class MySqlSchema
{
    public const int CurrentVersion = 1;

    // utf8mb4_bin: Hangfire compares keys ordinally, as the in-memory reference does; DYNAMIC rows let the
    // (key, value) unique index reach 1424 bytes without "Specified key was too long".
    private const string TableOptions = "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin ROW_FORMAT=DYNAMIC";

    public static void Install(Db db)
    {
        var t = db.Tables;
        using var connection = db.Open();

        // Two servers starting together would otherwise both run the upgrade steps.
        var lockName = DistributedLockNames.For(connection.Database, t.Prefix, "schema");
        if (connection.Scalar<long?>("SELECT GET_LOCK(@name, 60)", null, ("@name", lockName)) != 1)
        {
            throw new TimeoutException("Could not take the schema lock within 60 seconds.");
        }

        try
        {
            connection.Execute($"""
                CREATE TABLE IF NOT EXISTS {t.Schema} (
                  `version` INT NOT NULL PRIMARY KEY,
                  `applied_at` DATETIME(6) NOT NULL
                ) {TableOptions}
                """);
            var installed = connection.Scalar<int?>($"SELECT MAX(`version`) FROM {t.Schema}") ?? 0;
            foreach (var (version, statements) in Migrations(t))
            {
                if (version <= installed)
                {
                    continue;
                }

                foreach (var statement in statements)
                {
                    connection.Execute(statement);
                }

                connection.Execute($"INSERT IGNORE INTO {t.Schema} (`version`, `applied_at`) VALUES (@v, UTC_TIMESTAMP(6))", null, ("@v", version));
            }
        }
        finally
        {
            // A reset releases the lock whatever happened above (RELEASE_LOCK would fail on a broken session too), and
            // leaves the session clean for the pool, which lends it out without resetting it.
            Db.Scrub(connection);
        }
    }

    /// <summary>The version installed under the prefix, 0 when its tables are missing; needs only SELECT.</summary>
    public static int InstalledVersion(Db db) => db.Use(connection =>
    {
        // information_schema first: selecting from a missing table would be an error, not a zero.
        var exists = connection.Scalar<long>(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = @name",
            null, ("@name", db.Tables.Prefix + "schema")) > 0;
        return exists ? connection.Scalar<int?>($"SELECT MAX(`version`) FROM {db.Tables.Schema}") ?? 0 : 0;
    });

    private static IEnumerable<(int Version, string[] Statements)> Migrations(Tables t)
    {
        yield return (1,
        [
            $"""
            CREATE TABLE IF NOT EXISTS {t.Job} (
              `id` BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
              `state_id` BIGINT NULL,
              `state_name` VARCHAR(20) NULL,
              `invocation_data` LONGTEXT NOT NULL,
              `arguments` LONGTEXT NULL,
              `created_at` DATETIME(6) NOT NULL,
              `expire_at` DATETIME(6) NULL,
              KEY `ix_state_name` (`state_name`, `id`),
              KEY `ix_expire_at` (`expire_at`)
            ) {TableOptions}
            """,
            $"""
            CREATE TABLE IF NOT EXISTS {t.JobParameter} (
              `job_id` BIGINT NOT NULL,
              `name` VARCHAR(40) NOT NULL,
              `value` LONGTEXT NULL,
              PRIMARY KEY (`job_id`, `name`)
            ) {TableOptions}
            """,
            $"""
            CREATE TABLE IF NOT EXISTS {t.State} (
              `id` BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
              `job_id` BIGINT NOT NULL,
              `name` VARCHAR(20) NOT NULL,
              `reason` VARCHAR(100) NULL,
              `created_at` DATETIME(6) NOT NULL,
              `data` LONGTEXT NULL,
              KEY `ix_job_id` (`job_id`, `id`)
            ) {TableOptions}
            """,
            $"""
            CREATE TABLE IF NOT EXISTS {t.JobQueue} (
              `id` BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
              `job_id` BIGINT NOT NULL,
              `queue` VARCHAR(50) NOT NULL,
              `fetched_at` DATETIME(6) NULL,
              `fetch_token` CHAR(32) NULL,
              KEY `ix_queue_fetched_at` (`queue`, `fetched_at`, `id`),
              KEY `ix_job_id` (`job_id`)
            ) {TableOptions}
            """,
            $"""
            CREATE TABLE IF NOT EXISTS {t.Server} (
              `id` VARCHAR(200) NOT NULL PRIMARY KEY,
              `data` LONGTEXT NULL,
              `last_heartbeat` DATETIME(6) NOT NULL,
              KEY `ix_last_heartbeat` (`last_heartbeat`)
            ) {TableOptions}
            """,
            $"""
            CREATE TABLE IF NOT EXISTS {t.Set} (
              `id` BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
              `key` VARCHAR(100) NOT NULL,
              `value` VARCHAR(256) NOT NULL,
              `score` DOUBLE NOT NULL,
              `expire_at` DATETIME(6) NULL,
              UNIQUE KEY `ux_key_value` (`key`, `value`),
              KEY `ix_key_score` (`key`, `score`),
              KEY `ix_expire_at` (`expire_at`)
            ) {TableOptions}
            """,
            $"""
            CREATE TABLE IF NOT EXISTS {t.Hash} (
              `key` VARCHAR(100) NOT NULL,
              `field` VARCHAR(100) NOT NULL,
              `value` LONGTEXT NULL,
              `expire_at` DATETIME(6) NULL,
              PRIMARY KEY (`key`, `field`),
              KEY `ix_expire_at` (`expire_at`)
            ) {TableOptions}
            """,
            $"""
            CREATE TABLE IF NOT EXISTS {t.List} (
              `id` BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
              `key` VARCHAR(100) NOT NULL,
              `value` LONGTEXT NULL,
              `expire_at` DATETIME(6) NULL,
              KEY `ix_key_id` (`key`, `id`),
              KEY `ix_expire_at` (`expire_at`)
            ) {TableOptions}
            """,
            $"""
            CREATE TABLE IF NOT EXISTS {t.Counter} (
              `id` BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
              `key` VARCHAR(100) NOT NULL,
              `value` INT NOT NULL,
              `expire_at` DATETIME(6) NULL,
              KEY `ix_key` (`key`)
            ) {TableOptions}
            """,
            $"""
            CREATE TABLE IF NOT EXISTS {t.AggregatedCounter} (
              `key` VARCHAR(100) NOT NULL PRIMARY KEY,
              `value` BIGINT NOT NULL,
              `expire_at` DATETIME(6) NULL,
              KEY `ix_expire_at` (`expire_at`)
            ) {TableOptions}
            """,
        ]);
    }

    /// <summary>Empties every table; for tests that start from a clean storage.</summary>
    internal static void Truncate(Db db) => db.Use(connection =>
    {
        foreach (var table in db.Tables.All)
        {
            connection.Execute($"TRUNCATE TABLE {table}");
        }
    });
}
