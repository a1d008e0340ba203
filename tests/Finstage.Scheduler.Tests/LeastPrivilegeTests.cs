using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Finstage.Hangfire.MySql;
using Finstage.Scheduler.Infrastructure;
using Finstage.Testing;
using MySqlConnector;

namespace Finstage.Scheduler.Tests;

/// <summary>
/// The scheduler runs as a user that may only read and write rows; Hangfire's tables are the migrate step's, run as
/// the migrator. Each test here has a database of its own, so the shared fixture's is never put at risk.
/// </summary>
[Trait("Category", "Reliability")]
public sealed class LeastPrivilegeTests(SchedulerFixture scheduler)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact(Timeout = 120_000)]
    public async Task Scheduler_RunsExpiresAndAggregatesJobs_WhenRunAsRuntimeUserAfterMigrateCommand()
    {
        var database = await TestServers.CreateDatabaseAsync("finstage_scheduler_privilege_run", Cancel);
        (await MigrateCommandAsync(database)).ShouldBe(0);
        // Housekeeping every second, so its DELETEs and counter folding run as the runtime user within the test.
        var factory = scheduler.Create(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Hangfire"] = TestServers.AsRuntimeUser(database),
            ["Hangfire:JobExpirationCheckInterval"] = "00:00:01",
            ["Hangfire:CountersAggregateInterval"] = "00:00:01",
            // A database of its own: the crawl results of the main host's watchlist are not its to take.
            ["Polling:ResultsQueue"] = "scheduler-tests-privilege-results",
        });
        try
        {
            using var client = factory.CreateClient();

            using var response = await client.PostAsJsonAsync("/api/crawls", new { source = "yahoo", symbols = new[] { "NVDA" } }, Cancel);

            response.StatusCode.ShouldBe(HttpStatusCode.Accepted);
            var accepted = await response.Content.ReadFromJsonAsync<JsonElement>(Cancel);
            var cycleId = accepted.GetProperty("cycleId").GetGuid();
            var jobId = long.Parse(accepted.GetProperty("jobId").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
            await scheduler.ManualRequests.WaitForAsync(1, request => request.CycleId == cycleId, TimeSpan.FromSeconds(60), Cancel);
            await WaitForAsync(database, $"SELECT COUNT(*) FROM `hangfire_job` WHERE `id` = {jobId} AND `state_name` = 'Succeeded'", 1, "the job succeeded");
            // The success counter's raw rows are folded into the aggregated table and deleted.
            await WaitForAsync(database, "SELECT COUNT(*) FROM `hangfire_counter`", 0, "raw counters folded");
            // At least the manual job's success: the polling round (every 10 s) succeeds and is counted too.
            (await ScalarAsync(database, "SELECT `value` FROM `hangfire_aggregated_counter` WHERE `key` = 'stats:succeeded'")).ShouldBeGreaterThanOrEqualTo(1);
            // An expired job is deleted with its states and parameters.
            await ScalarAsync(database, $"UPDATE `hangfire_job` SET `expire_at` = UTC_TIMESTAMP(6) - INTERVAL 1 MINUTE WHERE `id` = {jobId}");
            await WaitForAsync(database, $"SELECT COUNT(*) FROM `hangfire_job` WHERE `id` = {jobId}", 0, "the expired job deleted");
            (await ScalarAsync(database, $"SELECT COUNT(*) FROM `hangfire_state` WHERE `job_id` = {jobId}")).ShouldBe(0);
            (await ScalarAsync(database, "SELECT COUNT(*) FROM `hangfire_server`")).ShouldBeGreaterThan(0);
        }
        finally
        {
            scheduler.RestoreHangfireGlobals();
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Scheduler_RefusesToStartNamingTheMigrateStep_WhenHangfireTablesAreMissing()
    {
        var database = await TestServers.CreateDatabaseAsync("finstage_scheduler_privilege_unmigrated", Cancel);
        var factory = scheduler.Create(new Dictionary<string, string?> { ["ConnectionStrings:Hangfire"] = TestServers.AsRuntimeUser(database) });

        var failure = Should.Throw<Finstage.ServiceDefaults.SchemaNotMigratedException>(() => factory.Services);
        scheduler.RestoreHangfireGlobals();

        failure.Message.ShouldContain("hangfire_* in database 'finstage_scheduler_privilege_unmigrated' are missing");
        failure.Message.ShouldContain("dotnet Finstage.Scheduler.dll migrate");
        failure.Message.ShouldContain("ConnectionStrings__HangfireMigrations");
        (await ScalarAsync(database, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE()")).ShouldBe(0);
    }

    [Fact(Timeout = 60_000)]
    public async Task Scheduler_RefusesToStartNamingTheMigrateStep_WhenOnlyTheWatchlistTablesAreMissing()
    {
        // A database migrated by a build from before the watchlist: Hangfire's tables only.
        var database = await TestServers.CreateDatabaseAsync("finstage_scheduler_privilege_no_watchlist", Cancel);
        MySqlStorage.InstallSchema(database);
        var factory = scheduler.Create(new Dictionary<string, string?> { ["ConnectionStrings:Hangfire"] = TestServers.AsRuntimeUser(database) });

        var failure = Should.Throw<Finstage.ServiceDefaults.SchemaNotMigratedException>(() => factory.Services);
        scheduler.RestoreHangfireGlobals();

        failure.Message.ShouldContain("watchlist_entries, watchlist_seeds are missing");
        failure.Message.ShouldContain("dotnet Finstage.Scheduler.dll migrate");
        // The migrate step brings them.
        (await MigrateCommandAsync(database)).ShouldBe(0);
        (await ScalarAsync(database, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name LIKE 'watchlist%'")).ShouldBe(2);
    }

    [Fact(Timeout = 60_000)]
    public async Task MigrateCommand_SucceedsAndLeavesOneVersion_WhenRunTwice()
    {
        var database = await TestServers.CreateDatabaseAsync("finstage_scheduler_privilege_twice", Cancel);

        var first = await MigrateCommandAsync(database);
        var tables = await ScalarAsync(database, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE()");
        var second = await MigrateCommandAsync(database);

        first.ShouldBe(0);
        second.ShouldBe(0);
        JobStorageMigrations.Apply(database).ShouldBe(MySqlStorage.SchemaVersion);
        MySqlStorage.GetInstalledSchemaVersion(TestServers.AsRuntimeUser(database)).ShouldBe(MySqlStorage.SchemaVersion);
        (await ScalarAsync(database, "SELECT COUNT(*) FROM `hangfire_schema`")).ShouldBe(MySqlStorage.SchemaVersion);
        (await ScalarAsync(database, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE()")).ShouldBe(tables);
    }

    [Fact(Timeout = 60_000)]
    public async Task MigrateCommand_FailsAndCreatesNothing_WhenRunAsRuntimeUser()
    {
        var database = await TestServers.CreateDatabaseAsync("finstage_scheduler_privilege_denied", Cancel);

        var exitCode = await MigrateCommandAsync(TestServers.AsRuntimeUser(database));

        exitCode.ShouldBe(1);
        (await ScalarAsync(database, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE()")).ShouldBe(0);
    }

    private static Task<int> MigrateCommandAsync(string connectionString) =>
        JobStorageMigrations.RunCommandAsync(["migrate", $"--ConnectionStrings:HangfireMigrations={connectionString}"], Cancel);

    private static Task<long> WaitForAsync(string database, string sql, long expected, string what) =>
        Eventually.WaitForAsync(() => ScalarAsync(database, sql), value => value == expected, TimeSpan.FromSeconds(60), what, Cancel);

    private static async Task<long> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync(Cancel);
        await using var command = new MySqlCommand(sql, connection);
        var value = await command.ExecuteScalarAsync(Cancel);
        return value is null or DBNull ? 0 : Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture);
    }
}
