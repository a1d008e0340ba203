using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Finstage.Contracts;
using Finstage.Storage.Infrastructure;
using Finstage.Testing;
using MassTransit;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using MySqlConnector;

namespace Finstage.Storage.Tests;

/// <summary>
/// The storage runs as a user that may only read and write rows; the schema is the migrate step's, run as the
/// migrator. Each test here has a database of its own, so the shared fixture's is never put at risk.
/// </summary>
[Trait("Category", "Reliability")]
public sealed class LeastPrivilegeTests(StorageFixture storage)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Theory(Timeout = 60_000)]
    [InlineData("CREATE TABLE `privilege_probe_new` (`id` INT PRIMARY KEY)")]
    [InlineData("ALTER TABLE `privilege_probe` ADD COLUMN `extra` INT NULL")]
    [InlineData("CREATE INDEX `ix_probe_value` ON `privilege_probe` (`value`)")]
    [InlineData("DROP TABLE `privilege_probe`")]
    [InlineData("TRUNCATE TABLE `privilege_probe`")]
    [InlineData("CREATE DATABASE `finstage_privilege_probe_created`")]
    public async Task RuntimeUser_IsRefused_WhenChangingTheSchema(string statement)
    {
        var database = await TestServers.CreateDatabaseAsync("finstage_storage_privilege_ddl", Cancel);
        await ExecuteAsync(database, "CREATE TABLE `privilege_probe` (`id` INT PRIMARY KEY, `value` INT NOT NULL)");
        await ExecuteAsync(database, "INSERT INTO `privilege_probe` VALUES (1, 10)");

        var refused = await Should.ThrowAsync<MySqlException>(() => ExecuteAsync(TestServers.AsRuntimeUser(database), statement));

        refused.ErrorCode.ShouldBeOneOf(MySqlErrorCode.TableAccessDenied, MySqlErrorCode.DatabaseAccessDenied);
        // Rows, though, it may read and write.
        await ExecuteAsync(TestServers.AsRuntimeUser(database), "UPDATE `privilege_probe` SET `value` = 11 WHERE `id` = 1");
        (await ScalarAsync(database, "SELECT `value` FROM `privilege_probe` WHERE `id` = 1")).ShouldBe(11L);
    }

    [Fact(Timeout = 90_000)]
    public async Task Storage_StoresAndServesNews_WhenRunAsRuntimeUserAfterMigrateCommand()
    {
        var database = await TestServers.CreateDatabaseAsync("finstage_storage_privilege_run", Cancel);
        var broker = await TestServers.CreateVirtualHostAsync("finstage-storage-privilege-tests", Cancel);
        (await MigrateCommandAsync(database)).ShouldBe(0);
        await using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
            StorageFixture.Configure(web, TestServers.AsRuntimeUser(database), broker));
        var bus = factory.Services.GetRequiredService<IBus>();
        using var client = factory.CreateClient();
        var crawled = Crawls.Crawled("PRIV", "yahoo", Crawls.Article(7001), Crawls.Article(7002));
        var failed = Crawls.Failed("PRIVFAIL", CrawlFailureReason.Timeout);

        await bus.Publish(crawled, Cancel);
        await bus.Publish(failed, Cancel);

        var news = await Eventually.WaitForAsync(
            () => client.GetFromJsonAsync<JsonElement>("/api/news?symbol=PRIV", Cancel),
            page => page.GetProperty("items").GetArrayLength() == 2, TimeSpan.FromSeconds(60), "two articles for PRIV", Cancel);
        news.GetProperty("items").EnumerateArray().Select(item => item.GetProperty("title").GetString())
            .ShouldBe(["Story 7001", "Story 7002"], ignoreOrder: true);
        await Eventually.WaitForAsync(
            () => client.GetFromJsonAsync<JsonElement>("/api/crawls?status=Failed", Cancel),
            page => page.GetProperty("items").GetArrayLength() == 1, TimeSpan.FromSeconds(60), "the failed crawl run", Cancel);
        using var ready = await client.GetAsync(new Uri("/health/ready", UriKind.Relative), Cancel);
        ready.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact(Timeout = 60_000)]
    public async Task Storage_RefusesToStartNamingTheMigrateStep_WhenDatabaseIsNotMigrated()
    {
        var database = await TestServers.CreateDatabaseAsync("finstage_storage_privilege_unmigrated", Cancel);
        using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
            StorageFixture.Configure(web, TestServers.AsRuntimeUser(database), storage.Broker));

        var failure = Should.Throw<Finstage.ServiceDefaults.SchemaNotMigratedException>(() => factory.Services);

        failure.Message.ShouldContain("is not migrated");
        failure.Message.ShouldContain("dotnet Finstage.Storage.dll migrate");
        failure.Message.ShouldContain("ConnectionStrings__StorageMigrations");
        (await TableCountAsync(database)).ShouldBe(0);
    }

    [Fact(Timeout = 90_000)]
    public async Task MigrateCommand_SucceedsAndAppliesNothingNew_WhenRunTwice()
    {
        var database = await TestServers.CreateDatabaseAsync("finstage_storage_privilege_twice", Cancel);

        var first = await MigrateCommandAsync(database);
        var tables = await TableCountAsync(database);
        var second = await MigrateCommandAsync(database);
        var again = await NewsDatabaseMigrations.ApplyAsync(database, new DatabaseOptions(), Cancel);

        first.ShouldBe(0);
        second.ShouldBe(0);
        again.ShouldBeEmpty();
        (await TableCountAsync(database)).ShouldBe(tables);
        (await ScalarAsync(database, "SELECT COUNT(*) FROM `__EFMigrationsHistory`")).ShouldBe(MigrationCount());
    }

    [Fact(Timeout = 60_000)]
    public async Task MigrateCommand_FailsAndCreatesNothing_WhenRunAsRuntimeUser()
    {
        var database = await TestServers.CreateDatabaseAsync("finstage_storage_privilege_denied", Cancel);

        var exitCode = await MigrateCommandAsync(TestServers.AsRuntimeUser(database));

        exitCode.ShouldBe(1);
        (await TableCountAsync(database)).ShouldBe(0);
    }

    [Fact(Timeout = 60_000)]
    public async Task MigrateCommand_ExitsWithTwo_WhenNoConnectionStringIsConfigured()
    {
        var exitCode = await NewsDatabaseMigrations.RunCommandAsync(
            ["migrate", "--ConnectionStrings:StorageMigrations=", "--ConnectionStrings:Storage="], Cancel);

        exitCode.ShouldBe(2);
    }

    private static Task<int> MigrateCommandAsync(string connectionString) =>
        NewsDatabaseMigrations.RunCommandAsync(["migrate", $"--ConnectionStrings:StorageMigrations={connectionString}"], Cancel);

    private static long MigrationCount() =>
        typeof(NewsDbContext).Assembly.GetTypes().Count(type =>
            type.GetCustomAttributes(typeof(Microsoft.EntityFrameworkCore.Migrations.MigrationAttribute), inherit: false).Length > 0);

    private static async Task<long> TableCountAsync(string database) =>
        await ScalarAsync(database, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE()") ?? 0;

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync(Cancel);
        await using var command = new MySqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(Cancel);
    }

    private static async Task<long?> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync(Cancel);
        await using var command = new MySqlCommand(sql, connection);
        var value = await command.ExecuteScalarAsync(Cancel);
        return value is null or DBNull ? null : Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture);
    }
}
