using System.Diagnostics;
using Finstage.Testing;
using MySqlConnector;

namespace Finstage.Storage.Tests;

/// <summary>scripts/redrive.sh against the real broker: what faulted while its cause existed is stored once the cause is gone.</summary>
[Trait("Category", "Reliability")]
public sealed class RedriveTests(StorageFixture storage) : IAsyncLifetime
{
    private const string Queue = "store-news-crawled";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => await storage.ResetAsync();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    [Fact(Timeout = 180_000)]
    public async Task RedriveScript_StoresTheFaultedResultExactlyOnce_WhenItsCauseIsFixed()
    {
        var crawl = Crawls.Crawled("REDRIVE", "yahoo", Crawls.Article(501), Crawls.Article(502));
        var id = Guid.NewGuid().ToString();

        // The cause: the database refuses this crawl's run, as a schema not yet migrated would.
        await ExecuteAsync(
            "CREATE TRIGGER `redrive_test_cause` BEFORE INSERT ON `crawl_runs` FOR EACH ROW " +
            "IF NEW.`symbol` = 'REDRIVE' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'crawl_runs refuses REDRIVE'; END IF");
        QueuedMessage parked;
        try
        {
            await BrokerQueues.SendRawAsync(storage.Broker, Queue, [new RawMessage(BrokerQueues.Envelope(crawl, id), id)], Cancel);
            parked = await BrokerQueues.WaitForAsync(storage.Broker, Queue + "_error", id, Deadline, Cancel);
        }
        finally
        {
            await ExecuteAsync("DROP TRIGGER IF EXISTS `redrive_test_cause`");
        }
        parked.Header("MT-Fault-Message").ShouldNotBeNull().ShouldContain("crawl_runs refuses REDRIVE");
        (await storage.CountAsync("crawl_runs")).ShouldBe(0);
        (await storage.CountAsync("articles")).ShouldBe(0);

        var (exitCode, output) = await RedriveAsync(Queue, BrokerQueues.VirtualHostName(storage.Broker));

        exitCode.ShouldBe(0, output);
        output.ShouldContain("done");
        await Eventually.WaitForAsync(
            () => storage.CountAsync("crawl_runs", "`symbol` = 'REDRIVE'"), count => count == 1, Deadline, "the redriven crawl run", Cancel);
        (await storage.CountAsync("articles")).ShouldBe(2);
        (await storage.CountAsync("article_symbols", "`symbol` = 'REDRIVE'")).ShouldBe(2);
        (await BrokerQueues.PeekAsync(storage.Broker, Queue + "_error", Cancel)).ShouldNotContain(message => message.MessageId == id);
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new MySqlConnection(storage.ConnectionString);
        await connection.OpenAsync(Cancel);
        await using var command = new MySqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(Cancel);
    }

    private static async Task<(int ExitCode, string Output)> RedriveAsync(string queue, string virtualHost)
    {
        var start = new ProcessStartInfo("bash", [Path.Combine(RepositoryRoot(), "scripts", "redrive.sh"), queue, virtualHost])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["FINSTAGE_RABBITMQ_MANAGEMENT"] = TestServers.RabbitMqManagement.ToString().TrimEnd('/');
        start.Environment["FINSTAGE_RABBITMQ_USER"] = TestServers.RabbitMqUser;
        start.Environment["FINSTAGE_RABBITMQ_PASSWORD"] = TestServers.RabbitMqPassword;
        start.Environment["FINSTAGE_REDRIVE_TIMEOUT"] = "60";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(Cancel);
        var errors = process.StandardError.ReadToEndAsync(Cancel);
        await process.WaitForExitAsync(Cancel);
        return (process.ExitCode, await output + await errors);
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Finstage.sln")))
            {
                return directory.FullName;
            }
        }
        throw new InvalidOperationException("The test does not run inside the Finstage repository.");
    }
}
